"""Writing fixed files without ever leaving one half-written."""

from __future__ import annotations

import contextlib
import os
import tempfile
from pathlib import Path


class WriteError(OSError):
    """Writing `path` failed; the files in `written` had already been replaced."""

    def __init__(self, path: Path, error: OSError, written: list[Path]):
        super().__init__(error.errno, error.strerror or str(error), str(path))
        self.path = path
        self.written = written


def write_all(contents: dict[Path, bytes]) -> None:
    """Write several files as one change: every new content goes to a temporary file beside
    its target (fsynced, with the target's mode and, when allowed, owner) before any target is
    replaced, so a failure while preparing leaves every file untouched and each replacement
    is atomic. No temporary file is left behind, unless the process is killed."""
    prepared: list[tuple[str, Path]] = []
    replaced = 0
    current = None
    try:
        for current, data in contents.items():
            prepared.append((_prepare(current, data), current))
        for temporary, current in prepared:
            os.replace(temporary, current)
            replaced += 1
    except OSError as error:
        raise WriteError(current, error, [path for _, path in prepared[:replaced]]) from error
    finally:
        for temporary, _ in prepared[replaced:]:
            _remove(temporary)
    for directory in {path.parent for _, path in prepared}:
        _fsync_directory(directory)


def write_atomically(path: Path, data: bytes) -> None:
    """Write one file atomically (see write_all)."""
    write_all({path: data})


def _prepare(path: Path, data: bytes) -> str:
    status = path.stat()
    handle, temporary = tempfile.mkstemp(
        prefix=f".{path.name}.", suffix=".nanlint", dir=path.parent
    )
    try:
        with os.fdopen(handle, "wb") as stream:
            stream.write(data)
            stream.flush()
            os.fsync(stream.fileno())
        _keep_owner(temporary, status)
        os.chmod(temporary, status.st_mode & 0o7777)
    except BaseException:
        _remove(temporary)
        raise
    return temporary


def _keep_owner(temporary: str, status: os.stat_result) -> None:
    """Give the new file the old one's owner and group (only root may give it away)."""
    if hasattr(os, "chown"):  # not on Windows
        with contextlib.suppress(OSError):
            os.chown(temporary, status.st_uid, status.st_gid)


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
