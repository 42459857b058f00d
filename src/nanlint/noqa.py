"""Suppression comments and NAN001 (unused noqa).

`# noqa` (every code), `# noqa: NAN101, E501` (those codes) on a diagnostic's line or on a line
of its consuming call, and file-level `# nanlint: noqa` / `# nanlint: noqa: NAN101`. Comments are
found with Python's tokenizer, so `# noqa` inside a string is not a directive. Codes of other
tools share the comment and are never touched.
"""

from __future__ import annotations

import io
import re
import tokenize
from collections.abc import Collection
from dataclasses import dataclass
from typing import Optional

from nanlint.diagnostics import Diagnostic
from nanlint.fixes import Applicability, Edit, Fix, apply_edits
from nanlint.selection import DEFAULT_ENABLED, UNUSED_NOQA
from nanlint.source import Position, SourceFile, Span

_CODES = r"(?P<codes>[A-Z]+[0-9]+(?:[,\s]+[A-Z]+[0-9]+)*)"
_LINE = re.compile(r"#\s*noqa(?::\s*" + _CODES + ")?", re.IGNORECASE)
_FILE = re.compile(r"#\s*nanlint\s*:\s*noqa(?::\s*" + _CODES + ")?", re.IGNORECASE)
_CODE = re.compile(r"[A-Z]+[0-9]+", re.IGNORECASE)

Codes = Optional[frozenset]  # None: every code


@dataclass(frozen=True)
class Directive:
    """A `# noqa` comment on one line; offsets are into the file's text."""

    line: int
    codes: tuple[tuple[str, int, int], ...]  # each code with its offsets; () for a bare noqa
    start: int  # the directive's `#`
    end: int  # past its last code
    comment_start: int
    comment_end: int

    def covers(self, code: str) -> bool:
        return not self.codes or any(name == code for name, _, _ in self.codes)


@dataclass
class Suppressions:
    lines: dict[int, Directive]
    file_codes: Codes  # codes a file-level directive suppresses; frozenset() when there is none

    def suppresses(self, diagnostic: Diagnostic) -> Directive | bool:
        """The directive that suppresses `diagnostic`, True for the file-level one, or False."""
        code = diagnostic.code
        if code is None:
            return False
        if self.file_codes is None or code in self.file_codes:
            return True
        for line in (diagnostic.start.line, *diagnostic.noqa_lines):
            directive = self.lines.get(line)
            if directive is not None and directive.covers(code):
                return directive
        return False


def find_suppressions(source: SourceFile) -> Suppressions:
    """The noqa directives of a file (none when it holds no `noqa` at all)."""
    found = Suppressions({}, frozenset())
    if "noqa" not in source.text.lower():
        return found
    for token in _comments(source.text):
        start = source.offset(Position(token.start[0], token.start[1] + 1))
        file_level = _FILE.search(token.string)
        if file_level is not None:
            found.file_codes = _merge(found.file_codes, _codes(file_level))
            continue
        match = _LINE.search(token.string)
        if match is not None:
            found.lines[token.start[0]] = Directive(
                token.start[0],
                tuple((name, start + s, start + e) for name, s, e in _code_spans(match)),
                start + match.start(),
                start + match.end(),
                start,
                start + len(token.string),
            )
    return found


def _comments(text: str):
    try:
        for token in tokenize.generate_tokens(io.StringIO(text).readline):
            if token.type == tokenize.COMMENT:
                yield token
    except (tokenize.TokenError, SyntaxError):
        return  # the comments before the error still count


def _code_spans(match: re.Match) -> list[tuple[str, int, int]]:
    if match.group("codes") is None:
        return []
    offset = match.start("codes")
    return [
        (code.group().upper(), offset + code.start(), offset + code.end())
        for code in _CODE.finditer(match.group("codes"))
    ]


def _codes(match: re.Match) -> Codes:
    spans = _code_spans(match)
    return None if not spans else frozenset(name for name, _, _ in spans)


def _merge(current: Codes, new: Codes) -> Codes:
    if current is None or new is None:
        return None
    return current | new


def apply_suppressions(
    source: SourceFile,
    diagnostics: list[Diagnostic],
    enabled: Collection[str],
    report_unused: bool,
) -> list[Diagnostic]:
    """The diagnostics no directive suppresses, plus NAN001 for unused NAN codes when asked."""
    suppressions = find_suppressions(source)
    kept: list[Diagnostic] = []
    used: set[tuple[int, str]] = set()
    for diagnostic in diagnostics:
        by = suppressions.suppresses(diagnostic)
        if isinstance(by, Directive):
            used.add((by.line, diagnostic.code or ""))
        elif not by:
            kept.append(diagnostic)
    if report_unused:
        for directive in suppressions.lines.values():
            unused = _unused(directive, used, enabled, suppressions.file_codes)
            if unused:
                kept.append(_unused_noqa(source, directive, unused))
    return kept


def _unused(
    directive: Directive, used: set[tuple[int, str]], enabled: Collection[str], file_codes: Codes
):
    """The NAN codes of `directive` that suppressed nothing (known and enabled, or unknown).

    A code the file-level directive suppresses is not reported: the file-level directive got
    to the diagnostic first, and the line's directive stays right if it is removed.
    """
    names = [name for name, _, _ in directive.codes]
    if UNUSED_NOQA in names or file_codes is None:
        return []
    return [
        (name, start, end)
        for name, start, end in directive.codes
        if name.startswith("NAN")
        and (directive.line, name) not in used
        and name not in file_codes
        and (name in enabled or name not in DEFAULT_ENABLED)
    ]


def _unused_noqa(
    source: SourceFile, directive: Directive, unused: list[tuple[str, int, int]]
) -> Diagnostic:
    unknown = [f"`{name}`" for name, _, _ in unused if name not in DEFAULT_ENABLED]
    known = [f"`{name}`" for name, _, _ in unused if name in DEFAULT_ENABLED]
    parts = ([f"unused: {', '.join(known)}"] if known else []) + (
        [f"unknown: {', '.join(unknown)}"] if unknown else []
    )
    span = Span(source.position_at(directive.start), source.position_at(directive.end))
    fix = Fix(
        "Remove the unused NAN codes"
        if len(unused) < len(directive.codes)
        else "Remove the unused `noqa` directive",
        Applicability.SAFE,
        (_removal(source, directive, {name for name, _, _ in unused}),),
    )
    return Diagnostic(
        UNUSED_NOQA,
        f"Unused `noqa` directive ({'; '.join(parts)})",
        source.path,
        span,
        fix,
        noqa_line=directive.line,
    )


def _removal(source: SourceFile, directive: Directive, names: set[str]) -> Edit:
    """An edit that drops `names` from the directive (and the directive or comment if empty)."""
    text = source.text
    kept = [name for name, _, _ in directive.codes if name not in names]
    if kept:
        first, last = directive.codes[0][1], directive.codes[-1][2]
        return _edit(source, first, last, ", ".join(kept))
    comment = text[directive.comment_start : directive.comment_end]
    before = comment[: directive.start - directive.comment_start].rstrip()
    after = comment[directive.end - directive.comment_start :]
    start, end = directive.comment_start, directive.comment_end
    if before:
        return _edit(source, start, end, before + after)
    if after.strip():
        rest = after.lstrip()
        return _edit(source, start, end, rest if rest.startswith("#") else "# " + rest)
    line_start = source.offset(Position(directive.line, 1))
    code_end = line_start + len(text[line_start:start].rstrip(" \t"))
    if code_end == line_start:  # the comment is alone on its line: drop the line
        line = directive.line
        next_line = source.offset(Position(line + 1, 1)) if line < source.line_count else len(text)
        return _edit(source, line_start, next_line, "")
    return _edit(source, code_end, end, "")


def _edit(source: SourceFile, start: int, end: int, content: str) -> Edit:
    return Edit(
        source.path, start, end, content, source.position_at(start), source.position_at(end)
    )


def with_noqa(source: SourceFile, diagnostics: list[Diagnostic]) -> tuple[str, int]:
    """The text with each diagnostic's code in a `# noqa` on its noqa line (an existing
    directive gets the code added), and how many lines changed."""
    edits = noqa_edits(source, diagnostics)
    return apply_edits(source.text, edits), len(edits)


def noqa_edits(source: SourceFile, diagnostics: list[Diagnostic]) -> list[Edit]:
    """The edits that put each diagnostic's code in a `# noqa` on its noqa line, one per line.
    NAN001 and file problems are left alone: a noqa cannot silence a stale noqa, nor an
    unreadable file."""
    wanted: dict[int, set[str]] = {}
    for diagnostic in diagnostics:
        if diagnostic.code in (None, UNUSED_NOQA) or diagnostic.noqa_line is None:
            continue
        wanted.setdefault(diagnostic.noqa_line, set()).add(diagnostic.code)
    existing = find_suppressions(source).lines
    ends = _line_ends(source.text)
    edits = []
    for line, codes in sorted(wanted.items()):
        directive = existing.get(line)
        if directive is not None and not directive.codes:
            continue  # a bare noqa already covers every code
        if directive is not None:
            names = sorted({name for name, _, _ in directive.codes} | codes)
            first, last = directive.codes[0][1], directive.codes[-1][2]
            edits.append(_edit(source, first, last, ", ".join(names)))
            continue
        if line not in ends:  # inside a string, or continued by a backslash
            continue
        end = source.offset(Position(line, 1)) + len(source.line_text(line).rstrip())
        edits.append(_edit(source, end, end, f"  # noqa: {', '.join(sorted(codes))}"))
    return edits


def _line_ends(text: str) -> set[int]:
    """The lines that end outside a string and without a backslash: a comment can go there."""
    ends: set[int] = set()
    try:
        for token in tokenize.generate_tokens(io.StringIO(text).readline):
            if token.type in (tokenize.NEWLINE, tokenize.NL):
                ends.add(token.start[0])
    except (tokenize.TokenError, SyntaxError):
        pass
    return ends
