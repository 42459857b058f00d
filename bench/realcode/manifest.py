"""The real-code corpus's manifest: pinned wheels and repositories at a commit, and their names."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import tomllib

MANIFEST = Path(__file__).with_name("manifest.toml")


@dataclass(frozen=True)
class Wheel:
    name: str
    version: str

    @property
    def corpus(self) -> str:
        """The directory the wheel's sources unpack to: `pyro-ppl-1.9.2`."""
        return f"{self.name}-{self.version}"

    @property
    def requirement(self) -> str:
        return f"{self.name}=={self.version}"


@dataclass(frozen=True)
class Repository:
    repo: str  # owner/name
    commit: str  # 40 hex digits

    @property
    def slug(self) -> str:
        """`owner+name`: how a mirror directory and the corpus directory name the repository."""
        return self.repo.replace("/", "+", 1)

    @property
    def corpus(self) -> str:
        return f"{self.slug}-{self.commit[:12]}"


@dataclass(frozen=True)
class Manifest:
    wheels: tuple[Wheel, ...]
    repositories: tuple[Repository, ...]

    def corpus_names(self) -> list[str]:
        return [entry.corpus for entry in (*self.wheels, *self.repositories)]


def load_manifest(path: Path = MANIFEST) -> Manifest:
    data = tomllib.loads(path.read_text(encoding="utf-8"))
    return Manifest(
        wheels=tuple(Wheel(entry["name"], entry["version"]) for entry in data.get("wheel", [])),
        repositories=tuple(
            Repository(entry["repo"], entry["commit"]) for entry in data.get("repository", [])
        ),
    )
