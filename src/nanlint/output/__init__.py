"""Output formats, one module each; `nanlint.output.formats.FORMATS` maps a name to its writer.

This package module stays light (no libcst) so that the CLI can list the names cheaply.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from nanlint.source import SourceFile

FORMAT_NAMES = ("full", "concise", "json", "json-lines", "github", "sarif", "junit", "gitlab")


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
