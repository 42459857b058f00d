"""A whole `nanlint check` run: find files, read them, lint or fix them as one project, and
write what changed."""

from __future__ import annotations

import contextlib
import difflib
from dataclasses import dataclass, field
from pathlib import Path

from nanlint.cache import ResultsCache
from nanlint.catalog import RULE_INFOS
from nanlint.config import Config
from nanlint.diagnostics import Diagnostic
from nanlint.discovery import Exclusions, discover
from nanlint.engine import InternalError, Selection, fix_files, lint_files, project_for
from nanlint.noqa import with_noqa
from nanlint.notebook import Notebook, NotebookError
from nanlint.selection import UNUSED_NOQA
from nanlint.source import DecodeError, Position, SourceFile, Span
from nanlint.writer import WriteError, write_all


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
    ignore_noqa: bool = False  # --ignore-noqa: report what `# noqa` comments suppress
    add_noqa: bool = False  # --add-noqa: suppress every diagnostic with a `# noqa` comment


@dataclass
class RunResult:
    diagnostics: list[Diagnostic] = field(default_factory=list)
    errors: list[InternalError] = field(default_factory=list)
    fixed: int = 0
    diffs: list[str] = field(default_factory=list)
    sources: dict[Path, SourceFile] = field(default_factory=dict)
    withheld: list[str] = field(default_factory=list)
    stdin_fixed: bytes | None = None  # with --stdin-filename and --fix: the source to print
    nothing_found: bool = False  # the paths held no file to lint (ruff warns)
    fixed_diagnostics: list[Diagnostic] = field(default_factory=list)  # for --show-fixes
    noqa_added: int = 0  # --add-noqa: directives added or extended


@dataclass
class _Inputs:
    """The files of a run as nanlint reads them; a notebook is linted as its module."""

    sources: list[SourceFile] = field(default_factory=list)
    notebooks: dict[Path, Notebook] = field(default_factory=dict)
    data: dict[Path, bytes] = field(default_factory=dict)  # the bytes read, by path


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
        result.nothing_found = not found.files and not found.problems
        for path, problem in found.problems:
            result.diagnostics.append(_file_problem(path, f"IOError: {problem}"))
        if _replayed(found.files, options, result):
            result.diagnostics.sort(key=Diagnostic.sort_key)
            return result
        for path in found.files:
            try:
                data = path.read_bytes()
            except OSError as error:
                result.diagnostics.append(
                    _file_problem(path, f"IOError: {error.strerror or error}")
                )
                continue
            _read(path, data, inputs, result)
    try:
        if options.fix or options.diff:
            _fix(inputs, options, result)
        elif options.add_noqa:
            _add_noqa(inputs, options, result)
        else:
            diagnostics, errors = _lint(inputs.sources, options)
            _report(result, inputs, {s.path: s for s in inputs.sources}, diagnostics)
            result.errors.extend(errors)
    except Exception as error:  # a bug in nanlint: an internal error (exit 2), not a traceback
        where = " ".join(str(path) for path in options.paths)
        result.errors.append(InternalError(where, None, f"{type(error).__name__}: {error}"))
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
        return lint_files(sources, _selector(config, options.ignore_noqa))
    cache = ResultsCache(options.cache_dir)
    key = cache.key([source.path for source in sources], _settings(config, options.ignore_noqa))
    cached = cache.lookup(key, sources)
    if cached is not None:
        return cached, []
    projects: list = []

    def make_project(by_path: dict):
        projects.append(project_for(by_path))
        return projects[-1]

    diagnostics, errors = lint_files(sources, _selector(config, options.ignore_noqa), make_project)
    if not errors:
        cache.store(key, sources, projects, diagnostics)
    return diagnostics, errors


def _replayed(paths: list[Path], options: CheckOptions, result: RunResult) -> bool:
    """Replay the cached run of `paths` if none of its inputs was touched since, reading only
    the files its diagnostics point at (for their snippets). Not for fixes, nor notebooks
    (their diagnostics are placed in cells, which needs the notebook read)."""
    if options.cache_dir is None or options.fix or options.diff or options.add_noqa:
        return False
    if any(path.suffix == ".ipynb" for path in paths):
        return False
    cache = ResultsCache(options.cache_dir)
    diagnostics = cache.replay(cache.key(paths, _settings(options.config, options.ignore_noqa)))
    if diagnostics is None:
        return False
    shown = {d.path for d in diagnostics} | {r.path for d in diagnostics for r in d.related}
    for path in sorted(shown & set(paths)):
        with contextlib.suppress(OSError, DecodeError):  # a snippet less; caught next run
            result.sources[path] = SourceFile.from_bytes(path, path.read_bytes())
    result.diagnostics.extend(diagnostics)
    return True


def _settings(config: Config, ignore_noqa: bool) -> str:
    """The settings a cached run depends on."""
    return repr(
        (
            config.select,
            config.ignore,
            config.extend_select,
            config.per_file_ignores,
            config.root,
            ignore_noqa,
        )
    )


def _selector(config: Config, ignore_noqa: bool = False):
    """Each file's rules, from the configuration (per-file ignores included)."""
    cache: dict[frozenset, Selection] = {}

    def select(source: SourceFile) -> Selection:
        codes = config.codes_for(source.path)
        if codes not in cache:
            rules = tuple(rule for rule in RULE_INFOS if rule.code in codes)
            unused = UNUSED_NOQA in codes and not ignore_noqa
            cache[codes] = Selection(rules, unused, respect_noqa=not ignore_noqa)
        return cache[codes]

    return select


def _read(path: Path, data: bytes, inputs: _Inputs, result: RunResult) -> None:
    inputs.data[path] = data
    try:
        _decode(path, data, inputs)
    except (DecodeError, NotebookError) as error:
        line = getattr(error, "line", 1)
        result.diagnostics.append(_file_problem(path, f"{type(error).__name__}: {error}", line))
    except Exception as error:  # a bug in nanlint costs this file, not the run
        result.errors.append(InternalError(str(path), None, f"{type(error).__name__}: {error}"))


def _decode(path: Path, data: bytes, inputs: _Inputs) -> None:
    """Add the file to `inputs`: a notebook as its module (nothing for a non-Python one)."""
    if path.suffix == ".ipynb":
        notebook = Notebook.from_bytes(path, data)
        if notebook is None:  # not a Python notebook
            return
        inputs.notebooks[path] = notebook
        inputs.sources.append(notebook.source)
    else:
        inputs.sources.append(SourceFile.from_bytes(path, data))


def _fix(inputs: _Inputs, options: CheckOptions, result: RunResult) -> None:
    # --fix never replaces a symbolic link, nor writes its target (it may lie anywhere)
    links = frozenset(
        s.path for s in inputs.sources if options.stdin is None and s.path.is_symlink()
    )
    selector = _selector(options.config, options.ignore_noqa)
    report = fix_files(inputs.sources, selector, options.config.unsafe_fixes, read_only=links)
    result.errors.extend(report.errors)
    result.withheld.extend(report.withheld)
    originals = {source.path: source for source in inputs.sources}
    written: dict[Path, bytes] = {}
    unwritten: set[Path] = set()
    for path, text in sorted(report.changed.items()):
        notebook = inputs.notebooks.get(path)
        try:
            data = originals[path].encode(text) if notebook is None else notebook.updated(text)
        except (NotebookError, UnicodeError) as error:
            result.withheld.append(f"{path}: {error}, so it was not written")
            unwritten.add(path)
            continue
        written[path] = data
        if options.diff and notebook is None:
            result.diffs.append(unified_diff(str(path), originals[path].text, text))
        elif options.diff:  # a diff of each changed cell's source, not of the JSON
            result.diffs.extend(
                unified_diff(f"{path}:cell {cell.number}", cell.text, new)
                for cell, new in notebook.changed_cells(text)
            )
    if options.stdin is not None:
        result.stdin_fixed = next(iter(written.values()), None)
    elif not options.diff:
        unwritten.update(_write(written, inputs.data, result))
    result.fixed = sum(1 for fix in report.applied if not fix.paths & unwritten)
    result.fixed_diagnostics = [
        d for d in report.fixed_diagnostics if d.fix is not None and not d.fix.paths & unwritten
    ]
    if options.diff:
        return
    diagnostics = report.diagnostics
    final = {
        path: originals[path] if path in unwritten else source
        for path, source in report.sources.items()
    }
    if unwritten:  # report the old text of what could not be written
        diagnostics, _ = lint_files(list(final.values()), selector)
    _report(result, inputs, final, diagnostics)


def _add_noqa(inputs: _Inputs, options: CheckOptions, result: RunResult) -> None:
    """Suppress each diagnostic with a `# noqa: CODE` on its line and write the files (not
    notebooks, whose lines are cells' lines, nor stdin). Like ruff, nothing else is reported."""
    diagnostics, errors = _lint(inputs.sources, options)
    result.errors.extend(errors)
    written: dict[Path, bytes] = {}
    for source in inputs.sources:
        if source.path in inputs.notebooks or options.stdin is not None:
            continue
        text, added = with_noqa(source, [d for d in diagnostics if d.path == source.path])
        if added:
            written[source.path] = source.encode(text)
            result.noqa_added += added
    if written:
        _write(written, inputs.data, result)


def _write(contents: dict[Path, bytes], read: dict[Path, bytes], result: RunResult) -> set[Path]:
    """Write the fixed files; the paths that were not written, each with a diagnostic.

    If a file changed since nanlint read it (an editor saved it), nothing is written: a fix
    may span files, and half of one is worse than none.
    """
    changed = [path for path in contents if _changed(path, read[path])]
    if changed:
        reasons = {path: "the file changed while nanlint was running" for path in changed}
        for path in contents:
            reasons.setdefault(path, f"{changed[0]} changed while nanlint was running")
    else:
        try:
            write_all(contents)
            return set()
        except WriteError as error:
            reasons = {error.path: error.strerror}
            for path in contents:
                if path not in error.written:
                    reasons.setdefault(path, f"writing {error.path} failed")
    for path, reason in reasons.items():
        result.diagnostics.append(_file_problem(path, f"IOError: fixes not written, {reason}"))
    return set(reasons)


def _changed(path: Path, data: bytes) -> bool:
    try:
        return path.read_bytes() != data
    except OSError:
        return True


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


def _file_problem(path: Path, message: str, line: int = 1) -> Diagnostic:
    position = Position(line, 1)
    return Diagnostic(None, message, path, Span(position, position))
