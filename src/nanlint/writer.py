"""Writing fixed files without ever leaving one half-written."""

from __future__ import annotations

import contextlib
import os
import tempfile
from pathlib import Path


def write_atomically(path: Path, data: bytes) -> None:
    """Replace `path`'s content by `data`: a reader sees the old file or the new one, never a mix.

    The data goes to a temporary file beside `path`, which is fsynced, given the old file's
    mode (and owner, when allowed) and renamed over `path`.
    """
    directory = path.parent
    status = path.stat()
    handle, temporary = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".nanlint", dir=directory)
    try:
        with os.fdopen(handle, "wb") as stream:
            stream.write(data)
            stream.flush()
            os.fsync(stream.fileno())
        _keep_owner(temporary, status)
        os.chmod(temporary, status.st_mode & 0o7777)
        os.replace(temporary, path)
    except BaseException:
        if os.path.exists(temporary):
            os.unlink(temporary)
        raise
    _fsync_directory(directory)


def _keep_owner(temporary: str, status: os.stat_result) -> None:
    """Give the new file the old one's owner and group (only root may give it away)."""
    if hasattr(os, "chown"):  # not on Windows
        with contextlib.suppress(OSError):
            os.chown(temporary, status.st_uid, status.st_gid)


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
