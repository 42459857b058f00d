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
        try:
            _check_file(path, options, result)
        except Exception as error:  # a bug costs one file, not the run
            message = f"{type(error).__name__}: {error}"
            result.errors.append(InternalError(str(path), None, message))
    result.diagnostics.sort(key=Diagnostic.sort_key)
    return result


def _check_file(path: Path, options: CheckOptions, result: RunResult) -> None:
    read = _read(path, result)
    if read is None:
        return
    data, source = read
    if options.fix or options.diff:
        _fix_file(source, data, options, result)
    else:
        diagnostics, errors = lint(source, options.rules)
        result.diagnostics.extend(diagnostics)
        result.errors.extend(errors)
        result.sources[path] = source


def _read(path: Path, result: RunResult) -> tuple[bytes, SourceFile] | None:
    try:
        data = path.read_bytes()
    except OSError as error:
        result.diagnostics.append(_file_problem(path, f"IOError: {error.strerror or error}"))
        return None
    try:
        return data, SourceFile.from_bytes(path, data)
    except DecodeError as error:
        result.diagnostics.append(_file_problem(path, f"DecodeError: {error}", error.line))
        return None


def _fix_file(source: SourceFile, data: bytes, options: CheckOptions, result: RunResult) -> None:
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
    problem = _write(source, data, report.fixed_text)
    if problem is None:
        result.fixed += report.fixed
        result.diagnostics.extend(report.diagnostics)
        return
    result.diagnostics.append(_file_problem(source.path, f"IOError: fixes not written, {problem}"))
    result.diagnostics.extend(lint(source, options.rules)[0])
    result.sources[source.path] = source


def _write(source: SourceFile, original: bytes, fixed_text: str) -> str | None:
    """Write `fixed_text` over the file read as `original`; why not, if it was not written.

    A symbolic link is not replaced (nor is the file it points to written: it may lie
    outside the linted tree), and a file that changed since it was read is left alone.
    """
    if source.path.is_symlink():
        return "the path is a symbolic link (fix the file it points to)"
    try:
        data = source.encode(fixed_text)
    except UnicodeEncodeError:
        return f"the fixed code cannot be encoded in {source.encoding}"
    try:
        if source.path.read_bytes() != original:
            return "the file changed while nanlint was running"
        write_atomically(source.path, data)
    except OSError as error:
        return error.strerror or str(error)
    return None


def unified_diff(source: SourceFile, fixed_text: str) -> str:
    name = str(source.path)
    lines = difflib.unified_diff(
        source.text.splitlines(keepends=True),
        fixed_text.splitlines(keepends=True),
        fromfile=name,
        tofile=name,
    )
    return "".join(line if line.endswith(("\n", "\r")) else line + "\n" for line in lines)


def _file_problem(path: Path, message: str, line: int = 1) -> Diagnostic:
    position = Position(line, 1)
    return Diagnostic(None, message, path, Span(position, position))
