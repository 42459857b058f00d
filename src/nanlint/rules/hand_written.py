"""The family of rules about a hand-written activation: `1 / (1 + exp(-x))`, `exp(x) / ...`.

The analysis core already gives such a division the kind of the activation it computes, with
an origin whose operand is the activation's input. A rule of the family names that kind,
what goes wrong, when the hand-written form is stable after all, and the library call that
replaces it; finding the divisions and checking that the replacement can be written are
shared here.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import ClassVar

from nanlint.analysis.facts import FileAnalysis, OpFact
from nanlint.analysis.kinds import Kind
from nanlint.analysis.names import writable_at
from nanlint.analysis.rewrite import EditPlan, Part
from nanlint.analysis.values import Origin, Tensor
from nanlint.fixes import Applicability
from nanlint.rules.base import Finding, Rule


class HandWrittenRule(Rule):
    kind: ClassVar[Kind]
    activation: ClassVar[str]  # as messages name it: "sigmoid"
    fix_title: ClassVar[str]

    def consequence(self, origin: Origin) -> str:
        """What goes wrong with this hand-written form, in float32 terms."""
        raise NotImplementedError

    def stable(self, analysis: FileAnalysis, origin: Origin) -> bool:
        """Whether this occurrence is written stably after all (never flagged)."""
        return False

    def replacement(
        self, plan: EditPlan, analysis: FileAnalysis, fact: OpFact, origin: Origin
    ) -> list[Part] | None:
        """The library call that replaces the division."""
        raise NotImplementedError

    def check(self, analysis: FileAnalysis) -> Iterator[Finding]:
        for fact in analysis.operations.values():
            origin = _produced_here(fact, self.kind)
            if origin is None or origin.operand is None or self.stable(analysis, origin):
                continue
            message = f"Hand-written {self.activation} `{origin.label}`: {self.consequence(origin)}"
            yield Finding(fact.node, message, [], self._fix(analysis, fact, origin))

    def _fix(self, analysis: FileAnalysis, fact: OpFact, origin: Origin) -> EditPlan | None:
        plan = EditPlan(self.fix_title)
        parts = self.replacement(plan, analysis, fact, origin)
        if parts is None or not writable_at(analysis, parts, fact.node, fact.env):
            return None
        plan.replace(analysis.source, fact.node, *parts)
        if plan.removes_comments():
            plan.downgrade(Applicability.UNSAFE, "the edit deletes a comment")
        return plan


def _produced_here(fact: OpFact, kind: Kind) -> Origin | None:
    """The origin of a division that itself computes a value of `kind`."""
    result = fact.result
    if fact.operator != "/" or not isinstance(result, Tensor) or result.kind is not kind:
        return None
    origin = result.sources[0].origin
    return origin if origin.node is fact.node else None
