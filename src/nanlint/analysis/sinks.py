"""Loss calls and distribution constructors (sinks) and what their input argument carries."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass

from nanlint.analysis import torch_api as api
from nanlint.analysis.facts import ArgFact, CallFact, FileAnalysis
from nanlint.analysis.kinds import Kind
from nanlint.analysis.signatures import bind
from nanlint.analysis.values import External, Tensor, TorchModule


@dataclass(frozen=True)
class SinkCall:
    """A call of a loss, in functional (`F.binary_cross_entropy(p, y)`) or module form, or of
    a distribution constructor (`Categorical(probs=p)`)."""

    fact: CallFact
    loss: api.Loss
    module: TorchModule | None  # the loss object, for module-form calls
    bound: dict[str, ArgFact]

    @property
    def input(self) -> ArgFact | None:
        return self.bound.get(self.loss.input_param)

    @property
    def target(self) -> ArgFact | None:
        return self.bound.get(self.loss.target_param)

    def input_kind(self) -> Kind | None:
        arg = self.input
        if arg is None or arg.star or not isinstance(arg.value, Tensor):
            return None
        return arg.value.kind

    @property
    def loss_label(self) -> str:
        """How messages name the consumer: `nn.BCELoss`, `F.binary_cross_entropy`, `Categorical`."""
        if self.module is not None:
            return "nn." + self.loss.label
        callee = self.fact.callee
        name = callee.qualname if isinstance(callee, External) else self.loss.functions[0]
        name = api.canonical(name)
        return name.replace("torch.nn.functional.", "F.").replace("torch.distributions.", "")


def sink_call(fact: CallFact, losses: Iterable[api.Loss]) -> SinkCall | None:
    """The loss call `fact` is, if it calls one of `losses`."""
    wanted = set(losses)
    callee = fact.callee
    if isinstance(callee, External):
        name = api.canonical(callee.qualname)
        loss = api.LOSS_BY_FUNCTION.get(name) or api.DISTRIBUTION_BY_FUNCTION.get(name)
        if loss in wanted:
            return SinkCall(fact, loss, None, bind(fact.args, loss.function_params))
    elif isinstance(callee, TorchModule):
        loss = api.LOSS_BY_MODULE.get(callee.qualname)
        if loss in wanted:
            return SinkCall(fact, loss, callee, bind(fact.args, loss.call_params))
    return None


def sink_calls(analysis: FileAnalysis, losses: Iterable[api.Loss]) -> Iterator[SinkCall]:
    losses = tuple(losses)
    for fact in analysis.call_facts():
        sink = sink_call(fact, losses)
        if sink is not None:
            yield sink


def module_calls(analysis: FileAnalysis, module: TorchModule) -> list[CallFact]:
    """Every call of the loss object built by `module.ctor`."""
    return [
        fact
        for fact in analysis.call_facts()
        if isinstance(fact.callee, TorchModule) and fact.callee.ctor is module.ctor
    ]
