"""Jupyter notebooks: the code cells as one module, diagnostics per cell, fixes written back.

The code cells are concatenated into one Python module, each preceded by a marker comment,
so that data flows across cells as it does in the kernel. IPython magics and shell escapes
(`%time`, `!pip`, `x = !ls`, `obj?`) become `pass` placeholders that carry their number, and
cells that start with a cell magic (`%%bash`) are left out. Fixing rewrites the "source" value
of the changed cells only, in the notebook's own JSON style; every other byte is kept.
"""

from __future__ import annotations

import codecs
import io
import json
import re
import tokenize
from dataclasses import dataclass, replace
from pathlib import Path

from nanlint.cells import MARKER, MARKER_LINE, CellMap
from nanlint.diagnostics import Diagnostic, Related
from nanlint.fixes import Edit, Fix
from nanlint.source import Position, SourceFile

_PLACEHOLDER = "{}pass  # nanlint-magic: {}\n"
_PLACEHOLDER_LINE = re.compile(r"^[ \t]*pass  # nanlint-magic: (\d+)(\r?\n)?", re.MULTILINE)
# `%magic`, `!shell` (not `!=`), `?obj`, `obj?`, `x = !shell`, `x = %magic`
_MAGIC = re.compile(r"\s*(?:%|!(?!=)|\?+[\w.]|[\w.]+\?+\s*$|[\w.\[\], ]+=\s*(?:%|!(?!=)))")
_DECODER = json.JSONDecoder()
_WHITESPACE = re.compile(r"[ \t\n\r]*")


class NotebookError(Exception):
    """A `.ipynb` file that is not a Jupyter notebook nanlint can read, or a fix it cannot place."""


@dataclass(frozen=True)
class _Cell:
    number: int  # 1-based position in the notebook's `cells`, markdown cells included
    text: str  # the cell's source as written
    span: tuple[int, int]  # offsets of its "source" value in the notebook's JSON text


class Notebook:
    """One notebook: its JSON text, its Python code cells and the module made of them."""

    def __init__(self, path: Path, text: str, bom: bool, cells: list[_Cell]):
        self.path = path
        self.text = text
        self.bom = bom
        self.cells = cells
        self.magics: list[str] = []  # the original line behind each placeholder
        self.source = SourceFile(path, "".join(self._masked(cell) for cell in cells))

    @classmethod
    def from_bytes(cls, path: Path, data: bytes) -> Notebook | None:
        """The notebook, or None when its kernel is not Python."""
        bom = data.startswith(codecs.BOM_UTF8)
        try:
            text = data.decode("utf-8-sig")
            document = json.loads(text)
        except (UnicodeDecodeError, ValueError) as error:
            raise NotebookError(f"not valid JSON: {error}") from error
        except RecursionError as error:
            raise NotebookError("not a notebook: its JSON nests too deeply") from error
        if not isinstance(document, dict) or not isinstance(document.get("cells"), list):
            raise NotebookError("not a Jupyter notebook in nbformat 4 (no `cells` list)")
        if _language(document) not in (None, "python"):
            return None
        spans = _source_spans(text)
        cells = []
        for index, cell in enumerate(document["cells"]):
            if not isinstance(cell, dict) or cell.get("cell_type") != "code":
                continue
            source = cell.get("source", "")
            cell_text = "".join(source) if isinstance(source, list) else str(source)
            if not cell_text.lstrip().startswith("%%") and index in spans:
                cells.append(_Cell(index + 1, cell_text, spans[index]))
        return cls(path, text, bom, cells)

    def _masked(self, cell: _Cell) -> str:
        """The cell as Python: its marker, then its lines with magics as placeholders."""
        lines: list[str] = []
        continued = False
        for line in cell.text.splitlines(keepends=True):
            if continued or (_MAGIC.match(line) and not _inside_statement("".join(lines))):
                indent = line[: len(line) - len(line.lstrip(" \t"))]
                lines.append(_PLACEHOLDER.format(indent, len(self.magics)))
                self.magics.append(line)
                continued = line.rstrip("\r\n").endswith("\\")
            else:
                lines.append(line)
        text = "".join(lines)
        if text and not text.endswith("\n"):
            text += "\n"
        return MARKER.format(cell.number) + text

    def localize(self, diagnostics: list[Diagnostic], module: SourceFile) -> list[Diagnostic]:
        """The diagnostics of the notebook's (possibly fixed) module, with positions in cells."""
        cells = module.cells
        assert cells is not None
        return [_localize(cells, d, self.path) for d in diagnostics]

    def updated(self, module_text: str) -> bytes:
        """The notebook's bytes with the changed cells rewritten from a fixed module."""
        result = self.text
        for cell, new in sorted(self.changed_cells(module_text), key=lambda c: c[0].span)[::-1]:
            start, end = cell.span
            result = result[:start] + _serialise(self.text, start, end, new) + result[end:]
        return (codecs.BOM_UTF8 if self.bom else b"") + result.encode("utf-8")

    def changed_cells(self, module_text: str) -> list[tuple[_Cell, str]]:
        """The cells a fixed module changes, in order, each with its new source."""
        texts = _split(module_text)
        if sorted(texts) != sorted(cell.number for cell in self.cells):
            raise NotebookError("the fixed code no longer lines up with the notebook's cells")
        changed = [(cell, self._unmasked(texts[cell.number], cell.text)) for cell in self.cells]
        return [(cell, new) for cell, new in changed if new != cell.text]

    def _unmasked(self, text: str, original: str) -> str:
        def restore(match: re.Match) -> str:
            magic = self.magics[int(match.group(1))]
            return magic if magic.endswith("\n") else magic + (match.group(2) or "")

        text = _PLACEHOLDER_LINE.sub(restore, text)
        if not original.endswith("\n") and text.endswith("\n"):
            text = text[:-1]
        return text


def _localize(cells: CellMap, diagnostic: Diagnostic, path: Path) -> Diagnostic:
    """The diagnostic with its positions in `path` (the notebook) moved into cells."""

    def edit(item: Edit) -> Edit:
        if item.path != path:
            return item
        start, end = cells.position(item.start_position), cells.position(item.end_position)
        return replace(item, start_position=start, end_position=end)

    fix = diagnostic.fix
    if fix is not None:
        fix = Fix(fix.title, fix.applicability, tuple(map(edit, fix.edits)), fix.notes)
    return replace(
        diagnostic,
        span=cells.span(diagnostic.span),
        related=tuple(
            Related(r.path, cells.span(r.span), r.message) if r.path == path else r
            for r in diagnostic.related
        ),
        fix=fix,
        noqa_line=None
        if diagnostic.noqa_line is None
        else cells.position(Position(diagnostic.noqa_line, 1)).line,
    )


def _inside_statement(text: str) -> bool:
    """Whether `text` ends inside a bracket, a string or a backslash continuation."""
    try:
        for _ in tokenize.generate_tokens(io.StringIO(text).readline):
            pass
    except tokenize.TokenError:
        return True
    except SyntaxError:
        return False
    return False


def _language(document: dict) -> str | None:
    metadata = document.get("metadata") or {}
    for key, field in (("language_info", "name"), ("kernelspec", "language")):
        value = (metadata.get(key) or {}).get(field)
        if isinstance(value, str):
            return value.lower()
    return None


def _split(module_text: str) -> dict[int, str]:
    """The text of each cell in a notebook's module, by cell number."""
    texts: dict[int, list[str]] = {}
    current: list[str] = []
    leading = current  # text before the first marker (an inserted import) joins the first cell
    for line in module_text.splitlines(keepends=True):
        match = MARKER_LINE.fullmatch(line)
        if match is None:
            current.append(line)
            continue
        current = texts.setdefault(int(match.group(1)), [])
        if leading:
            current.extend(leading)
            leading = []
    return {number: "".join(lines) for number, lines in texts.items()}


def _source_spans(text: str) -> dict[int, tuple[int, int]]:
    """The offsets of each cell's "source" value in the notebook's JSON text, by cell index."""
    spans = {}
    for key, start, _ in _entries(text, _skip(text, 0)):
        if key != "cells":
            continue
        for index, (cell_start, _) in enumerate(_elements(text, start)):
            for cell_key, value_start, value_end in _entries(text, cell_start):
                if cell_key == "source":
                    spans[index] = (value_start, value_end)
    return spans


def _skip(text: str, offset: int) -> int:
    return _WHITESPACE.match(text, offset).end()  # type: ignore[union-attr]


def _entries(text: str, offset: int):
    """(key, value start, value end) of each member of the JSON object at `offset`, or of each
    element (key None) of the array there."""
    opening = text[offset]
    if opening not in "{[":
        return
    closing = "}" if opening == "{" else "]"
    offset = _skip(text, offset + 1)
    while text[offset] != closing:
        key = None
        if opening == "{":
            key, offset = _DECODER.raw_decode(text, offset)
            offset = _skip(text, _skip(text, offset) + 1)  # past the colon
        _, end = _DECODER.raw_decode(text, offset)
        yield key, offset, end
        offset = _skip(text, end)
        if text[offset] == ",":
            offset = _skip(text, offset + 1)


def _elements(text: str, offset: int) -> list[tuple[int, int]]:
    """(start, end) of each element of the JSON array at `offset`."""
    return [(start, end) for _, start, end in _entries(text, offset) if text[offset] == "["]


def _serialise(text: str, start: int, end: int, cell_text: str) -> str:
    """`cell_text` as a "source" value written the way text[start:end] was written."""
    ascii_only = "\\u" in text and text.isascii()
    if text[start] == '"':
        return json.dumps(cell_text, ensure_ascii=ascii_only)
    items = [json.dumps(line, ensure_ascii=ascii_only) for line in cell_text.splitlines(True)]
    elements = list(_elements(text, start))
    if elements:
        opening = text[start + 1 : elements[0][0]]
        closing = text[elements[-1][1] : end - 1]
        separator = text[elements[0][1] : elements[1][0]] if len(elements) > 1 else "," + opening
    else:
        line_start = text.rfind("\n", 0, start) + 1
        indent = text[line_start : _skip(text, line_start)].strip("\r\n")
        opening, closing = "\n" + indent + " ", "\n" + indent
        separator = "," + opening
    if not items:
        return "[]"
    return "[" + opening + separator.join(items) + closing + "]"
