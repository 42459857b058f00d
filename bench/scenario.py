"""One corpus's benchmark: every measured command, in order, on a scratch copy of the corpus."""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from commands import NanlintFlags, nanlint_check, ruff_check, torchfix_check
from corpora import Corpus, copy_project, python_file_count
from measure import CommandFailed, measure
from results import (
    NANLINT_COLD,
    NANLINT_ONE_FILE,
    NANLINT_WARM,
    RUFF_ALL,
    RUFF_DEFAULT,
    TORCHFIX,
    CorpusResult,
)

TORCHFIX_OK_CODES = (0, 1)  # 1: some file failed to parse or transform


@dataclass(frozen=True)
class Tools:
    python: str  # the interpreter that runs nanlint
    ruff: str
    nanlint_flags: NanlintFlags
    torchfix: str | None  # None: TorchFix is not measured


@dataclass(frozen=True)
class Settings:
    repeat: int
    torchfix_repeat: int
    quick: bool  # only the corpus's quick_dir
    jobs: int | None  # passed to nanlint


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def touch(path: Path, count: int) -> None:
    """Append a harmless assignment, so the file's content is new (not a pure cache hit)."""
    text = path.read_text()
    separator = "" if text.endswith("\n") else "\n"
    path.write_text(f"{text}{separator}_bench_touch = {count}\n")


def diagnostics_in(json_output: str, project: Path, relative: str) -> list[tuple]:
    """(code, row, column, message) of each diagnostic in `relative`, from JSON output."""
    wanted = (project / relative).resolve()
    return sorted(
        (str(d["code"]), d["location"]["row"], d["location"]["column"], d["message"])
        for d in json.loads(json_output)
        if (project / d["filename"]).resolve() == wanted
    )


def benchmark(corpus: Corpus, unpacked: Path, tools: Tools, settings: Settings) -> CorpusResult:
    with tempfile.TemporaryDirectory(prefix=f"nanlint-bench-{corpus.name}-") as scratch:
        project = copy_project(corpus, unpacked, Path(scratch) / "project", settings.quick)
        cache = Path(scratch) / "nanlint-cache"
        result = CorpusResult(corpus.name, corpus.version, python_file_count(project))
        run = _Runner(result, project, settings.repeat)

        def nanlint(paths: list[str], cache_dir: Path | None, *extra: str) -> list[str]:
            flags = tools.nanlint_flags
            return nanlint_check(tools.python, flags, paths, cache_dir, settings.jobs, extra)

        run.timed(RUFF_ALL, ruff_check(tools.ruff, select_all=True))
        run.timed(RUFF_DEFAULT, ruff_check(tools.ruff, select_all=False))
        run.timed(NANLINT_COLD, nanlint(["."], None))
        log(f"{corpus.name}: filling the cache (untimed; its diagnostics are the reference)")
        full = run.output(nanlint(["."], cache, "--output-format", "json"))
        run.timed(NANLINT_WARM, nanlint(["."], cache))

        changed, hook = corpus.changed_file, "--force-exclude"  # as the pre-commit hook runs
        run.timed(
            NANLINT_ONE_FILE, nanlint([changed], cache, hook), lambda i: touch(project / changed, i)
        )
        touch(project / changed, settings.repeat)
        checked = run.output(nanlint([changed], cache, hook, "--output-format", "json"))
        expected = diagnostics_in(full, project, changed)
        result.one_file_correct = diagnostics_in(checked, project, changed) == expected

        if tools.torchfix is not None:
            command = torchfix_check(tools.torchfix)
            run.timed(TORCHFIX, command, repeat=settings.torchfix_repeat, ok=TORCHFIX_OK_CODES)
        return result


class _Runner:
    """Runs commands in the project copy and records the timed ones in the result."""

    def __init__(self, result: CorpusResult, project: Path, repeat: int):
        self.result, self.project, self.repeat = result, project, repeat

    def timed(
        self,
        label: str,
        command: list[str],
        before_each: Callable[[int], None] | None = None,
        repeat: int | None = None,
        ok: tuple[int, ...] = (0,),
    ) -> None:
        self.result.commands[label] = command
        runs = self.result.runs.setdefault(label, [])
        count = repeat or self.repeat
        for index in range(count):
            if before_each is not None:
                before_each(index)
            runs.append(measure(command, self.project, ok))
            last = runs[-1]
            log(
                f"{self.result.name}: {label} {index + 1}/{count}:"
                f" {last.seconds:.2f} s, {last.peak_mb:.0f} MB"
            )

    def output(self, command: list[str]) -> str:
        done = subprocess.run(command, cwd=self.project, capture_output=True, text=True)
        if done.returncode != 0:
            raise CommandFailed(f"{' '.join(command)} exited {done.returncode}:\n{done.stderr}")
        return done.stdout
