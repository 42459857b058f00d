"""What arithmetic does to kinds: the few forms the rules look for; everything else is unknown.

`1 + exp(x)`, `exp(x).sum(d)`, `1 - sigmoid(z)`, `p + 1e-8` (a guard), `x ** 2`, `x - m` and
the hand-written sigmoid and softmax (`1 / (1 + exp(-x))`, `exp(x) / exp(x).sum(d, keepdim=True)`)
each get a kind; the operator forms and the call forms (`e.add(1)`, `torch.pow(x, 2)`,
`x.sub(m)`) share the same transfer functions.
"""

from __future__ import annotations

from typing import Any

import libcst as cst

from nanlint.analysis import exp_sums
from nanlint.analysis.constants import is_eps
from nanlint.analysis.facts import ArgFact, FileAnalysis
from nanlint.analysis.kinds import COMPLEMENTS, LINEAR_PROBABILITIES, Kind
from nanlint.analysis.operations import OperationCall
from nanlint.analysis.signatures import bind_torch
from nanlint.analysis.torch_api import OPERATIONS
from nanlint.analysis.values import (
    UNKNOWN,
    BoundMethod,
    Constant,
    OneHot,
    Removal,
    Step,
    StepRole,
    Tensor,
    Value,
    produced,
)

OPERATORS = {
    cst.Add: "+",
    cst.Subtract: "-",
    cst.Multiply: "*",
    cst.Divide: "/",
    cst.Power: "**",
    cst.MatrixMultiply: "@",
}


def binary(
    operator: str,
    left: ArgFact,
    right: ArgFact,
    node: cst.CSTNode,
    file: Any,
    scope: Any,
    analysis: FileAnalysis | None = None,
) -> Value:
    """The value of `left <operator> right` evaluated at `node` (in `analysis`, so far)."""
    if operator == "+":
        return add(left, right, node, file, scope, analysis)
    if operator == "-":
        return subtract(left, right, node, file, scope)
    if operator == "*":
        return _multiply(left, right, node, file, scope)
    if operator == "**":
        return power(left, right, node, file, scope)
    if operator == "/":
        return _divide(left, right, node, file, scope)
    if operator == "@":
        return matmul(left, right, node)
    return UNKNOWN


def matmul(left: ArgFact, right: ArgFact, node: cst.CSTNode) -> Value:
    """`p @ one_hot` (`torch.bmm`, `torch.matmul`): selections of probabilities when the
    one-hot mask is along the contracted dimension (the left's last, the right's -2)."""
    one, mask = left.value, right.value
    if isinstance(one, Tensor) and isinstance(mask, OneHot) and mask.dim == -2:
        return _select(one, node, left.node)
    one, mask = right.value, left.value
    if isinstance(one, Tensor) and isinstance(mask, OneHot) and mask.dim == -1:
        return _select(one, node, right.node)
    return UNKNOWN


def _select(value: Tensor, node: cst.CSTNode, operand: cst.CSTNode) -> Value:
    if value.kind not in LINEAR_PROBABILITIES:
        return UNKNOWN
    return value.with_step(Step("select", node, StepRole.OPAQUE, operand))


def add(
    left: ArgFact,
    right: ArgFact,
    node: cst.CSTNode,
    file: Any,
    scope: Any,
    analysis: FileAnalysis | None = None,
) -> Value:
    for one, other in ((left, right), (right, left)):
        value = one.value
        if isinstance(value, Tensor) and value.kind is Kind.EXP and is_number(other, 1):
            return value.transform(
                Kind.ONE_PLUS_EXP, Step("add_one", node, StepRole.TRANSFORM, one.node)
            )
        if (
            isinstance(value, Tensor)
            and value.kind in LINEAR_PROBABILITIES
            and is_eps(other, analysis)
        ):
            return value.with_step(Step("eps", node, StepRole.GUARD, one.node))
    assembled = exp_sums.added(left, right, node, file, scope, analysis)
    if assembled is not None:
        return assembled
    for one, other in ((left, right), (right, left)):
        if is_number(other, 1) and _maybe_tensor(one.value):
            return produced(Kind.ONE_PLUS, "1 + x", node, one.node, file, scope)
    return UNKNOWN


def subtract(left: ArgFact, right: ArgFact, node: cst.CSTNode, file: Any, scope: Any) -> Value:
    value = right.value
    if is_number(left, 1) and isinstance(value, Tensor) and value.kind in COMPLEMENTS:
        return value.transform(
            COMPLEMENTS[value.kind], Step("complement", node, StepRole.TRANSFORM, right.node)
        )
    reduced = exp_sums.subtracted(left, right, node)
    if reduced is not None:
        return reduced
    # `x.max(1).values` is an attribute of an unknown value: it may be a tensor too
    if all(_maybe_tensor(v) or isinstance(v, BoundMethod) for v in (left.value, value)):
        return produced(Kind.DIFFERENCE, "x - y", node, left.node, file, scope)
    return UNKNOWN


def _multiply(left: ArgFact, right: ArgFact, node: cst.CSTNode, file: Any, scope: Any) -> Value:
    for one, other in ((left, right), (right, left)):
        mask, value = other.value, one.value
        if (
            isinstance(mask, OneHot)
            and mask.dim is not None
            and isinstance(value, Tensor)
            and value.kind in LINEAR_PROBABILITIES
        ):  # `one_hot * p`: zeros but for the probability of each row's class
            return value.with_step(Step("one_hot", node, StepRole.OPAQUE, one.node, mask.dim))
    if (
        isinstance(left.node, cst.Name)
        and isinstance(right.node, cst.Name)
        and left.node.value == right.node.value
        and _maybe_tensor(left.value)
    ):
        return produced(Kind.SQUARE, "x * x", node, left.node, file, scope)
    return exp_sums.scaled(left, node) or exp_sums.scaled(right, node) or UNKNOWN


def power(base: ArgFact, exponent: ArgFact, node: cst.CSTNode, file: Any, scope: Any) -> Value:
    if is_number(exponent, 2) and _maybe_tensor(base.value):
        return produced(Kind.SQUARE, "x ** 2", node, base.node, file, scope)
    value, power = base.value, exponent.value
    if (
        isinstance(value, Tensor)
        and value.kind in LINEAR_PROBABILITIES
        and not isinstance(power, Tensor)
        and (not isinstance(power, Constant) or _positive(power))
        and _negated(exponent.node) is None  # `p ** (-t)` grows to inf, not to 0
    ):  # `p ** t` (t > 0) is in [0, 1] and underflows where p does: log(p ** t) = t log(p)
        return value.with_step(Step("pow", node, StepRole.OPAQUE, base.node))
    return UNKNOWN


def _positive(value: Constant) -> bool:
    number = value.value
    return isinstance(number, (int, float)) and not isinstance(number, bool) and number > 0


def _divide(left: ArgFact, right: ArgFact, node: cst.CSTNode, file: Any, scope: Any) -> Value:
    """The hand-written sigmoid and softmax are probabilities like the real ones; other
    quotients of exponentials are ratios (InfoNCE) or scaled exponentials."""
    activation = _activation(left, right, node, file, scope)
    if activation is not UNKNOWN:
        return activation
    return (
        exp_sums.ratio(left, right, node, file, scope)
        or (exp_sums.scaled(left, node) if not isinstance(right.value, Tensor) else None)
        or UNKNOWN
    )


def _activation(left: ArgFact, right: ArgFact, node: cst.CSTNode, file: Any, scope: Any) -> Value:
    """`1 / (1 + exp(-x))`, `exp(x) / exp(x).sum(d, keepdim=True)`."""
    denominator = right.value
    if (
        not isinstance(denominator, Tensor)
        or len(denominator.sources) != 1
        or len(denominator.sources[0].steps) != 1  # exactly the `1 +` or the sum of exp(x)
    ):
        return UNKNOWN
    exp_operand = denominator.sources[0].origin.operand
    if denominator.kind is Kind.ONE_PLUS_EXP and exp_operand is not None:
        negated = _negated(exp_operand)
        if is_number(left, 1) and negated is not None:
            return produced(Kind.PROB_SIGMOID, "1 / (1 + exp(-x))", node, negated, file, scope)
        if _exp_of(left.value, exp_operand):
            return produced(
                Kind.PROB_SIGMOID, "exp(x) / (1 + exp(x))", node, exp_operand, file, scope
            )
    if (
        denominator.kind is Kind.SUM_EXP
        and exp_operand is not None
        and _exp_of(left.value, exp_operand)
    ):
        arguments = sum_arguments(denominator.sources[0].steps[0])
        keepdim = arguments.get("keepdim")
        if "dim" not in arguments or not (
            isinstance(keepdim, cst.Name) and keepdim.value == "True"
        ):
            return UNKNOWN  # without keepdim=True the division broadcasts: not a softmax
        options = tuple((name, arguments[name]) for name in ("dim", "dtype") if name in arguments)
        return produced(
            Kind.PROB_SOFTMAX, "exp(x) / exp(x).sum(d)", node, exp_operand, file, scope, options
        )
    return UNKNOWN


def sum_arguments(step: Step) -> dict[str, cst.BaseExpression]:
    """The `dim`, `keepdim`, `dtype` arguments of a sum step, read from its call."""
    call = step.node
    if not isinstance(call, cst.Call):
        return {}
    method = isinstance(call.func, cst.Attribute) and call.func.value is step.operand
    params = OPERATIONS["sum"].params[1:] if method else OPERATIONS["sum"].params
    args = [
        ArgFact(a.keyword.value if a.keyword else None, a.value, UNKNOWN, a.star) for a in call.args
    ]
    return {name: arg.node for name, arg in bind_torch(args, params).items() if name != "input"}


def evaluate(operation: OperationCall, node: cst.CSTNode, file: Any, scope: Any) -> Value:
    """The call forms: `x.sum(d)`, `torch.add(e, 1)`, `x.pow(2)`, `torch.log(p)`."""
    tensor = operation.input
    if tensor is None or tensor.star:
        return UNKNOWN
    bound = operation.bound
    if operation.name == "sum" and isinstance(tensor.value, Tensor):
        dim = bound["dim"].value if "dim" in bound else None
        return _sum(tensor.value, node, tensor.node, dim)
    if operation.name == "mean" and isinstance(tensor.value, Tensor):
        if tensor.value.kind is Kind.EXP:
            return exp_sums.reduced(tensor.value, "mean", node, tensor.node)
        return UNKNOWN
    if operation.name == "add" and "other" in bound and "alpha" not in bound:
        return add(tensor, bound["other"], node, file, scope)
    if operation.name == "sub" and "other" in bound and "alpha" not in bound:
        return subtract(tensor, bound["other"], node, file, scope)
    if operation.name == "pow" and "exponent" in bound:
        return power(tensor, bound["exponent"], node, file, scope)
    if (
        operation.name == "log"
        and isinstance(tensor.value, Tensor)
        and tensor.value.kind in LINEAR_PROBABILITIES
    ):
        return produced(Kind.LOGPROB, "log", node, tensor.node, file, scope, removal=Removal.NONE)
    return UNKNOWN


def _sum(value: Tensor, node: cst.CSTNode, operand: cst.CSTNode, dim: Value | None) -> Value:
    """Exponentials and squares become their sums, a one-hot selection along its dimension
    the selected probabilities; other sums are unknown."""
    if value.kind in LINEAR_PROBABILITIES and all(
        source.steps and source.steps[-1].op == "one_hot" and dim == Constant(source.steps[-1].dim)
        for source in value.sources
    ):
        return _select(value, node, operand)
    if value.kind in (Kind.EXP, Kind.SUM_EXP):
        return exp_sums.reduced(value, "sum", node, operand)
    summed = {Kind.SQUARE: Kind.SUM_SQUARE}.get(value.kind)
    if summed is None:
        return UNKNOWN
    return value.transform(summed, Step("sum", node, StepRole.TRANSFORM, operand))


def _exp_of(value: Value, operand: cst.CSTNode) -> bool:
    """Whether `value` is exp of the same expression as `operand` (same text), as it is."""
    if (
        not isinstance(value, Tensor)
        or value.kind is not Kind.EXP
        or len(value.sources) != 1
        or value.sources[0].steps
    ):
        return False
    other = value.sources[0].origin.operand
    return other is not None and _same_text(other, operand)


def _same_text(a: cst.CSTNode, b: cst.CSTNode) -> bool:
    if a is b:
        return True
    module = cst.Module(body=[])
    return " ".join(module.code_for_node(a).split()) == " ".join(module.code_for_node(b).split())


def _negated(node: cst.CSTNode) -> cst.BaseExpression | None:
    if isinstance(node, cst.UnaryOperation) and isinstance(node.operator, cst.Minus):
        return node.expression
    return None


def is_number(arg: ArgFact, number: float) -> bool:
    value = arg.value
    return (
        isinstance(value, Constant)
        and isinstance(value.value, (int, float))
        and not isinstance(value.value, bool)
        and value.value == number
    )


def _maybe_tensor(value: Value) -> bool:
    return value is UNKNOWN or isinstance(value, (Tensor, OneHot))
