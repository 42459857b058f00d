"""`--output-format json`: a JSON array shaped like ruff's, plus the related locations."""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING

from nanlint.catalog import DOCS_URL
from nanlint.diagnostics import Diagnostic
from nanlint.fixes import Edit
from nanlint.source import Position

if TYPE_CHECKING:
    from nanlint.output import RunSummary


def render(diagnostics: list[Diagnostic], summary: RunSummary) -> str:
    return json.dumps([as_dict(d, summary) for d in diagnostics], indent=2) + "\n"


def as_dict(diagnostic: Diagnostic, summary: RunSummary) -> dict:
    path = _absolute(diagnostic.path, summary)
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
            "edits": [_edit(edit, diagnostic, summary) for edit in fix.edits],
            "message": fix.title,
            "notes": list(fix.notes),
        },
        "location": _location(diagnostic.start),
        "message": diagnostic.short,
        "full_message": diagnostic.message,
        "noqa_row": diagnostic.noqa_line,
        "related": [
            {
                "filename": str(_absolute(r.path, summary)),
                "location": _location(r.span.start),
                "end_location": _location(r.span.end),
                "message": r.message,
            }
            for r in diagnostic.related
        ],
        "url": _url(diagnostic.code),
    }


def _edit(edit: Edit, diagnostic: Diagnostic, summary: RunSummary) -> dict:
    """ruff's edit; an edit of another file than the diagnostic's (a cross-file fix) names it."""
    shown = {
        "content": edit.content,
        "end_location": _location(edit.end_position),
        "location": _location(edit.start_position),
    }
    if edit.path != diagnostic.path:
        shown["filename"] = str(_absolute(edit.path, summary))
    return shown


def _url(code: str | None) -> str | None:
    """The rule's page; None for a file that could not be read or parsed (no code)."""
    return None if code is None else DOCS_URL.format(code=code)


def _absolute(path: Path, summary: RunSummary) -> Path:
    return path if path.is_absolute() else summary.cwd / path


def _location(position: Position) -> dict:
    return {"column": position.column, "row": position.line}
