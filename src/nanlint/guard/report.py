"""Runtime findings in `check`'s output formats.

A finding becomes a Diagnostic at its sink with the producer as its related location, so that
every writer of nanlint.output prints it; the machine formats also carry what the guard saw on
the values: json and json-lines an `observed` member (with `count`, `ranks` and `test`), sarif
the same as the result's `properties`.
"""

from __future__ import annotations

import ast
import json
from pathlib import Path

from nanlint.diagnostics import Diagnostic, Related
from nanlint.guard.findings import Location, RuntimeFinding
from nanlint.messages import head
from nanlint.output import RunSummary
from nanlint.output.formats import formatter
from nanlint.source import DecodeError, Position, SourceFile, Span


def render(findings: list[RuntimeFinding], output_format: str, cwd: Path | None = None) -> str:
    """The findings in `output_format` (a name of `--output-format`), sorted by sink."""
    ordered = sorted(findings, key=lambda f: (f.sink.path, f.sink.line, f.sink.column, f.code))
    sources = _sources(ordered)
    calls = {path: _calls(source.text) for path, source in sources.items()}
    diagnostics = [as_diagnostic(finding, calls) for finding in ordered]
    summary = RunSummary(False, 0, cwd or Path.cwd(), sources)
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


def as_diagnostic(finding: RuntimeFinding, calls: dict[Path, dict] | None = None) -> Diagnostic:
    """The finding at its sink, its producer as the related location; `calls` (each file's
    call extents) makes a location's span cover the call that starts there."""
    calls = calls or {}
    producer = finding.producer
    related = ()
    if producer is not None:
        path = Path(producer.path)
        related = (Related(path, _span(producer, calls.get(path)), _produced(producer)),)
    sink = Path(finding.sink.path)
    return Diagnostic(
        finding.code,
        _with_sightings(finding),
        sink,
        _span(finding.sink, calls.get(sink)),
        related=related,
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


def _with_sightings(finding: RuntimeFinding) -> str:
    """The message with its sightings at the end of what-reaches-what, so that the short
    message keeps them too: `... reach `nn.BCELoss`, seen 3 times, on ranks 0 and 1: ...`."""
    what = head(finding.message)
    return what + _seen(finding) + finding.message[len(what) :]


def _seen(finding: RuntimeFinding) -> str:
    """`, seen 3 times, on ranks 0 and 1, first in test_x`, or nothing for a single sighting."""
    parts = []
    if finding.count > 1:
        parts.append(f"seen {finding.count} times")
    if finding.ranks:
        ranks = [str(rank) for rank in finding.ranks]
        listed = ranks[0] if len(ranks) == 1 else f"{', '.join(ranks[:-1])} and {ranks[-1]}"
        parts.append(f"on rank{'s' if len(ranks) > 1 else ''} {listed}")
    if finding.test:
        parts.append(f"first in {finding.test}")
    return "".join(f", {part}" for part in parts)


def _produced(producer: Location) -> str:
    where = f" in `{producer.function}`" if producer.function else ""
    return f"the value was produced here{where}"


def _span(location: Location, calls: dict | None) -> Span:
    """From the location to the end of the call that starts there (else the location only)."""
    start = (location.line, location.column)
    end = (calls or {}).get(start, start)
    return Span(Position(*start), Position(*end))


def _calls(text: str) -> dict[tuple[int, int], tuple[int, int]]:
    """Where each call starts -> where it ends (1-based columns); the outermost of calls that
    start at the same place (`nn.BCELoss()(p, y)`)."""
    try:
        tree = ast.parse(text)
    except (SyntaxError, ValueError):
        return {}
    extents: dict[tuple[int, int], tuple[int, int]] = {}
    for node in ast.walk(tree):
        if isinstance(node, ast.Call) and node.end_lineno is not None:
            start = (node.lineno, node.col_offset + 1)
            extents.setdefault(start, (node.end_lineno, (node.end_col_offset or 0) + 1))
    return extents


def _sources(findings: list[RuntimeFinding]) -> dict[Path, SourceFile]:
    """The files of the findings that can still be read: source lines and call extents."""
    paths = {Path(finding.sink.path) for finding in findings}
    paths |= {Path(finding.producer.path) for finding in findings if finding.producer}
    sources = {}
    for path in paths:
        try:
            sources[path] = SourceFile.from_bytes(path, path.read_bytes())
        except (OSError, DecodeError):
            continue
    return sources
