"""How paths are shown: relative to the working directory when inside it."""

from __future__ import annotations

import os
from pathlib import Path


def display(path: Path, cwd: Path) -> str:
    absolute = path if path.is_absolute() else cwd / path
    try:
        return os.path.relpath(absolute, cwd) if _inside(absolute, cwd) else str(absolute)
    except ValueError:
        return str(absolute)


def _inside(path: Path, directory: Path) -> bool:
    try:
        path.resolve().relative_to(directory.resolve())
    except ValueError:
        return False
    return True
