"""The targets of the performance issue, and the Markdown and JSON reports of a run."""

from __future__ import annotations

from dataclasses import asdict, dataclass

from measure import median_seconds, peak_mb
from results import (
    NANLINT_COLD,
    NANLINT_ONE_FILE,
    NANLINT_WARM,
    RUFF_ALL,
    RUFF_DEFAULT,
    TORCHFIX,
    CorpusResult,
)

TARGETS_NOTE = (
    "The targets are stated for transformers (the TorchFix one for timm);"
    " the other corpora's verdicts are for reference."
)


@dataclass(frozen=True)
class Verdict:
    corpus: str
    target: str
    measured: str
    limit: str
    passed: bool


def verdicts(result: CorpusResult) -> list[Verdict]:
    """Each target whose runs were measured on this corpus, met or not."""
    cold, warm = result.median(NANLINT_COLD), result.median(NANLINT_WARM)
    ruff_all, ruff_default = result.median(RUFF_ALL), result.median(RUFF_DEFAULT)
    one_file, memory = result.median(NANLINT_ONE_FILE), result.nanlint_peak_mb()
    rows = [
        _ratio(result.name, "cold nanlint / ruff --select ALL", cold, ruff_all, 1),
        _ratio(result.name, "TorchFix / cold nanlint", result.median(TORCHFIX), cold, 50, False),
        _ratio(result.name, "warm nanlint / ruff default rules", warm, ruff_default, 0.25),
        _below(result.name, "one changed file, wall time", one_file, 0.6, "s"),
        _below(result.name, "nanlint peak memory", memory, 400, "MB"),
        _same_diagnostics(result.name, result.one_file_correct),
    ]
    return [row for row in rows if row is not None]


def _ratio(
    corpus: str,
    target: str,
    numerator: float | None,
    denominator: float | None,
    limit: float,
    at_most: bool = True,
) -> Verdict | None:
    if numerator is None or denominator is None:
        return None
    ratio = numerator / denominator
    passed = ratio <= limit if at_most else ratio >= limit
    bound = f"{'<=' if at_most else '>='} {limit:g}x"
    return Verdict(corpus, target, times(ratio), bound, passed)


def _below(
    corpus: str, target: str, value: float | None, limit: float, unit: str
) -> Verdict | None:
    if value is None:
        return None
    shown = f"{value:.2f} s" if unit == "s" else f"{value:.0f} {unit}"
    return Verdict(corpus, target, shown, f"< {limit:g} {unit}", value < limit)


def _same_diagnostics(corpus: str, same: bool | None) -> Verdict | None:
    if same is None:
        return None
    target = "one changed file, diagnostics as in the full run"
    return Verdict(corpus, target, "same" if same else "different", "same", same)


def times(ratio: float) -> str:
    """A ratio as `0.42x`, or `57x` from 10 up."""
    return f"{ratio:.0f}x" if ratio >= 10 else f"{ratio:.2f}x"


def markdown_table(header: list[str], rows: list[list[str]]) -> str:
    lines = [header, ["---"] * len(header), *rows]
    return "\n".join("| " + " | ".join(cells) + " |" for cells in lines)


def runs_table(result: CorpusResult) -> str:
    rows = [
        [
            label,
            f"{median_seconds(runs):.2f}",
            f"{min(m.seconds for m in runs):.2f}",
            f"{max(m.seconds for m in runs):.2f}",
            str(len(runs)),
            f"{peak_mb(runs):.0f}",
        ]
        for label, runs in result.runs.items()
    ]
    return markdown_table(["run", "median s", "min s", "max s", "runs", "peak MB"], rows)


def targets_table(results: list[CorpusResult]) -> str:
    rows = [
        [v.corpus, v.target, v.measured, v.limit, "PASS" if v.passed else "FAIL"]
        for result in results
        for v in verdicts(result)
    ]
    return markdown_table(["corpus", "target", "measured", "limit", "verdict"], rows)


def markdown(environment: dict[str, str], warnings: list[str], results: list[CorpusResult]) -> str:
    parts = ["\n".join(f"- {key}: {value}" for key, value in environment.items())]
    if warnings:
        parts.append("\n".join(f"- warning: {warning}" for warning in warnings))
    for result in results:
        parts.append(f"### {result.name} {result.version} ({result.files} files)")
        parts.append(runs_table(result))
    parts += ["### Targets", targets_table(results), TARGETS_NOTE]
    return "\n\n".join(parts) + "\n"


def as_json(environment: dict[str, str], warnings: list[str], results: list[CorpusResult]) -> dict:
    return {
        "environment": environment,
        "warnings": warnings,
        "corpora": [
            {
                "name": result.name,
                "version": result.version,
                "files": result.files,
                "runs": {
                    label: {
                        "command": result.commands[label],
                        "median_s": median_seconds(runs),
                        "peak_mb": peak_mb(runs),
                        "each": [asdict(m) for m in runs],
                    }
                    for label, runs in result.runs.items()
                },
                "one_file_correct": result.one_file_correct,
                "targets": [asdict(v) for v in verdicts(result)],
            }
            for result in results
        ],
    }
