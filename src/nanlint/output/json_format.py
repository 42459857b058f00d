"""`--output-format json`: a JSON array shaped like ruff's, plus the related locations."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING

from nanlint.diagnostics import Diagnostic
from nanlint.source import Position

if TYPE_CHECKING:
    from nanlint.output import RunSummary


def render(diagnostics: list[Diagnostic], summary: RunSummary) -> str:
    return json.dumps([as_dict(d, summary) for d in diagnostics], indent=2) + "\n"


def as_dict(diagnostic: Diagnostic, summary: RunSummary) -> dict:
    path = diagnostic.path if diagnostic.path.is_absolute() else summary.cwd / diagnostic.path
    fix = diagnostic.fix
    return {
        "cell": diagnostic.start.cell,
        "code": diagnostic.code,
        "end_location": _location(diagnostic.end),
        "filename": str(path),
        "fix": None
        if fix is None
        else {
            "applicability": fix.applicability.value,
            "edits": [
                {
                    "content": edit.content,
                    "end_location": _location(edit.end_position),
                    "location": _location(edit.start_position),
                }
                for edit in fix.edits
            ],
            "message": fix.title,
            "notes": list(fix.notes),
        },
        "location": _location(diagnostic.start),
        "message": diagnostic.message,
        "noqa_row": diagnostic.noqa_line,
        "related": [
            {
                "filename": str(r.path if r.path.is_absolute() else summary.cwd / r.path),
                "location": _location(r.span.start),
                "end_location": _location(r.span.end),
                "message": r.message,
            }
            for r in diagnostic.related
        ],
        "url": diagnostic.url,
    }


def _location(position: Position) -> dict:
    return {"column": position.column, "row": position.line}
