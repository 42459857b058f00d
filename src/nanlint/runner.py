"""A whole `nanlint check` run: find files, read them, lint or fix them, write what changed."""

from __future__ import annotations

import difflib
from dataclasses import dataclass, field
from pathlib import Path

from nanlint.diagnostics import Diagnostic
from nanlint.discovery import discover
from nanlint.engine import InternalError, lint, lint_and_fix
from nanlint.rules.base import Rule
from nanlint.source import DecodeError, Position, SourceFile, Span
from nanlint.writer import write_atomically


@dataclass(frozen=True)
class CheckOptions:
    paths: tuple[Path, ...]
    rules: tuple[Rule, ...]
    fix: bool = False
    unsafe_fixes: bool = False
    diff: bool = False


@dataclass
class RunResult:
    diagnostics: list[Diagnostic] = field(default_factory=list)
    errors: list[InternalError] = field(default_factory=list)
    fixed: int = 0
    diffs: list[str] = field(default_factory=list)
    sources: dict[Path, SourceFile] = field(default_factory=dict)
    withheld: list[str] = field(default_factory=list)


def run_check(options: CheckOptions) -> RunResult:
    """Lint (and with `fix` or `diff`, fix) every file under `options.paths`."""
    result = RunResult()
    found = discover(list(options.paths))
    for path, problem in found.problems:
        result.diagnostics.append(_file_problem(path, f"IOError: {problem}"))
    for path in found.files:
        source = _read(path, result)
        if source is None:
            continue
        if options.fix or options.diff:
            _fix_file(source, options, result)
        else:
            diagnostics, errors = lint(source, options.rules)
            result.diagnostics.extend(diagnostics)
            result.errors.extend(errors)
            result.sources[path] = source
    result.diagnostics.sort(key=Diagnostic.sort_key)
    return result


def _read(path: Path, result: RunResult) -> SourceFile | None:
    try:
        data = path.read_bytes()
    except OSError as error:
        result.diagnostics.append(_file_problem(path, f"IOError: {error.strerror or error}"))
        return None
    try:
        return SourceFile.from_bytes(path, data)
    except DecodeError as error:
        result.diagnostics.append(_file_problem(path, f"DecodeError: {error}"))
        return None


def _fix_file(source: SourceFile, options: CheckOptions, result: RunResult) -> None:
    report = lint_and_fix(source, options.rules, options.unsafe_fixes)
    result.errors.extend(report.errors)
    result.withheld.extend(f"{source.path}: {message}" for message in report.withheld)
    result.sources[source.path] = report.source
    if report.fixed_text is None:
        result.diagnostics.extend(report.diagnostics)
        return
    if options.diff:
        result.diffs.append(unified_diff(source, report.fixed_text))
        result.fixed += report.fixed
        return
    write_atomically(source.path, source.encode(report.fixed_text))
    result.fixed += report.fixed
    result.diagnostics.extend(report.diagnostics)


def unified_diff(source: SourceFile, fixed_text: str) -> str:
    name = str(source.path)
    lines = difflib.unified_diff(
        source.text.splitlines(keepends=True),
        fixed_text.splitlines(keepends=True),
        fromfile=name,
        tofile=name,
    )
    return "".join(line if line.endswith(("\n", "\r")) else line + "\n" for line in lines)


def _file_problem(path: Path, message: str) -> Diagnostic:
    position = Position(1, 1)
    return Diagnostic(None, message, path, Span(position, position))
