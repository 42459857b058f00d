"""Match nanlint's findings on a corpus to its labels.

The rule: a finding matches a label when it is in the same file (path relative to the corpus
root) and its line (the row nanlint reports, which is on the sink call) lies within the
label's lines: a bug's `sink` span, a trap's or a verdict's `line` span. A bug also needs the
finding's code among its `codes`, a verdict the same code; a trap with no codes catches any
code. A finding is tried against bugs first, then traps, then verdicts; the first label that
matches it classifies it (a trap flagged is a false finding even when a verdict names it).
A bug with several findings on it counts once. A file nanlint skipped (its code-less
diagnostic) is listed apart and never matched.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import PurePosixPath

from labels import Bug, CorpusLabels, Trap, Verdict

SKIPPED = "skipped"  # nanlint's code-less diagnostic: a file it could not analyse


@dataclass(frozen=True)
class Finding:
    corpus: str
    path: str  # relative to the corpus root, with "/"
    line: int
    code: str
    message: str


@dataclass
class CorpusScore:
    corpus: str
    labels: CorpusLabels
    findings: list[Finding]
    found: dict[Bug, list[Finding]] = field(default_factory=dict)
    judged: list[tuple[Finding, Verdict]] = field(default_factory=list)
    trapped: list[tuple[Finding, Trap]] = field(default_factory=list)
    unlabelled: list[Finding] = field(default_factory=list)
    skipped: list[Finding] = field(default_factory=list)  # files nanlint could not analyse

    @property
    def missed(self) -> list[Bug]:
        return [bug for bug in self.labels.bugs if bug not in self.found]


def relative_path(filename: str, corpus_root: str) -> str:
    """nanlint's filename (absolute, or relative to the corpus root) relative to the root."""
    path = PurePosixPath(filename.replace("\\", "/"))
    root = PurePosixPath(corpus_root.replace("\\", "/"))
    if path.is_absolute() and path.is_relative_to(root):
        path = path.relative_to(root)
    parts = [part for part in path.parts if part != "."]
    return str(PurePosixPath(*parts))


def findings_from_json(corpus: str, corpus_root: str, diagnostics: Iterable[dict]) -> list[Finding]:
    """nanlint's `--output-format json` diagnostics as findings."""
    return [
        Finding(
            corpus=corpus,
            path=relative_path(diagnostic["filename"], corpus_root),
            line=diagnostic["location"]["row"],
            code=diagnostic["code"] or SKIPPED,
            message=diagnostic["message"],
        )
        for diagnostic in diagnostics
    ]


def _matching_bug(finding: Finding, bugs: Iterable[Bug]) -> Bug | None:
    for bug in bugs:
        if bug.path == finding.path and finding.code in bug.codes and finding.line in bug.sink:
            return bug
    return None


def _matching_verdict(finding: Finding, verdicts: Iterable[Verdict]) -> Verdict | None:
    for verdict in verdicts:
        same_place = verdict.path == finding.path and finding.line in verdict.lines
        if same_place and verdict.code == finding.code:
            return verdict
    return None


def _matching_trap(finding: Finding, traps: Iterable[Trap]) -> Trap | None:
    for trap in traps:
        code_caught = not trap.codes or finding.code in trap.codes
        if trap.path == finding.path and finding.line in trap.lines and code_caught:
            return trap
    return None


def score_corpus(labels: CorpusLabels, findings: list[Finding]) -> CorpusScore:
    score = CorpusScore(labels.corpus, labels, findings)
    for finding in findings:
        if finding.code == SKIPPED:
            score.skipped.append(finding)
        elif bug := _matching_bug(finding, labels.bugs):
            score.found.setdefault(bug, []).append(finding)
        elif trap := _matching_trap(finding, labels.traps):
            score.trapped.append((finding, trap))
        elif verdict := _matching_verdict(finding, labels.verdicts):
            score.judged.append((finding, verdict))
        else:
            score.unlabelled.append(finding)
    return score
