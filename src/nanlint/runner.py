"""A whole `nanlint check` run: find files, read them, lint or fix them, write what changed."""

from __future__ import annotations

import difflib
from dataclasses import dataclass, field
from pathlib import Path

from nanlint.diagnostics import Diagnostic
from nanlint.discovery import discover
from nanlint.engine import InternalError, fix_files, lint_files, project_for
from nanlint.rules.base import Rule
from nanlint.source import DecodeError, Position, SourceFile, Span
from nanlint.writer import write_all


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
    """Lint (and with `fix` or `diff`, fix) every file under `options.paths`, as one project."""
    result = RunResult()
    found = discover(list(options.paths))
    for path, problem in found.problems:
        result.diagnostics.append(_file_problem(path, f"IOError: {problem}"))
    sources = [source for source in (_read(path, result) for path in found.files) if source]
    if options.fix or options.diff:
        _fix(sources, options, result)
    else:
        diagnostics, errors = lint_files(
            sources, options.rules, project_for({s.path: s for s in sources})
        )
        result.diagnostics.extend(diagnostics)
        result.errors.extend(errors)
        result.sources = {source.path: source for source in sources}
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


def _fix(sources: list[SourceFile], options: CheckOptions, result: RunResult) -> None:
    report = fix_files(sources, options.rules, options.unsafe_fixes)
    result.errors.extend(report.errors)
    result.withheld.extend(report.withheld)
    result.sources = report.sources
    result.fixed = report.fixed
    originals = {source.path: source for source in sources}
    if options.diff:
        result.diffs = [
            unified_diff(originals[path], text) for path, text in sorted(report.changed.items())
        ]
        return
    write_all({path: originals[path].encode(text) for path, text in report.changed.items()})
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
