"""Every rule's reproduction is confirmed; the measured breaking points hold; repro needs torch."""

from __future__ import annotations

import sys

import pytest
from click.testing import CliRunner

from nanlint.cli import main
from nanlint.repro.harness import Evidence, FirstBreak, LastBreak, _agrees
from nanlint.rules import ALL_RULES


@pytest.mark.parametrize("rule", ALL_RULES, ids=[r.code for r in ALL_RULES])
def test_reproduction_is_confirmed(reproduced, rule):
    result = reproduced[rule.code]
    assert result.unstable_breaks, "the unstable form is never wrong"
    assert result.stable_holds, "the stable form is wrong somewhere"
    failed = [(c.claim.text, c.measured) for c in result.claims if not c.ok]
    assert failed == []
    assert result.confirmed


@pytest.mark.parametrize(
    "rule", [r for r in ALL_RULES if r.reproduction.fix_check], ids=lambda r: r.code
)
def test_safe_fix_is_confirmed_by_execution(reproduced, rule):
    fix = reproduced[rule.code].fix
    assert fix is not None and fix.ok, fix.lines if fix else None
    assert any("agree" in line for line in fix.lines)
    assert any("fixed right, original wrong" in line for line in fix.lines)


def test_nan101_breaking_points_match_the_measurements(reproduced):
    measured = {c.claim.text: c.measured for c in reproduced["NAN101"].claims}
    assert measured["loss pinned at 100 from 16.64"] == "16.64"
    assert measured["gradient exactly 0 from 16.64"] == "16.64"
    assert measured["value off by more than 0.1% from 12.40"] == "12.40"


def test_repro_command_prints_evidence_and_exits_zero():
    result = CliRunner().invoke(main, ["repro", "NAN101"])
    assert result.exit_code == 0
    assert "CONFIRMED" in result.output
    assert "unstable value" in result.output and "float64 grad" in result.output
    assert " *" in result.output  # the unstable form's wrong results are marked, and explained:
    assert result.output.endswith(
        "* marks a wrong result: not finite, zero where the true value is not, or off from the"
        " float64 reference by more than the dtype's relative tolerance (1e-3 in float32, 2^-6"
        " in bfloat16, 2^-9 in float16) plus a few units in the last place (of max(1, m) for"
        " values, of 1 for gradients).\n"
    )


def test_repro_without_torch_says_how_to_install_it(monkeypatch):
    monkeypatch.setitem(sys.modules, "torch", None)
    result = CliRunner().invoke(main, ["repro", "NAN101"])
    assert result.exit_code == 2
    assert "pip install 'nanlint[repro]'" in result.output


def test_repro_plot_writes_a_png_and_an_svg_per_rule(tmp_path):
    pytest.importorskip("matplotlib")
    directory = tmp_path / "img"
    result = CliRunner().invoke(main, ["repro", "NAN205", "NAN206", "--plot", str(directory)])
    assert result.exit_code == 0
    assert result.output.count("CONFIRMED") == 2
    written = [line for line in result.output.splitlines() if line.startswith("wrote ")]
    assert written == [
        f"wrote {directory / name}"
        for name in ("NAN205.png", "NAN205.svg", "NAN206.png", "NAN206.svg")
    ]
    assert sorted(path.name for path in directory.iterdir()) == [
        "NAN205.png",
        "NAN205.svg",
        "NAN206.png",
        "NAN206.svg",
    ]


def test_repro_plot_without_matplotlib_says_how_to_install_it(monkeypatch, tmp_path):
    monkeypatch.setitem(sys.modules, "matplotlib", None)
    result = CliRunner().invoke(main, ["repro", "NAN101", "--plot", str(tmp_path / "img")])
    assert result.exit_code == 2
    assert result.output == (
        "error: `nanlint repro --plot` needs matplotlib."
        " Install it with: pip install 'nanlint[plot]'\n"
    )
    assert not (tmp_path / "img").exists()


def _evidence(m, values):
    wrong = [v != 0.0 for v in values]
    return Evidence(
        None,  # type: ignore[arg-type]
        "float32",
        m,
        {"unstable_value": values},
        {"unstable_value": wrong},
    )


def test_last_break_is_the_largest_broken_magnitude():
    evidence = _evidence([0.0, 1e-5, 2e-5, 3e-5, 4e-5], [0.0, 1.0, 0.0, 1.0, 0.0])
    assert LastBreak("wrong below 3e-5", "float32", "value", "wrong", 3e-5, 1e-6).check(
        evidence
    ) == (True, "3e-05")
    assert FirstBreak("wrong from 1e-5", "float32", "value", "wrong", 1e-5, 1e-6).check(
        evidence
    ) == (True, "1e-05")
    assert not LastBreak("", "float32", "value", "wrong", 2e-5, 1e-6).check(evidence)[0]
    assert LastBreak("", "float32", "value", "equals:7", 0.0).check(evidence) == (False, "never")


def test_a_fix_check_without_absolute_tolerance_judges_tiny_values_relatively():
    # log(1 + 1e-6) in float32 is 9.54e-7: within 1e-6 of the truth, but 5% off
    out = ([9.5367e-7], [1.0])
    assert _agrees(out, 0, 1e-6, 1.0, absolute=1e-6)
    assert not _agrees(out, 0, 1e-6, 1.0, absolute=0.0)
