"""`nanlint run` on the programs of fixtures/runtime/: wirings that exist only at run time.

Each program is run as a user runs it (a subprocess, in its own directory) and its findings are
compared exactly: code, sink path:line, producer path:line, and how often the guard saw it.
`nanlint check` finds none of these wirings: that is why the guard exists.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from conftest import ROOT
from nanlint.cli import main

RUNTIME = ROOT / "fixtures" / "runtime"


def nanlint(*arguments: str, cwd: Path) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "nanlint", *arguments], cwd=cwd, capture_output=True, text=True
    )


def findings(report: Path, base: Path) -> list[tuple]:
    """(code, sink path:line, producer path:line, count) of each finding in a JSON report."""

    def where(filename: str, location: dict) -> str:
        return f"{Path(os.path.relpath(filename, base)).as_posix()}:{location['row']}"

    return [
        (
            item["code"],
            where(item["filename"], item["location"]),
            *(where(related["filename"], related["location"]) for related in item["related"]),
            item["count"],
        )
        for item in json.loads(report.read_text())
    ]


WIRINGS = {
    # model class from a registry dict, by a string read from a JSON config
    "registry": (
        ["train.py", "config.json"],
        [("NAN103", "train.py:19", "models.py:20", 3)],
    ),
    # loss built by getattr(nn, config["loss"])(), the config parsed by the program itself
    "getattr_loss": (
        ["train.py", "config.yaml"],
        [("NAN101", "train.py:31", "train.py:31", 3)],
    ),
    # a trainer in another module given the model and criterion (Hydra-style instantiate), -m
    "trainer": (
        ["-m", "recipes.train", "recipes/experiment.json", "--steps", "2"],
        [("NAN104", "recipes/engine.py:15", "recipes/models.py:13", 2)],
    ),
    # a model picked by --arch from a module's namespace, passed to a constructor and stored
    "stored_model": (
        ["train.py", "--arch", "ScoreNet"],
        [("NAN101", "train.py:18", "nets.py:20", 3)],
    ),
    # a LightningModule-style training_step called by a hand-written framework, whose CLI
    # builds the backbone from the config
    "mini_lightning": (
        ["main.py", "config.json"],
        [("NAN103", "main.py:17", "nets.py:16", 3)],
    ),
}


@pytest.mark.parametrize("name", list(WIRINGS))
def test_the_guard_finds_the_runtime_wiring(tmp_path, name):
    arguments, expected = WIRINGS[name]
    report = tmp_path / "report.json"
    done = nanlint(
        "run", "--output-format", "json", "-o", str(report), *arguments, cwd=RUNTIME / name
    )
    assert done.returncode == 1, done.stderr
    assert findings(report, RUNTIME / name) == expected


def test_nanlint_check_sees_none_of_the_runtime_wirings():
    done = nanlint("check", "--isolated", "--no-cache", *WIRINGS, cwd=RUNTIME)
    assert (done.returncode, done.stdout) == (0, "All checks passed!\n")


def test_probabilities_used_correctly_next_to_losses_stay_silent():
    done = nanlint("run", "--output-format", "concise", "train.py", cwd=RUNTIME / "traps")
    assert (done.returncode, done.stdout) == (0, "accuracy 0.53\n")
    assert done.stderr == "All checks passed!\n"


def test_a_failing_programs_traceback_and_status_come_through_then_the_findings():
    failing = RUNTIME / "failing"
    plain = subprocess.run(
        [sys.executable, "train.py"], cwd=failing, capture_output=True, text=True
    )
    done = nanlint("run", "--output-format", "concise", "train.py", cwd=failing)
    assert plain.returncode == done.returncode == 1
    assert "ValueError: Expected input batch_size (2) to match" in plain.stderr
    traceback, report = done.stderr[: len(plain.stderr)], done.stderr[len(plain.stderr) :]
    assert traceback == plain.stderr
    assert report == (
        "train.py:11:12: NAN103 Softmax probabilities reach `F.cross_entropy`, seen on 6 float32"
        " values, seen 2 times: pass the logits (it applies log_softmax)\nFound 1 error.\n"
    )


def test_the_programs_exit_code_wins_over_the_findings():
    done = nanlint("run", "--output-format", "concise", "train.py", "3", cwd=RUNTIME / "failing")
    assert (done.returncode, done.stdout) == (3, "stopping with 3\n")
    assert done.stderr.startswith("train.py:11:12: NAN103 ") and "Found 1 error." in done.stderr


def test_options_end_where_the_program_starts():
    stored = RUNTIME / "stored_model"
    done = nanlint(
        "run", "--select", "NAN1", "--exit-zero", "--output-format", "concise",
        "train.py", "--arch", "ScoreNet",
        cwd=stored,
    )  # fmt: skip
    assert done.returncode == 0  # --exit-zero; --arch went to the program: ScoreNet ran
    assert done.stderr.startswith("train.py:18:16: NAN101 ") and "Found 1 error." in done.stderr
    ignored = nanlint("run", "--ignore", "NAN101", "train.py", "--arch", "ScoreNet", cwd=stored)
    assert (ignored.returncode, ignored.stderr) == (0, "All checks passed!\n")


def test_an_unknown_selector_is_a_usage_error_before_the_program_runs():
    done = nanlint("run", "--select", "NAN9999", "train.py", "3", cwd=RUNTIME / "failing")
    assert done.returncode == 2 and "unknown rule selector `NAN9999`" in done.stderr
    assert done.stdout == ""


PROGRAM_THAT_MOVES = """\
import os
import torch
import torch.nn.functional as F
os.chdir("elsewhere")
F.binary_cross_entropy(torch.sigmoid(torch.zeros(2)), torch.ones(2))
"""


def test_paths_are_shown_from_where_nanlint_run_started(tmp_path, monkeypatch):
    (tmp_path / "elsewhere").mkdir()
    (tmp_path / "moves.py").write_text(PROGRAM_THAT_MOVES)
    monkeypatch.chdir(tmp_path)
    arguments = ["run", "--output-format", "concise", "-o", "report.txt", "moves.py"]
    result = CliRunner().invoke(main, arguments)
    assert result.exit_code == 1, result.output
    report = (tmp_path / "report.txt").read_text()
    assert report.startswith(
        "moves.py:5:1: NAN101 Sigmoid probabilities reach `F.binary_cross_entropy`"
    )
