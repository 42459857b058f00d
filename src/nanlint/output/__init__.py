"""Output formats, one module each; `nanlint.output.formats.formatter` gives a name's writer.

This package module stays light (no libcst) so that the CLI can list the names cheaply.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from nanlint.diagnostics import Diagnostic
    from nanlint.source import Position, SourceFile

FORMAT_NAMES = ("full", "concise", "json", "json-lines", "github", "sarif", "junit", "gitlab")


@dataclass(frozen=True)
class RunSummary:
    """What a formatter needs besides the diagnostics."""

    unsafe_fixes: bool  # whether unsafe fixes are enabled
    fixed: int  # fixes applied by --fix
    cwd: Path
    sources: dict[Path, SourceFile] = field(default_factory=dict)  # for source snippets
    color: bool = False  # style the human formats (--color, NO_COLOR, FORCE_COLOR, a terminal)
    quiet: bool = False  # --quiet: the diagnostics, without the summary lines
    fixes: tuple[Diagnostic, ...] | None = None  # with --show-fixes: the fixed diagnostics

    def line(self, path: Path, position: Position) -> str | None:
        """The text of the line at `position` (in a notebook, of its cell's line)."""
        source = self.sources.get(path)
        if source is None:
            return None
        number = position.line
        if position.cell is not None and source.cells is not None:
            number = source.cells.module_line(position.cell, number)
        return source.line_text(number) if 1 <= number <= source.line_count else None
