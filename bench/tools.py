"""The tools compared with nanlint: ruff from this environment, TorchFix in a venv of its own."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import sysconfig
from pathlib import Path

TORCHFIX = "torchfix==0.7.0"


def find_ruff() -> str:
    """The ruff executable of this environment, else the one on PATH."""
    path = os.pathsep.join((sysconfig.get_path("scripts"), os.environ.get("PATH", "")))
    ruff = shutil.which("ruff", path=path)
    if ruff is None:
        raise FileNotFoundError("ruff not found: python -m pip install ruff")
    return ruff


def install_torchfix(cache: Path) -> str:
    """TorchFix's executable, installed once into a venv in the cache (it pins its own libcst)."""
    venv = cache / TORCHFIX.replace("==", "-")
    executable = venv / "bin" / "torchfix"
    if not executable.exists():
        subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
        pip = [str(venv / "bin" / "python"), "-m", "pip", "install", "--quiet", TORCHFIX]
        subprocess.run(pip, stdout=sys.stderr, check=True)  # stdout is the report's
    return str(executable)
