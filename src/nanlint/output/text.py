"""The human formats: `full` (ruff-style, with the source line and a caret) and `concise`."""

from __future__ import annotations

from typing import TYPE_CHECKING

from nanlint.diagnostics import Diagnostic
from nanlint.fixes import Applicability
from nanlint.output.paths import location

if TYPE_CHECKING:
    from nanlint.output import RunSummary


def concise(diagnostics: list[Diagnostic], summary: RunSummary) -> str:
    lines = [_headline(d, summary) for d in diagnostics]
    return "\n".join([*lines, *_footer(diagnostics, summary)]) + "\n"


def full(diagnostics: list[Diagnostic], summary: RunSummary) -> str:
    blocks = [_block(d, summary) for d in diagnostics]
    return "\n".join([*blocks, *_footer(diagnostics, summary)]) + "\n"


def _headline(diagnostic: Diagnostic, summary: RunSummary) -> str:
    where = location(diagnostic.path, diagnostic.start, summary.cwd)
    if diagnostic.code is None:
        return f"{where}: {diagnostic.message}"
    marker = " [*]" if fixable(diagnostic, summary) else ""
    return f"{where}: {diagnostic.code}{marker} {diagnostic.short}"


def _block(diagnostic: Diagnostic, summary: RunSummary) -> str:
    lines = [_headline(diagnostic, summary)]
    lines.extend(_snippet(diagnostic, summary))
    if diagnostic.short != diagnostic.message:
        lines.append(f"   = why: {diagnostic.message}")
    for related in diagnostic.related:
        where = location(related.path, related.span.start, summary.cwd)
        lines.append(f"   = note: {where}: {related.message}")
    fix = diagnostic.fix
    if fix is not None and fix.applicability is not Applicability.DISPLAY_ONLY:
        hidden = fix.applicability is Applicability.UNSAFE and not summary.unsafe_fixes
        suffix = " (unsafe fix: enable with `--unsafe-fixes`)" if hidden else ""
        lines.append(f"   = help: {fix.title}{suffix}")
        lines.extend(f"   = note: {note}" for note in fix.notes)
    elif fix is not None:
        lines.append(f"   = help: {fix.title} (suggestion only, never applied)")
    return "\n".join(lines) + "\n"


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
    label = f" {diagnostic.code}" if diagnostic.code else ""
    return [
        f"{gutter} |",
        f"{line} | {source_line}",
        f"{gutter} | {' ' * (start - 1)}{'^' * width}{label}",
        f"{gutter} |",
    ]


def fixable(diagnostic: Diagnostic, summary: RunSummary) -> bool:
    fix = diagnostic.fix
    return fix is not None and fix.applies(summary.unsafe_fixes)


def _footer(diagnostics: list[Diagnostic], summary: RunSummary) -> list[str]:
    remaining = len(diagnostics)
    if remaining == 0 and summary.fixed == 0:
        return ["All checks passed!"]
    noun = "error" if remaining + summary.fixed == 1 else "errors"
    if summary.fixed:
        lines = [
            f"Found {remaining + summary.fixed} {noun} ({summary.fixed} fixed, {remaining} remaining)."
        ]
    else:
        lines = [f"Found {remaining} {noun}."]
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
        lines.append(f"[*] {count} fixable with the `--fix` option{hint}.")
    elif hidden:
        lines.append(f"No fixes available{hint}.")
    return lines
