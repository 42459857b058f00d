"""Which files to lint: explicit paths, and `.py` files found under directories."""

from __future__ import annotations

import errno
import os
from dataclasses import dataclass
from pathlib import Path

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
    )
)


class PathError(Exception):
    """A path given on the command line does not exist."""


@dataclass(frozen=True)
class Discovered:
    files: list[Path]
    problems: list[tuple[Path, str]]  # paths that could not be read as directories or files


def discover(paths: list[Path]) -> Discovered:
    """The files to lint, sorted and without duplicates.

    A file named on the command line is linted whatever its name; directories are walked
    for `.py` files, skipping DEFAULT_EXCLUDES and symlinked directories (no loops).
    """
    files: dict[Path, None] = {}
    problems: list[tuple[Path, str]] = []
    for path in paths:
        if not os.path.lexists(path):
            raise PathError(f"{path}: no such file or directory")
        if path.is_dir():
            for found in _walk(path, problems):
                files[found] = None
        elif path.is_file():
            files[path] = None
        else:
            problems.append((path, not_a_file(path)))
    return Discovered(sorted(files), problems)


def _walk(root: Path, problems: list[tuple[Path, str]]):
    def on_error(error: OSError) -> None:
        problems.append((Path(error.filename or root), error.strerror or str(error)))

    for directory, subdirectories, names in os.walk(root, onerror=on_error):
        subdirectories[:] = sorted(
            name
            for name in subdirectories
            if name not in DEFAULT_EXCLUDES and not os.path.islink(os.path.join(directory, name))
        )
        for name in sorted(names):
            if name.endswith(".py"):
                path = Path(directory, name)
                if path.is_file():
                    yield path
                else:
                    problems.append((path, not_a_file(path)))


def not_a_file(path: Path) -> str:
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
