"""Where a call runs: inside an autocast region, opened by a `with`, a decorator or a caller
(regions without gradients are `gradients.in_no_grad_region`).

Autocast is dynamic: a function runs under it when it is called from inside a region, so a
call is in a region when an enclosing `with` item or a decorator of its function opens one,
or when (following the calls made in this file) a caller of its function is in one. The
innermost autocast decides: `with torch.autocast("cuda", enabled=False)` closes a region.
"""

from __future__ import annotations

from dataclasses import dataclass

import libcst as cst

from nanlint.analysis import torch_api as api
from nanlint.analysis.facts import CallFact, FileAnalysis, WithItem
from nanlint.analysis.scopes import FunctionInfo
from nanlint.analysis.signatures import bind
from nanlint.analysis.values import Constant, External, Value


@dataclass(frozen=True)
class Region:
    """An autocast region: what opens it, and the calls (outermost first) that lead from it
    into the function holding the call in question."""

    opener: cst.CSTNode
    calls: tuple[cst.Call, ...] = ()


def autocast_region(analysis: FileAnalysis, fact: CallFact) -> Region | None:
    """The autocast region `fact` runs in, if any."""
    return _region(analysis, fact.contexts, fact.scope, set())


def _region(
    analysis: FileAnalysis,
    contexts: tuple[WithItem, ...],
    scope: FunctionInfo | None,
    seen: set[FunctionInfo],
) -> Region | None:
    openers = [(context.value, context.item) for context in reversed(contexts)]
    if scope is not None:
        for decorator in reversed(scope.decorators):
            node = decorator.decorator
            fact = analysis.calls.get(node)  # type: ignore[arg-type]
            openers.append((fact.callee if fact else analysis.value_of(node), node))
    for value, node in openers:
        enabled = _autocast(analysis, value, node)
        if enabled is not None:
            return Region(node) if enabled else None
    if scope is None or scope in seen:
        return None
    seen.add(scope)
    for call in analysis.callers.get(scope, []):
        caller = analysis.calls.get(call)
        region = caller and _region(analysis, caller.contexts, caller.scope, seen)
        if region:
            return Region(region.opener, (*region.calls, call))
    return None


def _autocast(analysis: FileAnalysis, value: Value | None, node: cst.CSTNode) -> bool | None:
    """None: not autocast; else whether it enables autocast (unless `enabled=False`)."""
    if not isinstance(value, External):
        return None
    params = api.AUTOCAST.get(api.canonical(value.qualname))
    if params is None:
        return None
    fact = analysis.calls.get(node)  # type: ignore[arg-type]
    enabled = bind(fact.args, params).get("enabled") if fact is not None else None
    return not (enabled is not None and enabled.value == Constant(False))
