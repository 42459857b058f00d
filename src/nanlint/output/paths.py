"""How paths are shown: relative to the working directory when inside it."""

from __future__ import annotations

import os
from pathlib import Path

from nanlint.source import Position


def cell_prefix(position: Position) -> str:
    """`cell 3: ` for a position in a notebook, else nothing."""
    return f"cell {position.cell}: " if position.cell is not None else ""


def display(path: Path, cwd: Path) -> str:
    absolute = Path(os.path.normpath(path if path.is_absolute() else cwd / path))
    try:
        return os.path.relpath(absolute, cwd) if _inside(absolute, cwd) else str(absolute)
    except ValueError:
        return str(absolute)


def _inside(path: Path, directory: Path) -> bool:
    """Whether `path` lies in `directory`; a symlink is where its name is, not its target."""
    try:
        Path(os.path.realpath(path.parent), path.name).relative_to(os.path.realpath(directory))
    except ValueError:
        return False
    return True
