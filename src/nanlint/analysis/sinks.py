"""Loss calls and distribution constructors (sinks) and what their input argument carries."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass

from nanlint.analysis import torch_api as api
from nanlint.analysis.facts import ArgFact, CallFact, FileAnalysis
from nanlint.analysis.kinds import Kind
from nanlint.analysis.signatures import bind, has_unpacking
from nanlint.analysis.values import Constant, External, Tensor, TorchModule


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
        return _label(self.fact, self.loss, self.module is not None)


@dataclass(frozen=True)
class Reduction:
    """The reduction a loss applies, and the argument that chose it."""

    value: str  # "mean", "sum", "none", "batchmean", ...
    arg: ArgFact | None  # the `reduction=` argument; None for the default or legacy arguments
    legacy: bool = False  # chosen by the deprecated size_average= / reduce=


@dataclass(frozen=True)
class LossSetup:
    """Where a loss's options are given: a functional call or a loss module's constructor."""

    fact: CallFact
    loss: api.Loss
    bound: dict[str, ArgFact]
    module: bool

    @property
    def label(self) -> str:
        return _label(self.fact, self.loss, self.module)

    def reduction(self) -> Reduction | None:
        """What the loss reduces with ('mean' by default); None when it cannot be told."""
        if has_unpacking(self.fact.args):
            return None
        flags = [self.bound.get(name) for name in ("size_average", "reduce")]
        legacy = [arg.value if arg is not None else Constant(None) for arg in flags]
        if legacy != [Constant(None), Constant(None)]:  # as torch: None means "not given"
            if not all(isinstance(flag, Constant) for flag in legacy):
                return None
            size_average, reduce = (flag.value is None or bool(flag.value) for flag in legacy)  # type: ignore[attr-defined]
            value = "mean" if size_average and reduce else "sum" if reduce else "none"
            return Reduction(value, None, legacy=True)
        arg = self.bound.get("reduction")
        if arg is None:
            return Reduction("mean", None)
        if isinstance(arg.value, Constant) and isinstance(arg.value.value, str):
            return Reduction(arg.value.value, arg)
        return None


def loss_setups(analysis: FileAnalysis, losses: Iterable[api.Loss]) -> Iterator[LossSetup]:
    """Every functional call and module construction of one of `losses`."""
    wanted = set(losses)
    for fact in analysis.call_facts():
        if not isinstance(fact.callee, External):
            continue
        name = api.canonical(fact.callee.qualname)
        loss = api.LOSS_BY_FUNCTION.get(name)
        if loss in wanted:
            yield LossSetup(fact, loss, bind(fact.args, loss.function_params), module=False)
        loss = api.LOSS_BY_MODULE.get(name)
        if loss in wanted and isinstance(fact.result, TorchModule):
            yield LossSetup(fact, loss, bind(fact.args, loss.module_params), module=True)


def _label(fact: CallFact, loss: api.Loss, module: bool) -> str:
    if module:
        return "nn." + loss.label
    callee = fact.callee
    name = callee.qualname if isinstance(callee, External) else loss.functions[0]
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
