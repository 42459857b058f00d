"""`--output-format github`: GitHub Actions workflow commands that annotate the pull request."""

from __future__ import annotations

from typing import TYPE_CHECKING

from nanlint.diagnostics import Diagnostic
from nanlint.output.paths import cell_prefix, display

if TYPE_CHECKING:
    from nanlint.output import RunSummary


def render(diagnostics: list[Diagnostic], summary: RunSummary) -> str:
    return "".join(_command(d, summary) + "\n" for d in diagnostics)


def _command(diagnostic: Diagnostic, summary: RunSummary) -> str:
    start, end = diagnostic.start, diagnostic.end
    properties = {
        "file": display(diagnostic.path, summary.cwd),
        "line": start.line,
        "col": start.column,
        "endLine": end.line,
        "endColumn": end.column,
        "title": f"{diagnostic.code} {diagnostic.short}" if diagnostic.code else diagnostic.label,
    }
    listed = ",".join(f"{key}={_escape_property(str(value))}" for key, value in properties.items())
    return f"::error {listed}::{_escape_data(cell_prefix(start) + diagnostic.message)}"


def _escape_data(text: str) -> str:
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def _escape_property(text: str) -> str:
    return _escape_data(text).replace(":", "%3A").replace(",", "%2C")
