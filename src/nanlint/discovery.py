"""Which files to lint: explicit paths, and `.py` / `.ipynb` files found under directories."""

from __future__ import annotations

import errno
import os
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from pathspec import GitIgnoreSpec

from nanlint.gitignore import GitIgnore

DEFAULT_EXCLUDES = frozenset(
    (
        ".git",
        ".hg",
        ".svn",
        ".venv",
        "venv",
        ".tox",
        ".nox",
        ".mypy_cache",
        ".ruff_cache",
        ".pytest_cache",
        ".nanlint_cache",
        "__pycache__",
        "build",
        "dist",
        "node_modules",
        "site-packages",
        "__pypackages__",
        ".ipynb_checkpoints",
    )
)
SUFFIXES = (".py", ".ipynb")


@dataclass(frozen=True)
class Discovered:
    files: list[Path]
    problems: list[tuple[Path, str]]  # paths that could not be read as directories or files


class Exclusions:
    """Exclude patterns (gitignore-style, relative to `root`) and, optionally, .gitignore files."""

    def __init__(self, root: Path, patterns: Iterable[str], respect_gitignore: bool = True):
        self.root = os.path.abspath(root)
        self.patterns = GitIgnoreSpec.from_lines(list(patterns))
        self.gitignore = GitIgnore() if respect_gitignore else None

    def excluded(self, path: Path | str, is_dir: bool) -> bool:
        absolute = os.path.abspath(path)
        if absolute == self.root:
            relative = "."
        elif absolute.startswith(self.root.rstrip(os.sep) + os.sep):
            relative = absolute[len(self.root.rstrip(os.sep)) + 1 :].replace(os.sep, "/")
        else:
            relative = os.path.basename(absolute)  # outside the root, only a name can match
        if relative != "." and self.patterns.match_file(relative + ("/" if is_dir else "")):
            return True
        return self.gitignore is not None and self.gitignore.ignored(absolute, is_dir)


def discover(paths: list[Path], exclusions: Exclusions, force_exclude: bool = False) -> Discovered:
    """The files to lint, sorted and without duplicates.

    A path named on the command line is linted whatever its name and even when excluded,
    unless `force_exclude`; directories are walked for SUFFIXES files, skipping excluded
    paths and symlinked directories (no loops). A path that does not exist is a problem
    (reported as ruff's E902 is), and the other paths are still linted.
    """
    files: dict[Path, None] = {}
    problems: list[tuple[Path, str]] = []
    for path in paths:
        if not os.path.lexists(path):
            problems.append((path, os.strerror(errno.ENOENT)))
            continue
        is_dir = path.is_dir()
        if force_exclude and exclusions.excluded(path, is_dir):
            continue
        if is_dir:
            for found in _walk(path, exclusions, problems):
                files[found] = None
        elif path.is_file():
            files[path] = None
        else:
            problems.append((path, not_a_file(path)))
    return Discovered(sorted(files), problems)


def _walk(root: Path, exclusions: Exclusions, problems: list[tuple[Path, str]]):
    def on_error(error: OSError) -> None:
        problems.append((Path(error.filename or root), error.strerror or str(error)))

    for directory, subdirectories, names in os.walk(root, onerror=on_error):
        subdirectories[:] = sorted(
            name
            for name in subdirectories
            if not os.path.islink(os.path.join(directory, name))
            and not exclusions.excluded(os.path.join(directory, name), is_dir=True)
        )
        for name in sorted(names):
            if not name.endswith(SUFFIXES):
                continue
            joined = os.path.join(directory, name)
            if exclusions.excluded(joined, is_dir=False):
                continue
            if os.path.isfile(joined):
                yield Path(joined)
            else:
                problems.append((Path(joined), not_a_file(joined)))


def not_a_file(path: str) -> str:
    """Why `path`, which exists as a name, cannot be read as a file."""
    try:
        os.stat(path)
    except OSError as error:
        if error.errno == errno.ELOOP:
            return "symbolic link loop"
        if error.errno == errno.ENOENT:
            return "broken symbolic link"
        return error.strerror or str(error)
    return "not a regular file"
