"""Files in, diagnostics (and fixes) out: the lint pass, the project pass, the fix loop."""

from __future__ import annotations

import contextlib
import gc
import os
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING

from nanlint.catalog import RuleInfo
from nanlint.diagnostics import Diagnostic, Related
from nanlint.fixes import Applicability, Fix, apply_edits, select_compatible
from nanlint.noqa import apply_suppressions
from nanlint.source import Position, SourceFile, Span
from nanlint.stack import on_large_stack

if TYPE_CHECKING:  # the analysis (and libcst) is imported only when a file needs it
    from nanlint.analysis.project import Project
    from nanlint.rules.base import Finding, Rule

# Enough for chains of dependent fixes; a file that still changes after this is reported as is.
MAX_FIX_ROUNDS = 10
# The analysis runs on its own thread: files that import each other are evaluated within
# one another, and on transformers that reaches past Python's default 1000 frames.
ANALYSIS_STACK_BYTES = 256 * 1024 * 1024
ANALYSIS_RECURSION_LIMIT = 20_000
TOO_DEEP_TO_ANALYSE = "ParseError: skipped, the code nests too deeply for the analysis"
# Why a fix is withheld (see also fix_files).
WOULD_NOT_PARSE = "the fixed code would not parse, so it was not written"
OUTSIDE = "it edits files that are not being linted"


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


@dataclass
class Report:
    """What linting (and fixing) a set of files produced."""

    sources: dict[Path, SourceFile]  # the final texts, by path
    diagnostics: list[Diagnostic]
    changed: dict[Path, str] = field(default_factory=dict)  # new texts of the changed files
    fixed: int = 0
    withheld: list[str] = field(default_factory=list)
    errors: list[InternalError] = field(default_factory=list)
    applied: list[Fix] = field(default_factory=list)  # the fixes behind `fixed`
    fixed_diagnostics: list[Diagnostic] = field(default_factory=list)  # whose fixes applied


ProjectFactory = Callable[[dict], "Project"]


@dataclass(frozen=True)
class Selection:
    """The rules that run on one file, whether its unused `# noqa` codes are reported, and
    whether its `# noqa` comments count at all (`--ignore-noqa`)."""

    rules: tuple[RuleInfo | Rule, ...]  # a RuleInfo's rule is loaded only if a file needs it
    unused_noqa: bool = False
    respect_noqa: bool = True


Selector = Callable[[SourceFile], Selection]


def everywhere(rules: Sequence[Rule], unused_noqa: bool = False) -> Selector:
    """The same selection for every file."""
    selection = Selection(tuple(rules), unused_noqa)
    return lambda source: selection


def single_file_project(sources: dict[Path, SourceFile]) -> Project:
    """A project that sees only the given files (their imports stay unknown)."""
    from nanlint.analysis.project import Project

    return Project(sources={_key(path): source for path, source in sources.items()})


def project_for(sources: dict[Path, SourceFile]) -> Project:
    """A project rooted where the given files' packages are (imports resolve across files)."""
    from nanlint.analysis.project import Project

    return Project.for_paths(sources, {_key(path): source for path, source in sources.items()})


def lint_files(
    sources: Sequence[SourceFile], select: Selector, make_project: ProjectFactory = project_for
) -> tuple[list[Diagnostic], list[InternalError]]:
    """The diagnostics of some files, analysed together as one project (made by
    `make_project` from the files by path, only when one mentions a rule's triggers), that no
    `# noqa` suppresses (plus NAN001 for unused NAN codes where the selection asks for it)."""
    found: dict[Path, list[Diagnostic]] = {source.path: [] for source in sources}
    errors: list[InternalError] = []
    active: dict[Path, list[RuleInfo | Rule]] = {}
    analysed: list[SourceFile] = []
    for source in sources:
        rules = select(source).rules
        chosen = [rule for rule in rules if any(token in source.text for token in rule.triggers)]
        if not chosen:
            continue
        problem = parse_problem(source)
        if problem is not None:
            found[source.path].append(problem)
            continue
        active[source.path] = chosen
        analysed.append(source)
    failed: set[Path] = set()
    if analysed:
        on_large_stack(
            _analyse,
            *(sources, select, make_project, analysed, active, found, errors, failed),
            stack_bytes=ANALYSIS_STACK_BYTES,
            recursion_limit=ANALYSIS_RECURSION_LIMIT,
        )
    diagnostics: list[Diagnostic] = []
    for source in sources:
        selection = select(source)
        own = _distinct(found[source.path])
        complete = source.path not in failed and all(d.code is not None for d in own)
        enabled = {rule.code for rule in selection.rules}
        if not selection.respect_noqa:
            diagnostics += own
            continue
        diagnostics += apply_suppressions(source, own, enabled, selection.unused_noqa and complete)
    diagnostics.sort(key=Diagnostic.sort_key)
    return diagnostics, errors


def _analyse(
    sources: Sequence[SourceFile],
    select: Selector,
    make_project: ProjectFactory,
    analysed: list[SourceFile],
    active: dict[Path, list[RuleInfo | Rule]],
    found: dict[Path, list[Diagnostic]],
    errors: list[InternalError],
    failed: set[Path],
) -> None:
    """Run the project analysis and each file's active rules; record what they find."""
    from nanlint.rules import RULES_BY_CODE
    from nanlint.rules.base import Rule

    candidates = [
        source for source in sources if source.path not in active and not found[source.path]
    ]
    tokens = {
        token for source in sources for rule in select(source).rules for token in rule.triggers
    }
    try:
        project = make_project({source.path: source for source in sources})
        with _fewer_collections():
            analyses, failures = project.analyze(analysed, candidates, sorted(tokens))
    except Exception as error:  # a bug in the project pass: every analysed file reports it
        analyses, failures = {}, []
        message = f"{type(error).__name__}: {error}"
        errors += [InternalError(str(source.path), None, message) for source in analysed]
    for source, error in failures:
        failed.add(source.path)
        if isinstance(error, RecursionError):
            found[source.path].append(_file_level(source, TOO_DEEP_TO_ANALYSE))
        else:
            errors.append(InternalError(str(source.path), None, f"{type(error).__name__}: {error}"))
    for source in sources:
        analysis = analyses.get(_key(source.path))
        if analysis is None:
            continue
        for info in active.get(source.path, select(source).rules):
            rule = info if isinstance(info, Rule) else RULES_BY_CODE[info.code]
            try:
                found[source.path].extend(
                    to_diagnostic(rule, finding, source) for finding in rule.check(analysis)
                )
            except RecursionError:
                failed.add(source.path)
                found[source.path] = [_file_level(source, TOO_DEEP_TO_ANALYSE)]
                break
            except Exception as error:
                failed.add(source.path)
                errors.append(
                    InternalError(str(source.path), rule.code, f"{type(error).__name__}: {error}")
                )


@contextlib.contextmanager
def _fewer_collections() -> Iterator[None]:
    """Run the cyclic garbage collector less often while trees and values pile up: parsing
    and the analysis allocate millions of objects that live until the run ends, and default
    thresholds rescan them over and over (measured: a sixth of a run's time)."""
    thresholds = gc.get_threshold()
    gc.set_threshold(50_000, 20, 20)
    try:
        yield
    finally:
        gc.set_threshold(*thresholds)


def fix_files(
    sources: Sequence[SourceFile],
    select: Selector,
    unsafe: bool,
    make_project: ProjectFactory = project_for,
    read_only: frozenset[Path] = frozenset(),
) -> Report:
    """Apply fixes (across files, each fix all or nothing) until none is left; report the rest.

    A fix is applied only when every file it edits is one of `sources`, not `read_only`, and
    still parses after the fix. Any other fix is withheld: the next rounds go on without it,
    and its diagnostic says so (its fix becomes display-only). A file with an internal error
    is not fixed.
    """
    current = {source.path: source for source in sources}
    applied: list[Fix] = []
    fixed_diagnostics: list[Diagnostic] = []
    withheld: dict[tuple, tuple[str, str]] = {}  # _identity(fix) -> (title, reason)
    for _ in range(MAX_FIX_ROUNDS):
        diagnostics, errors = lint_files(list(current.values()), select, make_project)
        failing = {error.path for error in errors}  # no fix touches a file a rule failed on
        fixes = [
            d.fix
            for d in diagnostics
            if d.fix is not None
            and d.fix.applies(unsafe)
            and not any(str(path) in failing for path in d.fix.paths)
        ]
        for fix in fixes:
            if not fix.paths <= current.keys():
                withheld.setdefault(_identity(fix), (fix.title, OUTSIDE))
            elif fix.paths & read_only:
                links = ", ".join(sorted(str(path) for path in fix.paths & read_only))
                reason = f"it edits the symbolic link {links}, which --fix does not replace"
                withheld.setdefault(_identity(fix), (fix.title, reason))
        fixes = [fix for fix in fixes if _identity(fix) not in withheld]
        if not fixes:
            break
        chosen = select_compatible(fixes)
        changed = _applied(current, chosen)
        if changed is None:
            broken = [fix for fix in chosen if _applied(current, [fix]) is None]
            if not broken:  # each parses alone, not together: give up on the rest
                break
            withheld.update((_identity(fix), (fix.title, WOULD_NOT_PARSE)) for fix in broken)
            continue
        current.update(changed)
        applied += chosen
        taken = {id(fix) for fix in chosen}
        fixed_diagnostics += [d for d in diagnostics if id(d.fix) in taken]
    diagnostics, errors = lint_files(list(current.values()), select, make_project)
    diagnostics = [_withhold(d, withheld) for d in diagnostics]
    changed = {
        source.path: current[source.path].text
        for source in sources
        if current[source.path].text != source.text
    }
    messages = [f"{title}: {reason}" for title, reason in withheld.values()]
    return Report(
        current, diagnostics, changed, len(applied), messages, errors, applied, fixed_diagnostics
    )


def _applied(current: dict[Path, SourceFile], fixes: list[Fix]) -> dict[Path, SourceFile] | None:
    """The files that `fixes` change, fixed; None when one of them would not parse."""
    edits: dict[Path, list] = {}
    for fix in fixes:
        for edit in fix.edits:
            edits.setdefault(edit.path, []).append(edit)
    changed = {}
    for path, file_edits in edits.items():
        old = current[path]
        new = SourceFile(old.path, apply_edits(old.text, file_edits), old.encoding, old.bom)
        if parse_problem(new) is not None:
            return None
        changed[path] = new
    return changed


def _identity(fix: Fix | None) -> tuple:
    """What stays the same about a fix when other fixes move its offsets."""
    if fix is None:
        return ()
    return (fix.title, tuple((edit.path, edit.content) for edit in fix.edits))


def _withhold(diagnostic: Diagnostic, withheld: dict[tuple, tuple[str, str]]) -> Diagnostic:
    """The diagnostic, with its fix made display-only and saying why, if it was withheld."""
    found = withheld.get(_identity(diagnostic.fix))
    if found is None:
        return diagnostic
    title, reason = found
    fix = replace(
        diagnostic.fix,
        title=f"{title} (withheld: {reason})",
        applicability=Applicability.DISPLAY_ONLY,
    )
    return replace(diagnostic, fix=fix)


def lint(
    source: SourceFile, rules: Sequence[Rule], unused_noqa: bool = False
) -> tuple[list[Diagnostic], list[InternalError]]:
    """The diagnostics of one file on its own."""
    return lint_files([source], everywhere(rules, unused_noqa), single_file_project)


def lint_and_fix(
    source: SourceFile, rules: Sequence[Rule], unsafe: bool, unused_noqa: bool = False
) -> FileReport:
    """Fix one file on its own until no fix is left; report what remains."""
    report = fix_files([source], everywhere(rules, unused_noqa), unsafe, single_file_project)
    final = report.sources[source.path]
    changed = report.changed.get(source.path)
    return FileReport(
        final, report.diagnostics, changed, report.fixed, report.withheld, report.errors
    )


def parse_problem(source: SourceFile) -> Diagnostic | None:
    """Why `source` cannot be parsed, as a diagnostic (None when its tree is there)."""
    import libcst as cst

    from nanlint.parsing import TooComplex

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


def _distinct(diagnostics: list[Diagnostic]) -> list[Diagnostic]:
    """One diagnostic per code and range (a call seen for several receivers reports once)."""
    seen: set[tuple] = set()
    kept = []
    for diagnostic in diagnostics:
        key = (diagnostic.code, diagnostic.span)
        if key not in seen:
            seen.add(key)
            kept.append(diagnostic)
    return kept


def _key(path: Path) -> Path:
    return Path(os.path.abspath(path))


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


def _at(source: SourceFile, line: int, column: int, message: str) -> Diagnostic:
    line = max(1, min(line, source.line_count))
    position = Position(line, max(1, column))
    return Diagnostic(None, message, source.path, Span(position, position))


def _file_level(source: SourceFile, message: str) -> Diagnostic:
    return _at(source, 1, 1, message)
