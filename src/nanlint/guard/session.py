"""`nanlint.guard()`: a context manager and decorator running code under the guard's mode.

It owns the tags and the findings (deduplicated by code, sink and producer, and counted),
and decides what a finding does: warn, raise or only record. Three environments are
handled here: torch.compile'd code runs eagerly while the guard is on (Dynamo would trace
the mode's handler instead of running it; see `run_compiled_eagerly`); a forked child (a
DataLoader worker) switches its inherited mode off, since the guard lives in the main
process; and a sink reached without gradient (`torch.no_grad()`, evaluation) is still
reported, with `observed["grad"] = False` and a note in the message, because the value is
wrong all the same, but no gradient suffered.
"""

from __future__ import annotations

import functools
import os
import sys
import warnings
import weakref
from collections.abc import Iterable
from contextlib import AbstractContextManager
from typing import Any

from nanlint.guard import RUNTIME_CODES, evidence, messages
from nanlint.guard.findings import Location, RuntimeFinding
from nanlint.guard.frames import Frames, Site
from nanlint.guard.mode import GuardMode
from nanlint.guard.tags import Tag, TagTable
from nanlint.guard.watch import tables
from nanlint.selection import enabled_codes

ON_FINDING = ("warn", "raise", "record")
EAGER_NOTE = (
    "nanlint guard: torch.compile'd code runs eagerly while the guard is on"
    " (torch.compiler.set_stance('force_eager')), so that every operation is checked"
)
UNCHECKED_NOTE = (
    "nanlint guard: a function that torch.compile compiled and ran before any other torch"
    " operation since torch._dynamo was loaded ran compiled, and was NOT checked; import"
    " torch._dynamo before the guard starts to have it run eagerly under the guard"
)
_NOTED: set[str] = set()  # each note once per process
_UNKNOWN_SITE = Location("<unknown>", 0, 0)
_MODES: weakref.WeakSet[GuardMode] = weakref.WeakSet()


class GuardWarning(UserWarning):
    """A finding (on_finding="warn"), or a note about how the guard runs."""


class GuardError(Exception):
    """A finding, raised at its sink (on_finding="raise")."""

    def __init__(self, finding: RuntimeFinding):
        sink = finding.sink
        super().__init__(f"{finding.code} {sink.path}:{sink.line}:{sink.column}: {finding.message}")
        self.finding = finding


def _off_in_child() -> None:
    for mode in list(_MODES):
        mode.switch_off()


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_off_in_child)


def _codes(select: Iterable[str] | str | None, ignore: Iterable[str] | str | None) -> frozenset:
    def listed(value):
        return [value] if isinstance(value, str) else value

    chosen = enabled_codes(listed(select), listed(ignore) or ())
    return chosen & RUNTIME_CODES


class Guard:
    def __init__(
        self,
        select: Iterable[str] | str | None = None,
        ignore: Iterable[str] | str | None = None,
        on_finding: str = "warn",
    ):
        if sys.version_info < (3, 11):
            raise RuntimeError("nanlint.guard needs Python 3.11+ (instruction positions)")
        if on_finding not in ON_FINDING:
            raise ValueError(f"on_finding must be one of {ON_FINDING}, not {on_finding!r}")
        self.codes = _codes(select, ignore)
        self.on_finding = on_finding
        self.findings: list[RuntimeFinding] = []
        self.messages: list[str] = []
        self.test: str | None = None
        self.tags = TagTable()
        built = tables()
        self.frames = Frames(built.library_dirs, built.module_labels)
        self._by_key: dict[tuple, RuntimeFinding] = {}
        self._mode = GuardMode(self)
        _MODES.add(self._mode)
        self._depth = 0
        self._eager: AbstractContextManager | None = None

    # Entering and leaving.

    def __enter__(self) -> Guard:
        if self._depth == 0:
            self._mode.await_dynamo = True
            self.run_compiled_eagerly()
            self._mode.__enter__()
        self._depth += 1
        return self

    def __exit__(self, *exc_info: Any) -> None:
        self._depth -= 1
        if self._depth == 0:
            self._mode.__exit__(*exc_info)
            self._mode.await_dynamo = False
            if self._eager is not None:
                self._eager.__exit__(*exc_info)
                self._eager = None
            if self.frames.compiled_caller_seen:
                self._note(EAGER_NOTE)
            if self._mode.compiled_unchecked:
                self._note(UNCHECKED_NOTE)

    def run_compiled_eagerly(self) -> None:
        """Dynamo would trace the mode's handler instead of running it, so torch.compile'd
        code runs eagerly while the guard is on: from the start when Dynamo is loaded (its
        import takes seconds, so the guard never imports it), else from the first operation
        that runs eagerly after it is (the mode calls this). A function compiled and called
        in between passes through the mode unchecked, and the guard says so at exit."""
        if self._eager is None and "torch._dynamo" in sys.modules:
            import torch

            self._eager = torch.compiler.set_stance("force_eager")  # set on construction
            self._mode.await_dynamo = False

    def __call__(self, func):
        """As a decorator: every call of `func` runs under this guard."""

        @functools.wraps(func)
        def guarded(*args, **kwargs):
            with self:
                return func(*args, **kwargs)

        guarded.guard = self  # type: ignore[attr-defined]
        return guarded

    def _note(self, text: str) -> None:
        if text not in self.messages:
            self.messages.append(text)
        if text not in _NOTED:
            _NOTED.add(text)
            warnings.warn(text, GuardWarning, stacklevel=3)

    # Findings.

    def report(
        self,
        code: str,
        tag: Tag | None,
        site: Site | None,
        sink_label: str,
        observed: dict,
        autocast: str | None = None,
    ) -> None:
        """One occurrence of `code` at the sink running at `site`."""
        sink = self.frames.location(site) if site is not None else _UNKNOWN_SITE
        producer = self.frames.location(tag.site) if tag is not None and tag.site else None
        key = (code, sink, producer)
        finding = self._by_key.get(key)
        if finding is not None:  # keep the worst batch, and whether any carried a gradient
            finding.count += 1
            grad = finding.observed["grad"] or observed["grad"]
            worse = evidence.severity(observed) > evidence.severity(finding.observed)
            if not worse and grad == finding.observed["grad"]:
                return
            finding.observed = {**(observed if worse else finding.observed), "grad": grad}
        else:
            finding = RuntimeFinding(code, "", sink, producer, dict(observed), test=self.test)
            self._by_key[key] = finding
            self.findings.append(finding)
        label = site.module if site is not None and site.module else sink_label
        producer_label = (tag.site.module if tag and tag.site else None) or (
            tag.producer if tag else ""
        )
        finding.message = messages.message(
            code,
            tag.kind if tag else None,
            producer_label,
            producer,
            label,
            sink,
            finding.observed,
            autocast,
        )
        if finding.count == 1:
            self._emit(finding)

    def _emit(self, finding: RuntimeFinding) -> None:
        if self.on_finding == "raise":
            raise GuardError(finding)
        if self.on_finding == "warn":
            sink = finding.sink
            warnings.warn_explicit(
                f"{finding.code} {finding.message}", GuardWarning, sink.path, sink.line
            )
