"""The floor a guard puts under a value: `clamp(min=eps)`, `clamp_min(eps)`,
`clamp(p, eps, 1 - eps)`, `torch.clip`, or `p + eps`.

A guarded value never reaches zero, so its logarithm, square root or reciprocal stays
finite; what remains is saturation below the floor, which messages describe with the floor's
number when the code shows it.
"""

from __future__ import annotations

from dataclasses import dataclass

import libcst as cst

from nanlint.analysis import torch_api as api
from nanlint.analysis.constants import Numbers, numbers
from nanlint.analysis.facts import FileAnalysis
from nanlint.analysis.names import reads_of_assigned
from nanlint.analysis.signatures import bind
from nanlint.analysis.signs import positive
from nanlint.analysis.values import BoundMethod, External, Source, StepRole, Tensor

# The parameters of the clamping spellings after the input (method) or with it (function).
_CLAMP_METHODS = {
    "clamp": ("min", "max"),
    "clamp_": ("min", "max"),
    "clip": ("min", "max"),
    "clip_": ("min", "max"),
    "clamp_min": ("min",),
    "clamp_min_": ("min",),
}
_CLAMP_FUNCTIONS = {
    "torch.clamp": ("input", "min", "max"),
    "torch.clip": ("input", "min", "max"),
    "torch.clamp_min": ("input", "min"),
}


@dataclass(frozen=True)
class Floor:
    """How a value is kept from zero: `clamp` (its gradient is exactly zero below the floor)
    or `eps` (added: the value shifts, the gradient fades); the floor's number if known."""

    how: str
    value: float | None


def floor_of(analysis: FileAnalysis, source: Source) -> Floor | None:
    """The innermost guard step of a source that keeps it at or above a positive floor."""
    for step in source.steps:
        if step.role is not StepRole.GUARD:
            continue
        if step.op == "eps":  # an eps the interpreter recognised (a small positive number)
            operation = analysis.operations.get(step.node)  # type: ignore[arg-type]
            if operation is None:
                return Floor("eps", None)
            other = operation.right if operation.left.node is step.operand else operation.left
            return Floor("eps", _smallest(numbers(analysis, other.node)))
        minimum = _clamp_minimum(analysis, step.node)
        if minimum is None:
            continue
        held = numbers(analysis, minimum)
        if held and all(number > 0 for number in held):
            return Floor("clamp", min(held))
        if positive(analysis, minimum):
            return Floor("clamp", None)
    return None


def _smallest(held: Numbers) -> float | None:
    return min(held) if held and all(number > 0 for number in held) else None


def floored(analysis: FileAnalysis, source: Source) -> bool:
    return floor_of(analysis, source) is not None


def _clamp_minimum(analysis: FileAnalysis, node: cst.CSTNode) -> cst.BaseExpression | None:
    """The `min` argument of a clamping call."""
    fact = analysis.calls.get(node)  # type: ignore[arg-type]
    if fact is None:
        return None
    callee = fact.callee
    params: tuple[str, ...] | None = None
    if isinstance(callee, External):
        params = _CLAMP_FUNCTIONS.get(api.canonical(callee.qualname))
    elif isinstance(callee, BoundMethod):
        params = _CLAMP_METHODS.get(callee.name)
    if params is None:
        return None
    minimum = bind(fact.args, params).get("min")
    return None if minimum is None or minimum.star else minimum.node


def common_floor(analysis: FileAnalysis, value: Tensor) -> Floor | None:
    """The floor every source of a value has (its number when they agree), else None."""
    floors = [floor_of(analysis, source) for source in value.sources]
    if not floors or any(floor is None for floor in floors):
        return None
    hows = {floor.how for floor in floors if floor is not None}
    numbers = {floor.value for floor in floors if floor is not None}
    if len(hows) != 1:
        return None
    return Floor(hows.pop(), numbers.pop() if len(numbers) == 1 else None)


def weighted_by_itself(analysis: FileAnalysis, log: cst.CSTNode, value: Tensor) -> bool:
    """Whether a log of `value` only ever meets `value` as a factor: `p * log(p + eps)`, or
    `lp = log(p.clamp_min(eps))` read only in `p * lp` (entropy and expectation terms).

    Such a term is finite with the guard (0 * log(eps) = 0 where p underflows), and the
    floor changes it by less than eps * |log(eps)|; rewriting it to `p * log_softmax(z)`
    would make it 0 * -inf = NaN where the logits are -inf (masked positions)."""
    parent = analysis.source.parents.get(log)
    places = reads_of_assigned(analysis, log) if isinstance(parent, cst.Assign) else [log]
    return bool(places) and all(_times_itself(analysis, place, value) for place in places)


def _times_itself(analysis: FileAnalysis, node: cst.CSTNode, value: Tensor) -> bool:
    operation = analysis.source.parents.get(node)
    if not isinstance(operation, cst.BinaryOperation) or not isinstance(
        operation.operator, cst.Multiply
    ):
        return False
    other = operation.right if operation.left is node else operation.left
    factor = analysis.value_of(other)
    return (
        isinstance(factor, Tensor)
        and factor.kind is value.kind
        and bool(set(factor.origins) & set(value.origins))
    )
