"""Run nanlint over real code and over mutated real code; fail on any crash or damage.

    python scripts/corpus_check.py                  # the pinned corpora, check and fix
    python scripts/corpus_check.py --mutate 3000    # also 3000 mutated files (seeded)
    python scripts/corpus_check.py --only timm --mutate 500 --seed 7

The pinned wheels are downloaded with pip into a cache outside the repository (default
~/.cache/nanlint-corpora) and unpacked there once. Each corpus is copied to a temporary
directory; nanlint runs on the copy in a separate process, so a crash is seen as one:

- `check` and `check --fix --unsafe-fixes`: no crash (exit 0 or 1, no traceback), no
  internal error, every fixed file still compiles;
- a second `check --unsafe-fixes` finds nothing fixable, and a second `--fix` changes nothing.

Mutation: random tokens deleted or duplicated in real files that nanlint parses (those that
mention a loss or an activation); `check` and `--fix` must not crash (syntax errors are
diagnostics) and a mutant that compiled still compiles after fixing. Files that crash
nanlint are copied to <cache>/failures.
"""

from __future__ import annotations

import argparse
import collections
import concurrent.futures
import io
import json
import os
import random
import shutil
import subprocess
import sys
import tempfile
import time
import tokenize
import warnings
import zipfile
from dataclasses import dataclass, field
from pathlib import Path

CORPORA = {
    "transformers": "5.23.0",
    "diffusers": "0.42.1",
    "timm": "1.0.31",
    "pytorch-lightning": "2.6.6",
}
DEFAULT_CACHE = Path.home() / ".cache" / "nanlint-corpora"
CHUNK = 250  # mutated files per nanlint process


@dataclass
class Run:
    """One nanlint process: its exit code, diagnostics and the problems it showed."""

    returncode: int
    diagnostics: list[dict]
    problems: list[str] = field(default_factory=list)
    withheld: list[str] = field(default_factory=list)


def empty_directory(work: Path) -> Path:
    """Where nanlint runs: `python -m` puts the working directory on sys.path, so it must not
    hold the corpus (a module there named like one of nanlint's imports would shadow it)."""
    path = work / "empty"
    path.mkdir(exist_ok=True)  # (several threads may ask at once)
    return path


def nanlint(args: list[str], cwd: Path) -> Run:
    completed = subprocess.run(
        [sys.executable, "-m", "nanlint", *args], cwd=cwd, capture_output=True, text=True
    )
    problems = [line for line in completed.stderr.splitlines() if line.startswith("error:")]
    if completed.returncode not in (0, 1) or "Traceback" in completed.stderr:
        problems.append(f"exit {completed.returncode}: {completed.stderr[-2000:]}")
    try:
        diagnostics = json.loads(completed.stdout) if "--output-format" in args else []
    except json.JSONDecodeError:
        diagnostics, problems = [], [*problems, "the JSON output is not valid"]
    withheld = [line for line in completed.stderr.splitlines() if line.startswith("warning:")]
    return Run(completed.returncode, diagnostics, problems, withheld)


def fetch(name: str, version: str, cache: Path, find_links: str | None) -> Path:
    """The unpacked .py files of `name==version`, downloading the wheel if needed."""
    target = cache / "src" / f"{name}-{version}"
    if (target / ".complete").exists():
        return target
    wheels = cache / "wheels"
    wheel = next(wheels.glob(f"{name.replace('-', '_')}-{version}-*.whl"), None)
    if wheel is None:
        command = [sys.executable, "-m", "pip", "download", "--no-deps", "--only-binary=:all:"]
        command += ["-d", str(wheels), f"{name}=={version}"]
        command += ["--find-links", find_links] if find_links else []
        subprocess.run(command, check=True)
        wheel = next(wheels.glob(f"{name.replace('-', '_')}-{version}-*.whl"))
    shutil.rmtree(target, ignore_errors=True)
    with zipfile.ZipFile(wheel) as archive:
        archive.extractall(target, [n for n in archive.namelist() if n.endswith(".py")])
    (target / ".complete").touch()
    return target


def python_files(root: Path) -> dict[Path, bytes]:
    return {path: path.read_bytes() for path in sorted(root.rglob("*.py"))}


def compiles(data: bytes, path: Path) -> bool:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            compile(data, str(path), "exec", dont_inherit=True)
        except (SyntaxError, ValueError):
            return False
    return True


def by_rule(diagnostics: list[dict]) -> collections.Counter:
    """Diagnostics per rule code; file-level problems by their kind (SyntaxError, ...)."""
    return collections.Counter(d["code"] or d["message"].split(":")[0] for d in diagnostics)


def fixable(diagnostics: list[dict]) -> list[dict]:
    return [d for d in diagnostics if d["fix"] and d["fix"]["applicability"] != "display-only"]


def check_and_fix(
    label: str, paths: list[str], root: Path, cwd: Path, again: bool = True
) -> tuple[list[str], dict]:
    """Lint and fix `paths` (inside `root`, a copy), then (with `again`) lint and fix them a
    second time; the failures and the numbers."""
    failures: list[str] = []
    before = python_files(root)
    started = time.perf_counter()
    checked = nanlint(["check", "--output-format", "json", *paths], cwd)
    checked_in = time.perf_counter() - started
    started = time.perf_counter()
    fixed = nanlint(["check", "--fix", "--unsafe-fixes", "--output-format", "json", *paths], cwd)
    fixed_in = time.perf_counter() - started
    after = python_files(root)
    changed = [path for path, data in after.items() if data != before[path]]
    failures += [f"{label} check: {p}" for p in checked.problems]
    failures += [f"{label} fix: {p}" for p in fixed.problems]
    failures += [
        f"{label}: {path} compiled before the fix and not after"
        for path in changed
        if compiles(before[path], path) and not compiles(after[path], path)
    ]
    if again:
        failures += second_run(label, paths, root, cwd, after)
    stats = {
        "files": len(before),
        "diagnostics": by_rule(checked.diagnostics),
        "fixed files": len(changed),
        "after fixing": by_rule(fixed.diagnostics),
        "withheld fixes": len(fixed.withheld),
        "check seconds": round(checked_in, 1),
        "fix seconds": round(fixed_in, 1),
    }
    return failures, stats


def second_run(label: str, paths: list[str], root: Path, cwd: Path, fixed: dict) -> list[str]:
    """After --fix: nothing is left to fix, and fixing again changes nothing."""
    rechecked = nanlint(["check", "--unsafe-fixes", "--output-format", "json", *paths], cwd)
    failures = [f"{label} second check: {p}" for p in rechecked.problems]
    failures += [
        f"{label}: still fixable after --fix: {d['filename']}:{d['location']['row']} {d['code']}"
        for d in fixable(rechecked.diagnostics)
    ]
    refixed = nanlint(["check", "--fix", "--unsafe-fixes", *paths], cwd)
    failures += [f"{label} second fix: {p}" for p in refixed.problems]
    failures += [
        f"{label}: the second --fix changed {path}"
        for path, data in python_files(root).items()
        if data != fixed[path]
    ]
    return failures


def corpus_run(name: str, source: Path, work: Path) -> list[str]:
    copy = work / name
    shutil.copytree(source, copy, ignore=shutil.ignore_patterns(".complete"))
    failures, stats = check_and_fix(name, [str(copy)], copy, empty_directory(work))
    report(name, stats)
    return failures


def report(label: str, stats: dict) -> None:
    print(f"== {label}")
    for key, value in stats.items():
        if isinstance(value, collections.Counter):
            value = ", ".join(f"{code} {count}" for code, count in sorted(value.items())) or "-"
        print(f"   {key}: {value}")
    sys.stdout.flush()


def mutate(text: str, rng: random.Random) -> str | None:
    """`text` with one to three random tokens deleted or duplicated (None: no tokens)."""
    try:
        tokens = [
            token
            for token in tokenize.generate_tokens(io.StringIO(text).readline)
            if token.string and token.type != tokenize.ENDMARKER
        ]
    except (tokenize.TokenError, SyntaxError):
        return None
    if not tokens:
        return None
    starts = [0] + [index + 1 for index, char in enumerate(text) if char == "\n"]
    chosen = rng.sample(tokens, min(len(tokens), rng.randint(1, 3)))
    for token in sorted(chosen, key=lambda t: t.start, reverse=True):
        start = starts[token.start[0] - 1] + token.start[1]
        end = starts[token.end[0] - 1] + token.end[1]
        piece = "" if rng.random() < 0.5 else text[start:end] * 2
        text = text[:start] + piece + text[end:]
    return text


def mutation_run(sources: list[Path], count: int, seed: int, work: Path, cache: Path) -> list[str]:
    from nanlint.rules import ALL_RULES

    triggers = {token for rule in ALL_RULES for token in rule.triggers}
    candidates = []
    for root in sources:
        for path in sorted(root.rglob("*.py")):
            text = path.read_text(encoding="utf-8", errors="replace")
            if any(token in text for token in triggers):
                candidates.append(text)
    rng = random.Random(seed)
    chunks: list[Path] = []
    written = 0
    while written < count:
        mutated = mutate(rng.choice(candidates), rng)
        if mutated is None:
            continue
        if written % CHUNK == 0:
            chunks.append(work / "mutants" / f"chunk{len(chunks):02d}")
            chunks[-1].mkdir(parents=True)
        (chunks[-1] / f"m{written:05d}.py").write_text(mutated, encoding="utf-8")
        written += 1
    print(f"== mutation: {written} mutants of {len(candidates)} files, seed {seed}")
    started = time.perf_counter()
    with concurrent.futures.ThreadPoolExecutor(os.cpu_count()) as pool:
        results = list(pool.map(lambda chunk: mutants_run(chunk, work, cache), chunks))
    totals = sum((stats["diagnostics"] for _, stats in results), collections.Counter())
    seconds = round(time.perf_counter() - started)
    report("mutation", {"mutants": written, "diagnostics": totals, "seconds": seconds})
    return [failure for failures, _ in results for failure in failures]


def mutants_run(chunk: Path, work: Path, cache: Path) -> tuple[list[str], dict]:
    """Check and fix one chunk of mutants (in one process each); find the crashers."""
    paths = sorted(str(p) for p in chunk.glob("*.py"))
    failures, stats = check_and_fix(chunk.name, paths, chunk, empty_directory(work), again=False)
    if failures:
        failures += keep_crashers(paths, work, cache)
    return failures, stats


def keep_crashers(paths: list[str], work: Path, cache: Path) -> list[str]:
    """Rerun a failing chunk file by file; copy the files that fail to <cache>/failures."""
    kept = cache / "failures"
    kept.mkdir(parents=True, exist_ok=True)
    found = []
    for path in paths:
        if nanlint(["check", "--output-format", "json", path], empty_directory(work)).problems:
            shutil.copy(path, kept / Path(path).name)
            found.append(f"crashes nanlint: {kept / Path(path).name}")
    return found


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--cache", type=Path, default=DEFAULT_CACHE)
    parser.add_argument("--find-links", help="a directory or URL pip may take the wheels from")
    parser.add_argument("--only", nargs="+", choices=sorted(CORPORA), default=sorted(CORPORA))
    parser.add_argument("--mutate", type=int, default=0, metavar="N", help="mutated files")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--skip-corpora", action="store_true", help="only the mutation run")
    options = parser.parse_args()

    started = time.perf_counter()
    sources = [
        fetch(name, CORPORA[name], options.cache, options.find_links) for name in options.only
    ]
    failures: list[str] = []
    with tempfile.TemporaryDirectory(prefix="nanlint-corpora-") as directory:
        work = Path(directory)
        if not options.skip_corpora:
            for name, source in zip(options.only, sources):
                failures += corpus_run(name, source, work)
        if options.mutate:
            failures += mutation_run(sources, options.mutate, options.seed, work, options.cache)
    print(f"== total: {time.perf_counter() - started:.0f} s, {len(failures)} failures")
    for failure in failures:
        print(f"FAIL {failure}")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
