"""The flake8 plugin, run through the real flake8."""

from __future__ import annotations

import subprocess
import sys

from conftest import BAD


def flake8(directory, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "flake8", "--isolated", *args],
        capture_output=True,
        text=True,
        cwd=directory,
    )


def test_flake8_select_nan_reports_nanlint_diagnostics(tmp_path):
    (tmp_path / "train.py").write_text(BAD)
    result = flake8(tmp_path, "--select", "NAN", "train.py")
    assert result.returncode == 1, result.stderr
    assert result.stdout == (
        "train.py:6:35: NAN101 Sigmoid probabilities from `torch.sigmoid` reach"
        " `F.binary_cross_entropy`: use BCEWithLogitsLoss on the logits\n"
    )


def test_flake8_noqa_and_other_selections(tmp_path):
    (tmp_path / "train.py").write_text(BAD.replace("target)\n", "target)  # noqa: NAN101\n"))
    (tmp_path / "other.py").write_text(BAD)
    assert flake8(tmp_path, "--select", "NAN", "train.py").stdout == ""
    assert flake8(tmp_path, "--select", "E", "other.py").stdout == ""
    listed = flake8(tmp_path, "--version").stdout
    assert "nanlint" in listed
