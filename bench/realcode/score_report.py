"""The real-code score: totals, recall by where the ends sit and by capability, every finding."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable

from labels import CAPABILITIES, ENDS, Bug
from matching import CorpusScore, Finding


def ratio(found: int, total: int) -> str:
    return f"{found}/{total} ({100 * found / total:.0f}%)" if total else "0/0"


def recall_by(scores: list[CorpusScore], key: str, order: Iterable[str]) -> dict[str, list[int]]:
    """found and total bugs for each value of the bug's `key` (ends, capability), in order."""
    table = {value: [0, 0] for value in order}
    for score in scores:
        for bug in score.labels.bugs:
            row = table.setdefault(getattr(bug, key), [0, 0])
            row[0] += bug in score.found
            row[1] += 1
    return {value: row for value, row in table.items() if row[1]}


def false_findings(scores: list[CorpusScore]) -> list[tuple[Finding, str, str]]:
    """(finding, "false" / "trap", reason) for the findings judged false or caught by a trap."""
    rows = [(f, "false", v.reason) for s in scores for f, v in s.judged if v.verdict == "false"]
    return rows + [(f, "trap", t.note) for s in scores for f, t in s.trapped]


def summary(scores: list[CorpusScore]) -> dict:
    """Everything the report prints, as plain data (the --json output)."""
    bugs = sum(len(s.labels.bugs) for s in scores)
    found = sum(len(s.found) for s in scores)
    false_rows = false_findings(scores)
    return {
        "recall": {"found": found, "bugs": bugs},
        "by_ends": recall_by(scores, "ends", ENDS),
        "by_capability": recall_by(scores, "capability", CAPABILITIES),
        "traps": {
            "flagged": len({t for s in scores for _, t in s.trapped}),
            "total": sum(len(s.labels.traps) for s in scores),
        },
        "false_by_code": dict(sorted(Counter(f.code for f, _, _ in false_rows).items())),
        "debatable_by_code": dict(
            sorted(
                Counter(
                    f.code for s in scores for f, v in s.judged if v.verdict == "debatable"
                ).items()
            )
        ),
        "corpora": [_corpus_row(score) for score in scores],
        "false": [_finding_row(f) | {"kind": kind, "reason": why} for f, kind, why in false_rows],
        "missed": [_bug_row(bug) for s in scores for bug in s.missed],
        "unlabelled": [_finding_row(f) for s in scores for f in s.unlabelled],
        "skipped": [_finding_row(f) for s in scores for f in s.skipped],
    }


def _corpus_row(score: CorpusScore) -> dict:
    return {
        "corpus": score.corpus,
        "findings": len(score.findings),
        "by_code": dict(sorted(Counter(f.code for f in score.findings).items())),
        "bugs": len(score.labels.bugs),
        "found": len(score.found),
        "traps": len(score.labels.traps),
        "traps_flagged": len({trap for _, trap in score.trapped}),
        "verdicts": len(score.labels.verdicts),
        "unlabelled": len(score.unlabelled),
        "skipped": len(score.skipped),
    }


def _finding_row(finding: Finding) -> dict:
    return {
        "corpus": finding.corpus,
        "path": finding.path,
        "line": finding.line,
        "code": finding.code,
        "message": finding.message,
    }


def _bug_row(bug: Bug) -> dict:
    return {
        "corpus": bug.corpus,
        "path": bug.path,
        "sink": str(bug.sink),
        "codes": list(bug.codes),
        "ends": bug.ends,
        "capability": bug.capability,
        "note": bug.note,
    }


def _where(row: dict) -> str:
    return f"{row['corpus']}/{row['path']}:{row.get('line', row.get('sink'))}"


def render_text(data: dict) -> str:
    """The human report: figures first, then every false, missed and unlabelled item."""
    recall = data["recall"]
    lines = [f"recall: {ratio(recall['found'], recall['bugs'])}"]
    lines.append("by where the ends sit:")
    lines += [f"  {ends:<16} {ratio(*row)}" for ends, row in data["by_ends"].items()]
    lines.append("by capability needed:")
    lines += [
        f"  {cap:<13} {ratio(*row)}  {CAPABILITIES.get(cap, '')}"
        for cap, row in data["by_capability"].items()
    ]
    traps = data["traps"]
    lines.append(f"traps flagged: {traps['flagged']} of {traps['total']}")
    lines.append(f"false findings by code: {_counts(data['false_by_code'])}")
    lines.append(f"debatable findings by code: {_counts(data['debatable_by_code'])}")
    lines.append("")
    lines.append("corpus: findings (by code), bugs found, traps flagged, unlabelled findings")
    for row in data["corpora"]:
        lines.append(
            f"  {row['corpus']}: {row['findings']} ({_counts(row['by_code'])}), "
            f"{row['found']}/{row['bugs']} bugs, {row['traps_flagged']}/{row['traps']} traps, "
            f"{row['unlabelled']} unlabelled"
        )
    sections = (
        ("false findings", data["false"], _false_line),
        ("missed bugs", data["missed"], _missed_line),
        ("findings nobody labelled", data["unlabelled"], _unlabelled_line),
        ("files nanlint skipped", data["skipped"], _unlabelled_line),
    )
    for title, rows, line in sections:
        lines += ["", f"{title} ({len(rows)}):"] + [f"  {line(row)}" for row in rows]
    return "\n".join(lines) + "\n"


def _counts(by_code: dict[str, int]) -> str:
    return ", ".join(f"{code} {count}" for code, count in by_code.items()) or "none"


def _false_line(row: dict) -> str:
    return f"{_where(row)} {row['code']} [{row['kind']}]: {row['reason']}"


def _missed_line(row: dict) -> str:
    return f"{_where(row)} {'/'.join(row['codes'])} [{row['ends']}, {row['capability']}]: {row['note']}"


def _unlabelled_line(row: dict) -> str:
    return f"{_where(row)} {row['code']}: {row['message'][:140]}"


def render_markdown(data: dict) -> str:
    """The layout of findings/SUMMARY.md: tables of figures, misses by capability, false ones."""
    recall = data["recall"]
    traps = data["traps"]
    lines = [
        f"Recall: **{ratio(recall['found'], recall['bugs'])}**; traps flagged: "
        f"**{traps['flagged']} of {traps['total']}**; false findings: "
        f"**{len(data['false'])}** ({_counts(data['false_by_code'])}); debatable: "
        f"{_counts(data['debatable_by_code'])}.",
        "",
        "| where the ends sit | found |",
        "|---|---|",
    ]
    lines += [f"| {ends} | {ratio(*row)} |" for ends, row in data["by_ends"].items()]
    lines += ["", "| capability needed | found |", "|---|---|"]
    lines += [
        f"| {cap} {CAPABILITIES.get(cap, '')} | {ratio(*row)} |"
        for cap, row in data["by_capability"].items()
    ]
    lines += [
        "",
        "| corpus | findings | by code | bugs found | traps flagged | unlabelled |",
        "|---|---|---|---|---|---|",
    ]
    lines += [
        f"| {row['corpus']} | {row['findings']} | {_counts(row['by_code'])} | "
        f"{row['found']}/{row['bugs']} | {row['traps_flagged']}/{row['traps']} | "
        f"{row['unlabelled']} |"
        for row in data["corpora"]
    ]
    lines += ["", "## Missed bugs, by the capability that would find them"]
    for capability, title in CAPABILITIES.items():
        rows = [row for row in data["missed"] if row["capability"] == capability]
        if rows:
            lines += ["", f"### {capability}: {title} ({len(rows)})", ""]
            lines += [
                f"- `{_where(row)}` {'/'.join(row['codes'])} ({row['ends']}): {row['note']}"
                for row in rows
            ]
    lines += ["", f"## False findings ({len(data['false'])})", ""]
    lines += [
        f"- `{_where(row)}` {row['code']} [{row['kind']}]: {row['reason']}" for row in data["false"]
    ]
    lines += ["", f"## Findings nobody labelled ({len(data['unlabelled'])})", ""]
    lines += [
        f"- `{_where(row)}` {row['code']}: {row['message'][:140]}" for row in data["unlabelled"]
    ]
    lines += ["", f"## Files nanlint skipped ({len(data['skipped'])})", ""]
    lines += [f"- `{_where(row)}`: {row['message']}" for row in data["skipped"]]
    return "\n".join(lines) + "\n"
