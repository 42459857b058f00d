"""Hand labels of one corpus: real bugs, traps (near-misses that must stay silent), verdicts.

One TOML file per corpus under labels/, named after the corpus directory. Locations are
paths relative to the corpus root and 1-based lines; text is a paraphrase, never code:

    [[bug]]                        # a real numerical bug nanlint should find
    path = "pkg/losses.py"
    sink = 120                     # the sink call's line, or [first, last] for a call over lines
    producer = 88                  # where the probability / exp is made (producer_path if
    producer_path = "pkg/model.py" # in another file)
    codes = ["NAN101"]             # rule codes that would be right
    ends = "other-file"            # see ENDS
    capability = "3"               # see CAPABILITIES: what it takes to see it
    note = "discriminator ends in a sigmoid layer; trainer feeds it to BCELoss"

    [[trap]]                       # a near-miss: no finding (of `codes`, or of any code) here
    path = "pkg/losses.py"
    line = 40                      # or [first, last]
    codes = []
    note = "log of a softmax that is clamped from below first"

    [[verdict]]                    # a finding that is not a bug above: false or debatable
    path = "pkg/audio.py"
    line = 77
    code = "NAN601"
    verdict = "false"              # "false" or "debatable"
    reason = "STFT magnitude for features; no gradient flows"
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import tomllib

LABELS_DIR = Path(__file__).with_name("labels")

ENDS = ("same-expression", "same-function", "same-class", "same-file", "other-file", "runtime-only")
CAPABILITIES = {
    "core": "already modelled by the analysis",
    "1": "exp/log algebra",
    "2": "torch API coverage",
    "3": "object state beyond __init__",
    "4": "containers and module structure",
    "5": "epsilons and constants",
    "6": "joins",
    "7": "precision",
    "runtime-only": "decided only at run time (configuration, registry, user input)",
}
VERDICTS = ("false", "debatable")


@dataclass(frozen=True)
class Span:
    first: int
    last: int

    def __contains__(self, line: int) -> bool:
        return self.first <= line <= self.last

    def __str__(self) -> str:
        return str(self.first) if self.first == self.last else f"{self.first}-{self.last}"


@dataclass(frozen=True)
class Bug:
    corpus: str
    path: str
    sink: Span
    codes: tuple[str, ...]
    ends: str
    capability: str
    note: str
    producer: int | None = None
    producer_path: str | None = None


@dataclass(frozen=True)
class Trap:
    corpus: str
    path: str
    lines: Span
    codes: tuple[str, ...]  # empty: any code
    note: str


@dataclass(frozen=True)
class Verdict:
    corpus: str
    path: str
    lines: Span
    code: str
    verdict: str
    reason: str


@dataclass(frozen=True)
class CorpusLabels:
    corpus: str
    bugs: tuple[Bug, ...]
    traps: tuple[Trap, ...]
    verdicts: tuple[Verdict, ...]


class LabelError(ValueError):
    """A label file that does not follow the format above."""


def span(value: int | list[int], where: str) -> Span:
    if isinstance(value, int):
        return Span(value, value)
    if isinstance(value, list) and len(value) == 2 and value[0] <= value[1]:
        return Span(value[0], value[1])
    raise LabelError(f"{where}: a line is an integer or [first, last], not {value!r}")


def parse_labels(corpus: str, text: str) -> CorpusLabels:
    data = tomllib.loads(text)
    bugs = []
    for index, entry in enumerate(data.get("bug", []), 1):
        where = f"{corpus}: bug {index}"
        if entry["ends"] not in ENDS:
            raise LabelError(f"{where}: ends must be one of {ENDS}, not {entry['ends']!r}")
        if entry["capability"] not in CAPABILITIES:
            raise LabelError(f"{where}: unknown capability {entry['capability']!r}")
        bugs.append(
            Bug(
                corpus=corpus,
                path=entry["path"],
                sink=span(entry["sink"], where),
                codes=tuple(entry["codes"]),
                ends=entry["ends"],
                capability=entry["capability"],
                note=entry["note"],
                producer=entry.get("producer"),
                producer_path=entry.get("producer_path"),
            )
        )
    traps = tuple(
        Trap(
            corpus,
            entry["path"],
            span(entry["line"], f"{corpus}: trap"),
            tuple(entry.get("codes", ())),
            entry["note"],
        )
        for entry in data.get("trap", [])
    )
    verdicts = []
    for entry in data.get("verdict", []):
        if entry["verdict"] not in VERDICTS:
            raise LabelError(f"{corpus}: verdict must be one of {VERDICTS}: {entry!r}")
        verdicts.append(
            Verdict(
                corpus,
                entry["path"],
                span(entry["line"], f"{corpus}: verdict"),
                entry["code"],
                entry["verdict"],
                entry["reason"],
            )
        )
    return CorpusLabels(corpus, tuple(bugs), traps, tuple(verdicts))


def load_labels(directory: Path = LABELS_DIR) -> dict[str, CorpusLabels]:
    """Every labelled corpus, by name (the label file's stem)."""
    return {
        path.stem: parse_labels(path.stem, path.read_text(encoding="utf-8"))
        for path in sorted(directory.glob("*.toml"))
    }
