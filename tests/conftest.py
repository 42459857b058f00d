"""Shared helpers for the test suite."""

from __future__ import annotations

import os
import textwrap
from pathlib import Path

import pytest
from hypothesis import settings

from nanlint.engine import lint, lint_and_fix
from nanlint.rules import ALL_RULES
from nanlint.source import SourceFile

# CI runs the properties on a fixed seed, so a landing never depends on what a random search
# happens to draw; developers' runs keep exploring (and their failures are kept as @example).
settings.register_profile("ci", derandomize=True, database=None)
if os.environ.get("CI"):
    settings.load_profile("ci")

ROOT = Path(__file__).resolve().parent.parent
GOLDEN = ROOT / "tests" / "golden"
UPDATE_GOLDEN = os.environ.get("NANLINT_UPDATE_GOLDEN") == "1"


@pytest.fixture(autouse=True, scope="session")
def _results_cache_outside_the_repository(tmp_path_factory):
    """Runs of the CLI (in-process or as subprocesses) keep their cache in a temporary
    directory, not in the fixtures; tests of the cache choose their own."""
    os.environ["NANLINT_CACHE_DIR"] = str(tmp_path_factory.mktemp("nanlint-cache"))


def compare_golden(golden: Path, actual: str) -> None:
    """`actual` must equal the golden file (NANLINT_UPDATE_GOLDEN=1 rewrites it)."""
    if UPDATE_GOLDEN:
        golden.parent.mkdir(parents=True, exist_ok=True)
        golden.write_text(actual)
    assert golden.exists(), f"missing golden file {golden} (run with NANLINT_UPDATE_GOLDEN=1)"
    assert actual == golden.read_text()


# One file with one NAN101 (a safe fix), and what --fix makes of it.
BAD = textwrap.dedent(
    """\
    import torch
    import torch.nn.functional as F


    def loss(logits, target):
        return F.binary_cross_entropy(torch.sigmoid(logits), target)
    """
)
FIXED = BAD.replace(
    "binary_cross_entropy(torch.sigmoid(logits), target)",
    "binary_cross_entropy_with_logits(logits, target)",
)


def source_of(code: str, name: str = "example.py") -> SourceFile:
    return SourceFile(Path(name), code)


def diagnostics_of(code: str, rules=ALL_RULES, name: str = "example.py"):
    diagnostics, errors = lint(source_of(code, name), rules)
    assert not errors, errors
    return diagnostics


def positions(diagnostics, code: str | None = None) -> list[str]:
    """`CODE line:column` for each diagnostic (of `code` only, when given)."""
    return [
        f"{d.code} {d.start.line}:{d.start.column}"
        for d in diagnostics
        if code is None or d.code == code
    ]


def fixed(code: str, rules=ALL_RULES, unsafe: bool = False) -> str:
    report = lint_and_fix(source_of(code), rules, unsafe)
    assert not report.errors, report.errors
    return report.source.text


@pytest.fixture
def write(tmp_path):
    """Write files into a temporary project: write({"a.py": "..."}) -> tmp_path."""

    def _write(files: dict[str, str]) -> Path:
        for name, content in files.items():
            path = tmp_path / name
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(content)
        return tmp_path

    return _write


@pytest.fixture(scope="session")
def reproduced():
    """Every rule's reproduction result, by code, run once per test session (needs torch)."""
    from nanlint.docs import reproductions

    return reproductions()


# A file with one safe NAN101 fix, its fixed form and its concise diagnostic.
BCE_BAD = (
    "import torch\nimport torch.nn.functional as F\n\n"
    "loss = F.binary_cross_entropy(torch.sigmoid(z), y)\n"
)
BCE_FIXED = BCE_BAD.replace(
    "binary_cross_entropy(torch.sigmoid(z), y)", "binary_cross_entropy_with_logits(z, y)"
)
BCE_MESSAGE = (
    "NAN101 [*] Sigmoid probabilities from `torch.sigmoid` reach `F.binary_cross_entropy`:"
    " use BCEWithLogitsLoss on the logits"
)


def nanlint(*args: str):
    """Run the CLI in-process; a crash fails the test with its traceback."""
    from click.testing import CliRunner

    from nanlint.cli import main

    return CliRunner().invoke(main, list(args), catch_exceptions=False)


@pytest.fixture
def inside(tmp_path, monkeypatch):
    """Run the test inside an empty temporary directory; returns it."""
    monkeypatch.chdir(tmp_path)
    return tmp_path
