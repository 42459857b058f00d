"""The family of rules about a logarithm (or log1p) of a value produced in linear space.

A rule of the family names the operations it watches (`log`, `log1p`), the kinds that are
wrong there, the stable expression that replaces the logarithm, and optionally how to fix
the producer when it lives elsewhere (a model's last layer). Finding the calls, describing
both ends and checking that the replacement can be written at the log are shared here.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import ClassVar

import libcst as cst

from nanlint.analysis.facts import ArgFact, CallFact, FileAnalysis
from nanlint.analysis.floors import Floor, common_floor, weighted_by_itself
from nanlint.analysis.gradients import carries_no_gradient
from nanlint.analysis.kinds import Kind
from nanlint.analysis.local import replace_consumer
from nanlint.analysis.operations import OperationCall, match, operation_calls
from nanlint.analysis.producers import ProducerRewrite
from nanlint.analysis.rewrite import EditPlan, Part, needs_parentheses
from nanlint.analysis.unwrap import plan_component
from nanlint.analysis.values import Source, Tensor
from nanlint.rules.base import Finding, Rule
from nanlint.rules.into_loss import describe, related_origins


def negated(operand: cst.BaseExpression) -> list[Part]:
    """`-x`, or `-(a + b)` when the operand binds looser than a unary minus."""
    if needs_parentheses(operand, None):
        return ["-(", operand, ")"]
    return ["-", operand]


@dataclass(frozen=True)
class LogCall:
    """`torch.log(p)` / `p.log()` consuming a produced value."""

    fact: CallFact
    operation: OperationCall

    @property
    def input(self) -> ArgFact | None:
        return self.operation.input

    @property
    def value(self) -> Tensor:
        assert self.input is not None and isinstance(self.input.value, Tensor)
        return self.input.value


class LogOfRule(Rule):
    operations: ClassVar[tuple[str, ...]] = ("log",)
    kinds: ClassVar[frozenset[Kind]]
    # Kind-changing steps the local replacement accounts for (the sum of log(sum(exp(x)))).
    transforms: ClassVar[frozenset[str]] = frozenset()
    # How to fix a producer that lives elsewhere (None: only local fixes).
    remote_rewrite: ClassVar[ProducerRewrite | None] = None

    def kinds_at(self, operation: str) -> frozenset[Kind]:
        """The kinds that are wrong at `operation` (by default `kinds`, at every operation)."""
        return self.kinds

    def exempt(self, analysis: FileAnalysis, source: Source) -> bool:
        """Whether a source of the right kind is a stable form after all (by default never)."""
        return False

    def consequence(self, call: LogCall) -> str:
        raise NotImplementedError

    def guarded_consequence(self, call: LogCall, floor: Floor) -> str | None:
        """What happens when a clamp or an eps keeps the log finite (None: as unguarded)."""
        return None

    def fix_title(self, call: LogCall) -> str:
        raise NotImplementedError

    def replacement(
        self, plan: EditPlan, analysis: FileAnalysis, call: LogCall, source: Source
    ) -> list[Part] | None:
        """The stable expression that replaces the log call, built from the producer."""
        raise NotImplementedError

    def remote_replacement(
        self, plan: EditPlan, analysis: FileAnalysis, call: LogCall
    ) -> list[Part] | None:
        """What replaces the log call once the producer itself is rewritten."""
        raise NotImplementedError

    def log_call(self, analysis: FileAnalysis, node: cst.CSTNode) -> LogCall | None:
        """`node` as a log call this rule flags, else None."""
        fact = analysis.calls.get(node)  # type: ignore[arg-type]
        return None if fact is None else self.log_call_of(analysis, fact)

    def log_call_of(self, analysis: FileAnalysis, fact: CallFact) -> LogCall | None:
        """The log call `fact` is, when this rule flags it."""
        operation = match(fact.callee, fact.args)
        if operation is None or operation.name not in self.operations:
            return None
        arg = operation.input
        if arg is None or arg.star or not isinstance(arg.value, Tensor):
            return None
        if arg.value.kind not in self.kinds_at(operation.name):
            return None
        if any(self.exempt(analysis, source) for source in arg.value.sources):
            return None
        if common_floor(analysis, arg.value) and (
            weighted_by_itself(analysis, fact.node, arg.value)
            or carries_no_gradient(analysis, fact.node)
        ):
            return None  # finite, and exact enough (an entropy term) or never differentiated
        return LogCall(fact, operation)

    def check(self, analysis: FileAnalysis) -> Iterator[Finding]:
        for fact, _ in operation_calls(analysis, *self.operations):
            call = self.log_call_of(analysis, fact)
            if call is None:
                continue
            name = "log1p" if call.operation.name == "log1p" else "log"
            floor = common_floor(analysis, call.value)
            consequence = floor and self.guarded_consequence(call, floor)
            message = (
                f"`{name}` of {describe(analysis, call.value)}:"
                f" {consequence or self.consequence(call)}"
            )
            yield Finding(
                fact.node, message, related_origins(call.value), self._fix(analysis, call)
            )

    def _fix(self, analysis: FileAnalysis, call: LogCall) -> EditPlan | None:
        plan = self._local_fix(analysis, call)
        if plan is not None or self.remote_rewrite is None:
            return plan
        return plan_component(
            analysis,
            call,
            lambda node: self.log_call(analysis, node),
            lambda consumer, plan: self._plan_remote_consumer(analysis, consumer, plan),
            self.fix_title(call),
            self.remote_rewrite,
            self.transforms,
        )

    def _plan_remote_consumer(
        self, analysis: FileAnalysis, call: LogCall, plan: EditPlan
    ) -> list | None:
        parts = self.remote_replacement(plan, analysis, call)
        if parts is None:
            return None
        plan.replace(analysis.source, call.fact.node, *parts)
        return []

    def _local_fix(self, analysis: FileAnalysis, call: LogCall) -> EditPlan | None:
        return replace_consumer(
            analysis,
            call.fact.node,
            call.fact.env,
            call.fact.scope,
            call.value,
            self.fix_title(call),
            self.transforms,
            lambda plan, source: self.replacement(plan, analysis, call, source),
            guard_note=(
                "drops the `{op}` guard, which changed the value (the eps shifts every log),"
                " and where a logit is -inf (a masked position) the log becomes -inf instead"
                " of the guard's finite floor"
            ),
        )
