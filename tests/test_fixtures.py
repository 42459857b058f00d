"""The fixtures under fixtures/ against golden diagnostics and golden fixed files.

Set NANLINT_UPDATE_GOLDEN=1 to rewrite the golden files (then read the diff before committing).
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from conftest import ROOT
from nanlint.engine import lint, lint_and_fix
from nanlint.rules import ALL_RULES
from nanlint.source import SourceFile

FIXTURES = sorted((ROOT / "fixtures").rglob("*.py"))
GOLDEN = ROOT / "tests" / "golden"
UPDATE = os.environ.get("NANLINT_UPDATE_GOLDEN") == "1"


def _golden(path: Path, suffix: str) -> Path:
    return GOLDEN / path.relative_to(ROOT).with_suffix(suffix)


def _compare(golden: Path, actual: str) -> None:
    if UPDATE:
        golden.parent.mkdir(parents=True, exist_ok=True)
        golden.write_text(actual)
    assert golden.exists(), f"missing golden file {golden} (run with NANLINT_UPDATE_GOLDEN=1)"
    assert actual == golden.read_text()


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
    _compare(_golden(path, ".diagnostics"), "".join(line + "\n" for line in lines))


@pytest.mark.parametrize("path", FIXTURES, ids=[str(p.relative_to(ROOT)) for p in FIXTURES])
@pytest.mark.parametrize("unsafe", [False, True], ids=["fix", "unsafe-fix"])
def test_fixture_fixed(path, unsafe):
    report = lint_and_fix(_source(path), ALL_RULES, unsafe)
    assert not report.errors
    suffix = ".unsafe-fixed" if unsafe else ".fixed"
    _compare(_golden(path, suffix), report.source.text)
    # after fixing, nothing fixable at that level is left
    assert not [d for d in report.diagnostics if d.fix and d.fix.applies(unsafe)]
