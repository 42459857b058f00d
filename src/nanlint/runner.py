"""A whole `nanlint check` run: find files, read them, lint or fix them, write what changed."""

from __future__ import annotations

import difflib
from dataclasses import dataclass, field
from pathlib import Path

from nanlint.config import Config
from nanlint.diagnostics import Diagnostic
from nanlint.discovery import Exclusions, discover
from nanlint.engine import InternalError, lint, lint_and_fix
from nanlint.notebook import Notebook, NotebookError
from nanlint.rules import ALL_RULES
from nanlint.selection import UNUSED_NOQA
from nanlint.source import DecodeError, Position, SourceFile, Span
from nanlint.writer import write_atomically


@dataclass(frozen=True)
class CheckOptions:
    paths: tuple[Path, ...]
    config: Config = field(default_factory=Config)
    fix: bool = False
    diff: bool = False
    force_exclude: bool = False
    # --stdin-filename: lint these bytes as the file paths[0], print instead of writing
    stdin: bytes | None = None


@dataclass
class RunResult:
    diagnostics: list[Diagnostic] = field(default_factory=list)
    errors: list[InternalError] = field(default_factory=list)
    fixed: int = 0
    diffs: list[str] = field(default_factory=list)
    sources: dict[Path, SourceFile] = field(default_factory=dict)
    withheld: list[str] = field(default_factory=list)
    stdin_fixed: bytes | None = None  # with --stdin-filename and --fix: the source to print


def run_check(options: CheckOptions) -> RunResult:
    """Lint (and with `fix` or `diff`, fix) every file under `options.paths`, or stdin."""
    result = RunResult()
    config = options.config
    exclusions = Exclusions(config.root, config.exclude_patterns, config.respect_gitignore)
    if options.stdin is not None:
        path = options.paths[0]
        skipped = options.force_exclude and exclusions.excluded(path, is_dir=False)
        changed = None if skipped else _check_file(path, options.stdin, options, result)
        result.stdin_fixed = changed or options.stdin
        return result
    found = discover(list(options.paths), exclusions, options.force_exclude)
    for path, problem in found.problems:
        result.diagnostics.append(_file_problem(path, f"IOError: {problem}"))
    for path in found.files:
        try:
            data = path.read_bytes()
        except OSError as error:
            result.diagnostics.append(_file_problem(path, f"IOError: {error.strerror or error}"))
            continue
        changed = _check_file(path, data, options, result)
        if changed is not None and not options.diff:
            write_atomically(path, changed)
    result.diagnostics.sort(key=Diagnostic.sort_key)
    return result


def _check_file(path: Path, data: bytes, options: CheckOptions, result: RunResult) -> bytes | None:
    """Lint one file's bytes into `result`; the fixed bytes when fixing changed them."""
    notebook = None
    try:
        if path.suffix == ".ipynb":
            notebook = Notebook.from_bytes(path, data)
            if notebook is None:  # not a Python notebook
                return None
            source = notebook.source
        else:
            source = SourceFile.from_bytes(path, data)
    except (DecodeError, NotebookError) as error:
        result.diagnostics.append(_file_problem(path, f"{type(error).__name__}: {error}"))
        return None
    codes = options.config.codes_for(path)
    rules = tuple(rule for rule in ALL_RULES if rule.code in codes)
    unused_noqa = UNUSED_NOQA in codes
    if not (options.fix or options.diff):
        diagnostics, errors = lint(source, rules, unused_noqa)
        _report(result, source, notebook, diagnostics)
        result.errors.extend(errors)
        return None
    report = lint_and_fix(source, rules, options.config.unsafe_fixes, unused_noqa)
    result.errors.extend(report.errors)
    result.withheld.extend(f"{path}: {message}" for message in report.withheld)
    if report.fixed_text is None:
        _report(result, report.source, notebook, report.diagnostics)
        return None
    try:
        fixed = (
            source.encode(report.fixed_text)
            if notebook is None
            else notebook.updated(report.fixed_text)
        )
    except NotebookError as error:
        result.withheld.append(f"{path}: {error}, so it was not written")
        diagnostics, _ = lint(source, rules, unused_noqa)
        _report(result, source, notebook, diagnostics)
        return None
    result.fixed += report.fixed
    if options.diff:
        before, after = (
            (source.text, report.fixed_text)
            if notebook is None
            else (notebook.text, fixed.decode("utf-8-sig"))
        )
        result.diffs.append(unified_diff(str(path), before, after))
    else:
        _report(result, report.source, notebook, report.diagnostics)
    return fixed


def _report(
    result: RunResult, source: SourceFile, notebook: Notebook | None, diagnostics: list[Diagnostic]
) -> None:
    """Record a file's diagnostics (in a notebook, by cell) and its text for source snippets."""
    if notebook is not None:
        diagnostics = notebook.localize(diagnostics, source)
    result.diagnostics.extend(diagnostics)
    result.sources[source.path] = source


def unified_diff(name: str, before: str, after: str) -> str:
    lines = difflib.unified_diff(
        before.splitlines(keepends=True),
        after.splitlines(keepends=True),
        fromfile=name,
        tofile=name,
    )
    return "".join(line if line.endswith(("\n", "\r")) else line + "\n" for line in lines)


def _file_problem(path: Path, message: str) -> Diagnostic:
    position = Position(1, 1)
    return Diagnostic(None, message, path, Span(position, position))
