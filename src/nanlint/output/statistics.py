"""`--statistics`: how many diagnostics each code has, most frequent first."""

from __future__ import annotations

from collections import Counter
from typing import TYPE_CHECKING

from nanlint.diagnostics import Diagnostic
from nanlint.output.text import fixable
from nanlint.selection import CATALOG

if TYPE_CHECKING:
    from nanlint.output import RunSummary

_NAMES = {entry.code: entry.name for entry in CATALOG}


def statistics_table(diagnostics: list[Diagnostic], summary: RunSummary) -> str:
    counts = Counter(d.label for d in diagnostics)
    if not counts:
        return ""
    fixable_labels = {d.label for d in diagnostics if fixable(d, summary)}
    rows = sorted(counts.items(), key=lambda item: (-item[1], item[0]))
    count_width = len(str(rows[0][1]))
    label_width = max(len(label) for label in counts)
    return "".join(
        f"{count:>{count_width}}  {label:<{label_width}}  "
        f"{'[*]' if label in fixable_labels else '   '} {_NAMES.get(label, '')}".rstrip()
        + "\n"
        for label, count in rows
    )
