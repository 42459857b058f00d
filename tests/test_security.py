"""nanlint reads code, never runs it, and --fix writes only the files it fixes."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import BCE_BAD, BCE_FIXED, BCE_MESSAGE, nanlint

# Every way a file could run: at import, at the top level, in defaults, decorators,
# annotations, class bodies, f-strings, __init__.py, setup.py, and in a module named like one
# of nanlint's own dependencies.
PAYLOAD = """\
import os
import pathlib

pathlib.Path({marker!r}, "imported-" + pathlib.Path(__file__).name).touch()
os.system("touch " + {marker!r} + "/system-" + pathlib.Path(__file__).name)
"""
HOSTILE = """\
import torch
import torch.nn.functional as F

from helper import value


def step(z, y, hook=__import__("os").system("touch {marker}/default")):
    return F.binary_cross_entropy(torch.sigmoid(z), y)


@__import__("os").system("touch {marker}/decorator")
class Model:
    size: __import__("os").system("touch {marker}/annotation")
    side = __import__("os").system("touch {marker}/class-body")
    label = f"{{__import__('os').system('touch {marker}/f-string')}}"


loss = F.binary_cross_entropy(torch.sigmoid(z), y)
"""
SHADOWS = ("click.py", "libcst.py", "ast.py", "tokenize.py", "nanlint.py")  # nanlint imports these


def hostile_project(root: Path, marker: Path) -> Path:
    project = root / "project"
    (project / "pkg").mkdir(parents=True)
    payload = PAYLOAD.format(marker=str(marker))
    (project / "model.py").write_text(payload + HOSTILE.format(marker=marker))
    for name in ("helper.py", "setup.py", "conftest.py", "pkg/__init__.py", *SHADOWS):
        (project / name).write_text(payload)
    return project


@pytest.fixture
def marker(tmp_path) -> Path:
    path = tmp_path / "markers"
    path.mkdir()
    return path


def run_nanlint(command: list[str], cwd: Path) -> subprocess.CompletedProcess:
    return subprocess.run(command, cwd=cwd, capture_output=True, text=True)


@pytest.mark.parametrize(
    "args, exit_code, evidence",
    [
        (("check", "--output-format", "concise"), 1, "Found 2 errors."),
        (("check", "--diff"), 1, "+loss = F.binary_cross_entropy_with_logits(z, y)"),
        (("check", "--fix"), 0, "Found 2 errors (2 fixed, 0 remaining)."),
        (("check", "--fix", "--unsafe-fixes", "--select", "ALL"), 0, "(2 fixed, 0 remaining)"),
    ],
)
def test_nanlint_never_runs_the_code_it_lints(tmp_path, marker, args, exit_code, evidence):
    project = hostile_project(tmp_path, marker)
    completed = run_nanlint([sys.executable, "-m", "nanlint", *args, str(project)], tmp_path)
    assert completed.returncode == exit_code, completed.stderr
    assert evidence in completed.stdout
    assert os.listdir(marker) == []


def test_the_payload_leaves_markers_when_it_does_run(tmp_path, marker):
    """The control for the tests above: running a hostile file is seen."""
    project = hostile_project(tmp_path, marker)
    subprocess.run([sys.executable, "helper.py"], cwd=project, check=True)
    assert sorted(os.listdir(marker)) == ["imported-helper.py", "system-helper.py"]


def test_the_console_script_run_from_the_project_does_not_import_its_modules(tmp_path, marker):
    """pre-commit runs nanlint from the repository root, where click.py or ast.py may live."""
    script = Path(sys.executable).with_name("nanlint")
    if not script.exists():
        pytest.skip("the nanlint console script is not installed beside this Python")
    project = hostile_project(tmp_path, marker)
    completed = run_nanlint([str(script), "check", "--fix", "model.py"], project)
    assert completed.stdout == "Found 2 errors (2 fixed, 0 remaining).\n", completed.stderr
    assert os.listdir(marker) == []
    assert "binary_cross_entropy_with_logits(z, y)" in (project / "model.py").read_text()


def tree(root: Path) -> dict[str, object]:
    """Every path under `root`: file bytes, symlink targets, directories."""
    found: dict[str, object] = {}
    for directory, names, files in os.walk(root):
        for name in names + files:
            path = Path(directory, name)
            key = str(path.relative_to(root))
            if path.is_symlink():
                found[key] = ("symlink", os.readlink(path))
            elif path.is_dir():
                found[key] = "directory"
            else:
                found[key] = path.read_bytes()
    return found


@pytest.mark.skipif(sys.platform == "win32", reason="symlinks need privileges on Windows")
@pytest.mark.parametrize("named", [False, True], ids=["walked", "named"])
def test_fix_writes_nothing_but_the_linted_files(tmp_path, monkeypatch, named):
    outside = tmp_path / "outside"
    (outside / "models").mkdir(parents=True)
    (outside / "target.py").write_text(BCE_BAD)
    (outside / "models" / "inner.py").write_text(BCE_BAD)
    project = tmp_path / "project"
    project.mkdir()
    (project / "model.py").write_text(BCE_BAD)
    os.symlink(outside / "target.py", project / "link.py")
    os.symlink(outside / "models", project / "linked_models")
    before = tree(tmp_path)
    monkeypatch.chdir(project)

    paths = ("link.py", "model.py") if named else ()
    result = nanlint("check", "--fix", "--unsafe-fixes", "--output-format", "concise", *paths)
    assert result.stdout.splitlines() == [
        f"link.py:4:31: {BCE_MESSAGE.replace(' [*]', '')}",
        "Found 2 errors (1 fixed, 1 remaining).",
    ]
    assert result.stderr == (
        "warning: Pass the logits to `binary_cross_entropy_with_logits`: it edits the symbolic"
        " link link.py, which --fix does not replace\n"
    )
    after = tree(tmp_path)
    assert after.pop("project/model.py") == BCE_FIXED.encode()
    before.pop("project/model.py")
    assert after == before
