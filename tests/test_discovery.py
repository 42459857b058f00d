"""File discovery: .gitignore (via pathspec), default excludes, explicit paths, --force-exclude."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from nanlint.discovery import DEFAULT_EXCLUDES, Exclusions, discover


@pytest.fixture
def repo(write, monkeypatch):
    root = write(
        {
            "a.py": "",
            "notes.ipynb": "{}",
            "readme.txt": "",
            "generated.py": "",
            "logs/run.py": "",
            "pkg/.gitignore": "/local.py\n!keep_generated.py\n",
            "pkg/local.py": "",
            "pkg/keep_generated.py": "",
            "pkg/deep/local.py": "",
            "build/out.py": "",
            ".venv/lib.py": "",
            ".gitignore": "generated.py\n*_generated.py\nlogs/\n",
        }
    )
    subprocess.run(["git", "init", "-q", str(root)], check=True)
    monkeypatch.chdir(root)
    return root


def found(paths, respect_gitignore=True, force_exclude=False, patterns=DEFAULT_EXCLUDES):
    exclusions = Exclusions(Path.cwd(), patterns, respect_gitignore)
    return [
        p.as_posix() for p in discover([Path(p) for p in paths], exclusions, force_exclude).files
    ]


def test_walk_honours_gitignore_files_and_default_excludes(repo):
    assert found(["."]) == [
        "a.py",
        "notes.ipynb",
        "pkg/deep/local.py",
        "pkg/keep_generated.py",
    ]


def test_respect_gitignore_false_keeps_ignored_files(repo):
    assert found(["."], respect_gitignore=False) == [
        "a.py",
        "generated.py",
        "logs/run.py",
        "notes.ipynb",
        "pkg/deep/local.py",
        "pkg/keep_generated.py",
        "pkg/local.py",
    ]


def test_gitignore_applies_only_inside_a_git_repository(repo):
    shutil.rmtree(repo / ".git")
    assert "generated.py" in found(["."])


def test_explicit_paths_are_linted_even_when_excluded(repo):
    paths = ["generated.py", "build/out.py", "logs/run.py", "readme.txt"]
    assert found(paths) == ["build/out.py", "generated.py", "logs/run.py", "readme.txt"]


def test_force_exclude_drops_excluded_explicit_paths(repo):
    paths = ["generated.py", "build/out.py", "logs/run.py", "pkg/local.py", "a.py", "build"]
    assert found(paths, force_exclude=True) == ["a.py"]


def test_user_patterns_replace_the_defaults(repo):
    assert "build/out.py" in found(["."], patterns=["pkg/", ".venv"])
    assert not [p for p in found(["."], patterns=["pkg/", ".venv"]) if p.startswith("pkg")]
