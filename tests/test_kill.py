"""SIGKILL in the middle of a multi-file --fix: every file is the old or the new version.

No timing: the child runs the real `nanlint check --fix`, with os.fsync wrapped so that right
after the temporary file of the k-th fixed file is written and fsynced (the moment a
non-atomic writer would have a truncated file on disk) it tells the parent through a pipe
and blocks. The parent waits for that byte and kills it.
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

ready, kill_at = int(sys.argv[1]), int(sys.argv[2])
fsync, written = os.fsync, []


def fsync_then_wait(descriptor):
    fsync(descriptor)
    if stat.S_ISREG(os.fstat(descriptor).st_mode):
        written.append(descriptor)
        if len(written) == kill_at:
            os.write(ready, b"!")
            sys.stdin.read()  # the parent never writes: block until killed


os.fsync = fsync_then_wait
from nanlint.cli import main

main(["check", "--fix", "--output-format", "concise", "."])
"""


@pytest.mark.parametrize("kill_at", [1, 6, 12])
def test_a_killed_fix_leaves_old_or_new_files_never_torn(tmp_path, kill_at):
    for name in FILES:
        (tmp_path / name).write_text(BCE_BAD)
    read_end, write_end = os.pipe()
    child = subprocess.Popen(
        [sys.executable, "-c", CHILD, str(write_end), str(kill_at)],
        cwd=tmp_path,
        stdin=subprocess.PIPE,
        stdout=subprocess.DEVNULL,
        pass_fds=(write_end,),
    )
    os.close(write_end)
    try:
        assert os.read(read_end, 1) == b"!", "the child ended before its k-th write"
    finally:
        child.send_signal(signal.SIGKILL)
        child.wait()
        child.stdin.close()
        os.close(read_end)
    assert child.returncode == -signal.SIGKILL

    contents = [(tmp_path / name).read_text() for name in FILES]
    assert contents == [BCE_FIXED] * (kill_at - 1) + [BCE_BAD] * (len(FILES) - kill_at + 1)
    # The k-th file's complete new version is left beside it, under a name nanlint never lints.
    (orphan,) = sorted(set(os.listdir(tmp_path)) - set(FILES))
    assert orphan.startswith(f".{FILES[kill_at - 1]}.") and orphan.endswith(".nanlint")
    assert (tmp_path / orphan).read_text() == BCE_FIXED

    rerun = subprocess.run(
        [sys.executable, "-m", "nanlint", "check", "--fix", "."], cwd=tmp_path, capture_output=True
    )
    assert rerun.returncode == 0
    assert [(tmp_path / name).read_text() for name in FILES] == [BCE_FIXED] * len(FILES)
