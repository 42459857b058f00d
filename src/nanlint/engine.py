"""One file in, diagnostics (and fixes) out; the fix loop."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field, replace

import libcst as cst

from nanlint.analysis.interpreter import analyze
from nanlint.diagnostics import Diagnostic, Related
from nanlint.fixes import Applicability, Fix, apply_edits, select_compatible
from nanlint.parsing import TooComplex
from nanlint.rules.base import Finding, Rule
from nanlint.source import Position, SourceFile, Span

# Enough for chains of dependent fixes; a file that still changes after this is reported as is.
MAX_FIX_ROUNDS = 10
TOO_DEEP_TO_ANALYSE = "ParseError: skipped, the code nests too deeply for the analysis"


@dataclass
class InternalError:
    """A rule (or the analysis) failed on a file; the run goes on and exits 2."""

    path: str
    rule: str | None
    message: str


@dataclass
class FileReport:
    """What linting (and fixing) one file produced."""

    source: SourceFile
    diagnostics: list[Diagnostic]
    fixed_text: str | None = None  # the new text when fixes changed the file
    fixed: int = 0  # how many fixes were applied
    withheld: list[str] = field(default_factory=list)
    errors: list[InternalError] = field(default_factory=list)


def lint(source: SourceFile, rules: Sequence[Rule]) -> tuple[list[Diagnostic], list[InternalError]]:
    """The diagnostics of one file's text."""
    active = [rule for rule in rules if any(token in source.text for token in rule.triggers)]
    if not active:
        return [], []
    unparsable = parse_problem(source)
    if unparsable is not None:
        return [unparsable], []
    try:
        analysis = analyze(source)
    except RecursionError:
        return [_file_level(source, TOO_DEEP_TO_ANALYSE)], []
    except Exception as error:  # an analysis bug must not stop the run
        return [], [InternalError(str(source.path), None, f"{type(error).__name__}: {error}")]
    diagnostics: list[Diagnostic] = []
    errors: list[InternalError] = []
    for rule in active:
        try:
            diagnostics.extend(
                to_diagnostic(rule, finding, source) for finding in rule.check(analysis)
            )
        except RecursionError:
            return [_file_level(source, TOO_DEEP_TO_ANALYSE)], []
        except Exception as error:
            errors.append(
                InternalError(str(source.path), rule.code, f"{type(error).__name__}: {error}")
            )
    diagnostics.sort(key=Diagnostic.sort_key)
    return diagnostics, errors


def lint_and_fix(source: SourceFile, rules: Sequence[Rule], unsafe: bool) -> FileReport:
    """Apply fixes until none is left (or MAX_FIX_ROUNDS); report what remains.

    Each round's result is re-parsed. A fix whose result would not parse is withheld: the
    next rounds go on without it, and its diagnostic says so (its fix becomes display-only).
    """
    current = source
    fixed = 0
    withheld: dict[tuple, str] = {}  # _identity(fix) -> title
    for _ in range(MAX_FIX_ROUNDS):
        diagnostics, errors = lint(current, rules)
        fixes = [
            d.fix
            for d in diagnostics
            if d.fix is not None
            and d.fix.applies(unsafe)
            and d.fix.paths == {source.path}
            and _identity(d.fix) not in withheld
        ]
        if not fixes or errors:
            break
        chosen = select_compatible(fixes)
        candidate = _applied(current, chosen)
        if candidate is None:
            broken = {_identity(f): f.title for f in chosen if _applied(current, [f]) is None}
            if not broken:  # each parses alone, not together: give up on the rest
                break
            withheld.update(broken)
            continue
        fixed += len(chosen)
        current = candidate
    diagnostics, errors = lint(current, rules)
    diagnostics = [_withhold(d) if _identity(d.fix) in withheld else d for d in diagnostics]
    changed = current.text if current.text != source.text else None
    messages = [
        f"{title}: the fixed code would not parse, so it was not written"
        for title in withheld.values()
    ]
    return FileReport(current, diagnostics, changed, fixed, messages, errors)


def _identity(fix: Fix | None) -> tuple:
    """What stays the same about a fix when other fixes move its offsets."""
    if fix is None:
        return ()
    return (fix.title, tuple(edit.content for edit in fix.edits))


def _withhold(diagnostic: Diagnostic) -> Diagnostic:
    fix = diagnostic.fix
    title = f"{fix.title} (withheld: the fixed code would not parse)"
    shown = replace(fix, title=title, applicability=Applicability.DISPLAY_ONLY)
    return replace(diagnostic, fix=shown)


def _applied(source: SourceFile, fixes: list[Fix]) -> SourceFile | None:
    """`source` with `fixes` applied, or None when the result does not parse."""
    text = apply_edits(source.text, [edit for fix in fixes for edit in fix.edits])
    result = SourceFile(source.path, text, source.encoding, source.bom)
    return result if parse_problem(result) is None else None


def parse_problem(source: SourceFile) -> Diagnostic | None:
    """Why `source` cannot be parsed, as a diagnostic (None when its tree is there)."""
    try:
        source.module  # noqa: B018 - parse
    except SyntaxError as error:
        return _at(source, error.lineno or 1, error.offset or 1, f"SyntaxError: {error.msg}")
    except cst.ParserSyntaxError as error:
        message = f"SyntaxError: {error.message} (libcst cannot parse what Python can)"
        return _at(source, error.raw_line, error.raw_column + 1, message)
    except TooComplex as error:
        return _at(source, error.line, error.column, f"ParseError: skipped, {error}")
    except RecursionError:
        return _file_level(source, TOO_DEEP_TO_ANALYSE)
    return None


def to_diagnostic(rule: Rule, finding: Finding, source: SourceFile) -> Diagnostic:
    span = source.node_span(finding.node)
    related = tuple(
        Related(item.file.path, item.file.node_span(item.node), item.message)
        for item in finding.related
    )
    fix = None
    if finding.fix is not None:
        try:
            fix = finding.fix.to_fix()
        except (LookupError, ValueError):
            fix = None
    return Diagnostic(rule.code, finding.message, source.path, span, fix, related, span.start.line)


def _at(source: SourceFile, line: int, column: int, message: str) -> Diagnostic:
    line = max(1, min(line, source.line_count))
    position = Position(line, max(1, column))
    return Diagnostic(None, message, source.path, Span(position, position))


def _file_level(source: SourceFile, message: str) -> Diagnostic:
    return _at(source, 1, 1, message)
