"""One file in, diagnostics (and fixes) out; the fix loop."""

from __future__ import annotations

import ast
import warnings
from collections.abc import Sequence
from dataclasses import dataclass, field

import libcst as cst

from nanlint.analysis.interpreter import analyze
from nanlint.diagnostics import Diagnostic, Related
from nanlint.fixes import apply_edits, select_compatible
from nanlint.noqa import apply_suppressions
from nanlint.rules.base import Finding, Rule
from nanlint.source import Position, SourceFile, Span

# Enough for chains of dependent fixes; a file that still changes after this is reported as is.
MAX_FIX_ROUNDS = 10


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


def lint(
    source: SourceFile, rules: Sequence[Rule], unused_noqa: bool = False
) -> tuple[list[Diagnostic], list[InternalError]]:
    """The diagnostics of one file's text that no `# noqa` suppresses.

    With `unused_noqa`, a `# noqa` code of these rules that suppresses nothing is NAN001.
    """
    diagnostics, errors = _lint_rules(source, rules)
    enabled = {rule.code for rule in rules}
    complete = not errors and all(d.code is not None for d in diagnostics)  # every rule ran
    diagnostics = apply_suppressions(source, diagnostics, enabled, unused_noqa and complete)
    diagnostics.sort(key=Diagnostic.sort_key)
    return diagnostics, errors


def _lint_rules(
    source: SourceFile, rules: Sequence[Rule]
) -> tuple[list[Diagnostic], list[InternalError]]:
    active = [rule for rule in rules if any(token in source.text for token in rule.triggers)]
    if not active:
        return [], []
    try:
        source.module  # noqa: B018 - parse
    except cst.ParserSyntaxError as error:
        return [syntax_error(source, error)], []
    except RecursionError:
        return [_unparsable(source, "the file nests too deeply to parse")], []
    try:
        analysis = analyze(source)
    except RecursionError:
        return [_unparsable(source, "the file nests too deeply to analyse")], []
    except Exception as error:  # an analysis bug must not stop the run
        return [], [InternalError(str(source.path), None, f"{type(error).__name__}: {error}")]
    diagnostics: list[Diagnostic] = []
    errors: list[InternalError] = []
    for rule in active:
        try:
            diagnostics.extend(
                to_diagnostic(rule, finding, source) for finding in rule.check(analysis)
            )
        except Exception as error:
            errors.append(
                InternalError(str(source.path), rule.code, f"{type(error).__name__}: {error}")
            )
    return diagnostics, errors


def lint_and_fix(
    source: SourceFile, rules: Sequence[Rule], unsafe: bool, unused_noqa: bool = False
) -> FileReport:
    """Apply fixes until none is left (or MAX_FIX_ROUNDS); report what remains."""
    current = source
    fixed = 0
    withheld: list[str] = []
    for _ in range(MAX_FIX_ROUNDS):
        diagnostics, errors = lint(current, rules, unused_noqa)
        fixes = [d.fix for d in diagnostics if d.fix is not None and d.fix.applies(unsafe)]
        if not fixes or errors:
            break
        chosen = select_compatible(fixes)
        text = apply_edits(current.text, [edit for fix in chosen for edit in fix.edits])
        if not parses(text):
            chosen = [fix for fix in chosen if parses(apply_edits(current.text, list(fix.edits)))]
            withheld.extend(
                f"{fix.title}: the fixed code would not parse, so it was not written"
                for fix in fixes
                if fix not in chosen
            )
            if not chosen:
                break
            text = apply_edits(current.text, [edit for fix in chosen for edit in fix.edits])
            if not parses(text):
                break
        fixed += len(chosen)
        current = SourceFile(source.path, text, source.encoding, source.bom)
    diagnostics, errors = lint(current, rules, unused_noqa)
    changed = current.text if current.text != source.text else None
    return FileReport(current, diagnostics, changed, fixed, withheld, errors)


def parses(text: str) -> bool:
    try:
        cst.parse_module(text)
    except (cst.ParserSyntaxError, RecursionError):
        return False
    return True


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
    noqa_lines: tuple[int, ...] = ()
    if finding.consumer is not None:
        consumer = source.node_span(finding.consumer)
        noqa_lines = (consumer.start.line, consumer.end.line)
    return Diagnostic(
        rule.code,
        finding.message,
        source.path,
        span,
        fix,
        related,
        span.start.line,
        noqa_lines=noqa_lines,
    )


def syntax_error(source: SourceFile, error: cst.ParserSyntaxError) -> Diagnostic:
    """A diagnostic for a file that does not parse, with Python's own message when it has one."""
    line, column, message = error.raw_line, error.raw_column + 1, error.message
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            ast.parse(source.text, str(source.path))
    except SyntaxError as python_error:
        line = python_error.lineno or line
        column = python_error.offset or column
        message = python_error.msg
    except (ValueError, RecursionError, MemoryError):
        pass
    line = max(1, min(line, source.line_count))
    position = Position(line, max(1, column))
    return Diagnostic(None, f"SyntaxError: {message}", source.path, Span(position, position))


def _unparsable(source: SourceFile, message: str) -> Diagnostic:
    position = Position(1, 1)
    return Diagnostic(None, f"SyntaxError: {message}", source.path, Span(position, position))
