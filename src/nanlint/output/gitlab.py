"""`--output-format gitlab`: GitLab Code Quality JSON.

Fingerprints are stable across runs and across edits elsewhere in the file: they hash the code,
the file and the reported line's text (not its number), plus how many identical ones came before.
"""

from __future__ import annotations

import hashlib
import json
from collections import Counter
from typing import TYPE_CHECKING

from nanlint.diagnostics import Diagnostic
from nanlint.output.paths import cell_prefix, display

if TYPE_CHECKING:
    from nanlint.output import RunSummary


def render(diagnostics: list[Diagnostic], summary: RunSummary) -> str:
    seen: Counter[tuple[str, ...]] = Counter()
    issues = []
    for diagnostic in diagnostics:
        path = display(diagnostic.path, summary.cwd)
        line = summary.line(diagnostic.path, diagnostic.start)
        key = (diagnostic.label, path, diagnostic.message if line is None else line.strip())
        issues.append(_issue(diagnostic, path, _fingerprint(key, seen[key])))
        seen[key] += 1
    return json.dumps(issues, indent=2) + "\n"


def _issue(diagnostic: Diagnostic, path: str, fingerprint: str) -> dict:
    start, end = diagnostic.start, diagnostic.end
    return {
        "check_name": diagnostic.label,
        "description": (f"{diagnostic.code}: " if diagnostic.code else "")
        + cell_prefix(start)
        + diagnostic.short,
        "content": {"body": diagnostic.message},
        "severity": "major",
        "fingerprint": fingerprint,
        "location": {
            "path": path,
            "positions": {
                "begin": {"line": start.line, "column": start.column},
                "end": {"line": end.line, "column": end.column},
            },
        },
    }


def _fingerprint(key: tuple[str, ...], occurrence: int) -> str:
    data = "\0".join((*key, str(occurrence))).encode("utf-8", "surrogatepass")
    return hashlib.sha256(data).hexdigest()[:32]
