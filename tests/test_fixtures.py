"""The fixtures under fixtures/ against golden diagnostics and golden fixed files.

Set NANLINT_UPDATE_GOLDEN=1 to rewrite the golden files (then read the diff before committing).
"""

from __future__ import annotations

from pathlib import Path

import pytest

from conftest import GOLDEN, ROOT, compare_golden
from nanlint.engine import lint, lint_and_fix
from nanlint.rules import ALL_RULES
from nanlint.source import SourceFile

FIXTURES = sorted((ROOT / "fixtures").rglob("*.py"))


def _golden(path: Path, suffix: str) -> Path:
    return GOLDEN / path.relative_to(ROOT).with_suffix(suffix)


def _source(path: Path) -> SourceFile:
    return SourceFile.from_bytes(path.relative_to(ROOT), path.read_bytes())


@pytest.mark.parametrize("path", FIXTURES, ids=[str(p.relative_to(ROOT)) for p in FIXTURES])
def test_fixture_diagnostics(path):
    diagnostics, errors = lint(_source(path), ALL_RULES)
    assert not errors
    lines = [
        f"{d.start.line}:{d.start.column} {d.code} {'fix=' + d.fix.applicability.value if d.fix else 'no-fix'}"
        for d in diagnostics
    ]
    compare_golden(_golden(path, ".diagnostics"), "".join(line + "\n" for line in lines))


@pytest.mark.parametrize("path", FIXTURES, ids=[str(p.relative_to(ROOT)) for p in FIXTURES])
@pytest.mark.parametrize("unsafe", [False, True], ids=["fix", "unsafe-fix"])
def test_fixture_fixed(path, unsafe):
    report = lint_and_fix(_source(path), ALL_RULES, unsafe)
    assert not report.errors
    suffix = ".unsafe-fixed" if unsafe else ".fixed"
    compare_golden(_golden(path, suffix), report.source.text)
    # after fixing, nothing fixable at that level is left
    assert not [d for d in report.diagnostics if d.fix and d.fix.applies(unsafe)]
