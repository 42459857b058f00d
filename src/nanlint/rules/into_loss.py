"""The family of rules that ask one question: does a value of the wrong kind reach this loss?

A rule of the family names the losses it watches, the kinds that are wrong there, what goes
wrong in float32, and (when the loss itself changes) the loss-side edits. Finding the sinks,
describing both ends and recovering the logits are shared here and in the analysis core.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import ClassVar

import libcst as cst

from nanlint.analysis.facts import CallFact, FileAnalysis
from nanlint.analysis.floors import Floor, common_floor
from nanlint.analysis.gradients import carries_no_gradient
from nanlint.analysis.kinds import Kind
from nanlint.analysis.producers import ProducerRewrite, Remove
from nanlint.analysis.rewrite import EditPlan
from nanlint.analysis.sinks import SinkCall, sink_call
from nanlint.analysis.torch_api import Loss
from nanlint.analysis.unwrap import plan_component
from nanlint.analysis.values import Source, StepRole, Tensor
from nanlint.fixes import Applicability
from nanlint.rules.base import Finding, RelatedNode, Rule


class KindIntoLossRule(Rule):
    losses: ClassVar[tuple[Loss, ...]]
    kinds: ClassVar[frozenset[Kind]]
    # Why the fix is unsafe even when it is local (None: the fix keeps the mathematics).
    unsafe_because: ClassVar[str | None] = None
    # What the fix does to the producer: remove it (logits) or move it to log space.
    rewrite: ClassVar[ProducerRewrite] = Remove()

    def consequence(self, sink: SinkCall, kind: Kind) -> str:
        """What goes wrong, in float32 terms, when `kind` reaches `sink`."""
        raise NotImplementedError

    def guarded_consequence(self, sink: SinkCall, floor: Floor) -> str | None:
        """What happens when a clamp or an eps keeps the input off 0 (None: as unguarded)."""
        return None

    def fix_title(self, sink: SinkCall) -> str:
        raise NotImplementedError

    def plan_loss_side(
        self, analysis: FileAnalysis, sink: SinkCall, plan: EditPlan
    ) -> list[SinkCall] | None:
        """Edits to the loss itself; more calls that must change with it, or None."""
        return []

    def sink_of(self, analysis: FileAnalysis, node: cst.CSTNode) -> SinkCall | None:
        """`node` as a loss call this rule flags, else None."""
        fact = analysis.calls.get(node)  # type: ignore[arg-type]
        return None if fact is None else self.flagged(analysis, fact)

    def flagged(self, analysis: FileAnalysis, fact: CallFact) -> SinkCall | None:
        """The loss call `fact` is, when this rule flags it."""
        sink = sink_call(fact, self.losses)
        if sink is None or sink.input_kind() not in self.kinds:
            return None
        if _uncertain(analysis, sink):
            return None
        arg = sink.input
        if (
            arg is not None
            and isinstance(arg.value, Tensor)
            and common_floor(analysis, arg.value)
            and carries_no_gradient(analysis, fact.node)
        ):
            return None  # a guarded input is finite, and no gradient can saturate
        return sink

    def check(self, analysis: FileAnalysis) -> Iterator[Finding]:
        for fact in analysis.call_facts():
            sink = self.flagged(analysis, fact)
            if sink is None:
                continue
            arg = sink.input
            assert arg is not None and isinstance(arg.value, Tensor)
            kind = arg.value.kind
            floor = common_floor(analysis, arg.value)
            consequence = floor and self.guarded_consequence(sink, floor)
            message = (
                f"{_capitalised(describe(analysis, arg.value))} reach `{sink.loss_label}`"
                f": {consequence or self.consequence(sink, kind)}"
            )
            yield Finding(
                arg.node,
                message,
                related_origins(arg.value),
                self._fix(analysis, sink),
                consumer=sink.fact.node,
            )

    def _fix(self, analysis: FileAnalysis, sink: SinkCall) -> EditPlan | None:
        plan = plan_component(
            analysis,
            sink,
            lambda node: self.sink_of(analysis, node),
            lambda s, p: self.plan_loss_side(analysis, s, p),
            self.fix_title(sink),
            self.rewrite,
        )
        if plan is not None and self.unsafe_because:
            plan.downgrade(Applicability.UNSAFE, self.unsafe_because)
        return plan


def describe(analysis: FileAnalysis, value: Tensor) -> str:
    """`sigmoid probabilities from `torch.sigmoid` (line 12) via `Net.forward``."""
    source = value.sources[0]
    origin = source.origin
    position = origin.file.position_at(origin.file.node_offsets(origin.node)[0])
    where = origin.file.line_label(position.line)
    if origin.file is not analysis.source:
        where = f"{origin.file.path}:{position.line}"
    via = ""
    if source.hops:
        via = " via " + ", ".join(f"`{hop.label}`" for hop in source.hops)
    more = len(value.origins) - 1
    extra = f" (and {more} other place{'s' if more > 1 else ''})" if more else ""
    return f"{origin.kind.noun} from `{origin.label}` ({where}){via}{extra}{_passed(source)}"


# What an opaque step did to the value, as messages say it.
_OPAQUE_STEPS = {
    "select": "selected by a one-hot mask",
    "cat": "joined into one tensor",
    "pow": "raised to a power",
}


def _passed(source: Source) -> str:
    """`, selected by a one-hot mask (no rewrite sees through it)`, or nothing."""
    step = next(
        (
            step
            for step in source.steps
            if step.role is StepRole.OPAQUE and step.op in _OPAQUE_STEPS
        ),
        None,
    )
    if step is None:
        return ""
    return f", {_OPAQUE_STEPS[step.op]} (no rewrite sees through it)"


def removal_title(label: str) -> str:
    """The fix title that removes the activation an origin `label` names, code in backticks:
    `nn.Softmax, last layer of self.net` -> Remove `nn.Softmax` (last layer of `self.net`)
    and pass logits; `nn.Sigmoid (self.act)` -> Remove `nn.Sigmoid` (`self.act`) ..."""
    name, comma, place = label.partition(", ")
    if comma:
        position, of, container = place.rpartition(" of ")
        shown = f"`{name}` ({position} of {_code(container)})" if of else f"`{name}` ({place})"
    elif label.endswith(")") and " (" in label:
        name, _, attribute = label[:-1].partition(" (")
        shown = f"`{name}` ({_code(attribute)})"
    else:
        shown = f"`{label}`"
    return f"Remove {shown} and pass logits"


def _code(text: str) -> str:
    """`self.net` in backticks; a description (`the module`) as it is."""
    return f"`{text}`" if re.fullmatch(r"[\w.]+", text) else text


def related_origins(value: Tensor) -> list[RelatedNode]:
    return [
        RelatedNode(
            origin.file, origin.node, f"{origin.kind.noun} produced here by `{origin.label}`"
        )
        for origin in value.origins
    ]


def _uncertain(analysis: FileAnalysis, sink: SinkCall) -> bool:
    """A source whose nn.Sequential is changed after construction (append, add_module...)."""
    arg = sink.input
    assert arg is not None and isinstance(arg.value, Tensor)
    return any(
        origin.container is not None and origin.container in analysis.mutated_containers
        for origin in arg.value.origins
    )


def _capitalised(text: str) -> str:
    return text[:1].upper() + text[1:]
