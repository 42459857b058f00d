"""Where a project's modules are: package roots, the project top, and module lookup.

Plain path logic (no parsing), shared by the project analysis and the results cache, which
checks that every import a cached run resolved still resolves to the same file.
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from pathlib import Path

# Directories never searched for project modules.
NOT_PROJECT = frozenset(
    (
        ".git",
        ".hg",
        ".venv",
        "venv",
        ".tox",
        ".nox",
        "site-packages",
        "__pycache__",
        "node_modules",
        "build",
        "dist",
    )
)
PROJECT_MARKERS = ("pyproject.toml", "setup.py", "setup.cfg", ".git")


def roots_for(paths: Iterable[Path]) -> list[Path]:
    """The package roots of `paths` and their project tops (with `src/`), existing ones only."""
    roots: list[Path] = []
    for path in paths:
        root = package_root(Path(path))
        roots.append(root)
        top = project_top(root)
        if top is not None:
            roots += [top, top / "src"]
    return [root for root in dict.fromkeys(roots) if root.is_dir()]


def package_root(path: Path) -> Path:
    """The directory a file's top-level package lives in (the first without __init__.py)."""
    directory = absolute(path).parent
    while (directory / "__init__.py").is_file() and directory.parent != directory:
        directory = directory.parent
    return directory


def project_top(directory: Path) -> Path | None:
    """The nearest enclosing directory that looks like a project's top (pyproject, .git)."""
    current = absolute(directory)
    while True:
        if any((current / marker).exists() for marker in PROJECT_MARKERS):
            return current
        if current.parent == current:
            return None
        current = current.parent


def find_module(roots: Iterable[Path], qualname: str) -> Path | None:
    """The project file (or namespace-package directory) of module `qualname`, if any."""
    if not qualname or not all(part.isidentifier() for part in qualname.split(".")):
        return None
    roots = [str(root) for root in roots]
    relative = os.path.join(*qualname.split("."))
    for root in roots:
        for candidate in (
            os.path.join(root, relative, "__init__.py"),
            os.path.join(root, relative + ".py"),
        ):
            if os.path.isfile(candidate) and _in_project(candidate):
                return Path(candidate)
    for root in roots:  # a namespace package: a directory of modules, no __init__.py
        directory = os.path.join(root, relative)
        if (
            os.path.isdir(directory)
            and _in_project(directory)
            and any(Path(directory).glob("*.py"))
        ):
            return Path(directory)
    return None


def _in_project(path: str) -> bool:
    return NOT_PROJECT.isdisjoint(path.split(os.sep))


def absolute(path: Path) -> Path:
    return Path(os.path.abspath(path))


def relative(path: Path) -> Path:
    """`path` relative to the working directory when inside it, as linted files are named on
    the command line, so that messages and notes name a file read for the analysis alike."""
    cwd = os.getcwd()
    text = os.path.abspath(path)
    if text.startswith(cwd.rstrip(os.sep) + os.sep):
        return Path(text[len(cwd.rstrip(os.sep)) + 1 :])
    return Path(text)
