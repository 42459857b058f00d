"""What one corpus's benchmark measured, by run label."""

from __future__ import annotations

from dataclasses import dataclass, field

from measure import Measurement, median_seconds, peak_mb

RUFF_ALL = "ruff --select ALL"
RUFF_DEFAULT = "ruff (default rules)"
NANLINT_COLD = "nanlint cold"
NANLINT_WARM = "nanlint warm"
NANLINT_ONE_FILE = "nanlint one changed file"
TORCHFIX = "TorchFix"
NANLINT_RUNS = (NANLINT_COLD, NANLINT_WARM, NANLINT_ONE_FILE)


@dataclass
class CorpusResult:
    name: str
    version: str
    files: int
    commands: dict[str, list[str]] = field(default_factory=dict)  # label -> command line
    runs: dict[str, list[Measurement]] = field(default_factory=dict)  # label -> measurements
    one_file_correct: bool | None = None  # its diagnostics equal the full run's for that file

    def median(self, label: str) -> float | None:
        return median_seconds(self.runs[label]) if self.runs.get(label) else None

    def nanlint_peak_mb(self) -> float | None:
        peaks = [peak_mb(self.runs[label]) for label in NANLINT_RUNS if self.runs.get(label)]
        return max(peaks, default=None)
