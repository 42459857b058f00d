"""What the guard watches: the static tables and rules, resolved to live torch objects.

Nothing here is a second list. Producers, kind-preserving operations, joins and the log
operation come from nanlint.analysis.torch_api; which sink checks which kinds comes from
the rules themselves (a `KindIntoLossRule`'s `losses` and `kinds`, a `LogOfRule`'s
`operations` and `kinds_at`). Only the runtime spellings of Python syntax are added:
`p[i]` (`Tensor.__getitem__`), `1 - p` (`Tensor.__rsub__`) and attribute reads (`p.T`).
"""

from __future__ import annotations

import enum
import functools
import importlib
import importlib.util
import os
import sys
from dataclasses import dataclass
from types import CodeType
from typing import Any

import torch

from nanlint.analysis import torch_api as api
from nanlint.analysis.kinds import Kind
from nanlint.analysis.values import StepRole
from nanlint.guard import RUNTIME_CODES
from nanlint.rules import ALL_RULES
from nanlint.rules.into_loss import KindIntoLossRule
from nanlint.rules.log_of import LogOfRule
from nanlint.rules.nan501_bce_under_autocast import BceUnderAutocast


class Action(enum.Enum):
    """What an operation does to the tags (the kind algebra, at run time)."""

    PRODUCE = "produce"  # the output has the producer's kind
    KEEP = "keep"  # the output keeps the first tensor's tag (shape, dtype, indexing, clamp)
    JOIN = "join"  # cat/stack: the parts' tag, when every part has one of the same kind
    ADD = "add"  # p + eps keeps a probability's tag, as a guard
    COMPLEMENT = "complement"  # 1 - p
    LOG = "log"  # a sink of the log rules
    LOSS = "loss"  # a sink of the into-loss rules (and of NAN501)


@dataclass(frozen=True)
class Checked:
    """One rule at one sink: the code and the kinds that are wrong there."""

    code: str
    kinds: frozenset[Kind]


@dataclass(frozen=True)
class Watch:
    action: Action
    kind: Kind | None = None  # PRODUCE
    name: str = ""  # PRODUCE: the producer as messages say it; sinks: the sink's label
    role: StepRole | None = None  # KEEP: GUARD marks the tag as guarded
    checks: tuple[Checked, ...] = ()  # LOG, LOSS
    loss: api.Loss | None = None  # LOSS
    autocast: bool = False  # LOSS: NAN501 checks it under autocast


@dataclass(frozen=True)
class Tables:
    watches: dict[Any, Watch]  # by the callable the mode receives
    watches_untagged: dict[Any, Watch]  # those that matter while no tensor is tagged
    distributions: dict[CodeType, tuple[api.Loss, tuple[Checked, ...]]]  # by __init__ code
    module_labels: dict[CodeType, str]  # a torch.nn module's forward code -> `nn.Sigmoid`
    library_dirs: tuple[str, ...]  # frames under these are not user code


def _resolve(qualname: str) -> Any | None:
    """The object a qualified name names, if its top package is importable; else None."""
    parts = qualname.split(".")
    if parts[0] != "torch" and parts[0] not in sys.modules:
        return None  # torchvision & co: never imported by the guard
    for split in range(len(parts) - 1, 0, -1):
        try:
            value: Any = importlib.import_module(".".join(parts[:split]))
        except ImportError:
            continue
        try:
            for name in parts[split:]:
                value = getattr(value, name)
        except AttributeError:
            return None
        return value
    return None


def _method(name: str) -> Any | None:
    return getattr(torch.Tensor, name, None)


def _sink_label(qualname: str) -> str:
    name = api.canonical(qualname)
    return name.replace("torch.nn.functional.", "F.").replace("torch.distributions.", "")


def _add(watches: dict, target: Any, watch: Watch) -> None:
    if target is not None:
        watches.setdefault(target, watch)


def _producers(watches: dict) -> None:
    for qualname, producer in api.PRODUCER_FUNCTIONS.items():
        _add(watches, _resolve(qualname), Watch(Action.PRODUCE, producer.kind, producer.name))
    for name, producer in api.PRODUCER_METHODS.items():
        _add(watches, _method(name), Watch(Action.PRODUCE, producer.kind, producer.name))


def _preserving(watches: dict) -> None:
    for name, role in api.PRESERVING_METHODS.items():
        _add(watches, _method(name), Watch(Action.KEEP, role=role))
    for qualname, role in api.PRESERVING_FUNCTIONS.items():
        _add(watches, _resolve(qualname), Watch(Action.KEEP, role=role))
    for name in api.PRESERVING_ATTRIBUTES:
        descriptor = getattr(torch.Tensor, name, None)
        if descriptor is not None and hasattr(descriptor, "__get__"):
            _add(watches, descriptor.__get__, Watch(Action.KEEP, role=StepRole.COMMUTES))
    _add(watches, torch.Tensor.__getitem__, Watch(Action.KEEP, role=StepRole.COMMUTES))
    for qualname in api.JOINING_FUNCTIONS:
        _add(watches, _resolve(qualname), Watch(Action.JOIN))


def _arithmetic(watches: dict) -> None:
    add = api.OPERATIONS["add"]
    for target in [*map(_resolve, add.functions), *map(_method, add.methods)]:
        _add(watches, target, Watch(Action.ADD))
    for target in (torch.Tensor.__rsub__, torch.rsub):
        _add(watches, target, Watch(Action.COMPLEMENT))


def _runtime_rules() -> list:
    return [rule for rule in ALL_RULES if rule.code in RUNTIME_CODES]


def _log_sinks(watches: dict) -> None:
    rules = [rule for rule in _runtime_rules() if isinstance(rule, LogOfRule)]
    for operation in {name for rule in rules for name in rule.operations}:
        checks = tuple(
            Checked(rule.code, rule.kinds_at(operation))
            for rule in rules
            if operation in rule.operations
        )
        spec = api.OPERATIONS[operation]
        for target in [*map(_resolve, spec.functions), *map(_method, spec.methods)]:
            _add(watches, target, Watch(Action.LOG, name=operation, checks=checks))


def _loss_checks() -> dict[api.Loss, tuple[Checked, ...]]:
    checks: dict[api.Loss, tuple[Checked, ...]] = {}
    for rule in _runtime_rules():
        if isinstance(rule, KindIntoLossRule):
            for loss in rule.losses:
                checks[loss] = (*checks.get(loss, ()), Checked(rule.code, rule.kinds))
    return checks


def _loss_sinks(watches: dict, checks: dict[api.Loss, tuple[Checked, ...]]) -> None:
    autocast_losses = {api.BCE} if BceUnderAutocast.code in RUNTIME_CODES else set()
    for loss in set(checks) | autocast_losses:
        if loss in api.DISTRIBUTION_BY_FUNCTION.values():
            continue
        for qualname in loss.functions:
            watch = Watch(
                Action.LOSS,
                name=_sink_label(qualname),
                checks=checks.get(loss, ()),
                loss=loss,
                autocast=loss in autocast_losses,
            )
            _add(watches, _resolve(qualname), watch)


def _distributions(checks: dict[api.Loss, tuple[Checked, ...]]) -> dict:
    inits = {}
    for qualname, loss in api.DISTRIBUTION_BY_FUNCTION.items():
        cls = _resolve(qualname)
        init = getattr(cls, "__init__", None)
        code = getattr(init, "__code__", None)
        if code is not None and loss in checks:
            inits[code] = (loss, checks[loss])
    return inits


def _module_labels() -> dict[CodeType, str]:
    labels = {}
    for qualname in (*api.ACTIVATION_MODULES, *api.LOSS_BY_MODULE):
        forward = getattr(_resolve(qualname), "forward", None)
        code = getattr(forward, "__code__", None)
        if code is not None:
            labels[code] = "nn." + qualname.rsplit(".", 1)[-1]
    return labels


def _package_dir(name: str) -> str | None:
    spec = importlib.util.find_spec(name)
    if spec is None or not spec.submodule_search_locations:
        return None
    return os.path.join(next(iter(spec.submodule_search_locations)), "")


def _library_dirs() -> tuple[str, ...]:
    """torch, nanlint, and the packages of losses the tables name (torchvision)."""
    names = {"torch", "nanlint"} | {
        qualname.split(".")[0] for loss in api.LOSSES for qualname in loss.functions
    }
    return tuple(sorted(filter(None, map(_package_dir, names))))


@functools.lru_cache(maxsize=1)
def tables() -> Tables:
    """Built once per process, on the first guard."""
    watches: dict[Any, Watch] = {}
    _log_sinks(watches)  # `log` is a sink before anything else
    checks = _loss_checks()
    _loss_sinks(watches, checks)
    _producers(watches)
    _preserving(watches)
    _arithmetic(watches)
    untagged = {
        target: watch
        for target, watch in watches.items()
        if watch.action is Action.PRODUCE or watch.autocast
    }
    return Tables(watches, untagged, _distributions(checks), _module_labels(), _library_dirs())
