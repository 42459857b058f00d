"""`formatter(name)`: the writer of each `--output-format` (its module imported on demand)."""

from __future__ import annotations

import importlib
from collections.abc import Callable

from nanlint.diagnostics import Diagnostic
from nanlint.output import RunSummary

Formatter = Callable[[list[Diagnostic], RunSummary], str]

# name -> (module under nanlint.output, function); sarif loads every rule's reference text.
_WRITERS: dict[str, tuple[str, str]] = {
    "full": ("text", "full"),
    "concise": ("text", "concise"),
    "json": ("json_format", "render"),
    "json-lines": ("json_lines", "render"),
    "github": ("github", "render"),
    "sarif": ("sarif", "render"),
    "junit": ("junit", "render"),
    "gitlab": ("gitlab", "render"),
}


def formatter(name: str) -> Formatter:
    module, function = _WRITERS[name]
    return getattr(importlib.import_module(f"nanlint.output.{module}"), function)
