"""File discovery: .gitignore (via pathspec), default excludes, explicit paths, --force-exclude."""

from __future__ import annotations

import os
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


def test_info_exclude_and_the_global_ignore_file_are_honoured(repo, tmp_path, monkeypatch):
    (repo / "local_only.py").write_text("")
    (repo / "scratch.py").write_text("")
    (repo / "kept.py").write_text("")
    (repo / ".git" / "info").mkdir(exist_ok=True)
    (repo / ".git" / "info" / "exclude").write_text("local_only.py\n")
    config_home = tmp_path / "config"
    (config_home / "git").mkdir(parents=True)
    (config_home / "git" / "ignore").write_text("scratch.py\nkept.py\n")
    (repo / ".gitignore").write_text("!kept.py\n")  # the repository's own file wins
    monkeypatch.setenv("GIT_CONFIG_GLOBAL", str(tmp_path / "no-gitconfig"))
    monkeypatch.setenv("XDG_CONFIG_HOME", str(config_home))
    listed = found(["."])
    assert "local_only.py" not in listed
    assert "scratch.py" not in listed
    assert "kept.py" in listed
    # core.excludesFile replaces the default global file
    (tmp_path / "gitconfig").write_text(f"[core]\n\texcludesFile = {tmp_path / 'mine'}\n")
    (tmp_path / "mine").write_text("kept.py\na.py\n")
    monkeypatch.setenv("GIT_CONFIG_GLOBAL", str(tmp_path / "gitconfig"))
    listed = found(["."])
    assert "scratch.py" in listed
    assert "a.py" not in listed
    assert "kept.py" in listed


def test_a_worktree_reads_info_exclude_of_its_main_repository(repo, tmp_path, monkeypatch):
    (repo / "local_only.py").write_text("")
    (repo / ".git" / "info").mkdir(exist_ok=True)
    (repo / ".git" / "info" / "exclude").write_text("local_only.py\n")
    env = {"GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@t", "GIT_COMMITTER_NAME": "t"}
    run = {"cwd": repo, "check": True, "env": {**os.environ, **env, "GIT_COMMITTER_EMAIL": "t@t"}}
    subprocess.run(["git", "add", "a.py", "local_only.py", "-f"], **run)
    subprocess.run(["git", "commit", "-qm", "files"], **run)
    subprocess.run(["git", "worktree", "add", "-q", str(tmp_path / "tree")], **run)
    assert (tmp_path / "tree" / ".git").is_file()
    monkeypatch.chdir(tmp_path / "tree")
    assert found(["."]) == ["a.py"]
