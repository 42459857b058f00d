"""The command line: output formats, fixing, selection, exit codes, bad input."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest
from click.testing import CliRunner

import readme
from conftest import BAD, FIXED
from nanlint.cli import main

CLEAN = "import torch\n\nx = torch.zeros(3)\n"


@pytest.fixture
def project(tmp_path, monkeypatch):
    (tmp_path / "train.py").write_text(BAD)
    (tmp_path / "clean.py").write_text(CLEAN)
    monkeypatch.chdir(tmp_path)
    return tmp_path


def run(*args: str):
    return CliRunner().invoke(main, list(args), catch_exceptions=False)


def test_concise_output_and_exit_code(project):
    result = run("check", "--output-format", "concise")
    assert result.exit_code == 1
    assert result.output.splitlines() == [
        "train.py:6:35: NAN101 [*] Sigmoid probabilities from `torch.sigmoid` reach"
        " `F.binary_cross_entropy`: use BCEWithLogitsLoss on the logits",
        "Found 1 error.",
        "[*] 1 fixable with the `--fix` option.",
    ]


def test_full_output_shows_source_caret_related_location_and_fix(project):
    result = run("check", "train.py")
    assert result.exit_code == 1
    lines = result.output.splitlines()
    assert lines[0].startswith("train.py:6:35: NAN101 [*] Sigmoid probabilities")
    assert lines[1:5] == [
        "  |",
        "6 |     return F.binary_cross_entropy(torch.sigmoid(logits), target)",
        "  |                                   ^^^^^^^^^^^^^^^^^^^^^ NAN101",
        "  |",
    ]
    assert lines[5] == (
        "   = why: Sigmoid probabilities from `torch.sigmoid` (line 6) reach"
        " `F.binary_cross_entropy`: BCELoss clamps log() at -100, so a confidently wrong logit"
        " beyond 16.6 gives a loss stuck at 100 and a gradient of exactly zero in float32"
        " (6.2 in bfloat16)"
    )
    assert (
        lines[6]
        == "   = note: train.py:6:35: sigmoid probabilities produced here by `torch.sigmoid`"
    )
    assert lines[7] == "   = help: Pass the logits to `binary_cross_entropy_with_logits`"


def test_json_output_is_shaped_like_ruff(project):
    result = run("check", "--output-format", "json")
    assert result.exit_code == 1
    (item,) = json.loads(result.output)
    assert item["code"] == "NAN101"
    assert item["filename"] == str(project / "train.py")
    assert item["location"] == {"row": 6, "column": 35}
    assert item["end_location"] == {"row": 6, "column": 56}
    assert item["noqa_row"] == 6
    assert item["url"] == "https://github.com/nanlint/nanlint/blob/main/rules/NAN101.md"
    assert item["message"] == (
        "Sigmoid probabilities from `torch.sigmoid` reach `F.binary_cross_entropy`:"
        " use BCEWithLogitsLoss on the logits"
    )
    assert item["full_message"].startswith(
        "Sigmoid probabilities from `torch.sigmoid` (line 6) reach `F.binary_cross_entropy`:"
        " BCELoss clamps log() at -100"
    )
    assert item["fix"]["applicability"] == "safe"
    assert item["fix"]["message"] == "Pass the logits to `binary_cross_entropy_with_logits`"
    assert item["fix"]["edits"] == [
        {
            "content": "F.binary_cross_entropy_with_logits",
            "location": {"row": 6, "column": 12},
            "end_location": {"row": 6, "column": 34},
        },
        {
            "content": "logits",
            "location": {"row": 6, "column": 35},
            "end_location": {"row": 6, "column": 56},
        },
    ]
    assert item["related"] == [
        {
            "filename": str(project / "train.py"),
            "location": {"row": 6, "column": 35},
            "end_location": {"row": 6, "column": 56},
            "message": "sigmoid probabilities produced here by `torch.sigmoid`",
        }
    ]


def test_fix_writes_the_file_and_exits_zero_when_nothing_remains(project):
    result = run("check", "--fix")
    assert result.exit_code == 0
    assert (project / "train.py").read_text() == FIXED
    assert "Found 1 error (1 fixed, 0 remaining)." in result.output


def test_diff_prints_and_writes_nothing(project):
    result = run("check", "--diff")
    assert result.exit_code == 1
    assert (project / "train.py").read_text() == BAD
    assert "-    return F.binary_cross_entropy(torch.sigmoid(logits), target)" in result.output
    assert "+    return F.binary_cross_entropy_with_logits(logits, target)" in result.output


def test_unsafe_fixes_need_the_flag(project):
    (project / "train.py").write_text(
        "import torch\nimport torch.nn.functional as F\n\n\ndef loss(z, y):\n"
        "    return F.cross_entropy(F.softmax(z, dim=1), y)\n"
    )
    assert run("check", "--fix").exit_code == 1
    assert "F.softmax" in (project / "train.py").read_text()
    result = run("check", "--fix", "--unsafe-fixes")
    assert result.exit_code == 0
    assert "F.cross_entropy(z, y)" in (project / "train.py").read_text()


@pytest.mark.parametrize(
    "args, exit_code",
    [
        (("--select", "NAN102"), 0),
        (("--select", "NAN1"), 1),
        (("--select", "ALL"), 1),
        (("--ignore", "NAN101"), 0),
        (("--ignore", "NAN1"), 0),
        (("--select", "NAN1", "--ignore", "NAN101"), 0),
        (("--select", "NAN101", "--ignore", "NAN1"), 1),
        (("--select", "NAN102,NAN101"), 1),
        (("--exit-zero",), 0),
    ],
)
def test_select_ignore_and_exit_zero(project, args, exit_code):
    assert run("check", *args).exit_code == exit_code


@pytest.mark.parametrize(
    "args, codes",
    [
        ((), []),
        (("--select", "NAN205"), ["NAN205"]),
        (("--select", "NAN206"), ["NAN206"]),
        (("--select", "NAN2"), ["NAN205", "NAN206"]),
        (("--select", "ALL", "--ignore", "NAN206"), ["NAN205"]),
    ],
)
def test_precision_rules_are_off_by_default(tmp_path, monkeypatch, args, codes):
    (tmp_path / "rates.py").write_text(
        "import torch\n\n\ndef f(x):\n    return torch.log(1 + x), torch.exp(x) - 1\n"
    )
    monkeypatch.chdir(tmp_path)
    result = run("check", "--output-format", "concise", *args)
    assert [line.split()[1] for line in result.output.splitlines() if "NAN" in line] == codes
    assert result.exit_code == (1 if codes else 0)


@pytest.mark.parametrize("selector", ["NAN999", "E501", "nan9", "ALLX", "NAN1X"])
def test_unknown_selector_is_a_usage_error(project, selector):
    result = CliRunner().invoke(main, ["check", "--select", selector])
    assert result.exit_code == 2
    assert "unknown rule selector" in result.output


def test_syntax_error_is_reported_and_other_files_still_linted(project):
    (project / "broken.py").write_text("import torch\nloss = F.cross_entropy(\n")
    result = run("check", "--output-format", "concise")
    assert result.exit_code == 1
    assert result.output.splitlines()[:2] == [
        "broken.py:2:23: SyntaxError: '(' was never closed",
        result.output.splitlines()[1],
    ]
    assert result.output.splitlines()[1].startswith("train.py:6:35: NAN101")


def test_python2_syntax_is_a_diagnostic_not_a_traceback(project):
    (project / "old.py").write_text("import torch\nprint 'loss', F.cross_entropy(x, y)\n")
    result = run("check", "old.py", "--output-format", "concise")
    assert result.exit_code == 1
    assert result.output.startswith(
        "old.py:2:1: SyntaxError: Missing parentheses in call to 'print'"
    )


def test_missing_path_is_a_diagnostic(project):
    result = CliRunner().invoke(main, ["check", "nope.py"])
    assert result.exit_code == 1
    assert result.output == "nope.py:1:1: IOError: No such file or directory\n\nFound 1 error.\n"


def test_clean_project_passes(tmp_path, monkeypatch):
    (tmp_path / "clean.py").write_text(CLEAN)
    monkeypatch.chdir(tmp_path)
    result = run("check")
    assert result.exit_code == 0
    assert result.output == "All checks passed!\n"


def test_rule_reference_text():
    result = run("rule", "NAN101")
    assert result.exit_code == 0
    assert result.output.startswith("# NAN101 sigmoid-into-bce-loss\n")
    for heading in (
        "## What it does",
        "## Why is this bad?",
        "## Example",
        "## Use instead",
        "## Fix safety",
        "## References",
    ):
        assert heading in result.output


def test_rule_all_lists_every_code_with_the_applicability_of_its_fixes():
    result = run("rule", "--all")
    assert result.exit_code == 0
    lines = result.output.splitlines()
    assert len(lines) == 20
    assert lines[:4] == [
        "NAN001  unused-noqa                  fix always available (safe)",
        "NAN101  sigmoid-into-bce-loss        fix sometimes available (safe or unsafe)",
        "NAN102  activation-into-logits-loss  fix sometimes available (unsafe)",
        "NAN103  softmax-into-cross-entropy   fix sometimes available (unsafe)",
    ]
    assert (
        "NAN205  log-one-plus                 fix sometimes available (safe)  (off by default)"
        in lines
    )
    assert lines[-1] == "NAN602  where-unsafe-branch          fix display-only (never applied)"


def test_rule_all_as_json():
    result = run("rule", "--all", "--output-format", "json")
    entries = json.loads(result.output)
    assert [entry["code"] for entry in entries][:2] == ["NAN001", "NAN101"]
    assert len(entries) == 20
    assert {key: value for key, value in entries[0].items() if key != "explanation"} == {
        "code": "NAN001",
        "name": "unused-noqa",
        "summary": "A `# noqa` code that suppresses nothing",
        "fix": "always available (safe)",
        "default_enabled": True,
        "url": "https://github.com/nanlint/nanlint/blob/main/rules/NAN001.md",
    }
    assert entries[0]["explanation"].startswith("# NAN001 unused-noqa\n")
    assert entries[1]["explanation"] + "\n" == run("rule", "NAN101").output


def test_rule_nan001_prints_its_reference():
    result = run("rule", "NAN001")
    assert result.exit_code == 0
    assert result.output.startswith(
        "# NAN001 unused-noqa\n\nA `# noqa` code that suppresses nothing. Fix: always"
        " available (safe).\n\n## What it does\n"
    )


def test_unknown_rule_is_a_usage_error():
    assert CliRunner().invoke(main, ["rule", "NAN999"]).exit_code == 2


@pytest.mark.parametrize(
    ("argv", "exit_code", "shown"),
    [
        (["check", "train.py", "--output-format", "concise"], 1, "NAN101"),
        (["check", "--fix", "train.py"], 0, "Found 1 error (1 fixed, 0 remaining)."),
        (["rule", "NAN101"], 0, "## Why is this bad?"),
        (["rule", "--all"], 0, "NAN602  where-unsafe-branch"),
    ],
)
def test_python_dash_m_check_and_rule_never_import_torch_or_matplotlib(
    project, argv, exit_code, shown
):
    script = (
        "import sys, runpy\n"
        f"sys.argv = ['nanlint', *{argv!r}]\n"
        "try:\n"
        "    runpy.run_module('nanlint', run_name='__main__')\n"
        "except SystemExit as exit:\n"
        "    print('exit', exit.code, 'torch' in sys.modules, 'matplotlib' in sys.modules)\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", script],
        capture_output=True,
        text=True,
        cwd=project,
        env={**os.environ},
    )
    assert out.stdout.splitlines()[-1] == f"exit {exit_code} False False"
    assert shown in out.stdout


def test_exit_non_zero_on_fix(project):
    result = run("check", "--fix", "--exit-non-zero-on-fix")
    assert result.exit_code == 1
    assert (project / "train.py").read_text() == FIXED
    assert run("check", "--fix", "--exit-non-zero-on-fix").exit_code == 0


def test_stdin_is_linted_under_the_given_name(project):
    result = CliRunner().invoke(
        main,
        ["check", "--stdin-filename", "models/loss.py", "--output-format", "concise"],
        input=BAD,
    )
    assert result.exit_code == 1
    assert result.stdout.startswith("models/loss.py:6:35: NAN101 [*] Sigmoid probabilities")


def nanlint_process(*args: str, stdin: str) -> subprocess.CompletedProcess:
    """`python -m nanlint ...` in the current directory, with separate stdout and stderr."""
    command = [sys.executable, "-m", "nanlint", *args]
    return subprocess.run(command, input=stdin, capture_output=True, text=True)


def test_stdin_with_fix_prints_the_fixed_source_and_reports_on_stderr(project):
    result = nanlint_process("check", "--stdin-filename", "loss.py", "--fix", stdin=BAD)
    assert result.returncode == 0
    assert result.stdout == FIXED
    assert result.stderr == "Found 1 error (1 fixed, 0 remaining).\n"
    assert not (project / "loss.py").exists()


def test_stdin_force_excluded_prints_the_source_unchanged(project):
    (project / "pyproject.toml").write_text('[tool.nanlint]\nextend-exclude = ["gen_*.py"]\n')
    args = ("check", "--stdin-filename", "gen_loss.py", "--force-exclude")
    result = nanlint_process(*args, "--fix", stdin=BAD)
    assert (result.returncode, result.stdout, result.stderr) == (0, BAD, "All checks passed!\n")
    assert nanlint_process(*args, stdin=BAD).stdout == "All checks passed!\n"


def test_statistics_counts_per_code(project):
    result = run("check", "--statistics")
    assert result.exit_code == 1
    assert result.output == (
        "1  NAN101  [*] sigmoid-into-bce-loss\n"
        "Found 1 error.\n"
        "[*] 1 fixable with the `--fix` option.\n"
    )


def test_one_named_file_names_the_files_it_read_relative_to_the_working_directory(
    tmp_path, monkeypatch
):
    """As pre-commit runs it: models.py is read for the analysis, not linted, and both the
    message and the note name it as the linted file is named."""
    readme.write_project(tmp_path)
    monkeypatch.chdir(tmp_path)
    lines = run("check", "--isolated", "--select", "NAN103", "train.py").output.splitlines()
    assert lines[5].startswith(
        "   = why: Softmax probabilities from `nn.Softmax, last layer of self.net`"
        " (models.py:8) via `Classifier.forward` reach `F.cross_entropy`"
    )
    assert lines[6] == (
        "   = note: models.py:8:64: softmax probabilities produced here by"
        " `nn.Softmax, last layer of self.net`"
    )
    (tmp_path / "sub").mkdir()
    monkeypatch.chdir(tmp_path / "sub")
    lines = run("check", "--isolated", "--select", "NAN103", "../train.py").output.splitlines()
    assert lines[0].startswith(f"{tmp_path}/train.py:11:28: NAN103 ")
    assert f"({tmp_path}/models.py:8)" in lines[5]
    assert lines[6].startswith(f"   = note: {tmp_path}/models.py:8:64: ")
