"""Notebooks: cell-by-cell diagnostics, magics, cross-cell flow and byte-exact fixes."""

from __future__ import annotations

import json
import shutil

import pytest
from click.testing import CliRunner

from conftest import ROOT
from nanlint.cli import main

NOTEBOOK = ROOT / "tests" / "data" / "training.ipynb"
MESSAGE_END = (
    "reach `F.binary_cross_entropy`: BCELoss clamps log() at -100, so a confidently wrong logit"
    " beyond 16.6 gives a loss stuck at 100 and a gradient of exactly zero in float32"
    " (6.2 in bfloat16)"
)


@pytest.fixture
def notebook(tmp_path, monkeypatch):
    shutil.copy(NOTEBOOK, tmp_path / "training.ipynb")
    monkeypatch.chdir(tmp_path)
    return tmp_path / "training.ipynb"


def run(*args: str):
    return CliRunner().invoke(main, ["check", *args], catch_exceptions=False)


def test_diagnostics_name_the_cell_and_follow_values_across_cells(notebook):
    result = run("--output-format", "concise")
    assert result.exit_code == 1
    assert result.output.splitlines() == [
        "training.ipynb:cell 4:1:31: NAN101 [*] Sigmoid probabilities from `torch.sigmoid`"
        " reach `F.binary_cross_entropy`: use BCEWithLogitsLoss on the logits",
        "Found 1 error.",
        "[*] 1 fixable with the `--fix` option.",
    ]


def test_full_output_shows_the_cell_line_and_the_related_cell(notebook):
    lines = run().output.splitlines()
    assert lines[1:7] == [
        "  |",
        "1 | loss = F.binary_cross_entropy(probs, target)",
        "  |                               ^^^^^ NAN101",
        "  |",
        f"   = why: Sigmoid probabilities from `torch.sigmoid` (cell 3, line 1) {MESSAGE_END}",
        "   = note: training.ipynb:cell 3:1:9: sigmoid probabilities produced here by"
        " `torch.sigmoid`",
    ]


def test_json_carries_the_cell(notebook):
    (item,) = json.loads(run("--output-format", "json").output)
    assert (item["cell"], item["location"], item["end_location"]) == (
        4,
        {"row": 1, "column": 31},
        {"row": 1, "column": 36},
    )
    assert item["related"][0]["location"] == {"row": 1, "column": 9}
    assert [edit["location"] for edit in item["fix"]["edits"]] == [
        {"row": 1, "column": 9},
        {"row": 1, "column": 8},
    ]


def test_fix_rewrites_only_the_changed_cells_and_keeps_every_other_byte(notebook):
    original = notebook.read_text(encoding="utf-8")
    result = run("--fix")
    assert result.exit_code == 0
    expected = original.replace(
        '"probs = torch.sigmoid(logits)\\n"', '"probs = logits\\n"'
    ).replace(
        '"loss = F.binary_cross_entropy(probs, target)\\n"',
        '"loss = F.binary_cross_entropy_with_logits(probs, target)\\n"',
    )
    assert expected != original
    assert notebook.read_text(encoding="utf-8") == expected
    assert run().output == "All checks passed!\n"


def test_diff_shows_each_changed_cell_s_source_and_writes_nothing(notebook):
    """As ruff: a diff per changed cell, of its source (magics as written), not of the JSON."""
    before = notebook.read_bytes()
    result = CliRunner().invoke(main, ["check", "--diff"], catch_exceptions=False)
    assert result.exit_code == 1
    assert result.stdout == (
        "--- training.ipynb:cell 3\n"
        "+++ training.ipynb:cell 3\n"
        "@@ -1,3 +1,3 @@\n"
        "-probs = torch.sigmoid(logits)\n"
        "+probs = logits\n"
        " files = !ls\n"
        " torch.sigmoid?\n"
        "--- training.ipynb:cell 4\n"
        "+++ training.ipynb:cell 4\n"
        "@@ -1,4 +1,4 @@\n"
        "-loss = F.binary_cross_entropy(probs, target)\n"
        "+loss = F.binary_cross_entropy_with_logits(probs, target)\n"
        " if (loss\n"
        "     != 0):\n"
        "     %time print(loss)\n"
    )
    assert notebook.read_bytes() == before


def write_notebook(path, sources, language="python", indent=None):
    cells = [
        {"cell_type": "code", "metadata": {}, "outputs": [], "source": s, "execution_count": None}
        for s in sources
    ]
    metadata = {"language_info": {"name": language}}
    path.write_text(json.dumps({"cells": cells, "metadata": metadata}, indent=indent))


BAD_CELL = (
    "import torch\nimport torch.nn.functional as F\nl = F.binary_cross_entropy(torch.sigmoid(z), y)"
)


def test_string_sources_and_compact_json_keep_their_style(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    write_notebook(tmp_path / "n.ipynb", ["x = 1", BAD_CELL])
    before = (tmp_path / "n.ipynb").read_text()
    assert run("--fix").exit_code == 0
    assert (tmp_path / "n.ipynb").read_text() == before.replace(
        "binary_cross_entropy(torch.sigmoid(z), y)", "binary_cross_entropy_with_logits(z, y)"
    )


def test_magics_in_a_fixed_cell_come_back_unchanged(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    cell = ["%load_ext autoreload\n", "files = !ls\n", *(BAD_CELL + "\n").splitlines(True)]
    cell += ["for f in files:\n", "    !echo {f}\n", "x = (1\n", "     % 2)"]
    write_notebook(tmp_path / "n.ipynb", [cell], indent=1)
    assert run("--fix").exit_code == 0
    written = json.loads((tmp_path / "n.ipynb").read_text())["cells"][0]["source"]
    assert written == [
        line.replace(
            "binary_cross_entropy(torch.sigmoid(z), y)", "binary_cross_entropy_with_logits(z, y)"
        )
        for line in cell
    ]


def test_noqa_in_a_cell(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    write_notebook(tmp_path / "n.ipynb", [BAD_CELL + "  # noqa: NAN101"])
    assert run().output == "All checks passed!\n"


def test_cell_magic_cells_and_other_languages_are_skipped(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    write_notebook(tmp_path / "a.ipynb", ["%%bash\n" + BAD_CELL])
    write_notebook(tmp_path / "b.ipynb", [BAD_CELL], language="R")
    assert run().output == "All checks passed!\n"


def test_a_file_that_is_not_a_notebook_is_reported(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "a.ipynb").write_text('{"nbformat": 3, "worksheets": []}')
    (tmp_path / "b.ipynb").write_text("{not json")
    result = run("--output-format", "concise")
    assert result.exit_code == 1
    assert result.output.splitlines()[:2] == [
        "a.ipynb:1:1: NotebookError: not a Jupyter notebook in nbformat 4 (no `cells` list)",
        "b.ipynb:1:1: NotebookError: not valid JSON: Expecting property name enclosed in"
        " double quotes: line 1 column 2 (char 1)",
    ]
