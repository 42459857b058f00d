"""The generated rule pages are up to date with the rule modules."""

from __future__ import annotations

from conftest import ROOT
from nanlint.docs import pages


def test_rule_pages_are_not_stale():
    stale = [
        name
        for name, text in pages().items()
        if not (ROOT / "rules" / name).exists() or (ROOT / "rules" / name).read_text() != text
    ]
    assert stale == [], "regenerate with: python scripts/generate_rule_pages.py"
