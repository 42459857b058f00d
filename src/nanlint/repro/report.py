"""The evidence of a reproduction, as a terminal report and as Markdown for the rule pages."""

from __future__ import annotations

import math

from nanlint.repro.harness import Evidence, Result

_COLUMNS = (
    ("unstable value", "unstable_value", "unstable_value"),
    ("unstable grad", "unstable_grad", "unstable_grad"),
    ("stable value", "stable_value", "stable_value"),
    ("stable grad", "stable_grad", "stable_grad"),
    ("float64 value", "reference_value", None),
    ("float64 grad", "reference_grad", None),
)

LEGEND = (
    "`*` marks a wrong result: not finite, zero where the true value is not, or off from the"
    " float64 reference by more than the dtype's relative tolerance (1e-3 in float32, 2^-6 in"
    " bfloat16, 2^-9 in float16) plus a few units in the last place (of max(1, m) for values,"
    " of 1 for gradients)."
)


def number(value: float) -> str:
    if math.isnan(value):
        return "nan"
    if math.isinf(value):
        return "inf" if value > 0 else "-inf"
    return f"{value:.4g}"


def rows(evidence: Evidence) -> list[list[str]]:
    table = []
    for magnitude in evidence.scenario.rows:
        index = evidence.index(magnitude)
        cells = [evidence.dtype, number(evidence.m[index])]
        for _, series, wrong in _COLUMNS:
            cell = number(evidence.series[series][index])
            if wrong is not None and evidence.wrong[wrong][index]:
                cell += " *"
            cells.append(cell)
        table.append(cells)
    return table


def verdict(result: Result) -> str:
    return "CONFIRMED" if result.confirmed else "NOT CONFIRMED"


def _first_breaks(result: Result) -> list[str]:
    lines = []
    for evidence in result.evidence:
        unstable = evidence.first_wrong("unstable")
        stable = evidence.first_wrong("stable")
        lines.append(
            f"{evidence.scenario.name}, {evidence.dtype}: unstable form wrong from m ="
            f" {number(unstable) if unstable is not None else 'never'};"
            f" stable form wrong {'from m = ' + number(stable) if stable is not None else 'nowhere'}"
        )
    return lines


def terminal(result: Result) -> str:
    reproduction = result.reproduction
    header = ["dtype", "m", *(title for title, _, _ in _COLUMNS)]
    out = [f"{result.code}: {reproduction.unstable_label}  vs  {reproduction.stable_label}"]
    for scenario in reproduction.scenarios:
        out.append(f"  {scenario.name}")
        table = [header] + [
            row for e in result.evidence if e.scenario is scenario for row in rows(e)
        ]
        widths = [max(len(row[i]) for row in table) for i in range(len(header))]
        for row in table:
            out.append("    " + "  ".join(cell.rjust(width) for cell, width in zip(row, widths)))
    out.extend(f"  {line}" for line in _first_breaks(result))
    for claim in result.claims:
        mark = "ok" if claim.ok else "FAILED"
        out.append(f"  claim: {claim.claim.text} (measured {claim.measured}): {mark}")
    if result.fix is not None:
        out.append(f"  fix executed on the rule's example: {'ok' if result.fix.ok else 'FAILED'}")
        out.extend(f"    {line}" for line in result.fix.lines)
    out.append(f"  {verdict(result)}")
    return "\n".join(out) + "\n"


def markdown(result: Result, torch_version: str) -> str:
    reproduction = result.reproduction
    out = [
        f"`{reproduction.unstable_label}` against `{reproduction.stable_label}`, run by"
        f" `nanlint repro {result.code}` (torch {torch_version}, CPU), each against the stable"
        " form evaluated in float64 on the same inputs. Gradients are with respect to the"
        " input m. " + LEGEND,
        "",
    ]
    header = ["dtype", "m", *(title for title, _, _ in _COLUMNS)]
    for scenario in reproduction.scenarios:
        out.append(f"**{scenario.name[:1].upper() + scenario.name[1:]}**")
        out.append("")
        out.append("| " + " | ".join(header) + " |")
        out.append("|" + "---|" * len(header))
        for evidence in (e for e in result.evidence if e.scenario is scenario):
            for row in rows(evidence):
                out.append("| " + " | ".join(cell.replace("*", "\\*") for cell in row) + " |")
        out.append("")
    out.extend(f"- {line}" for line in _first_breaks(result))
    out.extend(f"- {claim.claim.text} (measured: {claim.measured})" for claim in result.claims)
    if result.fix is not None:
        out.append("- The fix, executed on the example above:")
        out.extend(f"  - {line}" for line in result.fix.lines)
    out.append("")
    out.append(f"Verdict: **{verdict(result)}**.")
    return "\n".join(out) + "\n"
