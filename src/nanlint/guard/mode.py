"""The TorchFunctionMode: tags what producers make, moves tags along, checks the sinks.

The per-call path is one dict lookup by the function; an operation the tables do not name
costs a check of its positional arguments against the tag table, and only when a tag
exists anywhere. The mode is popped by torch while it handles a call, so everything it runs
itself (the operation, the evidence) is not seen again.
"""

from __future__ import annotations

import os
import sys
from dataclasses import replace
from typing import TYPE_CHECKING, Any

import torch
from torch.overrides import TorchFunctionMode

from nanlint.analysis import torch_api as api
from nanlint.analysis.kinds import COMPLEMENTS, EPS_LIMIT, LINEAR_PROBABILITIES
from nanlint.analysis.values import StepRole
from nanlint.guard import evidence
from nanlint.guard.tags import Tag
from nanlint.guard.watch import Action, Watch, tables

if TYPE_CHECKING:
    from nanlint.guard.session import Guard

# In-place methods that change no value: a tag survives them.
_METADATA_IN_PLACE = frozenset(("requires_grad_", "share_memory_", "retain_grad"))


def _first(args: tuple, kwargs: dict, name: str = "input") -> Any:
    return args[0] if args else kwargs.get(name)


def _is_eps(value: object) -> bool:
    return (
        isinstance(value, (int, float)) and not isinstance(value, bool) and 0 < value <= EPS_LIMIT
    )


def _is_one(value: object) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and value == 1


def _writes_in_place(func: Any) -> bool:
    name = getattr(func, "__name__", "")
    return name.endswith("_") and not name.startswith("_") and name not in _METADATA_IN_PLACE


_is_compiling = torch.compiler.is_compiling


def _autocast_device(tensor: object) -> str | None:
    if not isinstance(tensor, torch.Tensor):
        return None
    device = tensor.device.type
    return device if torch.is_autocast_enabled(device) else None


class GuardMode(TorchFunctionMode):
    def __init__(self, guard: Guard):
        super().__init__()
        built = tables()
        self._watches = built.watches
        self._watches_untagged = built.watches_untagged
        self._distributions = built.distributions
        self._distributions_dir = os.path.join(os.path.dirname(torch.distributions.__file__), "")
        self._guard = guard
        self._tags = guard.tags
        self._tagged = guard.tags.entries  # truthy while any tensor is tagged
        self._frames = guard.frames
        self._last_distribution: tuple[int, int, int] | None = None
        self.compiled_unchecked = False  # Dynamo compiled code under the mode
        self.await_dynamo = False  # on while Dynamo may load and compile under the mode

    def switch_off(self) -> None:
        """In a forked child (a DataLoader worker): the guard lives in the main process."""
        self._watches = self._watches_untagged = {}
        self._tagged = {}
        self.await_dynamo = False

    def __torch_function__(self, func, types, args=(), kwargs=None):
        if kwargs is None:
            kwargs = {}
        if self.await_dynamo and "torch._dynamo" in sys.modules:
            if _is_compiling():  # Dynamo traces this call: pass through, and say so at exit
                self.compiled_unchecked = True
                return func(*args, **kwargs)
            self.await_dynamo = False
            self._guard.run_compiled_eagerly()
        tagged = self._tagged
        watch = (self._watches if tagged else self._watches_untagged).get(func)
        if watch is None:
            out = func(*args, **kwargs)
            if tagged:
                self._untracked(func, args, out)
            return out
        return _HANDLERS[watch.action](self, watch, func, args, kwargs)

    # Operations the tables do not name: the kind is unknown afterwards.

    def _untracked(self, func: Any, args: tuple, out: Any) -> None:
        entries = self._tagged
        for value in args:
            entry = entries.get(id(value))
            if entry is not None:
                break
        else:
            return
        tag = entry[1]
        if out is value and _writes_in_place(func):
            self._tags.discard(value)
        if tag.kind.is_probability and self._distributions:
            self._distribution(value, tag)

    def _distribution(self, value: torch.Tensor, tag: Tag) -> None:
        """Inside a torch.distributions constructor whose `probs` is this tensor: its sink
        (the outermost one: RelaxedBernoulli builds a LogitRelaxedBernoulli of the same)."""
        outermost = None
        for frame in self._frames.library_frames():
            entry = self._distributions.get(frame.f_code)
            if entry is not None and frame.f_locals.get(entry[0].input_param) is value:
                outermost = frame, entry
        if outermost is None:
            return
        frame, (loss, checks) = outermost
        # One report per construction: a constructor runs straight through, so a new one on
        # the same frame address and tensor shows as an instruction offset going back.
        last, self._last_distribution = (
            self._last_distribution,
            (id(frame), id(value), frame.f_lasti),
        )
        if last is not None and last[:2] == (id(frame), id(value)) and last[2] < frame.f_lasti:
            return
        codes = self._codes(checks, tag)
        if codes:
            observed = {**evidence.values(value, tag), **evidence.outside_eps(value)}
            self._report(codes, tag, loss.label, observed)

    # The kind algebra.

    def _produce(self, watch: Watch, func: Any, args: tuple, kwargs: dict) -> Any:
        assert watch.kind is not None
        magnitude = None
        if watch.kind.is_probability:
            magnitude = evidence.logit_magnitude(_first(args, kwargs))
        out = func(*args, **kwargs)
        if isinstance(out, torch.Tensor):
            tag = Tag(watch.kind, watch.name, self._frames.site(), logit_magnitude=magnitude)
            self._tags.set(out, tag)
        return out

    def _keep(self, watch: Watch, func: Any, args: tuple, kwargs: dict) -> Any:
        out = func(*args, **kwargs)
        tag = self._tags.get(_first(args, kwargs))
        if tag is not None and isinstance(out, torch.Tensor):
            if watch.role is StepRole.GUARD:
                tag = tag.guarded(func.__name__.rstrip("_"))
            self._tags.set(out, tag)
        return out

    def _join(self, watch: Watch, func: Any, args: tuple, kwargs: dict) -> Any:
        out = func(*args, **kwargs)
        parts = _first(args, kwargs, "tensors")
        if isinstance(parts, (list, tuple)) and parts and isinstance(out, torch.Tensor):
            tags = [self._tags.get(part) for part in parts]
            if all(tags) and len({tag.kind for tag in tags}) == 1:  # type: ignore[union-attr]
                self._tags.set(out, tags[0])  # type: ignore[arg-type]
        return out

    def _add(self, watch: Watch, func: Any, args: tuple, kwargs: dict) -> Any:
        """`p + eps` keeps a probability's kind, as a guard; any other sum is unknown."""
        out = func(*args, **kwargs)
        if len(args) == 2 and not kwargs:
            tag = self._tags.get(args[0])
            if tag is not None and tag.kind in LINEAR_PROBABILITIES and _is_eps(args[1]):
                self._tags.set(out, tag.guarded("eps"))
                return out
        self._tags.discard(out)  # `p += x` in place
        return out

    def _complement(self, watch: Watch, func: Any, args: tuple, kwargs: dict) -> Any:
        """`1 - p` (Tensor.__rsub__(p, 1))."""
        out = func(*args, **kwargs)
        tag = self._tags.get(_first(args, kwargs))
        other = args[1] if len(args) > 1 else kwargs.get("other")
        if tag is not None and tag.kind in COMPLEMENTS and _is_one(other) and "alpha" not in kwargs:
            self._tags.set(out, replace(tag, kind=COMPLEMENTS[tag.kind]))
        return out

    # The sinks.

    def _log(self, watch: Watch, func: Any, args: tuple, kwargs: dict) -> Any:
        source = _first(args, kwargs)
        tag = self._tags.get(source)
        codes = self._sink_codes(watch, tag)
        observed = evidence.values(source, tag) if codes else {}
        out = func(*args, **kwargs)
        self._tags.discard(out)  # `p.log_()`: in log space now
        if codes:
            self._report(codes, tag, watch.name, {**observed, **evidence.log_infs(out)})
        return out

    def _loss(self, watch: Watch, func: Any, args: tuple, kwargs: dict) -> Any:
        loss = watch.loss
        assert loss is not None
        bound = {**dict(zip(loss.function_params, args)), **kwargs}
        source = bound.get(loss.input_param)
        tag = self._tags.get(source)
        codes = self._sink_codes(watch, tag)
        device = _autocast_device(source) if watch.autocast else None
        if device is not None and "NAN501" in self._guard.codes:
            codes.append("NAN501")
        if codes:  # reported before the call: CUDA autocast refuses binary_cross_entropy
            observed = evidence.values(source, tag)
            if loss is api.BCE:
                observed.update(evidence.bce_clamped(source, bound.get(loss.target_param)))
            self._report(codes, tag, watch.name, observed, device)
        return func(*args, **kwargs)

    def _sink_codes(self, watch: Watch, tag: Tag | None) -> list[str]:
        """The codes a log or loss call reports: none inside a torch.distributions
        constructor, which takes logs of its `probs` itself (NAN401/NAN402 report it)."""
        codes = self._codes(watch.checks, tag)
        if codes and any(
            frame.f_code.co_filename.startswith(self._distributions_dir)
            for frame in self._frames.library_frames()
        ):
            return []
        return codes

    def _codes(self, checks: tuple, tag: Tag | None) -> list[str]:
        enabled = self._guard.codes
        return [
            check.code
            for check in checks
            if tag is not None and tag.kind in check.kinds and check.code in enabled
        ]

    def _report(
        self,
        codes: list[str],
        tag: Tag | None,
        sink_label: str,
        observed: dict,
        autocast: str | None = None,
    ) -> None:
        site = self._frames.site()
        for code in codes:
            self._guard.report(code, tag, site, sink_label, observed, autocast)


_HANDLERS = {
    Action.PRODUCE: GuardMode._produce,
    Action.KEEP: GuardMode._keep,
    Action.JOIN: GuardMode._join,
    Action.ADD: GuardMode._add,
    Action.COMPLEMENT: GuardMode._complement,
    Action.LOG: GuardMode._log,
    Action.LOSS: GuardMode._loss,
}
