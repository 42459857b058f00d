"""What nanlint reports: a diagnostic with its location, related locations and fix."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from nanlint.fixes import Fix
from nanlint.messages import short_message
from nanlint.source import Position, Span


@dataclass(frozen=True)
class Related:
    """Another place that explains a diagnostic (where a probability was produced, ...)."""

    path: Path
    span: Span
    message: str


@dataclass(frozen=True)
class Diagnostic:
    """One finding. `code` is None for a file that could not be read or parsed."""

    code: str | None
    message: str
    path: Path
    span: Span
    fix: Fix | None = None
    related: tuple[Related, ...] = field(default=())
    noqa_line: int | None = None
    # more lines where a noqa comment also applies: the first and last line of the consuming call
    noqa_lines: tuple[int, ...] = ()

    @property
    def short(self) -> str:
        """One line: what reaches what, and the remedy (nanlint.messages); `message` explains."""
        return short_message(self.code, self.message)

    @property
    def label(self) -> str:
        """The code, or for a file that could not be read or parsed, the error (SyntaxError)."""
        return self.code or self.message.split(":", 1)[0]

    @property
    def start(self) -> Position:
        return self.span.start

    @property
    def end(self) -> Position:
        return self.span.end

    def sort_key(self) -> tuple:
        start = self.start
        return (str(self.path), start.cell or 0, start.line, start.column, self.code or "")
