"""Runtime findings in `check`'s output formats.

A finding becomes a Diagnostic at its sink with the producer as its related location, so that
every writer of nanlint.output prints it; the machine formats also carry what the guard saw on
the values: json and json-lines an `observed` member (with `count`, `ranks` and `test`), sarif
the same as the result's `properties`.
"""

from __future__ import annotations

import json
from pathlib import Path

from nanlint.catalog import DOCS_URL
from nanlint.diagnostics import Diagnostic, Related
from nanlint.guard.findings import Location, RuntimeFinding
from nanlint.output import RunSummary
from nanlint.output.formats import formatter
from nanlint.source import DecodeError, Position, SourceFile, Span


def render(findings: list[RuntimeFinding], output_format: str, cwd: Path | None = None) -> str:
    """The findings in `output_format` (a name of `--output-format`), sorted by sink."""
    ordered = sorted(findings, key=lambda f: (f.sink.path, f.sink.line, f.sink.column, f.code))
    diagnostics = [as_diagnostic(finding) for finding in ordered]
    summary = RunSummary(False, 0, cwd or Path.cwd(), _sources(ordered))
    text = formatter(output_format)(diagnostics, summary)
    if output_format == "json":
        items = json.loads(text)
        return json.dumps([_with_evidence(i, f) for i, f in zip(items, ordered)], indent=2) + "\n"
    if output_format == "json-lines":
        items = [json.loads(line) for line in text.splitlines()]
        return "".join(json.dumps(_with_evidence(i, f)) + "\n" for i, f in zip(items, ordered))
    if output_format == "sarif":
        log = json.loads(text)
        for result, finding in zip(log["runs"][0]["results"], ordered):
            result["properties"] = evidence(finding)
        return json.dumps(log, indent=2) + "\n"
    return text


def as_diagnostic(finding: RuntimeFinding) -> Diagnostic:
    producer = finding.producer
    related = (
        ()
        if producer is None
        else (Related(Path(producer.path), _span(producer), _produced(producer)),)
    )
    return Diagnostic(
        finding.code,
        finding.message + _seen(finding),
        Path(finding.sink.path),
        _span(finding.sink),
        related=related,
        url=DOCS_URL.format(code=finding.code),
    )


def evidence(finding: RuntimeFinding) -> dict:
    """What the guard measured, how often the finding was seen, where (ranks, test)."""
    return {
        "observed": finding.observed,
        "count": finding.count,
        "ranks": list(finding.ranks),
        "test": finding.test,
    }


def _with_evidence(item: dict, finding: RuntimeFinding) -> dict:
    return {**item, **evidence(finding)}


def _seen(finding: RuntimeFinding) -> str:
    """` (seen 3 times, on ranks 0 and 1, first in test_x)`, or nothing for a single sighting."""
    parts = []
    if finding.count > 1:
        parts.append(f"seen {finding.count} times")
    if finding.ranks:
        ranks = [str(rank) for rank in finding.ranks]
        listed = ranks[0] if len(ranks) == 1 else f"{', '.join(ranks[:-1])} and {ranks[-1]}"
        parts.append(f"on rank{'s' if len(ranks) > 1 else ''} {listed}")
    if finding.test:
        parts.append(f"first in {finding.test}")
    return f" ({', '.join(parts)})" if parts else ""


def _produced(producer: Location) -> str:
    where = f" in `{producer.function}`" if producer.function else ""
    return f"the value was produced here{where}"


def _span(location: Location) -> Span:
    start = Position(location.line, location.column)
    return Span(start, start)


def _sources(findings: list[RuntimeFinding]) -> dict[Path, SourceFile]:
    """The sink files that can still be read, for the source line under each finding."""
    sources = {}
    for path in {Path(finding.sink.path) for finding in findings}:
        try:
            sources[path] = SourceFile.from_bytes(path, path.read_bytes())
        except (OSError, DecodeError):
            continue
    return sources
