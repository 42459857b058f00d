"""Taking an activation back out: make a loss input carry the logits, not the probabilities.

Three ways, tried in order for every source of the input's value:

1. inline: the activation is inside the argument (`bce(torch.sigmoid(z), y)`): replace the
   activation call by its operand. Local and safe.
2. by name: the argument reads a variable (`p = torch.sigmoid(z)` ... `bce(p, y)`) and the
   logits are a name that still holds the same value at the loss: pass that name, keep `p`
   for its other uses. Safe.
3. at the origin: delete the activation where it was produced. Within one function this is
   safe only when every use of the probabilities is a loss rewritten by the same fix; across
   a function, an attribute or an nn.Sequential layer it changes what the model returns, so it
   is unsafe and the fix says which other places now receive logits.

Guards between the activation and the loss (`clamp(p, eps, 1 - eps)`) go with the activation,
which changes the value where they were active: unsafe.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import libcst as cst

from nanlint.analysis.facts import ArgFact, FileAnalysis
from nanlint.analysis.rewrite import EditPlan
from nanlint.analysis.sinks import SinkCall
from nanlint.analysis.values import Origin, Removal, Source, StepRole, Tensor
from nanlint.fixes import Applicability


@dataclass
class _Needs:
    """Other consumers that a removal at the origin affects."""

    required: set[cst.CSTNode] = field(default_factory=set)  # must be rewritten too
    candidates: set[cst.CSTNode] = field(default_factory=set)  # rewritten if losses (remote)
    affected: set[cst.CSTNode] = field(default_factory=set)  # will receive logits (remote)


SinkOf = Callable[[cst.CSTNode], "SinkCall | None"]
PlanSink = Callable[[SinkCall, EditPlan], "list[SinkCall] | None"]


def plan_component(
    analysis: FileAnalysis,
    seed: SinkCall,
    sink_of: SinkOf,
    plan_sink: PlanSink,
    title: str,
) -> EditPlan | None:
    """One fix for `seed` and every loss call that must change with it, or None.

    `sink_of` says whether a consumer is a loss call this rule rewrites; `plan_sink` adds
    the loss-side edits of one call (swap the loss, ...) and returns more calls that must be
    rewritten with it (the other calls of a shared loss object), or None when it cannot.
    """
    component: dict[cst.CSTNode, SinkCall] = {}
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
            if not _recover(analysis, EditPlan(title), sink, set(component), needs):
                return None
        for consumer in needs.required - set(component):
            sink = sink_of(consumer)
            if sink is None:
                return None
            pending.append(sink)
        for consumer in needs.candidates - set(component):
            sink = sink_of(consumer)
            if sink is not None:
                pending.append(sink)
        if not pending:
            break
    plan = EditPlan(title)
    needs = _Needs()
    for sink in component.values():
        plan_sink(sink, plan)
        _recover(analysis, plan, sink, set(component), needs)
    affected = needs.affected | needs.candidates
    affected = sorted(affected - set(component), key=lambda n: analysis.source.node_offsets(n))
    if affected:
        places = ", ".join(_place(analysis, node) for node in affected)
        plan.downgrade(Applicability.UNSAFE, f"these other uses now receive logits: {places}")
    if plan.removes_comments():
        plan.downgrade(Applicability.UNSAFE, "the edit deletes a comment")
    return plan


def _place(analysis: FileAnalysis, node: cst.CSTNode) -> str:
    """`line 46 (`model(x) > 0.5`)`: where another use of the probabilities is."""
    source = analysis.source
    line = source.position_at(source.node_offsets(node)[0]).line
    text = " ".join(source.module.code_for_node(node).split())
    if len(text) > 60:
        text = text[:57] + "..."
    return f"line {line} (`{text}`)"


def _recover(
    analysis: FileAnalysis, plan: EditPlan, sink: SinkCall, component: set, needs: _Needs
) -> bool:
    arg = sink.input
    if arg is None or arg.star or not isinstance(arg.value, Tensor):
        return False
    return all(
        _recover_source(analysis, plan, sink, arg, source, component, needs)
        for source in arg.value.sources
    )


def _recover_source(
    analysis: FileAnalysis,
    plan: EditPlan,
    sink: SinkCall,
    arg: ArgFact,
    source: Source,
    component: set,
    needs: _Needs,
) -> bool:
    origin = source.origin
    file = analysis.source
    if origin.removal is Removal.NONE or origin.file is not file:
        return False
    if any(step.role is StepRole.OPAQUE for step in source.steps):
        return False
    if origin.removal is Removal.CALL and origin.operand is None:
        return False
    inside = _within(file, arg.node)
    if not source.hops and origin.removal is Removal.CALL and inside(origin.node):
        return _remove(plan, file, origin, source)
    local = not source.hops and origin.removal is Removal.CALL and origin.scope is sink.fact.scope
    if local:
        if _pass_logits_by_name(analysis, plan, sink, arg, source, inside):
            return True
        others = _other_uses(analysis, origin, component)
        if any(use.returned or not isinstance(use.consumer, cst.Call) for use in others):
            return False
        needs.required.update(use.consumer for use in others)
        return _remove(plan, file, origin, source)
    plan.downgrade(
        Applicability.UNSAFE,
        f"removes {origin.label}: what the model returns changes from probabilities to logits",
    )
    for use in _other_uses(analysis, origin, component):
        if use.returned:
            continue
        if isinstance(use.consumer, cst.Call):
            needs.candidates.add(use.consumer)
        else:
            needs.affected.add(use.consumer)
    return _remove(plan, file, origin, source)


def _pass_logits_by_name(analysis, plan, sink, arg, source, inside) -> bool:
    """Strategy 2: the argument reads the probabilities' variable; pass the logits' name."""
    origin = source.origin
    operand = origin.operand
    if not isinstance(operand, cst.Name) or any(not inside(step.node) for step in source.steps):
        return False
    read = source.steps[0].operand if source.steps else arg.node
    if not isinstance(read, cst.Name):
        return False
    defs = analysis.reads.get(operand)
    binding = sink.fact.env.get(operand.value)
    if not defs or binding is None or binding.defs != defs:
        return False
    plan.replace(analysis.source, read, operand.value)
    _remove_guards(plan, analysis.source, source)
    if not origin.exact:
        plan.downgrade(Applicability.UNSAFE, f"{origin.label} is not the logistic sigmoid")
    return True


def _remove(plan: EditPlan, file, origin: Origin, source: Source) -> bool:
    if origin.removal is Removal.LAYER:
        if origin.container is None or origin.element is None:
            return False
        start, end = _element_range(file, origin.container, origin.element)
        plan.delete(file, start, end)
    else:
        assert origin.operand is not None
        plan.replace_with_operand(file, origin.node, origin.operand)
    _remove_guards(plan, file, source)
    if not origin.exact:
        plan.downgrade(Applicability.UNSAFE, f"{origin.label} is not the logistic sigmoid")
    return True


def _remove_guards(plan: EditPlan, file, source: Source) -> None:
    for step in source.steps:
        if step.role is StepRole.GUARD and step.operand is not None:
            plan.replace_with_operand(file, step.node, step.operand)
            plan.downgrade(
                Applicability.UNSAFE,
                f"drops the `{step.op}` guard, which changed the loss where it was active",
            )


def _other_uses(analysis: FileAnalysis, origin: Origin, component: set) -> list:
    return [use for use in analysis.uses_of(origin) if use.consumer not in component]


def _within(file, container: cst.CSTNode):
    start, end = file.node_offsets(container)

    def inside(node: cst.CSTNode) -> bool:
        node_start, node_end = file.node_offsets(node)
        return start <= node_start and node_end <= end

    return inside


def _element_range(file, container: cst.Call, element: cst.CSTNode) -> tuple[int, int]:
    """The text to delete to take one argument (or list element) out of its sequence."""
    siblings = _siblings(container, element)
    index = next(i for i, sibling in enumerate(siblings) if sibling is element)
    start, end = file.node_offsets(element)
    if len(siblings) == 1:
        return start, _after_comma(file.text, end)
    if index == len(siblings) - 1:
        return file.node_offsets(siblings[index - 1])[1], end
    return start, file.node_offsets(siblings[index + 1])[0]


def _siblings(container: cst.Call, element: cst.CSTNode) -> list[cst.CSTNode]:
    if any(arg is element for arg in container.args):
        return list(container.args)
    for arg in container.args:
        if isinstance(arg.value, (cst.List, cst.Tuple)) and any(
            e is element for e in arg.value.elements
        ):
            return list(arg.value.elements)
    raise ValueError("element not in its container")


def _after_comma(text: str, offset: int) -> int:
    probe = offset
    while probe < len(text) and text[probe] in " \t":
        probe += 1
    return probe + 1 if probe < len(text) and text[probe] == "," else offset
