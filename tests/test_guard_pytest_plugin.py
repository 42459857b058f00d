"""`pytest --nanlint-guard`: the tests run under the guard; its findings fail the run."""

from __future__ import annotations

import pytest
import torch  # noqa: F401  (imported once: pytester's in-process runs unload what they import)

import nanlint.guard.session  # noqa: F401
from conftest import ROOT

pytest_plugins = ["pytester"]

TESTS = """
import pytest
import torch
import torch.nn.functional as F


def bce(p, y):
    return F.binary_cross_entropy(p, y)


@pytest.fixture
def probabilities():
    return torch.sigmoid(torch.tensor([30.0, 0.0]))


def test_first(probabilities):
    bce(probabilities, torch.zeros(2))


def test_second(probabilities):
    bce(probabilities, torch.ones(2))


def test_clean():
    F.binary_cross_entropy_with_logits(torch.zeros(2), torch.ones(2))
"""


@pytest.fixture
def run(pytester, monkeypatch):
    """pytest in this process with the plugin given explicitly (not by its entry point)."""
    monkeypatch.setenv("PYTEST_DISABLE_PLUGIN_AUTOLOAD", "1")
    pytester.makepyfile(test_model=TESTS)

    def run(*args):
        return pytester.runpytest_inprocess("-p", "nanlint.pytest_plugin", *args)

    return run


def test_findings_fail_the_run_and_name_the_test(run):
    result = run("--nanlint-guard")
    result.assert_outcomes(passed=3)
    assert result.ret == pytest.ExitCode.TESTS_FAILED
    result.stdout.re_match_lines(
        [
            r"=+ nanlint guard =+",
            r"test_model.py:7:12: NAN101 Sigmoid probabilities from `sigmoid` \(line 12\)"
            r" reach `F.binary_cross_entropy`, .* \(2 times\)",
            r"    first seen in test_model.py::test_first",
            r"1 runtime finding \(the run fails\)",
        ]
    )


def test_report_only_keeps_the_run_green(run):
    result = run("--nanlint-guard-report-only")
    assert result.ret == pytest.ExitCode.OK
    result.stdout.fnmatch_lines(["*NAN101*", "1 runtime finding (reported only)"])


def test_select_and_ignore(run):
    assert run("--nanlint-guard", "--nanlint-guard-ignore", "NAN1").ret == pytest.ExitCode.OK
    result = run("--nanlint-guard", "--nanlint-guard-select", "NAN101,NAN2")
    assert result.ret == pytest.ExitCode.TESTS_FAILED


def test_without_the_option_nothing_runs_under_the_guard(run):
    result = run()
    assert result.ret == pytest.ExitCode.OK
    assert "nanlint guard" not in result.stdout.str()


def test_the_plugin_is_registered_by_entry_point():
    pyproject = (ROOT / "pyproject.toml").read_text()
    assert '[project.entry-points.pytest11]\nnanlint = "nanlint.pytest_plugin"\n' in pyproject
