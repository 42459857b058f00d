"""Positions in a text: 1-based lines and columns (as ruff reports them), spans, line starts.

The bottom of the modules that handle text (source, cells, parsing): it imports none of them.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

_NEWLINE = re.compile(r"\r\n|\r|\n")


@dataclass(frozen=True)
class Position:
    """A 1-based line and a 1-based column (in characters), as ruff reports them.

    In a notebook, `cell` is the 1-based position of the cell and `line` the line in that cell.
    """

    line: int
    column: int
    cell: int | None = None


@dataclass(frozen=True)
class Span:
    start: Position
    end: Position


def line_starts(text: str) -> list[int]:
    """Offsets where each line starts, with the same line breaks Python's tokenizer uses."""
    starts = [0]
    starts.extend(match.end() for match in _NEWLINE.finditer(text))
    return starts
