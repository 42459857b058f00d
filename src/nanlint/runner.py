"""A whole `nanlint check` run: find files, read them, lint or fix them as one project, and
write what changed."""

from __future__ import annotations

import difflib
from dataclasses import dataclass, field
from pathlib import Path

from nanlint.cache import ResultsCache
from nanlint.catalog import RULE_INFOS
from nanlint.config import Config
from nanlint.diagnostics import Diagnostic
from nanlint.discovery import Exclusions, discover
from nanlint.engine import InternalError, Selection, fix_files, lint_files, project_for
from nanlint.notebook import Notebook, NotebookError
from nanlint.selection import UNUSED_NOQA
from nanlint.source import DecodeError, Position, SourceFile, Span
from nanlint.writer import write_all


@dataclass(frozen=True)
class CheckOptions:
    paths: tuple[Path, ...]
    config: Config = field(default_factory=Config)
    fix: bool = False
    diff: bool = False
    force_exclude: bool = False
    # --stdin-filename: lint these bytes as the file paths[0], print instead of writing
    stdin: bytes | None = None
    cache_dir: Path | None = None  # None: no results cache (--no-cache)


@dataclass
class RunResult:
    diagnostics: list[Diagnostic] = field(default_factory=list)
    errors: list[InternalError] = field(default_factory=list)
    fixed: int = 0
    diffs: list[str] = field(default_factory=list)
    sources: dict[Path, SourceFile] = field(default_factory=dict)
    withheld: list[str] = field(default_factory=list)
    stdin_fixed: bytes | None = None  # with --stdin-filename and --fix: the source to print


@dataclass
class _Inputs:
    """The files of a run as nanlint reads them; a notebook is linted as its module."""

    sources: list[SourceFile] = field(default_factory=list)
    notebooks: dict[Path, Notebook] = field(default_factory=dict)


def run_check(options: CheckOptions) -> RunResult:
    """Lint (and with `fix` or `diff`, fix) every file under `options.paths`, or stdin."""
    result = RunResult()
    config = options.config
    exclusions = Exclusions(config.root, config.exclude_patterns, config.respect_gitignore)
    inputs = _Inputs()
    if options.stdin is not None:
        path = options.paths[0]
        if not (options.force_exclude and exclusions.excluded(path, is_dir=False)):
            _read(path, options.stdin, inputs, result)
    else:
        found = discover(list(options.paths), exclusions, options.force_exclude)
        for path, problem in found.problems:
            result.diagnostics.append(_file_problem(path, f"IOError: {problem}"))
        for path in found.files:
            try:
                data = path.read_bytes()
            except OSError as error:
                result.diagnostics.append(
                    _file_problem(path, f"IOError: {error.strerror or error}")
                )
                continue
            _read(path, data, inputs, result)
    if options.fix or options.diff:
        _fix(inputs, options, result)
    else:
        diagnostics, errors = _lint(inputs.sources, options)
        _report(result, inputs, {s.path: s for s in inputs.sources}, diagnostics)
        result.errors.extend(errors)
    if options.stdin is not None and result.stdin_fixed is None:
        result.stdin_fixed = options.stdin
    result.diagnostics.sort(key=Diagnostic.sort_key)
    return result


def _lint(
    sources: list[SourceFile], options: CheckOptions
) -> tuple[list[Diagnostic], list[InternalError]]:
    """Lint the files as one project, or replay the cached diagnostics of an unchanged run."""
    config = options.config
    if options.cache_dir is None or options.stdin is not None:
        return lint_files(sources, _selector(config))
    cache = ResultsCache(options.cache_dir)
    settings = repr(
        (config.select, config.ignore, config.extend_select, config.per_file_ignores, config.root)
    )
    key = cache.key(sources, settings)
    cached = cache.lookup(key, sources)
    if cached is not None:
        return cached, []
    projects: list = []

    def make_project(by_path: dict):
        projects.append(project_for(by_path))
        return projects[-1]

    diagnostics, errors = lint_files(sources, _selector(config), make_project)
    if not errors:
        cache.store(key, sources, projects, diagnostics)
    return diagnostics, errors


def _selector(config: Config):
    """Each file's rules, from the configuration (per-file ignores included)."""
    cache: dict[frozenset, Selection] = {}

    def select(source: SourceFile) -> Selection:
        codes = config.codes_for(source.path)
        if codes not in cache:
            rules = tuple(rule for rule in RULE_INFOS if rule.code in codes)
            cache[codes] = Selection(rules, UNUSED_NOQA in codes)
        return cache[codes]

    return select


def _read(path: Path, data: bytes, inputs: _Inputs, result: RunResult) -> None:
    try:
        if path.suffix == ".ipynb":
            notebook = Notebook.from_bytes(path, data)
            if notebook is None:  # not a Python notebook
                return
            inputs.notebooks[path] = notebook
            inputs.sources.append(notebook.source)
        else:
            inputs.sources.append(SourceFile.from_bytes(path, data))
    except (DecodeError, NotebookError) as error:
        result.diagnostics.append(_file_problem(path, f"{type(error).__name__}: {error}"))


def _fix(inputs: _Inputs, options: CheckOptions, result: RunResult) -> None:
    report = fix_files(inputs.sources, _selector(options.config), options.config.unsafe_fixes)
    result.errors.extend(report.errors)
    result.withheld.extend(report.withheld)
    originals = {source.path: source for source in inputs.sources}
    written: dict[Path, bytes] = {}
    final = dict(report.sources)
    for path, text in sorted(report.changed.items()):
        notebook = inputs.notebooks.get(path)
        try:
            data = originals[path].encode(text) if notebook is None else notebook.updated(text)
        except NotebookError as error:
            result.withheld.append(f"{path}: {error}, so it was not written")
            final[path] = originals[path]
            continue
        written[path] = data
        if options.diff:
            before = originals[path].text if notebook is None else notebook.text
            after = text if notebook is None else data.decode("utf-8-sig")
            result.diffs.append(unified_diff(str(path), before, after))
    result.fixed = report.fixed
    if options.stdin is not None:
        result.stdin_fixed = next(iter(written.values()), None)
    elif not options.diff:
        write_all(written)
    if options.diff:
        return
    diagnostics = report.diagnostics
    if len(final) != len(report.sources) or any(final[p] is not report.sources[p] for p in final):
        # a notebook could not be written: report its old text
        diagnostics, _ = lint_files(list(final.values()), _selector(options.config))
    _report(result, inputs, final, diagnostics)


def _report(
    result: RunResult,
    inputs: _Inputs,
    sources: dict[Path, SourceFile],
    diagnostics: list[Diagnostic],
) -> None:
    """Record the diagnostics (in a notebook, by cell) and the texts for source snippets."""
    by_path: dict[Path, list[Diagnostic]] = {}
    for diagnostic in diagnostics:
        by_path.setdefault(diagnostic.path, []).append(diagnostic)
    for path, found in by_path.items():
        notebook = inputs.notebooks.get(path)
        if notebook is not None and path in sources:
            found = notebook.localize(found, sources[path])
        result.diagnostics.extend(found)
    result.sources.update(sources)


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
