"""The command lines measured: nanlint (cold, warm, one file), ruff and TorchFix."""

from __future__ import annotations

import re
import subprocess
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class NanlintFlags:
    """Which of the cache and parallelism options the installed nanlint has."""

    no_cache: bool
    cache_dir: bool
    jobs: bool

    @classmethod
    def from_help(cls, text: str) -> NanlintFlags:
        def has(option: str) -> bool:
            return re.search(rf"(?<![\w-]){re.escape(option)}(?![\w-])", text) is not None

        return cls(has("--no-cache"), has("--cache-dir"), has("--jobs"))

    def warnings(self, jobs: int | None) -> list[str]:
        """What the benchmark cannot do with this nanlint, and what it does instead."""
        missing = []
        if not self.no_cache:
            missing.append("nanlint has no --no-cache option: the cold runs are plain checks")
        if not self.cache_dir:
            missing.append(
                "nanlint has no --cache-dir option: the warm and one-file runs are plain checks"
                " (cold ones, if this nanlint has no cache at all)"
            )
        if jobs is not None and not self.jobs:
            missing.append(f"nanlint has no --jobs option: --jobs {jobs} is not passed on")
        return missing


def detect_nanlint_flags(python: str) -> NanlintFlags:
    done = subprocess.run(
        [python, "-m", "nanlint", "check", "--help"], capture_output=True, text=True, check=True
    )
    return NanlintFlags.from_help(done.stdout)


def nanlint_check(
    python: str,
    flags: NanlintFlags,
    paths: list[str],
    cache_dir: Path | None = None,
    jobs: int | None = None,
    extra: tuple[str, ...] = (),
) -> list[str]:
    """`nanlint check` without a cache (`cache_dir` None) or with the cache in `cache_dir`.

    Options the installed nanlint lacks are left out (see `NanlintFlags.warnings`).
    """
    command = [python, "-m", "nanlint", "check", "--isolated", "--exit-zero", *extra]
    if cache_dir is None and flags.no_cache:
        command.append("--no-cache")
    if cache_dir is not None and flags.cache_dir:
        command += ["--cache-dir", str(cache_dir)]
    if jobs is not None and flags.jobs:
        command += ["--jobs", str(jobs)]
    return [*command, *paths]


def ruff_check(ruff: str, select_all: bool) -> list[str]:
    """ruff over the working directory, no cache, no configuration file."""
    command = [ruff, "check", "--no-cache", "--isolated", "--exit-zero"]
    return [*command, *(["--select", "ALL"] if select_all else []), "."]


def torchfix_check(torchfix: str) -> list[str]:
    """TorchFix over the working directory (it prints diffs; it does not change files)."""
    return [torchfix, "."]
