"""NAN203 log-sum-exp."""

from __future__ import annotations

from collections.abc import Iterator

import libcst as cst

from nanlint.analysis.arithmetic import sum_arguments
from nanlint.analysis.exp_sums import EXP_PAIR, EXP_RATIO, SUMS, accumulated, terms
from nanlint.analysis.exponents import stable
from nanlint.analysis.facts import FileAnalysis
from nanlint.analysis.kinds import Kind
from nanlint.analysis.names import assigned_value
from nanlint.analysis.operations import operation_calls
from nanlint.analysis.rewrite import EditPlan, Part, needs_parentheses
from nanlint.analysis.spelling import spell
from nanlint.analysis.values import Source, Step, Tensor
from nanlint.fixes import FixAvailability
from nanlint.repro.harness import FirstBreak, FixCheck, Reproduction, Scenario
from nanlint.rules.base import Finding, Invalid, RuleDoc, Valid
from nanlint.rules.into_loss import describe, related_origins
from nanlint.rules.log_of import LogCall, LogOfRule


def _rows(t, m):
    """Scores [m, 0]: the first is the large one."""
    return t.stack([m, t.zeros_like(m)], dim=1)


def _second_class(t, x):
    return t.tensor([[0.0, 1.0]]).expand(x.shape[0], 2)


def _many(t, m):
    """1000 scores of m: the sum overflows ln 1000 = 6.91 earlier than one exp does."""
    return m[:, None].expand(m.shape[0], 1000)


class LogSumExp(LogOfRule):
    code = "NAN203"
    fix_availability = FixAvailability.SOMETIMES
    kinds = frozenset({Kind.SUM_EXP, Kind.EXP_RATIO})
    transforms = frozenset({"sum", "mean"})

    def exempt(self, analysis: FileAnalysis, source: Source) -> bool:
        """The max-shifted form `log(sum(exp(x - m))) + m` cannot overflow, nor can a sum
        whose every exponent is bounded (`-x.abs()`, a Gaussian kernel)."""
        return all(stable(analysis, term) for term in terms(source.origin))

    def consequence(self, call: LogCall) -> str:
        source = call.value.sources[0]
        if call.value.kind is Kind.EXP_RATIO:
            return (
                "log(exp(a) / sum(exp(b))) is NaN (inf / inf) with a NaN gradient once a score"
                " reaches 88.73 in float32 (11.09 in float16), and -inf once a score gap"
                " exceeds 103.97, where exp(a) underflows to 0; a - logsumexp(b) is exact"
            )
        steps = {step.op for step in source.steps}
        note = "; logsumexp subtracts the maximum first and is exact"
        if steps & {"scale", "minus"} or source.origin.label == SUMS:
            note = (
                "; a masked, weighted or assembled sum has no exact logsumexp rewrite: put the"
                " mask into the scores (masked_fill with -inf) and take logsumexp, which"
                " subtracts the maximum first"
            )
        elif "eps" in steps:
            note = (
                "; the eps does not prevent the overflow, it only bounds the log from below;"
                " logsumexp subtracts the maximum first and is exact"
            )
        form = "log(mean(exp(x)))" if "mean" in steps else "log(sum(exp(x)))"
        return (
            f"{form} is inf with a NaN gradient from x = 88.73 in float32 (11.09 in"
            " float16), where exp overflows although the true value is about max(x), and -inf"
            f" when every term is below -103.97, where the sum underflows to 0{note}"
        )

    def check(self, analysis: FileAnalysis) -> Iterator[Finding]:
        yield from super().check(analysis)
        for fact, operation in operation_calls(analysis, "log"):
            arg = operation.input
            if arg is None or arg.star or self.log_call_of(analysis, fact) is not None:
                continue
            total = _accumulated_sum(analysis, arg.node)
            if total is None or all(self.exempt(analysis, source) for source in total.sources):
                continue
            message = (
                f"`log` of a sum of {describe(analysis, total)} accumulated in a loop:"
                " log(sum(exp(x))) is inf with a NaN gradient from x = 88.73 in float32 (11.09"
                " in float16), where exp overflows although the true value is about max(x);"
                " stack the scores and take torch.logsumexp, which subtracts the maximum first"
            )
            yield Finding(fact.node, message, related_origins(total), None)

    def fix_title(self, call: LogCall) -> str:
        origin = call.value.sources[0].origin
        if origin.label == EXP_PAIR:
            return "Use `logaddexp`"
        return "Use `logsumexp`"

    def replacement(
        self, plan: EditPlan, analysis: FileAnalysis, call: LogCall, source: Source
    ) -> list[Part] | None:
        origin = source.origin
        scope = call.fact.scope
        if origin.label == EXP_PAIR:
            first, second = terms(origin)
            name = spell(plan, analysis, "torch.logaddexp", scope)
            return [name, "(", first, ", ", second, ")"]  # type: ignore[list-item]
        if origin.label == EXP_RATIO:
            return _log_ratio(plan, analysis, call, origin)
        reduction = next((step for step in source.steps if step.op in self.transforms), None)
        if origin.kind is not Kind.EXP or origin.operand is None or reduction is None:
            return None
        parts = _logsumexp(plan, analysis, scope, origin.operand, reduction, origin.api)
        if parts is None or reduction.op == "sum":
            return parts
        count = _count(origin.operand, reduction)
        if count is None:
            return None
        log = spell(plan, analysis, "math.log", scope)
        return _loose(analysis, call, [*parts, f" - {log}(", *count, ")"])

    doc = RuleDoc(
        what=(
            "Finds the logarithm of a sum of exponentials: `torch.log(torch.sum(torch.exp(x),"
            " dim=1))`, `torch.log(torch.exp(x).sum(-1))`, `x.exp().sum(d).log()`, directly or"
            " through variables, and the other ways it is written: a mean"
            " (`torch.log(torch.exp(s).mean(1))`), terms added (`torch.exp(a) + torch.exp(b)`,"
            " `num + torch.exp(neg).sum(1)`), a mask or weight (`(torch.exp(s) * mask).sum(1)`),"
            " an eps (`torch.log(torch.exp(s).sum(1) + 1e-8)`), a sum accumulated from zero in a"
            " loop (`den = den + torch.exp(sim[:, k])`), and the InfoNCE or contrastive ratio"
            " (`-torch.log(torch.exp(pos) / torch.exp(sims).sum(1))`, `E.diag() / E.sum(1)`). A max-shifted form, `torch.exp(x - m)` with m subtracted (the"
            " hand-written stable log-sum-exp, also in place: `s -= s.max(1, keepdim=True)[0]`),"
            " and an exponent that cannot be positive (`-x.abs()`, a Gaussian kernel) are not"
            " flagged, nor is a clamp from above (`exp(x.clamp(max=30.0))`)."
        ),
        why=(
            "exp(x) overflows to inf for x > 88.72 in float32 (11.09 in float16), so"
            " log(sum(exp(x))) is inf from a score of 88.73, and the gradient, which divides"
            " inf by inf, is NaN from the same point, although the true result is only about"
            " max(x). With many terms the sum overflows even earlier: 1000 scores of 81.82 are"
            " enough in float32 (4.19 in float16). At the other end, when every score is below"
            " -103.97 (-17.33 in float16) the sum underflows to 0 and the result is -inf; the"
            " gradient is already infinite from -89.42. `torch.logsumexp` subtracts the maximum"
            " before exponentiating and is exact at any magnitude. A ratio exp(a) / sum(exp(b))"
            " is inf / inf = NaN from the same score, and its log is a - logsumexp(b)."
        ),
        fix_safety=(
            "The fix replaces the expression with `torch.logsumexp(x, dim=d)` (`x.logsumexp(d)`"
            " for the method form), carrying `keepdim`; a sum over every element becomes a"
            " logsumexp over the flattened tensor. It is safe: the values are the same, only"
            " exact. A mean becomes `torch.logsumexp(x, dim=d) - math.log(x.shape[d])`, two"
            " terms `torch.logaddexp(a, b)`, and the log of the ratio `a - torch.logsumexp(b,"
            " dim=d)`, all exact. Through a variable it is offered only while the names it copies"
            " still hold the same values at the log. With an eps the fix is unsafe: the eps"
            " bounded the log from below at log(eps) and is dropped. A masked, weighted or"
            " assembled sum, a sum accumulated in a loop, a ratio other than exp(a) /"
            " exp(b).sum(d) and a sum with `dtype=` are reported without a fix: none has an exact"
            " logsumexp rewrite as written (a mask belongs in the scores, as -inf)."
        ),
        references=(
            "https://pytorch.org/docs/stable/generated/torch.logsumexp.html",
            "https://pytorch.org/docs/stable/generated/torch.exp.html",
        ),
    )

    invalid = (
        Invalid(
            """
            import torch


            def loss(scores, target_onehot):
                log_partition = torch.log(torch.sum(torch.exp(scores), dim=1))
                return log_partition - (scores * target_onehot).sum(dim=1)
            """,
            expect=("5:21",),
            fixed="""
            import torch


            def loss(scores, target_onehot):
                log_partition = torch.logsumexp(scores, dim=1)
                return log_partition - (scores * target_onehot).sum(dim=1)
            """,
        ),
        Invalid(
            """
            import torch


            def energies(x, e):
                a = x.exp().sum(-1).log()
                b = torch.log(x.exp().sum(dim=1, keepdim=True))
                c = torch.log(torch.exp(-e / 0.1).sum())
                d = torch.exp(x).sum(1).log()
                f = torch.log(torch.sum(x.exp(), None))
                return a, b, c, d, f
            """,
            expect=("5:9", "6:9", "7:9", "8:9", "9:9"),
            fixed="""
            import torch


            def energies(x, e):
                a = x.logsumexp(-1)
                b = x.logsumexp(1, keepdim=True)
                c = torch.logsumexp(torch.flatten(-e / 0.1), 0)
                d = torch.logsumexp(x, dim=1)
                f = x.flatten().logsumexp(0)
                return a, b, c, d, f
            """,
        ),
        Invalid(
            """
            from torch import exp, log


            def free_energy(logits, temperature):
                weights = exp(logits / temperature)
                total = weights.sum(dim=-1)
                return -temperature * log(total)
            """,
            expect=("7:27",),
            fixed="""
            from torch import logsumexp


            def free_energy(logits, temperature):
                return -temperature * logsumexp(logits / temperature, dim=-1)
            """,
        ),
        Invalid(
            """
            import torch


            def pooled(x, scale):
                a = torch.log(torch.exp(x).sum(1, dtype=torch.float64))
                b = torch.log(torch.exp(x).sum(dim=None, keepdim=True))
                s = torch.exp(x).sum(1)
                x = x * scale
                return a, b, torch.log(s), torch.log(torch.exp(x).view(-1).sum(0))
            """,
            expect=("5:9", "6:9", "9:18", "9:32"),
        ),
        Invalid(
            """
            import torch


            def scores(s, pos, neg):
                a = torch.log(torch.exp(s).mean(1))
                b = torch.log(torch.exp(pos) + torch.exp(neg))
                c = torch.log(torch.exp(s).mean())
                return a, b, c
            """,
            expect=("5:9", "6:9", "7:9"),
            fixed="""
            import torch
            import math


            def scores(s, pos, neg):
                a = torch.logsumexp(s, dim=1) - math.log(s.shape[1])
                b = torch.logaddexp(pos, neg)
                c = torch.logsumexp(torch.flatten(s), 0) - math.log(s.numel())
                return a, b, c
            """,
        ),
        Invalid(
            """
            import torch


            def info_nce(pos, sims, tau):
                ratio = torch.exp(pos / tau) / torch.exp(sims / tau).sum(dim=1)
                return -torch.log(ratio).mean()
            """,
            expect=("6:13",),
            fixed="""
            import torch


            def info_nce(pos, sims, tau):
                return -(pos / tau - torch.logsumexp(sims / tau, dim=1)).mean()
            """,
        ),
        Invalid(
            """
            import torch


            def log_partition(s):
                return torch.log(torch.exp(s).sum(1) + 1e-8)
            """,
            expect=("5:12",),
            unsafe_fixed="""
            import torch


            def log_partition(s):
                return torch.logsumexp(s, dim=1)
            """,
        ),
        Invalid(
            """
            import torch


            def contrastive(s, mask, pos, steps, tau):
                a = torch.log((torch.exp(s) * mask).sum(1))
                e = torch.exp(s / tau)
                b = -torch.log(e.diag() / e.sum(1))
                c = -torch.log(e.diag() / (e.sum(0) + e.sum(1) - e.diag()))
                num = torch.exp(pos)
                den = num + torch.exp(s).sum(1)
                d = -torch.log(num / den)
                total = 0
                for k in range(steps):
                    total = total + torch.exp(s[:, k])
                return a, b, c, d, torch.log(total), torch.log(torch.exp(-s + pos).sum(-1))
            """,
            expect=("5:9", "7:10", "8:10", "11:10", "15:24", "15:42"),
            fixed="""
            import torch


            def contrastive(s, mask, pos, steps, tau):
                a = torch.log((torch.exp(s) * mask).sum(1))
                e = torch.exp(s / tau)
                b = -torch.log(e.diag() / e.sum(1))
                c = -torch.log(e.diag() / (e.sum(0) + e.sum(1) - e.diag()))
                num = torch.exp(pos)
                den = num + torch.exp(s).sum(1)
                d = -torch.log(num / den)
                total = 0
                for k in range(steps):
                    total = total + torch.exp(s[:, k])
                return a, b, c, d, torch.log(total), torch.logsumexp(-s + pos, dim=-1)
            """,
        ),
    )

    valid = (
        Valid(
            """
            import torch


            def log_partition(scores):
                m = scores.max(dim=1, keepdim=True).values
                return torch.log(torch.exp(scores - m).sum(dim=1, keepdim=True)) + m
            """
        ),
        Valid(
            """
            import torch


            def log_partition(x):
                x_max = torch.max(x, dim=-1, keepdim=True)[0]
                shifted = x - x_max
                total = shifted.exp().sum(-1, keepdim=True)
                return x_max + total.log()
            """
        ),
        Valid(
            """
            import torch


            def log_partition(scores, tau):
                s = scores / tau
                m = s.max(1, keepdim=True)[0]
                s -= m
                return torch.log(torch.exp(s).sum(1)) + m.squeeze(1)
            """
        ),
        Valid(
            """
            import torch


            def log_partition(scores):
                return torch.logsumexp(scores, dim=1)
            """
        ),
        Valid(
            """
            import math
            import torch


            def not_a_tensor(scores):
                return math.log(sum(math.exp(s) for s in scores))  # plain Python floats
            """
        ),
        Valid(
            """
            import torch


            def stable_forms(x, lo, other, d, sigma, m):
                hi = torch.max(lo, other)
                a = hi + torch.log(torch.exp(lo - hi) + torch.exp(other - hi))
                b = torch.log(torch.exp(-x.abs()).sum(1))
                c = torch.log(torch.exp(-(d ** 2) / sigma).mean(-1))  # a Gaussian kernel
                e = torch.log(torch.exp(x.clamp(max=30.0)).sum(1))
                f = torch.log((torch.exp(x - m) * (x > 0)).sum(1)) + m.squeeze(1)
                return a, b, c, e, f
            """
        ),
        Valid(
            """
            import torch


            def accumulated_stably(sim, shift, steps):
                total = 0
                for k in range(steps):
                    total = total + torch.exp(sim[:, k] - shift)
                start = sim[:, 0]
                for k in range(steps):
                    start = start + torch.exp(sim[:, k])  # not a sum from zero
                return torch.log(total), torch.log(start)
            """
        ),
    )

    reproduction = Reproduction(
        unstable_label="log(sum(exp(x), 1)) - (x * t).sum(1)",
        stable_label="logsumexp(x, 1) - (x * t).sum(1)",
        dtypes=("float32", "float16"),
        scenarios=(
            Scenario(
                name="scores [m, 0], target the second class",
                inputs=_rows,
                target=_second_class,
                unstable=lambda t, x, y: t.log(t.exp(x).sum(1)) - (x * y).sum(1),
                stable=lambda t, x, y: t.logsumexp(x, 1) - (x * y).sum(1),
                rows=(1.0, 10.0, 11.09, 50.0, 88.72, 88.73, 100.0),
                claims=(
                    FirstBreak("inf from 88.73", "float32", "value", "nonfinite", 88.73),
                    FirstBreak("gradient NaN from 88.73", "float32", "grad", "nonfinite", 88.73),
                    FirstBreak("float16: inf from 11.09", "float16", "value", "nonfinite", 11.09),
                ),
            ),
            Scenario(
                name="1000 scores of m",
                inputs=_many,
                target=lambda t, x: t.zeros_like(x),
                unstable=lambda t, x, y: t.log(t.exp(x).sum(1)),
                stable=lambda t, x, y: t.logsumexp(x, 1),
                rows=(1.0, 4.19, 50.0, 81.82, 88.73),
                claims=(
                    FirstBreak("inf from 81.82", "float32", "value", "nonfinite", 81.82),
                    FirstBreak("float16: inf from 4.19", "float16", "value", "nonfinite", 4.19),
                ),
            ),
            Scenario(
                name="scores [-m, -m]",
                inputs=lambda t, m: t.stack([-m, -m], dim=1),
                target=lambda t, x: t.zeros_like(x),
                unstable=lambda t, x, y: t.log(t.exp(x).sum(1)),
                stable=lambda t, x, y: t.logsumexp(x, 1),
                rows=(1.0, 50.0, 87.0, 89.42, 100.0, 104.0, 110.0),
                claims=(
                    FirstBreak("gradient inf from 89.42", "float32", "grad", "nonfinite", 89.42),
                    FirstBreak("-inf from 103.98", "float32", "value", "nonfinite", 103.98),
                    FirstBreak("float16: -inf from 17.34", "float16", "value", "nonfinite", 17.34),
                ),
            ),
            Scenario(
                name="InfoNCE -log(exp(x0) / sum(exp(x))), scores [m, 0]",
                inputs=_rows,
                target=lambda t, x: t.zeros_like(x),
                unstable=lambda t, x, y: -t.log(t.exp(x[:, 0]) / t.exp(x).sum(1)),
                stable=lambda t, x, y: -(x[:, 0] - t.logsumexp(x, 1)),
                rows=(1.0, 11.09, 50.0, 88.72, 88.73, 100.0),
                claims=(
                    FirstBreak("ratio: NaN from 88.73", "float32", "value", "nonfinite", 88.73),
                    FirstBreak(
                        "ratio: gradient NaN from 88.73", "float32", "grad", "nonfinite", 88.73
                    ),
                    FirstBreak(
                        "float16 ratio: NaN from 11.09", "float16", "value", "nonfinite", 11.09
                    ),
                ),
            ),
            Scenario(
                name="InfoNCE, scores [-m, 0]: the positive far below",
                inputs=lambda t, m: t.stack([-m, t.zeros_like(m)], dim=1),
                target=lambda t, x: t.zeros_like(x),
                unstable=lambda t, x, y: -t.log(t.exp(x[:, 0]) / t.exp(x).sum(1)),
                stable=lambda t, x, y: -(x[:, 0] - t.logsumexp(x, 1)),
                rows=(1.0, 50.0, 103.0, 103.98, 110.0),
                claims=(
                    FirstBreak(
                        "ratio: inf from a gap of 103.98", "float32", "value", "nonfinite", 103.98
                    ),
                ),
            ),
        ),
        fix_check=FixCheck(entry="loss", extreme=(90.0, 100.0)),
    )


def _logsumexp(
    plan: EditPlan,
    analysis: FileAnalysis,
    scope,
    operand: cst.BaseExpression,
    reduction: Step,
    api: str,
) -> list[Part] | None:
    """`torch.logsumexp(x, dim=d)` for the sum or mean `reduction` of exp(x)."""
    arguments = _sum_options(reduction)
    if arguments is None:
        return None
    dim, keepdim = arguments.get("dim"), arguments.get("keepdim")
    if isinstance(dim, cst.Name) and dim.value == "None":
        dim = None
    method = api.startswith("Tensor.")
    if dim is None:  # a sum over every element: logsumexp over the flattened tensor
        if keepdim is not None:
            return None
        if method:
            return [operand, ".flatten().logsumexp(0)"]
        flatten = spell(plan, analysis, "torch.flatten", scope)
        name = spell(plan, analysis, "torch.logsumexp", scope)
        return [name, "(", flatten, "(", operand, "), 0)"]
    options: list[Part] = [", keepdim=", keepdim] if keepdim is not None else []
    if method:
        return [*_receiver(operand), ".logsumexp(", dim, *options, ")"]
    name = spell(plan, analysis, "torch.logsumexp", scope)
    return [name, "(", operand, ", dim=", dim, *options, ")"]


def _receiver(receiver: cst.BaseExpression) -> list[Part]:
    """The receiver of a method call, parenthesised when it is not an atom."""
    return ["(", receiver, ")"] if needs_parentheses(receiver, None) else [receiver]


def _count(operand: cst.BaseExpression, reduction: Step) -> list[Part] | None:
    """How many terms a mean averages: `x.shape[d]` or `x.numel()`."""
    arguments = _sum_options(reduction)
    if arguments is None:
        return None
    dim = arguments.get("dim")
    receiver = _receiver(operand)
    if dim is None or (isinstance(dim, cst.Name) and dim.value == "None"):
        return [*receiver, ".numel()"]
    if isinstance(dim, (cst.Tuple, cst.List)):
        return None
    return [*receiver, ".shape[", dim, "]"]


def _log_ratio(plan: EditPlan, analysis: FileAnalysis, call: LogCall, origin) -> list[Part] | None:
    """`a - torch.logsumexp(b, dim=d)` for log(exp(a) / exp(b).sum(d))."""
    denominator = analysis.value_of(origin.option("denominator"))
    if not isinstance(denominator, Tensor) or len(denominator.sources) != 1:
        return None
    total = denominator.sources[0]
    operand = total.origin.operand
    if operand is None or origin.operand is None:
        return None
    parts = _logsumexp(plan, analysis, call.fact.scope, operand, total.steps[0], "torch.exp")
    if parts is None:
        return None
    numerator: list[Part] = [origin.operand]
    if needs_parentheses(origin.operand, None) and not _additive_operand(origin.operand):
        numerator = ["(", origin.operand, ")"]
    return _loose(analysis, call, [*numerator, " - ", *parts])


_TIGHTER_THAN_MINUS = (
    *(cst.Add, cst.Subtract, cst.Multiply, cst.Divide, cst.FloorDivide, cst.Modulo),
    *(cst.Power, cst.MatrixMultiply),
)


def _additive_operand(node: cst.BaseExpression) -> bool:
    """An operand that binds at least as tightly as `-`: `a / t`, `-a`, `a - b`."""
    if isinstance(node, cst.UnaryOperation):
        return isinstance(node.operator, (cst.Minus, cst.Plus))
    return isinstance(node, cst.BinaryOperation) and isinstance(
        node.operator,
        _TIGHTER_THAN_MINUS,
    )


def _accumulated_sum(analysis: FileAnalysis, node: cst.CSTNode) -> Tensor | None:
    """A sum of exponentials accumulated in a loop (`den`), or a ratio over one
    (`num / den`, directly or through a name)."""
    total = accumulated(analysis, node)
    if total is not None:
        return total
    held = assigned_value(analysis, node)
    if held is not None:
        node = held
    if not (isinstance(node, cst.BinaryOperation) and isinstance(node.operator, cst.Divide)):
        return None
    numerator = analysis.value_of(node.left)
    total = accumulated(analysis, node.right)
    if total is None or not (isinstance(numerator, Tensor) and numerator.kind is Kind.EXP):
        return None
    return Tensor(Kind.SUM_EXP, tuple(dict.fromkeys(numerator.sources + total.sources)))


def _loose(analysis: FileAnalysis, call: LogCall, parts: list[Part]) -> list[Part]:
    """A difference in place of the log call: parenthesised unless it stands alone."""
    context = analysis.source.parents.get(call.fact.node)
    if isinstance(context, (cst.Arg, cst.Assign, cst.AnnAssign, cst.Return, cst.Element)):
        return parts
    return ["(", *parts, ")"]


def _sum_options(step: Step) -> dict[str, cst.BaseExpression] | None:
    """The sum's `dim` and `keepdim`; None when it has others (dtype) or unpacks arguments."""
    call = step.node
    if not isinstance(call, cst.Call) or any(arg.star for arg in call.args):
        return None
    arguments = sum_arguments(step)
    return arguments if set(arguments) <= {"dim", "keepdim"} else None
