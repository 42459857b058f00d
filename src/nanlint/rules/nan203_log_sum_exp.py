"""NAN203 log-sum-exp."""

from __future__ import annotations

import libcst as cst

from nanlint.analysis.arithmetic import sum_arguments
from nanlint.analysis.exponents import stable
from nanlint.analysis.facts import FileAnalysis
from nanlint.analysis.kinds import Kind
from nanlint.analysis.rewrite import EditPlan, Part
from nanlint.analysis.spelling import spell
from nanlint.analysis.values import Source, Step
from nanlint.fixes import FixAvailability
from nanlint.repro.harness import FirstBreak, FixCheck, Reproduction, Scenario
from nanlint.rules.base import Invalid, RuleDoc, Valid
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
    kinds = frozenset({Kind.SUM_EXP})
    transforms = frozenset({"sum"})

    def exempt(self, analysis: FileAnalysis, source: Source) -> bool:
        """The max-shifted form `log(sum(exp(x - m))) + m` cannot overflow."""
        return stable(analysis, source.origin.operand)

    def consequence(self, call: LogCall) -> str:
        return (
            "log(sum(exp(x))) is inf with a NaN gradient from x = 88.73 in float32 (11.09 in"
            " float16), where exp overflows although the true value is about max(x), and -inf"
            " when every term is below -103.97, where the sum underflows to 0; logsumexp"
            " subtracts the maximum first and is exact"
        )

    def fix_title(self, call: LogCall) -> str:
        return "Use `logsumexp`"

    def replacement(
        self, plan: EditPlan, analysis: FileAnalysis, call: LogCall, source: Source
    ) -> list[Part] | None:
        operand = source.origin.operand
        total = next(step for step in source.steps if step.op == "sum")
        arguments = _sum_options(total)
        if operand is None or arguments is None:
            return None
        dim, keepdim = arguments.get("dim"), arguments.get("keepdim")
        if isinstance(dim, cst.Name) and dim.value == "None":
            dim = None
        method = source.origin.api.startswith("Tensor.")
        if dim is None:  # a sum over every element: logsumexp over the flattened tensor
            if keepdim is not None:
                return None
            if method:
                return [operand, ".flatten().logsumexp(0)"]
            flatten = spell(plan, analysis, "torch.flatten", call.fact.scope)
            name = spell(plan, analysis, "torch.logsumexp", call.fact.scope)
            return [name, "(", flatten, "(", operand, "), 0)"]
        options: list[Part] = [", keepdim=", keepdim] if keepdim is not None else []
        if method:
            return [operand, ".logsumexp(", dim, *options, ")"]
        name = spell(plan, analysis, "torch.logsumexp", call.fact.scope)
        return [name, "(", operand, ", dim=", dim, *options, ")"]

    doc = RuleDoc(
        what=(
            "Finds the logarithm of a sum of exponentials: `torch.log(torch.sum(torch.exp(x),"
            " dim=1))`, `torch.log(torch.exp(x).sum(-1))`, `x.exp().sum(d).log()`, directly or"
            " through variables. A max-shifted form, `torch.exp(x - m)` with m subtracted (the"
            " hand-written stable log-sum-exp, also in place: `s -= s.max(1, keepdim=True)[0]`),"
            " and an exponent that cannot be positive (`-x.abs()`, a Gaussian kernel) are not"
            " flagged."
        ),
        why=(
            "exp(x) overflows to inf for x > 88.72 in float32 (11.09 in float16), so"
            " log(sum(exp(x))) is inf from a score of 88.73, and the gradient, which divides"
            " inf by inf, is NaN from the same point, although the true result is only about"
            " max(x). With many terms the sum overflows even earlier: 1000 scores of 81.82 are"
            " enough in float32 (4.19 in float16). At the other end, when every score is below"
            " -103.97 (-17.33 in float16) the sum underflows to 0 and the result is -inf; the"
            " gradient is already infinite from -89.42. `torch.logsumexp` subtracts the maximum"
            " before exponentiating and is exact at any magnitude."
        ),
        fix_safety=(
            "The fix replaces the expression with `torch.logsumexp(x, dim=d)` (`x.logsumexp(d)`"
            " for the method form), carrying `keepdim`; a sum over every element becomes a"
            " logsumexp over the flattened tensor. It is safe: the values are the same, only"
            " exact. Through a variable it is offered only while the names it copies still hold"
            " the same values at the log. A sum with `dtype=` is reported without a fix."
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
            from torch import exp, log, logsumexp


            def free_energy(logits, temperature):
                weights = exp(logits / temperature)
                total = weights.sum(dim=-1)
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


            def not_a_sum(x, scores):
                a = torch.log(torch.exp(x).mean(1))  # a mean, not a sum
                b = math.log(sum(math.exp(s) for s in scores))  # plain Python floats
                return a, b
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
        ),
        fix_check=FixCheck(entry="loss", extreme=(90.0, 100.0)),
    )


def _sum_options(step: Step) -> dict[str, cst.BaseExpression] | None:
    """The sum's `dim` and `keepdim`; None when it has others (dtype) or unpacks arguments."""
    call = step.node
    if not isinstance(call, cst.Call) or any(arg.star for arg in call.args):
        return None
    arguments = sum_arguments(step)
    return arguments if set(arguments) <= {"dim", "keepdim"} else None
