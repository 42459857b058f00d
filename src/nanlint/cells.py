"""Where each cell of a notebook's module starts (nanlint.notebook writes the module): module
positions to cell positions and back."""

from __future__ import annotations

import bisect
import re

from nanlint.positions import Position, Span

MARKER = "# nanlint-cell: {}\n"
MARKER_LINE = re.compile(r"# nanlint-cell: (\d+)\r?\n?")


class CellMap:
    """Where each cell of a notebook's module starts, read from its marker lines."""

    def __init__(self, module_text: str):
        self.first_lines: list[int] = []  # the module line of each cell's first line
        self.numbers: list[int] = []
        for number, line in enumerate(module_text.splitlines(keepends=True), start=1):
            match = MARKER_LINE.fullmatch(line)
            if match is not None:
                self.first_lines.append(number + 1)
                self.numbers.append(int(match.group(1)))

    def position(self, position: Position) -> Position:
        index = max(0, bisect.bisect_right(self.first_lines, position.line) - 1)
        if not self.first_lines:
            return position
        line = max(1, position.line - self.first_lines[index] + 1)
        return Position(line, position.column, self.numbers[index])

    def module_line(self, cell: int, line: int) -> int:
        return self.first_lines[self.numbers.index(cell)] + line - 1

    def span(self, span: Span) -> Span:
        return Span(self.position(span.start), self.position(span.end))
