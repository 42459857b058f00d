"""SIGKILL in the middle of a multi-file --fix: every file is the old or the new version.

No timing: the child runs the real `nanlint check --fix`, with one os function wrapped so
that at the k-th call it tells the parent through a pipe and blocks; the parent waits for
that byte and kills it. nanlint first writes and fsyncs a temporary file beside each file
to fix, then renames them over the files: killed after the k-th fsync, every file is old;
killed before the k-th rename, the first k-1 files are new and the others old.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys

import pytest

from conftest import BCE_BAD, BCE_FIXED

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="SIGKILL and fd passing")

FILES = [f"model_{index:02d}.py" for index in range(12)]

CHILD = """
import os, stat, sys

ready, hook, kill_at = int(sys.argv[1]), sys.argv[2], int(sys.argv[3])
real, calls = getattr(os, hook), []


def wrapped(*args):
    if hook == "fsync":
        real(*args)
        if not stat.S_ISREG(os.fstat(args[0]).st_mode):
            return None
    calls.append(args)
    if len(calls) == kill_at:
        os.write(ready, b"!")
        sys.stdin.read()  # the parent never writes: block until killed
    return None if hook == "fsync" else real(*args)


setattr(os, hook, wrapped)
from nanlint.cli import main

main(["check", "--fix", "--output-format", "concise", "."])
"""


@pytest.mark.parametrize(
    "hook, kill_at, new",
    [
        ("fsync", 1, 0),
        ("fsync", 12, 0),
        ("replace", 1, 0),
        ("replace", 6, 5),
        ("replace", 12, 11),
    ],
)
def test_a_killed_fix_leaves_old_or_new_files_never_torn(tmp_path, hook, kill_at, new):
    for name in FILES:
        (tmp_path / name).write_text(BCE_BAD)
    read_end, write_end = os.pipe()
    child = subprocess.Popen(
        [sys.executable, "-c", CHILD, str(write_end), hook, str(kill_at)],
        cwd=tmp_path,
        stdin=subprocess.PIPE,
        stdout=subprocess.DEVNULL,
        pass_fds=(write_end,),
    )
    os.close(write_end)
    try:
        assert os.read(read_end, 1) == b"!", "the child ended before the k-th call"
    finally:
        child.send_signal(signal.SIGKILL)
        child.wait()
        child.stdin.close()
        os.close(read_end)
    assert child.returncode == -signal.SIGKILL

    contents = [(tmp_path / name).read_text() for name in FILES]
    assert contents == [BCE_FIXED] * new + [BCE_BAD] * (len(FILES) - new)
    # Each temporary file not renamed yet is left beside its file, complete (it was fsynced),
    # under a name nanlint never lints; a second run fixes the files.
    orphans = sorted(set(os.listdir(tmp_path)) - set(FILES))
    pending = FILES[:kill_at] if hook == "fsync" else FILES[new:]
    assert [orphan.split(".nanlint")[0].rsplit(".", 1)[0] for orphan in orphans] == [
        f".{name}" for name in pending
    ]
    assert all((tmp_path / orphan).read_text() == BCE_FIXED for orphan in orphans)

    rerun = subprocess.run(
        [sys.executable, "-m", "nanlint", "check", "--fix", "."], cwd=tmp_path, capture_output=True
    )
    assert rerun.returncode == 0
    assert [(tmp_path / name).read_text() for name in FILES] == [BCE_FIXED] * len(FILES)
