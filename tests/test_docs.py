"""The generated rule pages are up to date with the rule modules, and embed their plots."""

from __future__ import annotations

import re

import pytest

from conftest import ROOT
from nanlint.docs import fix_summary, pages
from nanlint.rules import ALL_RULES

RULES = ROOT / "rules"


@pytest.fixture(scope="module")
def generated(reproduced):
    return pages(reproduced)


def test_rule_pages_are_not_stale(generated):
    stale = [
        name
        for name, text in generated.items()
        if not (RULES / name).exists() or (RULES / name).read_text() != text
    ]
    assert stale == [], "regenerate with: python scripts/generate_rule_pages.py"


@pytest.mark.parametrize("rule", ALL_RULES, ids=[r.code for r in ALL_RULES])
def test_each_page_embeds_its_committed_plot(generated, rule):
    page = generated[f"{rule.code}.md"]
    section = page.split("## Reproduction\n", 1)[1]
    assert re.match(rf"\n!\[{rule.code} reproduction: [^\]]+\]\(img/{rule.code}\.png\)", section)
    assert f"([SVG](img/{rule.code}.svg))" in section
    for extension, signature in (("png", b"\x89PNG\r\n\x1a\n"), ("svg", b"<?xml")):
        image = RULES / "img" / f"{rule.code}.{extension}"
        assert image.is_file(), "regenerate with: python scripts/generate_rule_pages.py"
        assert image.read_bytes().startswith(signature)


def test_no_image_without_a_rule():
    names = {path.name for path in (RULES / "img").iterdir()}
    assert names == {f"{rule.code}.{ext}" for rule in ALL_RULES for ext in ("png", "svg")}


def test_the_fix_column_shows_what_the_rules_examples_fix():
    assert fix_summary("NAN101") == "sometimes available (safe or unsafe)"
    assert fix_summary("NAN102") == "sometimes available (unsafe)"
    assert fix_summary("NAN203") == "sometimes available (safe or unsafe)"
    assert fix_summary("NAN204") == "sometimes available (safe)"
    assert fix_summary("NAN501") == "display-only (never applied)"


def test_torch_api_page_is_not_stale():
    from nanlint.analysis.coverage import markdown

    page = ROOT / "docs" / "torch-api.md"
    assert page.read_text() == markdown(), "regenerate with: python scripts/generate_api_page.py"
