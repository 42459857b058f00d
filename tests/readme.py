"""The README as data: its sections, fenced blocks and shell commands, and a way to run them.

The README's Usage section defines a small project (the ```python blocks whose first line
is `# <file>.py`); its commands are run in a fresh copy of that project.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import sysconfig
from pathlib import Path

from conftest import ROOT

TEXT = (ROOT / "README.md").read_text()
_FENCE = re.compile(r"^```(\w*)\n(.*?)^```$", re.M | re.S)
_COMMENT = re.compile(r"\s+#\s.*$")
_FILE_HEADER = re.compile(r"# ([\w/.-]+\.py)\n")


def section(heading: str) -> str:
    """The text under `## heading` or `### heading`, up to the next heading of that level."""
    level = "#" * (3 if heading.startswith("### ") else 2)
    start = TEXT.index(f"\n{heading}\n") + len(heading) + 2
    end = TEXT.find(f"\n{level} ", start)
    return TEXT[start : end if end != -1 else len(TEXT)]


def blocks(language: str, text: str = TEXT) -> list[str]:
    """The contents of the fenced blocks of `language` in `text`, in order."""
    return [body for lang, body in _FENCE.findall(text) if lang == language]


def commands(text: str = TEXT) -> list[str]:
    """Every line of the ```sh blocks in `text`, without its trailing `# comment`."""
    lines = (line for block in blocks("sh", text) for line in block.splitlines())
    return [_COMMENT.sub("", line) for line in lines if line.strip()]


def project_files() -> dict[str, str]:
    """The Usage section's project: file name -> content."""
    files = {}
    for block in blocks("python", section("## Usage")):
        header = _FILE_HEADER.match(block)
        if header:
            files[header.group(1)] = block
    return files


def write_project(directory: Path, extra: dict[str, str] | None = None) -> Path:
    for name, content in {**project_files(), **(extra or {})}.items():
        path = directory / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(content)
    return directory


def snapshot(directory: Path) -> dict[str, bytes]:
    """The project's files (not git's, nanlint's results cache, nor Python's bytecode)."""
    return {
        str(path.relative_to(directory)): path.read_bytes()
        for path in sorted(directory.rglob("*"))
        if path.is_file() and not {".git", ".nanlint_cache", "__pycache__"} & set(path.parts)
    }


def shell(command: str, cwd: Path) -> subprocess.CompletedProcess:
    """Run `command` as a user would type it: bash, with this environment's scripts on PATH."""
    scripts = (sysconfig.get_path("scripts"), str(Path(sys.executable).parent))
    path = os.pathsep.join((*scripts, os.environ["PATH"]))
    return subprocess.run(
        command,
        shell=True,
        executable=shutil.which("bash"),
        cwd=cwd,
        env={**os.environ, "PATH": path},
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
    )
