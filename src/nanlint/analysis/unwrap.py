"""Rewriting the producer of a consumer's input: the logits (or log-probabilities) it needs.

A consumer (a loss, a distribution) receives a value that an activation produced. The fix
rewrites that activation (see producers.py: remove it, or move it to log space), trying
three places for every source of the value:

1. inline: the activation is inside the argument (`bce(torch.sigmoid(z), y)`): edit it
   there. Local and safe.
2. by name: the argument reads a variable (`p = torch.sigmoid(z)` ... `bce(p, y)`) and the
   activation's operand still means the same at the consumer: write the rewritten value in
   place of `p`, keeping `p` for its other uses. Safe.
3. at the origin: edit the activation where it was produced. Within one function this is
   safe only when every use of its output is a consumer rewritten by the same fix; across a
   function, an attribute or an nn.Sequential layer it changes what the model returns, so it
   is unsafe and the fix says which other places now receive the changed value.

Guards between the activation and the consumer (`clamp(p, eps, 1 - eps)`, `p + 1e-8`) go
with the activation, which changes the value where they were active: unsafe.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Protocol

import libcst as cst

from nanlint.analysis.facts import ArgFact, CallFact, FileAnalysis
from nanlint.analysis.names import within
from nanlint.analysis.producers import ProducerRewrite, Remove, remove_guards
from nanlint.analysis.rewrite import EditPlan
from nanlint.analysis.values import Origin, Removal, Source, StepRole, Tensor
from nanlint.fixes import Applicability


class Consumer(Protocol):
    """A call that consumes a produced value: a loss call, a distribution, ..."""

    @property
    def fact(self) -> CallFact: ...

    @property
    def input(self) -> ArgFact | None: ...


@dataclass
class _Needs:
    """Other consumers that a removal at the origin affects."""

    required: set[cst.CSTNode] = field(default_factory=set)  # must be rewritten too
    # (file, consumer) pairs of a remote producer's other uses:
    candidates: set[tuple] = field(default_factory=set)  # rewritten too if they are consumers
    affected: set[tuple] = field(default_factory=set)  # receive the changed value


SinkOf = Callable[[cst.CSTNode], "Consumer | None"]
PlanSink = Callable[[Consumer, EditPlan], "list[Consumer] | None"]


def plan_component(
    analysis: FileAnalysis,
    seed: Consumer,
    sink_of: SinkOf,
    plan_sink: PlanSink,
    title: str,
    rewrite: ProducerRewrite | None = None,
    transforms: frozenset[str] = frozenset(),
) -> EditPlan | None:
    """One fix for `seed` and every consumer that must change with it, or None.

    `sink_of` says whether a node is a consumer this rule rewrites; `plan_sink` adds the
    consumer-side edits of one call (swap the loss, rename `probs=`, ...) and returns more
    consumers that must be rewritten with it (the other calls of a shared loss object), or
    None when it cannot. `rewrite` says what happens to the producer (default: Remove);
    `transforms` names kind-changing steps the consumer-side edit takes care of (the
    `1 - p` of `log(1 - p)`).
    """
    rewrite = rewrite or Remove()
    component: dict[cst.CSTNode, Consumer] = {}
    pending = [seed]
    while True:
        while pending:
            sink = pending.pop(0)
            if sink.fact.node in component:
                continue
            component[sink.fact.node] = sink
            more = plan_sink(sink, EditPlan(title))
            if more is None:
                return None
            pending.extend(more)
        needs = _Needs()
        for sink in component.values():
            if not _recover(
                analysis, EditPlan(title), sink, set(component), needs, rewrite, transforms
            ):
                return None
        for consumer in needs.required - set(component):
            sink = sink_of(consumer)
            if sink is None:
                return None
            pending.append(sink)
        for _, consumer in needs.candidates:
            sink = sink_of(consumer) if consumer not in component else None
            if sink is not None:
                pending.append(sink)
        if not pending:
            break
    plan = EditPlan(title)
    needs = _Needs()
    for sink in component.values():
        plan_sink(sink, plan)
        _recover(analysis, plan, sink, set(component), needs, rewrite, transforms)
    affected = sorted(
        (use for use in needs.affected | needs.candidates if use[1] not in component),
        key=lambda use: (str(use[0].path), use[0].node_offsets(use[1])),
    )
    if affected:
        places = ", ".join(_place(analysis.source, file, node) for file, node in affected)
        plan.downgrade(
            Applicability.UNSAFE, f"these other uses now receive {rewrite.receives}: {places}"
        )
    if plan.removes_comments():
        plan.downgrade(Applicability.UNSAFE, "the edit deletes a comment")
    return plan


def _place(here, file, node: cst.CSTNode) -> str:
    """`line 46 (`model(x) > 0.5`)`, or `predict.py:12 (...)` in another file."""
    line = file.position_at(file.node_offsets(node)[0]).line
    text = " ".join(file.module.code_for_node(node).split())
    if len(text) > 60:
        text = text[:57] + "..."
    where = f"line {line}" if file is here else f"{file.path}:{line}"
    return f"{where} (`{text}`)"


def _recover(
    analysis: FileAnalysis,
    plan: EditPlan,
    sink: Consumer,
    component: set,
    needs: _Needs,
    rewrite: ProducerRewrite,
    transforms: frozenset[str],
) -> bool:
    arg = sink.input
    if arg is None or arg.star or not isinstance(arg.value, Tensor):
        return False
    return all(
        _recover_source(analysis, plan, sink, arg, source, component, needs, rewrite, transforms)
        for source in arg.value.sources
    )


def _recover_source(
    analysis: FileAnalysis,
    plan: EditPlan,
    sink: Consumer,
    arg: ArgFact,
    source: Source,
    component: set,
    needs: _Needs,
    rewrite: ProducerRewrite,
    transforms: frozenset[str],
) -> bool:
    origin = source.origin
    file = analysis.source
    if origin.removal is Removal.NONE or any(hop.chosen for hop in source.hops):
        return False
    for step in source.steps:
        if step.role is StepRole.OPAQUE or (
            step.role is StepRole.TRANSFORM and step.op not in transforms
        ):
            return False
    if not origin.exact:
        plan.downgrade(Applicability.UNSAFE, f"{origin.label} is not the function its fix assumes")
    inside = within(arg.node)
    same_file = origin.file is file
    if same_file and not source.hops and origin.removal is Removal.CALL and inside(origin.node):
        return _at_origin(plan, analysis, origin, source, rewrite)
    local = (
        same_file
        and not source.hops
        and origin.removal is Removal.CALL
        and origin.scope is sink.fact.scope
    )
    if local:
        read = _variable_read(arg, source, inside)
        if read is not None and rewrite.in_place_of(
            plan, analysis, origin, read, sink.fact.env, sink.fact.scope
        ):
            remove_guards(plan, file, source)
            return True
        others = _other_uses(analysis, origin, component)
        if any(use.returned or not isinstance(use.consumer, cst.Call) for use in others):
            return False
        needs.required.update(use.consumer for use in others)
        return _at_origin(plan, analysis, origin, source, rewrite)
    plan.downgrade(Applicability.UNSAFE, rewrite.remote_note(origin))
    for use in _other_uses(analysis, origin, component):
        if use.returned:
            continue
        place = (use.file or file, use.consumer)
        if isinstance(use.consumer, cst.Call):
            needs.candidates.add(place)
        else:
            needs.affected.add(place)
    return _at_origin(plan, analysis, origin, source, rewrite)


def _variable_read(arg: ArgFact, source: Source, inside) -> cst.CSTNode | None:
    """The variable read inside the argument that holds the producer's output, if any."""
    if any(not inside(step.node) or step.role is StepRole.TRANSFORM for step in source.steps):
        return None
    read = source.steps[0].operand if source.steps else arg.node
    return read if isinstance(read, cst.Name) else None


def _at_origin(
    plan: EditPlan, analysis, origin: Origin, source: Source, rewrite: ProducerRewrite
) -> bool:
    if not rewrite.at_origin(plan, analysis, origin):
        return False
    remove_guards(plan, origin.file, source)
    return True


def _other_uses(analysis: FileAnalysis, origin: Origin, component: set) -> list:
    return [use for use in analysis.project_uses_of(origin) if use.consumer not in component]
