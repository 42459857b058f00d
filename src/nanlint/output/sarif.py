"""`--output-format sarif`: SARIF 2.1.0 with the rules, their help, fixes and related locations.

The driver lists the rules that have results (with their reference text as help), so that the
log stays small; paths are relative to the working directory (`%SRCROOT%`) when inside it.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING

from nanlint import __version__
from nanlint.diagnostics import Diagnostic
from nanlint.docs import reference_of
from nanlint.fixes import Edit
from nanlint.output.paths import display
from nanlint.rules import RULES_BY_CODE
from nanlint.selection import CATALOG, MetaCode
from nanlint.source import Span

if TYPE_CHECKING:
    from nanlint.output import RunSummary

SCHEMA = "https://json.schemastore.org/sarif-2.1.0.json"
INFORMATION_URI = "https://github.com/nanlint/nanlint"
_ROOT = "%SRCROOT%"


def render(diagnostics: list[Diagnostic], summary: RunSummary) -> str:
    codes = {d.code for d in diagnostics}
    rules = [entry for entry in CATALOG if entry.code in codes]
    index = {entry.code: number for number, entry in enumerate(rules)}
    log = {
        "$schema": SCHEMA,
        "version": "2.1.0",
        "runs": [
            {
                "tool": {
                    "driver": {
                        "name": "nanlint",
                        "version": __version__,
                        "informationUri": INFORMATION_URI,
                        "rules": [_rule(entry) for entry in rules],
                    }
                },
                "originalUriBaseIds": {_ROOT: {"uri": summary.cwd.as_uri() + "/"}},
                "columnKind": "unicodeCodePoints",
                "results": [_result(d, summary, index) for d in diagnostics],
            }
        ],
    }
    return json.dumps(log, indent=2) + "\n"


def _rule(entry) -> dict:
    if not isinstance(entry, MetaCode):
        entry = RULES_BY_CODE[entry.code]
    help_text = reference_of(entry.code)
    return {
        "id": entry.code,
        "name": entry.name,
        "shortDescription": {"text": entry.summary},
        "fullDescription": {
            "text": entry.summary if isinstance(entry, MetaCode) else entry.doc.what
        },
        "help": {"text": help_text, "markdown": help_text},
        "helpUri": entry.url,
        "defaultConfiguration": {"enabled": entry.default_enabled, "level": "error"},
    }


def _result(diagnostic: Diagnostic, summary: RunSummary, index: dict[str, int]) -> dict:
    result: dict = {"ruleId": diagnostic.label}
    if diagnostic.code in index:
        result["ruleIndex"] = index[diagnostic.code]
    result["level"] = "error"
    result["message"] = {"text": diagnostic.message}
    result["locations"] = [_location(diagnostic.path, diagnostic.span, summary)]
    if diagnostic.related:
        result["relatedLocations"] = [
            {
                "id": number,
                **_location(related.path, related.span, summary),
                "message": {"text": related.message},
            }
            for number, related in enumerate(diagnostic.related)
        ]
    fix = diagnostic.fix
    if fix is not None:
        result["fixes"] = [
            {
                "description": {"text": fix.title},
                "artifactChanges": [
                    {"artifactLocation": _artifact(path, summary), "replacements": replacements}
                    for path, replacements in _replacements(fix.edits)
                ],
                "properties": {"applicability": fix.applicability.value},
            }
        ]
    return result


def _replacements(edits: tuple[Edit, ...]) -> list[tuple[Path, list[dict]]]:
    by_path: dict[Path, list[dict]] = {}
    for edit in edits:
        by_path.setdefault(edit.path, []).append(
            {
                "deletedRegion": _region(Span(edit.start_position, edit.end_position)),
                "insertedContent": {"text": edit.content},
            }
        )
    return list(by_path.items())


def _location(path: Path, span: Span, summary: RunSummary) -> dict:
    return {
        "physicalLocation": {"artifactLocation": _artifact(path, summary), "region": _region(span)}
    }


def _artifact(path: Path, summary: RunSummary) -> dict:
    shown = display(path, summary.cwd)
    if Path(shown).is_absolute():
        return {"uri": Path(shown).as_uri()}
    return {"uri": Path(shown).as_posix(), "uriBaseId": _ROOT}


def _region(span: Span) -> dict:
    region: dict = {
        "startLine": span.start.line,
        "startColumn": span.start.column,
        "endLine": span.end.line,
        "endColumn": span.end.column,
    }
    if span.start.cell is not None:  # a notebook: lines count from the start of the cell
        region["properties"] = {"cell": span.start.cell}
    return region
