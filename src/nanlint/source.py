"""A source file as nanlint sees it: bytes, encoding, text, the libcst tree and node positions.

Fixes are applied as text edits on the original text, never by regenerating the module from
the tree: libcst drops a few characters when it regenerates code (a form feed in an
indentation, a BOM), and a linter must not lose a byte. Node positions come from libcst's
regenerated code, so they are mapped back onto the original text here.
"""

from __future__ import annotations

import codecs
import io
import tokenize
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING

from nanlint.cells import CellMap
from nanlint.positions import Position, Span, line_starts

if TYPE_CHECKING:
    import libcst as cst

__all__ = ["DecodeError", "Position", "SourceFile", "Span", "align", "line_starts"]

_DROPPABLE = " \t\x0c\x0b"


class DecodeError(Exception):
    """The file's bytes are not text in the encoding it declares (or UTF-8)."""

    def __init__(self, message: str, line: int = 1):
        super().__init__(message)
        self.line = line


class SourceFile:
    """One file's text and, on demand, its tree and the positions of its nodes."""

    def __init__(self, path: Path, text: str, encoding: str = "utf-8", bom: bool = False):
        self.path = path
        self.text = text
        self.encoding = encoding
        self.bom = bom

    @classmethod
    def from_bytes(cls, path: Path, data: bytes) -> SourceFile:
        """Decode with the file's coding cookie (PEP 263), UTF-8 by default; keep the BOM."""
        bom = data.startswith(codecs.BOM_UTF8)
        try:
            encoding, _ = tokenize.detect_encoding(io.BytesIO(data).readline)
        except SyntaxError as error:
            if bom:
                reason = "it contradicts the UTF-8 byte order mark"
                raise DecodeError(f"bad coding comment: {reason}") from error
            if str(error).startswith("unknown encoding"):
                raise DecodeError(f"bad coding comment: {error}") from error
            encoding = "utf-8"  # the first lines are not UTF-8: say where, below
        if bom:
            data = data[len(codecs.BOM_UTF8) :]
            encoding = "utf-8"
        try:
            text = data.decode(encoding)
        except UnicodeDecodeError as error:
            line = len(line_starts(data[: error.start].decode(encoding, errors="replace")))
            message = (
                f"not valid {encoding} (byte 0x{data[error.start]:02x} on line {line});"
                " declare the file's encoding in a coding comment (PEP 263)"
            )
            raise DecodeError(message, line) from error
        except (UnicodeError, LookupError) as error:  # a cookie naming a non-text codec
            raise DecodeError(f"cannot decode the file as {encoding}: {error}") from error
        return cls(path, text, encoding, bom)

    def encode(self, text: str) -> bytes:
        """The bytes to write for `text`, in this file's encoding and with its BOM."""
        data = text.encode(self.encoding)
        return codecs.BOM_UTF8 + data if self.bom else data

    @cached_property
    def module(self) -> cst.Module:
        """The libcst tree; raises what `nanlint.parsing.parse_module` raises."""
        from nanlint.parsing import parse_module  # libcst, loaded only when a tree is needed

        return parse_module(self.text)

    @cached_property
    def parents(self) -> dict[cst.CSTNode, cst.CSTNode]:
        """Each node's parent (computed on first use: fixes need it, linting does not)."""
        parents: dict[cst.CSTNode, cst.CSTNode] = {}
        pending: list[cst.CSTNode] = [self.module]
        while pending:
            node = pending.pop()
            for child in node.children:
                parents[child] = node
                pending.append(child)
        return parents

    @cached_property
    def _line_starts(self) -> list[int]:
        return line_starts(self.text)

    @cached_property
    def _positions(self):
        from libcst.metadata import MetadataWrapper, PositionProvider

        wrapper = MetadataWrapper(self.module, unsafe_skip_copy=True)
        return wrapper.resolve(PositionProvider)

    @cached_property
    def _generated_to_original(self) -> list[int] | None:
        """Offset map from libcst's regenerated code to the original text (None: identical)."""
        generated = self.module.code
        if generated == self.text:
            return None
        return align(generated, self.text)

    def offset(self, position: Position) -> int:
        """The offset in `text` of a 1-based (line, column) position."""
        return self._line_starts[position.line - 1] + position.column - 1

    def position_at(self, offset: int) -> Position:
        """The 1-based (line, column) position of an offset in `text`."""
        line = _bisect_right(self._line_starts, offset)
        return Position(line, offset - self._line_starts[line - 1] + 1)

    def node_offsets(self, node: cst.CSTNode) -> tuple[int, int]:
        """Start and end offsets of `node` in the original text."""
        code_range = self._positions[node]
        generated_starts = (
            self._line_starts
            if self._generated_to_original is None
            else line_starts(self.module.code)
        )
        length = len(self.module.code)
        start = _offset(generated_starts, length, code_range.start)
        end = _offset(generated_starts, length, code_range.end)
        mapping = self._generated_to_original
        if mapping is not None:
            start, end = mapping[start], mapping[end]
        return start, end

    def node_span(self, node: cst.CSTNode) -> Span:
        start, end = self.node_offsets(node)
        return Span(self.position_at(start), self.position_at(end))

    def node_text(self, node: cst.CSTNode) -> str:
        start, end = self.node_offsets(node)
        return self.text[start:end]

    def line_text(self, line: int) -> str:
        """The text of a 1-based line, without its line break."""
        start = self._line_starts[line - 1]
        end = self._line_starts[line] if line < len(self._line_starts) else len(self.text)
        return self.text[start:end].rstrip("\r\n")

    @property
    def line_count(self) -> int:
        return len(self._line_starts)

    @cached_property
    def cells(self) -> CellMap | None:
        """For a notebook's module (see nanlint.notebook), where each cell starts."""
        if self.path.suffix != ".ipynb":
            return None
        return CellMap(self.text)

    def line_label(self, line: int) -> str:
        """How a message names a line: `line 7`, or `cell 3, line 1` in a notebook."""
        if self.cells is None:
            return f"line {line}"
        position = self.cells.position(Position(line, 1))
        return f"cell {position.cell}, line {position.line}"


def align(generated: str, original: str) -> list[int]:
    """Map each offset of `generated` to `original`, which may hold extra whitespace."""
    mapping: list[int] = []
    j = 0
    for char in generated:
        while j < len(original) and original[j] != char and original[j] in _DROPPABLE:
            j += 1
        if j >= len(original) or original[j] != char:
            raise ValueError("libcst's code does not align with the source text")
        mapping.append(j)
        j += 1
    mapping.append(len(original))
    return mapping


def _bisect_right(starts: list[int], offset: int) -> int:
    low, high = 0, len(starts)
    while low < high:
        middle = (low + high) // 2
        if starts[middle] <= offset:
            low = middle + 1
        else:
            high = middle
    return low


def _offset(starts: list[int], length: int, position) -> int:
    """The offset of a libcst position: a module without a final newline ends, for libcst,
    at column 0 of the line after its last, which is the end of the text."""
    if position.line > len(starts):
        return length
    return starts[position.line - 1] + position.column
