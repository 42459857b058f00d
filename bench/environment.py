"""What the figures were measured on: the machine, its load, the tools' versions, the date."""

from __future__ import annotations

import datetime
import os
import platform
import subprocess
from pathlib import Path


def _first_line(command: list[str], cwd: Path | None = None) -> str:
    done = subprocess.run(command, capture_output=True, text=True, cwd=cwd)
    lines = done.stdout.strip().splitlines()
    return lines[0] if done.returncode == 0 and lines else "unknown"


def cpu_model() -> str:
    names = [line for line in _proc_lines("cpuinfo") if line.startswith("model name")]
    return names[0].split(":", 1)[1].strip() if names else platform.processor() or "unknown"


def memory() -> str:
    totals = [line for line in _proc_lines("meminfo") if line.startswith("MemTotal:")]
    return f"{int(totals[0].split()[1]) / 1024**2:.1f} GB" if totals else "unknown"


def _proc_lines(name: str) -> list[str]:
    try:
        return Path("/proc", name).read_text().splitlines()
    except OSError:
        return []


def nanlint_description(python: str) -> str:
    """`nanlint, version X` and the commit of the checkout it is imported from, if any."""
    version = _first_line([python, "-m", "nanlint", "--version"])
    where = _first_line([python, "-c", "import nanlint; print(nanlint.__file__)"])
    commit = _first_line(["git", "describe", "--always", "--dirty"], Path(where).parent)
    return version if commit == "unknown" else f"{version} (commit {commit})"


def describe(python: str, ruff: str, torchfix: str | None) -> dict[str, str]:
    facts = {
        "date": datetime.datetime.now().astimezone().isoformat(timespec="minutes"),
        "cpu": cpu_model(),
        "cores": str(os.cpu_count()),
        "memory": memory(),
        "load average at start": " ".join(f"{load:.2f}" for load in os.getloadavg()),
        "system": platform.platform(),
        "python": _first_line([python, "--version"]),
        "nanlint": nanlint_description(python),
        "ruff": _first_line([ruff, "--version"]),
    }
    if torchfix is not None:
        facts["torchfix"] = _first_line([torchfix, "--version"])
    return facts
