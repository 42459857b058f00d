"""Replacing an unstable expression by a stable one written from its local producer.

`torch.log(torch.softmax(x, 1))` becomes `torch.log_softmax(x, dim=1)`, `torch.exp(x) - 1`
becomes `torch.expm1(x)`: the consumer (the log, the subtraction) is replaced by an expression
built from the producer's operand and options. That is possible when the producer is in the
same function (or inside the consumer), every step between them is one the new expression
accounts for, and every expression it copies still means the same at the consumer.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import libcst as cst

from nanlint.analysis.facts import Env, FileAnalysis
from nanlint.analysis.names import within, writable_at
from nanlint.analysis.rewrite import EditPlan, Part
from nanlint.analysis.values import Source, StepRole, Tensor
from nanlint.fixes import Applicability

Build = Callable[[EditPlan, Source], "list[Part] | None"]


def replace_consumer(
    analysis: FileAnalysis,
    consumer: cst.CSTNode,
    env: Env,
    scope: Any,
    value: Tensor,
    title: str,
    transforms: frozenset[str],
    build: Build,
    guard_note: str = "drops the `{op}` guard, which changed the value where it was active",
    atom: bool = False,
) -> EditPlan | None:
    """A fix replacing `consumer` (which reads `value`) by `build`'s parts, or None.

    `transforms` names the kind-changing steps the new expression accounts for (the sum of
    log(sum(exp(x)))); guards (clamp, +eps) are dropped with it, which makes the fix unsafe
    (`guard_note` says why, `{op}` naming the guard). `env` and `scope` are the consumer's.
    `atom`: the parts form an atom (a call), so the consumer's own parentheses can go.
    """
    if len(value.sources) != 1:
        return None
    source = value.sources[0]
    origin = source.origin
    if source.hops or origin.file is not analysis.source or origin.operand is None:
        return None
    inside = within(analysis.source, consumer)
    if inside(origin.node) and _in_place(origin.node):
        return None  # `x.exp_()`: the replacement would drop the update of x
    if not inside(origin.node) and origin.scope is not scope:
        return None
    plan = EditPlan(title)
    for step in source.steps:
        if step.role is StepRole.GUARD:
            plan.downgrade(Applicability.UNSAFE, guard_note.format(op=step.op))
        elif step.role is not StepRole.TRANSFORM or step.op not in transforms:
            return None
    if not origin.exact:
        plan.downgrade(Applicability.UNSAFE, f"{origin.label} is not the function its fix assumes")
    parts = build(plan, source)
    if parts is None:
        return None
    if not writable_at(analysis, parts, consumer, env):
        return None
    if atom:
        plan.replace_atom(analysis.source, consumer, *parts)
    else:
        plan.replace(analysis.source, consumer, *parts)
    if plan.removes_comments():
        plan.downgrade(Applicability.UNSAFE, "the edit deletes a comment")
    return plan


def _in_place(node: cst.CSTNode) -> bool:
    """A call of an in-place operation (`x.exp_()`, `torch.sigmoid_(z)`, `x.add_(1)`)."""
    if not isinstance(node, cst.Call):
        return False
    func = node.func
    name = func.attr.value if isinstance(func, cst.Attribute) else getattr(func, "value", "")
    return isinstance(name, str) and name.endswith("_") and not name.endswith("__")
