"""Writing fixed files without ever leaving one half-written."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path


def write_all(contents: dict[Path, bytes]) -> None:
    """Write several files as one change: every new content goes to a temporary file beside
    its target (fsynced, with the target's mode) before any target is replaced, so a failure
    while preparing leaves every file untouched and each replacement is atomic."""
    prepared: list[tuple[str, Path]] = []
    try:
        for path, data in contents.items():
            prepared.append((_prepare(path, data), path))
    except BaseException:
        for temporary, _ in prepared:
            _remove(temporary)
        raise
    for temporary, path in prepared:
        os.replace(temporary, path)
    for directory in {path.parent for _, path in prepared}:
        _fsync_directory(directory)


def write_atomically(path: Path, data: bytes) -> None:
    """Write one file atomically (see write_all)."""
    write_all({path: data})


def _prepare(path: Path, data: bytes) -> str:
    mode = path.stat().st_mode & 0o7777
    handle, temporary = tempfile.mkstemp(
        prefix=f".{path.name}.", suffix=".nanlint", dir=path.parent
    )
    try:
        with os.fdopen(handle, "wb") as stream:
            stream.write(data)
            stream.flush()
            os.fsync(stream.fileno())
        os.chmod(temporary, mode)
    except BaseException:
        _remove(temporary)
        raise
    return temporary


def _remove(temporary: str) -> None:
    if os.path.exists(temporary):
        os.unlink(temporary)


def _fsync_directory(directory: Path) -> None:
    try:
        descriptor = os.open(directory, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(descriptor)
    except OSError:
        pass
    finally:
        os.close(descriptor)
