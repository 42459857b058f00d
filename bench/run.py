"""Benchmark nanlint against ruff (and, when asked, TorchFix) on pinned real corpora.

    python bench/run.py                              # timm and transformers, 3 runs each
    python bench/run.py --corpus timm --torchfix     # with the TorchFix comparison
    python bench/run.py --quick --repeat 1           # smoke run on a subset of each corpus

Prints the environment, the median wall time and peak memory of every run, and each target
of the performance issue with its verdict. See bench/README.md.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from commands import detect_nanlint_flags
from corpora import CACHE_ENV, CORPORA, DEFAULT_CORPORA, default_cache_dir, fetch
from environment import describe
from measure import CommandFailed
from report import as_json, markdown
from scenario import Settings, Tools, benchmark, log
from tools import find_ruff, install_torchfix

DEFAULT_REPEAT = 3
QUICK_WARNING = "--quick: a subset of each corpus, so the verdicts say nothing about the targets"


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument(
        "--corpus",
        action="append",
        choices=sorted(CORPORA),
        help=f"a corpus to measure (repeatable; default: {', '.join(DEFAULT_CORPORA)})",
    )
    parser.add_argument(
        "--repeat",
        type=int,
        help=f"runs of each command (default {DEFAULT_REPEAT}; TorchFix runs once unless given)",
    )
    parser.add_argument("--torchfix", action="store_true", help="also time TorchFix (slow)")
    parser.add_argument("--jobs", type=int, help="passed to nanlint as --jobs")
    parser.add_argument("--quick", action="store_true", help="a small subset of each corpus")
    parser.add_argument(
        "--cache-dir",
        type=Path,
        default=default_cache_dir(),
        help=f"where wheels, unpacked corpora and TorchFix go (default ${CACHE_ENV} or %(default)s)",
    )
    parser.add_argument("--find-links", help="a directory of wheels for pip download to use")
    parser.add_argument("--json", type=Path, help="also write the results to this JSON file")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    flags = detect_nanlint_flags(sys.executable)
    warnings = flags.warnings(args.jobs) + ([QUICK_WARNING] if args.quick else [])
    for warning in warnings:
        log(f"warning: {warning}")
    torchfix = install_torchfix(args.cache_dir) if args.torchfix else None
    tools = Tools(sys.executable, find_ruff(), flags, torchfix)
    settings = Settings(args.repeat or DEFAULT_REPEAT, args.repeat or 1, args.quick, args.jobs)
    environment = describe(tools.python, tools.ruff, tools.torchfix)
    results = []
    try:
        for name in dict.fromkeys(args.corpus or DEFAULT_CORPORA):
            unpacked = fetch(CORPORA[name], args.cache_dir, args.find_links)
            results.append(benchmark(CORPORA[name], unpacked, tools, settings))
    except CommandFailed as failure:
        log(f"error: {failure}")
        return 2
    print(markdown(environment, warnings, results), end="")
    if args.json is not None:
        args.json.write_text(json.dumps(as_json(environment, warnings, results), indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
