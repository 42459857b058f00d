"""NAN602 where-unsafe-branch."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import libcst as cst

from nanlint.analysis.constants import numbers
from nanlint.analysis.facts import ArgFact, FileAnalysis
from nanlint.analysis.gradients import carries_no_gradient, in_no_grad_region
from nanlint.analysis.names import assigned_values, within
from nanlint.analysis.operations import is_guard, operation_calls
from nanlint.analysis.rewrite import EditPlan, is_literal
from nanlint.analysis.spelling import spell
from nanlint.analysis.values import UNKNOWN, Tensor
from nanlint.fixes import Applicability, FixAvailability
from nanlint.repro.harness import FirstBreak, Reproduction, Scenario
from nanlint.rules.base import Finding, Invalid, Rule, RuleDoc, Valid

# Operations whose derivative is infinite (or NaN) somewhere, and where.
_POLES = {
    "log": "log(x) at x = 0",
    "sqrt": "sqrt(x) at x <= 0",
    "rsqrt": "rsqrt(x) at x <= 0",
    "reciprocal": "1 / x at x = 0",
    "/": "a / x at x = 0",
}


@dataclass(frozen=True)
class _Unsafe:
    """An operation with a pole, and the operand it is undefined at."""

    node: cst.CSTNode
    name: str
    operand: cst.BaseExpression


def _unsafe_operations(analysis: FileAnalysis) -> Iterator[_Unsafe]:
    for fact, operation in operation_calls(analysis, "log", "sqrt", "rsqrt", "reciprocal"):
        if operation.input is not None and not operation.input.star:
            yield _Unsafe(fact.node, operation.name, operation.input.node)
    for fact in analysis.operations.values():
        if fact.operator == "/" and _maybe_tensor(fact.right):
            yield _Unsafe(fact.node, "/", fact.right.node)


def _maybe_tensor(arg: ArgFact) -> bool:
    return not is_literal(arg.node) and (arg.value is UNKNOWN or isinstance(arg.value, Tensor))


class _Comparisons(cst.CSTVisitor):
    """The text of every side of every comparison in a tree (`x > 0`: `x` and `0`), and of
    the tensor a side measures (`x.abs() > e`, `torch.abs(x) > e`: `x`)."""

    def __init__(self) -> None:
        self.sides: set[str] = set()

    def visit_Comparison(self, node: cst.Comparison) -> None:
        for side in (node.left, *(target.comparator for target in node.comparisons)):
            self.sides.add(_text(side))
            if isinstance(side, cst.Call) and isinstance(side.func, cst.Attribute):
                self.sides.add(_text(side.func.value))  # x.abs()
                if side.args:
                    self.sides.add(_text(side.args[0].value))  # torch.abs(x)


def _text(node: cst.CSTNode) -> str:
    return " ".join(cst.Module(body=[]).code_for_node(node).split())


def _tests(analysis: FileAnalysis, condition: cst.BaseExpression, operand: cst.CSTNode) -> bool:
    """Whether the condition compares the operand (directly, or through a mask variable):
    `x > 0`, `(x != 0) & valid`, `x.abs() > eps`; not a condition that merely reads it
    (`w > h * x` does not keep x away from 0)."""
    expressions = [condition]
    if isinstance(condition, cst.Name):
        expressions += assigned_values(analysis, condition) or []
    collector = _Comparisons()
    for expression in expressions:
        expression.visit(collector)
    return _text(operand) in collector.sides


def _positive_number(analysis: FileAnalysis, operand: cst.CSTNode) -> bool:
    """A number that is positive whatever the code passes (`self.beta` set from 0.2). Not
    a sign by kind: softmax probabilities are positive yet round to exactly 0."""
    held = numbers(analysis, operand)
    return bool(held) and all(number > 0 for number in held)


class WhereUnsafeBranch(Rule):
    code = "NAN602"
    fix_availability = FixAvailability.DISPLAY_ONLY

    def check(self, analysis: FileAnalysis) -> Iterator[Finding]:
        wheres = list(operation_calls(analysis, "where"))
        unsafe = list(_unsafe_operations(analysis))
        for fact, operation in wheres:
            condition = operation.bound.get("condition")
            branches = [(True, operation.input), (False, operation.bound.get("other"))]
            if condition is None or condition.star or any(b is None for _, b in branches):
                continue
            if in_no_grad_region(analysis, fact.node):
                continue  # the forward value is right; only gradients go NaN
            inner = [w.node for w, _ in wheres if w is not fact]
            for taken, branch in branches:
                assert branch is not None
                inside = within(branch.node)
                for op in unsafe:
                    if not inside(op.node) or any(inside(w) and within(w)(op.node) for w in inner):
                        continue
                    if (
                        is_guard(analysis, op.operand)
                        or _positive_number(analysis, op.operand)
                        or carries_no_gradient(analysis, op.operand)
                    ):
                        continue  # bounded, never at the pole, or no gradient to go NaN
                    if not _tests(analysis, condition.node, op.operand):
                        continue
                    yield self._finding(analysis, fact.scope, condition.node, op, taken)

    def _finding(
        self,
        analysis: FileAnalysis,
        scope,
        condition: cst.BaseExpression,
        op: _Unsafe,
        taken: bool,
    ) -> Finding:
        operand = _text(op.operand)
        message = (
            "`torch.where` computes both branches and only then selects: where the condition"
            f" masks `{operand}` out, {_POLES[op.name]} still has an infinite derivative, and the"
            " masked branch's zero gradient times infinity is NaN, so the gradient is NaN even"
            " though the value is discarded; mask the input as well"
        )
        plan = EditPlan("Guard the input too (double where)")
        where = spell(plan, analysis, "torch.where", scope)
        if taken:  # the branch is used where the condition holds: keep the operand there
            plan.replace(
                analysis.source, op.operand, f"{where}(", condition, ", ", op.operand, ", 1.0)"
            )
            guard = f"{where}({_text(condition)}, {operand}, 1.0)"
        else:
            plan.replace(
                analysis.source, op.operand, f"{where}(", condition, ", 1.0, ", op.operand, ")"
            )
            guard = f"{where}({_text(condition)}, 1.0, {operand})"
        plan.title += f": use `{guard}` in place of `{operand}`"
        plan.downgrade(Applicability.DISPLAY_ONLY)
        return Finding(op.node, message, [], plan)

    doc = RuleDoc(
        what=(
            "Finds `torch.where(condition, a, b)` where a branch applies an operation with a pole"
            " (`log`, `sqrt`, `rsqrt`, `reciprocal`, or a division) to an operand that the"
            " condition itself tests, e.g. `torch.where(x > 0, torch.log(x), 0)` or the entropy"
            " term `torch.where(p > 0, p * torch.log(p), 0)`: the user masks the operand's invalid"
            " domain. An operand that is already guarded (`torch.where(x > 0, x, 1.0)`, a clamp),"
            " one that carries no gradient (a count of a comparison, a `.detach()`) and a"
            " condition that does not compare the operand (`w > h * x` reads x but does not keep"
            " it from 0) are not flagged."
        ),
        why=(
            "`torch.where` evaluates both branches everywhere and selects afterwards, and autograd"
            " differentiates both: the masked branch receives a zero gradient, which is then"
            " multiplied by the operation's derivative at the masked value. At a pole that"
            " derivative is infinite (1 / x at 0 for log, 1 / (2 sqrt(x)) at x <= 0 for sqrt) and"
            " 0 * inf is NaN, so the gradient is NaN although the forward value is correct. This"
            " holds in every dtype; one zero-probability class or one padded zero is enough to"
            " turn every parameter's gradient into NaN."
        ),
        fix_safety=(
            "The suggestion masks the operand as well, the double-where idiom:"
            " `torch.where(x > 0, torch.log(torch.where(x > 0, x, 1.0)), 0.0)` (for a branch taken"
            " where the condition is false, the inner where keeps the operand there instead). The"
            " forward value is unchanged and the gradient is finite; it is display-only because"
            " the right fill value depends on the operation."
        ),
        references=(
            "https://pytorch.org/docs/stable/generated/torch.where.html",
            "https://pytorch.org/docs/stable/notes/autograd.html#gradients-for-non-differentiable-functions",
        ),
    )

    invalid = (
        Invalid(
            """
            import torch


            def entropy(p):
                return -torch.where(p > 0, p * torch.log(p), torch.zeros_like(p)).sum(-1)
            """,
            expect=("5:36",),
        ),
        Invalid(
            """
            import torch


            def features(x, d):
                valid = d > 1e-6
                a = torch.where(x <= 0, torch.zeros_like(x), x.sqrt())
                b = torch.where(valid, 1.0 / d, 0.0)
                c = torch.where(condition=x > 0, input=torch.log(x), other=x)
                return a, b, c
            """,
            expect=("6:50", "7:28", "8:44"),
        ),
        Invalid(
            """
            import torch


            def inverse(x):
                return torch.where(x.abs() > 1e-6, 1 / x, torch.zeros_like(x))
            """,
            expect=("5:40",),
        ),
    )

    valid = (
        Valid(
            """
            import torch


            def entropy(p):
                safe = torch.where(p > 0, p, torch.ones_like(p))
                a = torch.where(p > 0, p * torch.log(safe), torch.zeros_like(p))
                b = torch.where(p > 0, torch.log(torch.where(p > 0, p, 1.0)), 0.0)
                c = torch.where(p > 0, torch.log(p.clamp(min=1e-12)), 0.0)
                return a, b, c
            """
        ),
        Valid(
            """
            import torch


            def unrelated(x, y, mask, self_x):
                a = torch.where(mask, torch.log(x), y)
                b = torch.where(y > 0, torch.sqrt(x), y)
                c = torch.where(x > 2, y / 2, y)
                d = torch.where(self_x.x > 0, torch.log(x), y)
                return a, b, c, d


            @torch.no_grad()
            def metric(x):
                with torch.inference_mode():
                    a = torch.where(x > 0, torch.log(x), 0.0)
                return a, torch.where(x > 0, x.sqrt(), 0.0)  # no gradients here


            def stability(logits, delta):
                inside = torch.sum(logits > delta, dim=-1).float()
                union = torch.sum(logits > -delta, dim=-1).float()
                return torch.where(union > 0, inside / union, 1.0)  # counts: no gradient


            def scale(w, h, ratio):
                return torch.where(w > h * ratio, w / ratio, h)  # ratio is read, not tested


            class Huber(torch.nn.Module):
                def __init__(self, beta: float = 0.2):
                    super().__init__()
                    self.beta = beta

                def forward(self, err):
                    small = err.abs() < self.beta
                    return torch.where(small, 0.5 * err ** 2 / self.beta, err.abs() - 0.5 * self.beta)


            def huber_from(config):
                return Huber(config.beta)  # a float hyperparameter: no gradient, never 0 here


            def resample_kernel(orig: int, new: int, width: int = 6):
                t = torch.arange(0, -new, -1)[:, None] / new + torch.arange(-width, width) / orig
                t *= 3.14159
                return torch.where(t == 0, torch.tensor(1.0), t.sin() / t)  # built from arange
            """
        ),
    )

    reproduction = Reproduction(
        unstable_label="where(x > 0, sqrt(x), 0)",
        stable_label="where(x > 0, sqrt(where(x > 0, x, 1)), 0)",
        dtypes=("float32", "bfloat16", "float16"),
        scenarios=(
            Scenario(
                name="sqrt masked to x > 0, evaluated at x = -m",
                inputs=lambda t, m: -m,
                target=lambda t, x: t.zeros_like(x),
                unstable=lambda t, x, y: t.where(x > 0, t.sqrt(x), y),
                stable=lambda t, x, y: t.where(x > 0, t.sqrt(t.where(x > 0, x, 1.0)), y),
                rows=(0.0, 0.01, 1.0, 50.0),
                claims=(
                    FirstBreak("gradient NaN from x = 0", "float32", "grad", "nonfinite", 0.0),
                    FirstBreak(
                        "bfloat16: gradient NaN from x = 0", "bfloat16", "grad", "nonfinite", 0.0
                    ),
                ),
            ),
            Scenario(
                name="entropy term where(p > 0, p * log(p), 0) at p = m",
                inputs=lambda t, m: m,
                target=lambda t, x: t.zeros_like(x),
                unstable=lambda t, x, y: t.where(x > 0, x * t.log(x), y),
                stable=lambda t, x, y: t.where(x > 0, x * t.log(t.where(x > 0, x, 1.0)), y),
                rows=(0.0, 0.01, 1.0, 50.0),
                claims=(FirstBreak("gradient NaN at p = 0", "float32", "grad", "nonfinite", 0.0),),
            ),
        ),
    )
