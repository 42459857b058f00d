"""The human formats: `full` (ruff-style, with the source line and a caret) and `concise`.

With `summary.color` the code, the path, the fix marker and the gutter are styled as ruff
styles them (click.style); without it the text is plain.
"""

from __future__ import annotations

from collections import Counter
from typing import TYPE_CHECKING

import click

from nanlint.diagnostics import Diagnostic
from nanlint.fixes import Applicability
from nanlint.output.paths import display
from nanlint.selection import CATALOG

if TYPE_CHECKING:
    from nanlint.output import RunSummary
    from nanlint.source import Position

NAMES = {entry.code: entry.name for entry in CATALOG}


def concise(diagnostics: list[Diagnostic], summary: RunSummary) -> str:
    return _joined([_headline(d, summary) for d in diagnostics], diagnostics, summary)


def full(diagnostics: list[Diagnostic], summary: RunSummary) -> str:
    return _joined([_block(d, summary) for d in diagnostics], diagnostics, summary)


def _joined(parts: list[str], diagnostics: list[Diagnostic], summary: RunSummary) -> str:
    """The parts and the footer, one a line; nothing at all when both are empty (--quiet)."""
    lines = [*parts, *footer(diagnostics, summary)]
    return "\n".join(lines) + "\n" if lines else ""


def paint(summary: RunSummary, text: str, **style) -> str:
    """`text` styled (click.style's keywords) when the run prints in colour."""
    return click.style(text, **style) if summary.color else text


def _where(path, position: Position, summary: RunSummary) -> str:
    """`train.py:6:35`, or `notebook.ipynb:cell 3:2:5` in a notebook; the path in bold."""
    colon = paint(summary, ":", fg="cyan")
    cell = f"cell {position.cell}{colon}" if position.cell is not None else ""
    shown = paint(summary, display(path, summary.cwd), bold=True)
    return f"{shown}{colon}{cell}{position.line}{colon}{position.column}"


def _marker(summary: RunSummary) -> str:
    return f"[{paint(summary, '*', fg='cyan')}]"


def _headline(diagnostic: Diagnostic, summary: RunSummary) -> str:
    where = _where(diagnostic.path, diagnostic.start, summary)
    if diagnostic.code is None:
        return f"{where}: {diagnostic.message}"
    marker = f" {_marker(summary)}" if fixable(diagnostic, summary) else ""
    code = paint(summary, diagnostic.code, fg="red", bold=True)
    return f"{where}: {code}{marker} {diagnostic.short}"


def _block(diagnostic: Diagnostic, summary: RunSummary) -> str:
    lines = [_headline(diagnostic, summary)]
    lines.extend(_snippet(diagnostic, summary))
    if diagnostic.short != diagnostic.message:
        lines.append(_annotation(summary, "why", diagnostic.message))
    for related in diagnostic.related:
        where = _where(related.path, related.span.start, summary)
        lines.append(_annotation(summary, "note", f"{where}: {related.message}"))
    fix = diagnostic.fix
    if fix is not None and fix.applicability is not Applicability.DISPLAY_ONLY:
        hidden = fix.applicability is Applicability.UNSAFE and not summary.unsafe_fixes
        suffix = " (unsafe fix: enable with `--unsafe-fixes`)" if hidden else ""
        lines.append(_annotation(summary, "help", f"{fix.title}{suffix}"))
        lines.extend(_annotation(summary, "note", note) for note in fix.notes)
    elif fix is not None:
        lines.append(_annotation(summary, "help", f"{fix.title} (suggestion only, never applied)"))
    return "\n".join(lines) + "\n"


def _annotation(summary: RunSummary, kind: str, text: str) -> str:
    """`   = help: ...`, the kind in bold cyan as ruff shows its help."""
    return f"   = {paint(summary, kind, fg='cyan', bold=True)}: {text}"


def _snippet(diagnostic: Diagnostic, summary: RunSummary) -> list[str]:
    """The source line with a caret under the reported range (its first line)."""
    line = diagnostic.start.line
    text = summary.line(diagnostic.path, diagnostic.start)
    if text is None:
        return []
    source_line = text.replace("\t", " ")
    start = diagnostic.start.column
    end = diagnostic.end.column if diagnostic.end.line == line else len(source_line) + 1
    width = max(1, end - start)
    gutter = " " * len(str(line))
    bar = paint(summary, "|", fg="blue", bold=True)
    label = f" {diagnostic.code}" if diagnostic.code else ""
    caret = paint(summary, f"{'^' * width}{label}", fg="red", bold=True)
    return [
        f"{gutter} {bar}",
        f"{paint(summary, str(line), fg='blue', bold=True)} {bar} {source_line}",
        f"{gutter} {bar} {' ' * (start - 1)}{caret}",
        f"{gutter} {bar}",
    ]


def fixable(diagnostic: Diagnostic, summary: RunSummary) -> bool:
    fix = diagnostic.fix
    return fix is not None and fix.applies(summary.unsafe_fixes)


def footer(diagnostics: list[Diagnostic], summary: RunSummary) -> list[str]:
    """`Found N errors.` and how many are fixable (also ends `--statistics`); with
    --show-fixes, first the fixed diagnostics by file."""
    if summary.quiet:
        return []
    remaining = len(diagnostics)
    shown = fixes_listing(summary)
    if remaining == 0 and summary.fixed == 0:
        return [*shown, "All checks passed!"]
    noun = "error" if remaining + summary.fixed == 1 else "errors"
    if summary.fixed:
        lines = [
            f"Found {remaining + summary.fixed} {noun} ({summary.fixed} fixed, {remaining} remaining)."
        ]
    else:
        lines = [f"Found {remaining} {noun}."]
    lines[:0] = shown
    count = sum(1 for d in diagnostics if fixable(d, summary))
    hidden = sum(
        1
        for d in diagnostics
        if d.fix is not None
        and d.fix.applicability is Applicability.UNSAFE
        and not summary.unsafe_fixes
    )
    hint = (
        f" ({hidden} hidden fix{'es' if hidden != 1 else ''} can be enabled with the `--unsafe-fixes` option)"
        if hidden
        else ""
    )
    if count:
        lines.append(f"{_marker(summary)} {count} fixable with the `--fix` option{hint}.")
    elif hidden:
        lines.append(f"No fixes available{hint}.")
    return lines


def fixes_listing(summary: RunSummary) -> list[str]:
    """ruff's --show-fixes enumeration: `Fixed 2 errors:`, then `- path:` and
    `    1 x NAN101 (sigmoid-into-bce-loss)` (a multiplication sign) per file and code."""
    if not summary.fixes:
        return []
    by_file: dict[str, Counter[str]] = {}
    for diagnostic in summary.fixes:
        by_file.setdefault(display(diagnostic.path, summary.cwd), Counter())[diagnostic.label] += 1
    count = len(summary.fixes)
    lines = ["", f"Fixed {count} error{'s' if count != 1 else ''}:"]
    for path, codes in sorted(by_file.items()):
        lines.append(f"- {paint(summary, path, bold=True)}:")
        lines.extend(
            f"    {number} \u00d7 {paint(summary, code, fg='red', bold=True)} ({NAMES.get(code, '')})"
            for code, number in sorted(codes.items())
        )
    return [*lines, ""]
