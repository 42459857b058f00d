"""What the language server knows: the settings and the open documents, linted as one project.

Files that are not open are read from disk by the analysis when an open one imports them, so a
model edited in one buffer changes the diagnostics of the open script that uses it.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from pathlib import Path

from nanlint.config import Config, resolve_config
from nanlint.diagnostics import Diagnostic
from nanlint.engine import InternalError, lint_files
from nanlint.runner import _selector
from nanlint.selection import validate
from nanlint.source import SourceFile


@dataclass(frozen=True)
class Document:
    path: Path
    text: str
    version: int


@dataclass
class Results:
    """One lint of the open documents: the versions it saw and each one's diagnostics."""

    versions: dict[Path, int]
    diagnostics: dict[Path, list[Diagnostic]]
    texts: dict[Path, str]  # every file the diagnostics and their fixes refer to
    errors: list[InternalError] = field(default_factory=list)  # rules that failed


@dataclass
class ServerState:
    root: Path
    options: dict = field(default_factory=dict)  # initializationOptions: select, ignore
    documents: dict[Path, Document] = field(default_factory=dict)
    config: Config = field(default_factory=Config)
    last_good: dict[Path, list[Diagnostic]] = field(default_factory=dict)

    def reload_config(self) -> None:
        """The workspace's configuration file, then select/ignore from the editor."""
        config = resolve_config([self.root], None, False)
        select, ignore = self.options.get("select"), self.options.get("ignore") or ()
        self.config = config.override(
            select=config.select if select is None else tuple(validate(c) for c in select),
            ignore=config.ignore + tuple(validate(code) for code in ignore),
        )

    def lint(self) -> Results:
        """Lint a snapshot of the open Python documents (one worker thread at a time); a
        document that does not parse keeps its last good diagnostics, after the parse error."""
        documents = [d for d in list(self.documents.values()) if d.path.suffix == ".py"]
        sources = [SourceFile(d.path, d.text) for d in documents]
        found, errors = lint_files(sources, _selector(self.config))
        by_path: dict[Path, list[Diagnostic]] = {d.path: [] for d in documents}
        for diagnostic in found:
            if diagnostic.path in by_path:
                by_path[diagnostic.path].append(diagnostic)
        for path, diagnostics in by_path.items():
            problems = [d for d in diagnostics if d.code is None]
            if problems:
                kept = [replace(d, fix=None) for d in self.last_good.get(path, [])]
                by_path[path] = problems + kept  # their fixes would edit stale offsets
            else:
                self.last_good[path] = diagnostics
        texts = {d.path: d.text for d in documents}
        for diagnostics in by_path.values():
            for diagnostic in diagnostics:
                fixed = diagnostic.fix.paths if diagnostic.fix else frozenset()
                for path in fixed | {related.path for related in diagnostic.related}:
                    texts.setdefault(path, _read(path))
        return Results({d.path: d.version for d in documents}, by_path, texts, errors)


def _read(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError):
        return ""
