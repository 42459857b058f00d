"""`--statistics`: how many diagnostics each code has, most frequent first."""

from __future__ import annotations

from collections import Counter
from typing import TYPE_CHECKING

from nanlint.diagnostics import Diagnostic
from nanlint.output.text import NAMES, fixable, footer, paint

if TYPE_CHECKING:
    from nanlint.output import RunSummary


def statistics_table(diagnostics: list[Diagnostic], summary: RunSummary) -> str:
    """A row per code, then the total (as the other human formats end)."""
    counts = Counter(d.label for d in diagnostics)
    fixable_labels = {d.label for d in diagnostics if fixable(d, summary)}
    rows = sorted(counts.items(), key=lambda item: (-item[1], item[0]))
    count_width = len(str(rows[0][1])) if rows else 0
    label_width = max((len(label) for label in counts), default=0)
    lines = [
        f"{count:>{count_width}}  {paint(summary, label.ljust(label_width), fg='red', bold=True)}"
        f"  {'[*]' if label in fixable_labels else '   '} {NAMES.get(label, '')}".rstrip()
        for label, count in rows
    ]
    lines += footer(diagnostics, summary)
    return "\n".join(lines) + "\n" if lines else ""
