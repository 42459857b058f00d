"""Whether a path is ignored by git: the .gitignore files of its repository and .git/info/exclude.

Like git (and ruff), the rules apply only inside a git repository. Patterns are interpreted by
the pathspec library; each .gitignore is matched relative to its own directory, the deepest
file that has an opinion decides.
"""

from __future__ import annotations

import os
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
                sources.insert(0, Path(directory, ".git", "info", "exclude"))
            lines = [line for source in sources for line in _lines(source)]
            self._specs[directory] = GitIgnoreSpec.from_lines(lines) if lines else None
        return self._specs[directory]


def _lines(path: Path) -> list[str]:
    try:
        return path.read_text(encoding="utf-8", errors="replace").splitlines()
    except OSError:
        return []
