"""Recognising the operations rules inspect (log, sqrt, sum, where, ...) in any spelling."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass

import libcst as cst

from nanlint.analysis import torch_api as api
from nanlint.analysis.facts import ArgFact, CallFact, FileAnalysis
from nanlint.analysis.names import assigned_values
from nanlint.analysis.signatures import bind_torch
from nanlint.analysis.values import UNKNOWN, BoundMethod, External, StepRole, Tensor, Value


@dataclass(frozen=True)
class OperationCall:
    """`torch.log(p)` or `p.log()`: the operation, its input tensor and other arguments."""

    name: str
    input: ArgFact | None
    bound: dict[str, ArgFact]
    method: bool


def match(callee: Value, args: Sequence[ArgFact]) -> OperationCall | None:
    if isinstance(callee, External):
        key = api.OPERATION_BY_FUNCTION.get(api.canonical(callee.qualname))
        if key is not None:
            bound = bind_torch(args, api.OPERATIONS[key].params)
            return OperationCall(key, bound.pop("input", None), bound, method=False)
    elif isinstance(callee, BoundMethod) and (
        callee.receiver is UNKNOWN or isinstance(callee.receiver, Tensor)
    ):
        key = api.OPERATION_BY_METHOD.get(callee.name)
        if key is not None:
            bound = bind_torch(args, api.OPERATIONS[key].params[1:])
            receiver = ArgFact(None, callee.receiver_node, callee.receiver)
            return OperationCall(key, receiver, bound, method=True)
    return None


def is_guard(analysis: FileAnalysis, node: cst.CSTNode) -> bool:
    """`x.clamp(...)`, `torch.clip(x, ...)`, `torch.where(c, x, y)`: a call that bounds a value,
    directly or as what every definition of a name assigned to it."""
    if isinstance(node, cst.Name):
        values = assigned_values(analysis, node)
        return bool(values) and all(is_guard(analysis, value) for value in values)
    fact = analysis.calls.get(node)  # type: ignore[arg-type]
    if fact is None:
        return False
    callee = fact.callee
    if isinstance(callee, External):
        name = api.canonical(callee.qualname)
        if api.PRESERVING_FUNCTIONS.get(name) is StepRole.GUARD:
            return True
    elif (
        isinstance(callee, BoundMethod)
        and api.PRESERVING_METHODS.get(callee.name) is StepRole.GUARD
    ):
        return True
    operation = match(callee, fact.args)
    return operation is not None and operation.name == "where"


def operation_calls(
    analysis: FileAnalysis, *names: str
) -> Iterator[tuple[CallFact, OperationCall]]:
    """Every evaluated call of one of the operations `names`."""
    for fact in analysis.call_facts():
        operation = match(fact.callee, fact.args)
        if operation is not None and operation.name in names:
            yield fact, operation
