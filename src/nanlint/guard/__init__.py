"""The runtime guard: the catalog's rules checked on real tensors while the program runs.

Public API (the surfaces `nanlint run`, DDP merging and the output formats build on this):

    import nanlint

    with nanlint.guard(select=None, ignore=None, on_finding="warn") as g:
        train()
    g.findings  # list[RuntimeFinding] (nanlint.guard.findings), first seen first

- `nanlint.guard(...)` (this package is callable) returns a `Guard` (nanlint.guard.session):
  a context manager, re-enterable (tags and findings persist across entries), and a
  decorator (`@nanlint.guard()`; the wrapper's `.guard` is the Guard).
- `on_finding`: "warn" (a `GuardWarning` at the sink's line, once per finding), "raise"
  (`GuardError` carrying `.finding`, at the sink) or "record" (silent).
- `Guard.test`: set it to a pytest node id; findings first seen meanwhile carry it.
- `Guard.messages`: notes the guard printed about itself (e.g. torch.compile runs eagerly).
- Findings are deduplicated by `RuntimeFinding.key` and counted; `observed` holds the worst
  batch seen (most saturated values), `"grad"` is whether any occurrence carried a gradient.
  The core leaves `ranks` empty.
- `RUNTIME_CODES`: the codes the guard can report. Importing this package imports neither
  torch nor the analysis; `Guard` does (torch, and the rule registry for its tables).

Decisions (for the README): a sink reached without gradient (`torch.no_grad()`, evaluation,
a tensor that does not require grad) is still reported, with `observed["grad"] = False`
and "(no gradient flows here: only the value is wrong)" in the message. DataLoader workers
(forked) run outside the guard: it lives in the main process. torch.compile'd code runs
eagerly while the guard is on (`torch.compiler.set_stance("force_eager")`, as soon as
torch._dynamo is loaded; a `GuardWarning` says so once); a function compiled and run before
any eager operation after Dynamo loads passes through unchecked, and a note says that.
The pytest plugin: `pytest --nanlint-guard` (the findings fail the run, each naming its
first test), `--nanlint-guard-report-only`, `--nanlint-guard-select/--nanlint-guard-ignore
CODES`. Needs Python 3.11+ (columns come from `co_positions()`).
"""

from __future__ import annotations

import sys
import types

RUNTIME_CODES = frozenset(
    (
        "NAN101",
        "NAN102",
        "NAN103",
        "NAN104",
        "NAN105",
        "NAN201",
        "NAN202",
        "NAN401",
        "NAN402",
        "NAN501",
    )
)

_LAZY = {
    "Guard": "nanlint.guard.session",
    "GuardError": "nanlint.guard.session",
    "GuardWarning": "nanlint.guard.session",
    "Location": "nanlint.guard.findings",
    "RuntimeFinding": "nanlint.guard.findings",
}


def guard(select=None, ignore=None, on_finding: str = "warn"):
    """A Guard checking the selected runtime rules (see the module docstring)."""
    from nanlint.guard.session import Guard

    return Guard(select=select, ignore=ignore, on_finding=on_finding)


def __getattr__(name: str):
    if name in _LAZY:
        module = __import__(_LAZY[name], fromlist=[name])
        return getattr(module, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


class _CallablePackage(types.ModuleType):
    """`nanlint.guard(...)` reads as a function and `nanlint.guard.Guard` as a package."""

    def __call__(self, select=None, ignore=None, on_finding: str = "warn"):
        return guard(select=select, ignore=ignore, on_finding=on_finding)


sys.modules[__name__].__class__ = _CallablePackage
