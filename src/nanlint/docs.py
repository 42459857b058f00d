"""A rule's reference text, as printed by `nanlint rule` and written to rules/<CODE>.md."""

from __future__ import annotations

from typing import TYPE_CHECKING

from nanlint.fixes import FixAvailability
from nanlint.rules import ALL_RULES, get_rule
from nanlint.rules.base import Rule
from nanlint.selection import CATALOG, META_CODES, UNUSED_NOQA, MetaCode

if TYPE_CHECKING:
    from nanlint.repro.harness import Result

IMAGES = "img"  # the rule pages' pictures, under rules/

_AVAILABILITY = {
    FixAvailability.ALWAYS: "always available",
    FixAvailability.SOMETIMES: "sometimes available",
    FixAvailability.DISPLAY_ONLY: "display-only (never applied)",
    FixAvailability.NONE: "not available",
}


def availability(rule: Rule) -> str:
    return _AVAILABILITY[rule.fix_availability]


# The codes nanlint reports itself (no rule module): their fix summary and reference text.
_META_FIX = {UNUSED_NOQA: "always available (safe)"}
_META_PAGES = {
    UNUSED_NOQA: """\
## What it does

Finds a `# noqa: NANxxx` comment whose code suppresses nothing on its line: the rule is
enabled and reports nothing there, or the code names no rule (`NAN999`). Codes of other tools
(`E501`, `F401`) are never reported, nor a code that a file-level `# nanlint: noqa` already
suppresses.

## Why is this bad?

A stale suppression hides the next real finding on that line: when the code changes and the
problem comes back, nobody sees it.

## Example

```python
loss = F.binary_cross_entropy_with_logits(z, y)  # noqa: E501, NAN101
```

## Use instead

```python
loss = F.binary_cross_entropy_with_logits(z, y)  # noqa: E501
```

## Fix safety

Safe: the fix removes only the unused NAN codes, the whole comment when nothing else is in it,
and never another tool's code.
"""
}


def reference_of(code: str) -> str | None:
    """The reference text of a rule or a meta code (NAN001), None for an unknown code."""
    rule = get_rule(code)
    if rule is not None:
        return reference(rule)
    meta = next((entry for entry in META_CODES if entry.code == code.upper()), None)
    return None if meta is None else meta_reference(meta)


def meta_reference(entry: MetaCode) -> str:
    return (
        f"# {entry.code} {entry.name}\n\n{entry.summary}. Fix: {_META_FIX[entry.code]}.\n\n"
        + _META_PAGES[entry.code]
    )


def reference(rule: Rule, reproduction: str | None = None) -> str:
    """The Markdown reference page; `reproduction` is the rendered evidence, if any."""
    doc = rule.doc
    example = rule.invalid[0]
    improved = example.fixed or example.unsafe_fixed
    sections = [
        f"# {rule.code} {rule.name}",
        "",
        f"{rule.summary}. Fix: {availability(rule)}."
        + (
            ""
            if rule.default_enabled
            else " Off by default: enable it with `--select " + rule.code + "`."
        ),
        "",
        "## What it does",
        "",
        doc.what,
        "",
        "## Why is this bad?",
        "",
        doc.why,
        "",
        "## Example",
        "",
        "```python",
        example.code.rstrip("\n"),
        "```",
        "",
    ]
    if improved is not None:
        sections += ["## Use instead", "", "```python", improved.rstrip("\n"), "```", ""]
    sections += ["## Fix safety", "", doc.fix_safety, ""]
    if reproduction is not None:
        sections += ["## Reproduction", "", plot_embed(rule), "", reproduction.rstrip("\n"), ""]
    else:
        sections += ["## Reproduction", "", f"Run `nanlint repro {rule.code}` (needs torch).", ""]
    sections += ["## References", "", *(f"- <{url}>" for url in doc.references), ""]
    return "\n".join(sections)


def plot_embed(rule: Rule) -> str:
    """The page's picture of its reproduction (drawn by `nanlint repro CODE --plot rules/img`)."""
    return (
        f"![{rule.code} reproduction: value and gradient of the unstable and the stable form"
        f" against the float64 reference]({IMAGES}/{rule.code}.png)\n\n"
        "The value (top) and the gradient (bottom) of both forms over the input magnitude m, on"
        " the same axes as the float64 reference: the shading marks where the unstable form is"
        " wrong, the dotted lines the measured breaking points listed below"
        f" ([SVG]({IMAGES}/{rule.code}.svg))."
    )


def reproductions() -> dict[str, Result]:
    """Every rule's reproduction, by code (needs torch)."""
    from nanlint.repro.rules import reproduce

    return {rule.code: reproduce(rule) for rule in ALL_RULES}


def pages(results: dict[str, Result]) -> dict[str, str]:
    """Every generated page under rules/, by file name, from `reproductions()`."""
    from nanlint.repro.report import markdown
    from nanlint.repro.rules import torch_version

    version = torch_version()
    generated = {
        f"{rule.code}.md": reference(rule, markdown(results[rule.code], version))
        for rule in ALL_RULES
    }
    generated.update({f"{entry.code}.md": meta_reference(entry) for entry in META_CODES})
    generated["README.md"] = index()
    return generated


def index() -> str:
    """rules/README.md: the rule table."""
    lines = [
        "# Rules",
        "",
        "Generated by `python scripts/generate_rule_pages.py`; do not edit by hand.",
        "",
        rule_table(""),
    ]
    return "\n".join(lines)


def rule_table(pages: str) -> str:
    """The Markdown table of every code; `pages` is the path from the table to rules/."""
    lines = ["| code | name | what it flags | fix |", "|---|---|---|---|"]
    for entry in CATALOG:
        default = "" if entry.default_enabled else " (off by default)"
        lines.append(
            f"| [{entry.code}]({pages}{entry.code}.md) | {entry.name} | {entry.summary}{default}"
            f" | {fix_summary(entry.code)} |"
        )
    return "\n".join(lines) + "\n"


def fix_summary(code: str) -> str:
    """Availability, and the applicabilities the rule's (tested) invalid examples show."""
    rule = get_rule(code)
    if rule is None:
        return _META_FIX[code]
    safe = any(example.fixed is not None for example in rule.invalid)
    unsafe = any(example.unsafe_fixed not in (None, example.fixed) for example in rule.invalid)
    kinds = " or ".join(kind for kind, shown in (("safe", safe), ("unsafe", unsafe)) if shown)
    return f"{availability(rule)} ({kinds})" if kinds else availability(rule)


TABLE_START, TABLE_END = "<!-- rule table: start -->\n", "<!-- rule table: end -->"


def with_rule_table(readme: str) -> str:
    """The project README with its rule table (between the markers) regenerated."""
    before, rest = readme.split(TABLE_START, 1)
    _, after = rest.split(TABLE_END, 1)
    return f"{before}{TABLE_START}{rule_table('rules/')}{TABLE_END}{after}"
