"""The flake8 plugin: `flake8 --select NAN` reports nanlint's diagnostics.

Each file is analysed on its own (no fixes); flake8 applies its own selection, `# noqa`
comments and per-file ignores, and reports syntax errors itself (E999).
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

from nanlint import __version__
from nanlint.engine import lint
from nanlint.selection import select_rules
from nanlint.source import SourceFile


class Plugin:
    name = "nanlint"
    version = __version__

    def __init__(self, tree: ast.AST, filename: str, lines: list[str]):
        # flake8 hands every plugin that asks for `tree` the parsed module; nanlint parses
        # the text with libcst instead.
        self.filename = filename
        self.lines = lines

    def run(self) -> Iterator[tuple[int, int, str, type]]:
        source = SourceFile(Path(self.filename), "".join(self.lines))
        diagnostics, _ = lint(source, select_rules())
        for diagnostic in diagnostics:
            if diagnostic.code is not None:
                start = diagnostic.start
                yield (
                    start.line,
                    start.column - 1,
                    f"{diagnostic.code} {diagnostic.short}",  # one line, as flake8 prints
                    Plugin,
                )
