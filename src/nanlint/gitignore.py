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
    """Answers `ignored(path)`, reading each directory's .gitignore once."""

    def __init__(self) -> None:
        self._specs: dict[Path, GitIgnoreSpec | None] = {}
        self._repositories: dict[Path, Path | None] = {}

    def ignored(self, path: Path, is_dir: bool) -> bool:
        path = Path(os.path.abspath(path))
        root = self._repository(path.parent)
        if root is None:
            return False
        directory = path.parent
        while True:
            spec = self._spec(directory, directory == root)
            if spec is not None:
                relative = path.relative_to(directory).as_posix() + ("/" if is_dir else "")
                verdict = spec.check_file(relative).include
                if verdict is not None:
                    return verdict
            if directory == root:
                return False
            directory = directory.parent

    def _repository(self, directory: Path) -> Path | None:
        """The nearest directory at or above `directory` that holds `.git`."""
        if directory not in self._repositories:
            if (directory / ".git").exists():
                found: Path | None = directory
            elif directory.parent == directory:
                found = None
            else:
                found = self._repository(directory.parent)
            self._repositories[directory] = found
        return self._repositories[directory]

    def _spec(self, directory: Path, is_root: bool) -> GitIgnoreSpec | None:
        if directory not in self._specs:
            sources = [directory / ".gitignore"]
            if is_root:
                sources.insert(0, directory / ".git" / "info" / "exclude")
            lines = [line for source in sources for line in _lines(source)]
            self._specs[directory] = GitIgnoreSpec.from_lines(lines) if lines else None
        return self._specs[directory]


def _lines(path: Path) -> list[str]:
    try:
        return path.read_text(encoding="utf-8", errors="replace").splitlines()
    except OSError:
        return []
