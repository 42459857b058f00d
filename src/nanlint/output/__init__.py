"""Output formats, one module each; `FORMATS` maps a format name to its writer."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from nanlint.diagnostics import Diagnostic
from nanlint.output import json_format, text
from nanlint.source import SourceFile


@dataclass(frozen=True)
class RunSummary:
    """What a formatter needs besides the diagnostics."""

    unsafe_fixes: bool  # whether unsafe fixes are enabled
    fixed: int  # fixes applied by --fix
    cwd: Path
    sources: dict[Path, SourceFile] = field(default_factory=dict)  # for source snippets

    def line(self, path: Path, number: int) -> str | None:
        source = self.sources.get(path)
        if source is None or not 1 <= number <= source.line_count:
            return None
        return source.line_text(number)


Formatter = Callable[[list[Diagnostic], RunSummary], str]

FORMATS: dict[str, Formatter] = {
    "full": text.full,
    "concise": text.concise,
    "json": json_format.render,
}
