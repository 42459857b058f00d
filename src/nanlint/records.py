"""Diagnostics as plain JSON data and back, exactly (the results cache stores them)."""

from __future__ import annotations

from pathlib import Path

from nanlint.diagnostics import Diagnostic, Related
from nanlint.fixes import Applicability, Edit, Fix
from nanlint.source import Position, Span


def dump(diagnostic: Diagnostic) -> dict:
    return {
        "code": diagnostic.code,
        "message": diagnostic.message,
        "path": str(diagnostic.path),
        "span": _dump_span(diagnostic.span),
        "fix": None if diagnostic.fix is None else _dump_fix(diagnostic.fix),
        "related": [
            {"path": str(item.path), "span": _dump_span(item.span), "message": item.message}
            for item in diagnostic.related
        ],
        "noqa_line": diagnostic.noqa_line,
        "noqa_lines": list(diagnostic.noqa_lines),
    }


def load(data: dict) -> Diagnostic:
    """The diagnostic `dump` wrote; raises KeyError, TypeError or ValueError on other data."""
    fix = data["fix"]
    return Diagnostic(
        data["code"],
        data["message"],
        Path(data["path"]),
        _load_span(data["span"]),
        None if fix is None else _load_fix(fix),
        tuple(
            Related(Path(item["path"]), _load_span(item["span"]), item["message"])
            for item in data["related"]
        ),
        data["noqa_line"],
        tuple(data["noqa_lines"]),
    )


def _dump_fix(fix: Fix) -> dict:
    return {
        "title": fix.title,
        "applicability": fix.applicability.value,
        "edits": [
            {
                "path": str(edit.path),
                "start": edit.start,
                "end": edit.end,
                "content": edit.content,
                "positions": [
                    *_dump_position(edit.start_position),
                    *_dump_position(edit.end_position),
                ],
            }
            for edit in fix.edits
        ],
        "notes": list(fix.notes),
    }


def _load_fix(data: dict) -> Fix:
    edits = []
    for edit in data["edits"]:
        positions = edit["positions"]
        edits.append(
            Edit(
                Path(edit["path"]),
                edit["start"],
                edit["end"],
                edit["content"],
                _load_position(positions[:3]),
                _load_position(positions[3:]),
            )
        )
    return Fix(
        data["title"], Applicability(data["applicability"]), tuple(edits), tuple(data["notes"])
    )


def _dump_span(span: Span) -> list:
    return [*_dump_position(span.start), *_dump_position(span.end)]


def _load_span(data: list) -> Span:
    return Span(_load_position(data[:3]), _load_position(data[3:]))


def _dump_position(position: Position) -> list:
    return [position.line, position.column, position.cell]


def _load_position(data: list) -> Position:
    line, column, cell = data
    return Position(int(line), int(column), None if cell is None else int(cell))
