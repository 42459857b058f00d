"""The fixtures under fixtures/ against golden diagnostics and golden fixed files.

Per-rule files under fixtures/rules/ are linted one by one; every directory under
fixtures/projects/ (and fixtures/example_project) is linted as one project, as the CLI
does. Set NANLINT_UPDATE_GOLDEN=1 to rewrite the golden files, then read the diff.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from conftest import GOLDEN, ROOT, compare_golden
from nanlint.diagnostics import Diagnostic
from nanlint.engine import everywhere, fix_files, lint, lint_and_fix, lint_files, project_for
from nanlint.rules import ALL_RULES
from nanlint.source import SourceFile

FIXTURES = ROOT / "fixtures"
RULE_FILES = sorted((FIXTURES / "rules").glob("*.py"))
PROJECTS = [
    FIXTURES / "example_project",
    *sorted(p for p in (FIXTURES / "projects").iterdir() if p.is_dir()),
]


def _read(path: Path) -> SourceFile:
    return SourceFile.from_bytes(path, path.read_bytes())


def _line(diagnostic: Diagnostic, base: Path) -> str:
    fix = f"fix={diagnostic.fix.applicability.value}" if diagnostic.fix else "no-fix"
    related = "".join(
        f" related={Path(r.path).resolve().relative_to(base)}:{r.span.start.line}:{r.span.start.column}"
        for r in diagnostic.related
    )
    where = f"{Path(diagnostic.path).resolve().relative_to(base)}:{diagnostic.start.line}:{diagnostic.start.column}"
    return f"{where} {diagnostic.code} {fix}{related}\n"


@pytest.mark.parametrize("path", RULE_FILES, ids=[p.name for p in RULE_FILES])
def test_rule_fixture_diagnostics(path):
    diagnostics, errors = lint(_read(path), ALL_RULES)
    assert not errors
    golden = GOLDEN / "rules" / path.with_suffix(".diagnostics").name
    compare_golden(golden, "".join(_line(d, path.parent) for d in diagnostics))


@pytest.mark.parametrize("path", RULE_FILES, ids=[p.name for p in RULE_FILES])
@pytest.mark.parametrize("unsafe", [False, True], ids=["fix", "unsafe-fix"])
def test_rule_fixture_fixed(path, unsafe):
    report = lint_and_fix(_read(path), ALL_RULES, unsafe)
    assert not report.errors
    golden = GOLDEN / "rules" / path.with_suffix(".unsafe-fixed" if unsafe else ".fixed").name
    compare_golden(golden, report.source.text)
    assert not [d for d in report.diagnostics if d.fix and d.fix.applies(unsafe)]


def _project_sources(directory: Path) -> list[SourceFile]:
    return [_read(path) for path in sorted(directory.rglob("*.py"))]


@pytest.mark.parametrize("directory", PROJECTS, ids=[p.name for p in PROJECTS])
def test_project_diagnostics(directory):
    sources = _project_sources(directory)
    diagnostics, errors = lint_files(
        sources, everywhere(ALL_RULES), project_for({s.path: s for s in sources})
    )
    assert not errors
    compare_golden(
        GOLDEN / "projects" / f"{directory.name}.diagnostics",
        "".join(_line(d, directory) for d in diagnostics),
    )


@pytest.mark.parametrize("directory", PROJECTS, ids=[p.name for p in PROJECTS])
@pytest.mark.parametrize("unsafe", [False, True], ids=["fix", "unsafe-fix"])
def test_project_fixed(directory, unsafe):
    """The changed files after fixing, each under a `=== path ===` header."""
    sources = _project_sources(directory)
    report = fix_files(sources, everywhere(ALL_RULES), unsafe)
    assert not report.errors
    changed = "".join(
        f"=== {Path(path).relative_to(directory)} ===\n{text}"
        for path, text in sorted(report.changed.items())
    )
    compare_golden(
        GOLDEN / "projects" / f"{directory.name}.{'unsafe-fixed' if unsafe else 'fixed'}", changed
    )
    assert not [d for d in report.diagnostics if d.fix and d.fix.applies(unsafe)]
