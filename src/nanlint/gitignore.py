"""Whether a path is ignored by git: the .gitignore files of its repository, its
`info/exclude` and the user's global ignore file (`core.excludesFile`).

Like git (and ruff), the rules apply only inside a git repository. Patterns are interpreted by
the pathspec library; each .gitignore is matched relative to its own directory, the deepest
file that has an opinion decides. At the repository's root, the global file, then
`info/exclude`, then `.gitignore` are read in git's order of precedence (the last one wins).
"""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

from pathspec import GitIgnoreSpec


class GitIgnore:
    """Answers `ignored(path)`, reading each directory's .gitignore once.

    Works on path strings: discovery asks once per file, and pathlib objects cost more than
    the matching itself.
    """

    def __init__(self) -> None:
        self._specs: dict[str, GitIgnoreSpec | None] = {}
        self._repositories: dict[str, str | None] = {}

    def ignored(self, path: Path | str, is_dir: bool) -> bool:
        path = os.path.abspath(path)
        directory = os.path.dirname(path)
        root = self._repository(directory)
        if root is None:
            return False
        while True:
            spec = self._spec(directory, directory == root)
            if spec is not None:
                relative = os.path.relpath(path, directory).replace(os.sep, "/")
                verdict = spec.check_file(relative + ("/" if is_dir else "")).include
                if verdict is not None:
                    return verdict
            if directory == root:
                return False
            directory = os.path.dirname(directory)

    def _repository(self, directory: str) -> str | None:
        """The nearest directory at or above `directory` that holds `.git`."""
        if directory not in self._repositories:
            parent = os.path.dirname(directory)
            if os.path.exists(os.path.join(directory, ".git")):
                found: str | None = directory
            elif parent == directory:
                found = None
            else:
                found = self._repository(parent)
            self._repositories[directory] = found
        return self._repositories[directory]

    def _spec(self, directory: str, is_root: bool) -> GitIgnoreSpec | None:
        if directory not in self._specs:
            sources = [Path(directory, ".gitignore")]
            if is_root:
                git = _git_directory(directory)
                sources[:0] = [_global_excludes(directory), git / "info" / "exclude"]
            lines = [line for source in sources for line in _lines(source)]
            self._specs[directory] = GitIgnoreSpec.from_lines(lines) if lines else None
        return self._specs[directory]


def _git_directory(root: str) -> Path:
    """The repository's common git directory: `.git`, or for a worktree (`.git` is a file
    saying `gitdir: ...`) the main repository's, where `info/exclude` lives."""
    dot_git = Path(root, ".git")
    if not dot_git.is_file():
        return dot_git
    text = dot_git.read_text(encoding="utf-8", errors="replace").strip()
    if not text.startswith("gitdir:"):
        return dot_git
    git = Path(root, text[len("gitdir:") :].strip())
    common = _lines(git / "commondir")
    return git / common[0].strip() if common else git


def _global_excludes(root: str) -> Path:
    """The file named by git's `core.excludesFile`, else git's default,
    `$XDG_CONFIG_HOME/git/ignore` (`~/.config/git/ignore`)."""
    try:
        configured = subprocess.run(
            ["git", "-C", root, "config", "--get", "core.excludesFile"],
            capture_output=True,
            text=True,
            timeout=10,
        ).stdout.strip()
    except (OSError, subprocess.SubprocessError):  # no git: its default still applies
        configured = ""
    if configured:
        return Path(root, os.path.expanduser(configured))
    config_home = os.environ.get("XDG_CONFIG_HOME") or os.path.expanduser("~/.config")
    return Path(config_home, "git", "ignore")


def _lines(path: Path) -> list[str]:
    try:
        return path.read_text(encoding="utf-8", errors="replace").splitlines()
    except OSError:
        return []
