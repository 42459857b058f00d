"""Time one command and take its peak memory, in a helper process of its own.

`measure()` starts this file as a script; the script runs the command, waits for it and
reports its wall time and `getrusage(RUSAGE_CHILDREN).ru_maxrss`. That figure is the
largest resident set of any process the helper waited for (the command and its descendants
it waited for), so each measurement needs a fresh helper: a second command in the same
process would report the larger of the two peaks.
"""

from __future__ import annotations

import json
import resource
import statistics
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

STDERR_TAIL = 2000  # characters of a failed command's stderr kept for the error message


class CommandFailed(Exception):
    """A measured command exited with a code it should not have."""


@dataclass(frozen=True)
class Measurement:
    seconds: float
    peak_mb: float
    returncode: int


def measure(command: list[str], cwd: Path, ok_codes: tuple[int, ...] = (0,)) -> Measurement:
    """Run `command` in `cwd` (stdout discarded) in a fresh helper process and measure it."""
    request = json.dumps({"command": command, "cwd": str(cwd)})
    helper = subprocess.run(
        [sys.executable, __file__, request], capture_output=True, text=True, check=True
    )
    report = json.loads(helper.stdout)
    if report["returncode"] not in ok_codes:
        raise CommandFailed(
            f"{' '.join(command)} (in {cwd}) exited {report['returncode']}:\n{report['stderr']}"
        )
    return Measurement(report["seconds"], report["peak_mb"], report["returncode"])


def median_seconds(measurements: list[Measurement]) -> float:
    return statistics.median(m.seconds for m in measurements)


def peak_mb(measurements: list[Measurement]) -> float:
    return max(m.peak_mb for m in measurements)


def _maxrss_mb(maxrss: int) -> float:
    """ru_maxrss is in KiB on Linux and in bytes on macOS."""
    return maxrss / (1024 * 1024) if sys.platform == "darwin" else maxrss / 1024


def _run_and_report(command: list[str], cwd: str) -> dict:
    started = time.perf_counter()
    done = subprocess.run(
        command,
        cwd=cwd,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    seconds = time.perf_counter() - started
    maxrss = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    return {
        "seconds": seconds,
        "peak_mb": _maxrss_mb(maxrss),
        "returncode": done.returncode,
        "stderr": done.stderr[-STDERR_TAIL:],
    }


if __name__ == "__main__":
    request = json.loads(sys.argv[1])
    print(json.dumps(_run_and_report(request["command"], request["cwd"])))
