"""The hooks in .pre-commit-hooks.yaml, run by the real pre-commit against a copy of this checkout.

pre-commit installs the hook repository into its own virtualenv (from the package index), so
the first run takes a while; the environment is shared by the tests of this module.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys

import pytest

from conftest import BAD, FIXED, ROOT

GIT_IDENTITY = {
    "GIT_AUTHOR_NAME": "nanlint tests",
    "GIT_AUTHOR_EMAIL": "tests@nanlint.invalid",
    "GIT_COMMITTER_NAME": "nanlint tests",
    "GIT_COMMITTER_EMAIL": "tests@nanlint.invalid",
}
CLEAN_FILES = 2000  # enough for pre-commit to split the file names over several runs
NOTEBOOK = {
    "cells": [
        {
            "cell_type": "code",
            "execution_count": None,
            "metadata": {},
            "outputs": [],
            "source": ["import torch\n", "p = torch.sigmoid(z)"],
        },
        {
            "cell_type": "code",
            "execution_count": None,
            "metadata": {},
            "outputs": [],
            "source": ["loss = torch.nn.BCELoss()(p, y)"],
        },
    ],
    "metadata": {"language_info": {"name": "python"}},
    "nbformat": 4,
    "nbformat_minor": 5,
}


def git(directory, *args: str) -> str:
    env = {**os.environ, **GIT_IDENTITY}
    done = subprocess.run(
        ["git", "-C", str(directory), *args], check=True, capture_output=True, text=True, env=env
    )
    return done.stdout.strip()


@pytest.fixture(scope="module")
def hook_repository(tmp_path_factory):
    """A committed copy of this checkout, as pre-commit wants a hook repository."""
    copy = tmp_path_factory.mktemp("hooks") / "nanlint"
    shutil.copytree(
        ROOT,
        copy,
        ignore=shutil.ignore_patterns(
            ".git", ".venv", "venv", "__pycache__", "*.egg-info", ".*_cache", "build", "dist"
        ),
    )
    git(copy, "init", "-q")
    git(copy, "add", "-A")
    git(copy, "commit", "-q", "-m", "nanlint under test")
    return copy, git(copy, "rev-parse", "HEAD")


@pytest.fixture(scope="module")
def pre_commit_home(tmp_path_factory):
    return tmp_path_factory.mktemp("pre-commit-home")


@pytest.fixture
def project(tmp_path, hook_repository, pre_commit_home):
    repository, rev = hook_repository
    (tmp_path / "train.py").write_text(BAD)
    (tmp_path / "build").mkdir()
    (tmp_path / "build" / "generated.py").write_text(BAD)  # excluded by default
    (tmp_path / "explore.ipynb").write_text(json.dumps(NOTEBOOK, indent=1) + "\n")
    clean = tmp_path / "pkg"
    clean.mkdir()
    for number in range(CLEAN_FILES):
        (clean / f"module_{number:04}.py").write_text("x = 1\n")
    (tmp_path / ".pre-commit-config.yaml").write_text(
        "repos:\n"
        f"  - repo: {repository}\n"
        f"    rev: {rev}\n"
        "    hooks:\n"
        "      - id: nanlint\n"
        "      - id: nanlint-fix\n"
        "        stages: [manual]\n"
    )
    git(tmp_path, "init", "-q")
    git(tmp_path, "add", "-A")
    return tmp_path


def pre_commit(project, pre_commit_home, *args: str) -> subprocess.CompletedProcess:
    """`pre-commit run ARGS` (on every file unless ARGS name some with --files)."""
    env = {**os.environ, **GIT_IDENTITY, "PRE_COMMIT_HOME": str(pre_commit_home)}
    env.pop("PRE_COMMIT", None)
    files = () if "--files" in args else ("--all-files",)
    return subprocess.run(
        [sys.executable, "-m", "pre_commit", "run", *args, *files, "--color", "never"],
        cwd=project,
        capture_output=True,
        text=True,
        env=env,
    )


def test_check_hook_fails_and_reports(project, pre_commit_home):
    result = pre_commit(project, pre_commit_home, "nanlint")
    assert result.returncode == 1, result.stdout + result.stderr
    output = result.stdout
    assert "nanlint..." in output and "Failed" in output
    assert "- exit code: 1" in output
    assert "train.py:6:35: NAN101 [*] Sigmoid probabilities from `torch.sigmoid`" in output
    assert "explore.ipynb:cell 2:1:27: NAN101 [*] Sigmoid probabilities" in output
    assert "build/generated.py" not in output  # --force-exclude
    assert (project / "train.py").read_text() == BAD


def test_fix_hook_fixes_fails_once_then_passes(project, pre_commit_home):
    result = pre_commit(project, pre_commit_home, "nanlint-fix", "--hook-stage", "manual")
    assert result.returncode == 1, result.stdout + result.stderr
    assert "- files were modified by this hook" in result.stdout
    assert (project / "train.py").read_text() == FIXED
    assert (project / "build" / "generated.py").read_text() == BAD
    notebook = json.loads((project / "explore.ipynb").read_text())
    assert notebook["cells"][0]["source"] == ["import torch\n", "p = z"]
    assert notebook["cells"][1]["source"] == ["loss = torch.nn.BCEWithLogitsLoss()(p, y)"]
    git(project, "add", "-A")
    again = pre_commit(project, pre_commit_home, "nanlint-fix", "--hook-stage", "manual")
    assert again.returncode == 0, again.stdout + again.stderr
    assert "Passed" in again.stdout


def test_hook_environment_has_no_torch(project, pre_commit_home):
    assert pre_commit(project, pre_commit_home, "nanlint").returncode == 1
    (environment,) = pre_commit_home.glob("repo*/py_env-*")
    python = environment / "bin" / "python"
    probe = "import importlib.util as u; print(u.find_spec('torch'), u.find_spec('nanlint'))"
    found = subprocess.run([str(python), "-c", probe], capture_output=True, text=True)
    assert found.stdout.startswith("None ModuleSpec(name='nanlint'")


def test_no_python_file_to_check_is_skipped(project, pre_commit_home):
    (project / "notes.txt").write_text("no code here\n")
    git(project, "add", "notes.txt")
    result = pre_commit(project, pre_commit_home, "nanlint", "--files", "notes.txt")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "(no files to check)Skipped" in result.stdout
