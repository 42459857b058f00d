"""The family of rules about an activation's probabilities passed as a distribution's `probs`.

A torch.distributions constructor is a consumer like a loss: its `probs` argument is the
input, the activation is removed and the logits go to `logits=` instead. Finding the calls,
recovering the logits and renaming the argument are shared here; a rule of the family names
the distributions, the kinds, and what goes wrong.
"""

from __future__ import annotations

from nanlint.analysis.facts import CallFact, FileAnalysis
from nanlint.analysis.rewrite import EditPlan
from nanlint.analysis.sinks import SinkCall
from nanlint.analysis.torch_api import SAMPLERS
from nanlint.analysis.values import Constant
from nanlint.rules.into_loss import KindIntoLossRule


class ProbsIntoDistributionRule(KindIntoLossRule):
    def flagged(self, analysis: FileAnalysis, fact: CallFact) -> SinkCall | None:
        sink = super().flagged(analysis, fact)
        logits = sink.bound.get("logits") if sink is not None else None
        if logits is not None and logits.value != Constant(None):
            return None  # both probs and logits: the constructor raises
        arg = sink.input if sink is not None else None
        if arg is not None and any(
            origin.api in SAMPLERS
            for origin in arg.value.origins  # type: ignore[attr-defined]
        ):
            return None  # a random sample (gumbel_softmax): there are no logits to pass
        return sink

    def fix_title(self, sink: SinkCall) -> str:
        return f"Pass the logits: `{sink.loss_label}(logits=...)`"

    def plan_loss_side(
        self, analysis: FileAnalysis, sink: SinkCall, plan: EditPlan
    ) -> list[SinkCall] | None:
        """`probs=p` becomes `logits=...`; a positional `p` gets the keyword."""
        arg = sink.input
        if arg is None or arg.arg is None or "logits" in sink.bound:
            return None
        file = analysis.source
        if arg.arg.keyword is not None:
            plan.replace(file, arg.arg.keyword, "logits")
            return []
        later = sink.fact.args[sink.fact.args.index(arg) + 1 :]
        if any(other.keyword is None for other in later):
            return None  # a keyword cannot come before positional arguments
        plan.insert(file, file.node_offsets(arg.arg)[0], "logits=")
        return []
