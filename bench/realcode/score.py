"""Score nanlint on the labelled real-code corpora: recall, traps, false and unlabelled findings.

    python bench/realcode/score.py --corpus-dir DIR                 # run nanlint, then score
    python bench/realcode/score.py --corpus-dir DIR --findings OUT  # score saved JSON findings
    python bench/realcode/score.py --corpus-dir DIR --nanlint-src src --save-findings OUT

DIR is what fetch.py built (it holds src/<corpus>/). nanlint runs as
`python -m nanlint check --isolated --no-cache --select ALL --exit-zero --output-format json .`
from each corpus root, with the nanlint importable from the environment, or from
`--nanlint-src` (put first on PYTHONPATH). The matching rule is in matching.py; the label
format in labels.py. See bench/README.md.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
from pathlib import Path

from labels import LABELS_DIR, CorpusLabels, load_labels
from matching import CorpusScore, Finding, findings_from_json, score_corpus
from score_report import render_markdown, render_text, summary

NANLINT_CHECK = ("check", "--isolated", "--no-cache", "--select", "ALL", "--exit-zero")


def run_nanlint(corpus_root: Path, nanlint_src: Path | None) -> list[dict]:
    """nanlint's JSON diagnostics on one corpus, run from its root."""
    env = dict(os.environ)
    if nanlint_src is not None:
        env["PYTHONPATH"] = os.pathsep.join(
            filter(None, [str(nanlint_src.resolve()), env.get("PYTHONPATH")])
        )
    command = [sys.executable, "-m", "nanlint", *NANLINT_CHECK, "--output-format", "json", "."]
    done = subprocess.run(command, cwd=corpus_root, env=env, capture_output=True, text=True)
    if done.returncode != 0:
        raise RuntimeError(f"nanlint failed on {corpus_root}:\n{done.stderr}")
    return json.loads(done.stdout)


def corpus_findings(labels: CorpusLabels, args: argparse.Namespace) -> list[Finding]:
    root = args.corpus_dir / "src" / labels.corpus
    if args.findings is not None:
        diagnostics = json.loads((args.findings / f"{labels.corpus}.json").read_text())
    else:
        if not root.is_dir():
            raise FileNotFoundError(f"{root} is missing: run bench/realcode/fetch.py first")
        diagnostics = run_nanlint(root, args.nanlint_src)
        if args.save_findings is not None:
            args.save_findings.mkdir(parents=True, exist_ok=True)
            (args.save_findings / f"{labels.corpus}.json").write_text(json.dumps(diagnostics))
    return findings_from_json(labels.corpus, str(root.resolve()), diagnostics)


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--corpus-dir", type=Path, required=True, help="fetch.py's --dest")
    parser.add_argument("--labels", type=Path, default=LABELS_DIR, help="the label files")
    parser.add_argument("--corpus", action="append", help="only this corpus (repeatable)")
    parser.add_argument("--findings", type=Path, help="read <corpus>.json here; run nothing")
    parser.add_argument("--nanlint-src", type=Path, help="run the nanlint in this src/ dir")
    parser.add_argument("--save-findings", type=Path, help="write each run's JSON here")
    output = parser.add_mutually_exclusive_group()
    output.add_argument("--json", action="store_true", help="machine-readable output")
    output.add_argument("--markdown", action="store_true", help="the SUMMARY.md layout")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    labelled = load_labels(args.labels)
    names = args.corpus or sorted(labelled)
    unknown = [name for name in names if name not in labelled]
    if unknown:
        print(f"no labels for: {', '.join(unknown)}", file=sys.stderr)
        return 2
    scores: list[CorpusScore] = []
    for name in names:
        print(f"scoring {name}", file=sys.stderr)
        scores.append(score_corpus(labelled[name], corpus_findings(labelled[name], args)))
    data = summary(scores)
    if args.json:
        print(json.dumps(data, indent=1))
    else:
        print(render_markdown(data) if args.markdown else render_text(data), end="")
    return 0


if __name__ == "__main__":
    sys.exit(main())
