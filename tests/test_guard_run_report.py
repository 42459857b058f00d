"""Runtime findings in check's output formats, with what the guard observed on the values."""

from __future__ import annotations

import json

import jsonschema
import pytest

from conftest import ROOT
from nanlint.guard.findings import Location, RuntimeFinding
from nanlint.guard.report import render
from nanlint.output import FORMAT_NAMES

OBSERVED = {"dtype": "float32", "numel": 8, "saturated": 3, "hit_bce_clamp": True}
WHAT = "Sigmoid probabilities from `torch.sigmoid` (model.py:5) reach `nn.BCELoss`"
WHY = "BCELoss clamps log() at -100"
MESSAGE = f"{WHAT}: {WHY}"
SHORT = "Sigmoid probabilities from `torch.sigmoid` reach `nn.BCELoss`"
REMEDY = "use BCEWithLogitsLoss on the logits"


@pytest.fixture
def project(tmp_path):
    (tmp_path / "train.py").write_text(
        "import torch\n\n\ndef step(x, y):\n    loss = criterion(model(x), y)\n"
    )
    (tmp_path / "model.py").write_text("import torch\n\n\ndef f(z):\n    return torch.sigmoid(z)\n")
    return tmp_path


def _findings(project, count=4, ranks=(0, 1), test=None) -> list[RuntimeFinding]:
    return [
        RuntimeFinding(
            "NAN101",
            MESSAGE,
            Location(str(project / "train.py"), 5, 22, "step"),
            Location(str(project / "model.py"), 5, 12, "forward"),
            OBSERVED,
            count,
            ranks,
            test,
        )
    ]


def test_full_shows_the_sink_line_the_producer_and_how_often(project):
    assert render(_findings(project), "full", project) == (
        # past 120 characters the short message drops the producer
        "train.py:5:22: NAN101 Sigmoid probabilities reach `nn.BCELoss`, seen 4 times, on ranks"
        f" 0 and 1: {REMEDY}\n"
        "  |\n"
        "5 |     loss = criterion(model(x), y)\n"
        "  |                      ^^^^^^^^ NAN101\n"
        "  |\n"
        f"   = why: {WHAT}, seen 4 times, on ranks 0 and 1: {WHY}\n"
        "   = note: model.py:5:12: the value was produced here in `forward`\n"
        "\n"
        "Found 1 error.\n"
    )


@pytest.mark.parametrize(
    ("count", "ranks", "test", "suffix"),
    [
        (1, (), None, ""),
        (2, (), None, ", seen 2 times"),
        (1, (1,), None, ", on rank 1"),
        (
            1,
            (0, 2, 3),
            "tests/test_a.py::test_b",
            ", on ranks 0, 2 and 3, first in tests/test_a.py::test_b",
        ),
    ],
)
def test_concise_says_how_often_where_and_in_which_test(project, count, ranks, test, suffix):
    short = f"{SHORT}{suffix}: {REMEDY}"
    if len(short) > 120:  # the producer goes first
        short = short.replace(" from `torch.sigmoid`", "")
    assert render(_findings(project, count, ranks, test), "concise", project) == (
        f"train.py:5:22: NAN101 {short}\nFound 1 error.\n"
    )


def test_no_findings_read_as_check_reads_them(project):
    assert render([], "concise", project) == "All checks passed!\n"
    assert render([], "json", project) == "[]\n"


def test_json_has_checks_shape_plus_the_evidence(project):
    (item,) = json.loads(render(_findings(project), "json", project))
    assert item["code"] == "NAN101"
    assert item["filename"] == str(project / "train.py")
    assert item["location"] == {"row": 5, "column": 22}
    assert item["fix"] is None
    assert item["url"].endswith("/rules/NAN101.md")
    (related,) = item["related"]
    assert related["filename"] == str(project / "model.py")
    assert related["location"] == {"row": 5, "column": 12}
    assert related["end_location"] == {"row": 5, "column": 28}  # the call that starts there
    assert (item["observed"], item["count"], item["ranks"], item["test"]) == (
        OBSERVED,
        4,
        [0, 1],
        None,
    )


def test_json_lines_is_one_json_item_per_line(project):
    other = RuntimeFinding("NAN103", "Softmax", Location(str(project / "model.py"), 4, 1), None)
    findings = [*_findings(project), other]
    lines = render(findings, "json-lines", project).splitlines()
    assert [json.loads(line)["code"] for line in lines] == ["NAN103", "NAN101"]  # by sink path
    assert json.loads(lines[0])["related"] == [] and json.loads(lines[1])["observed"] == OBSERVED


def test_sarif_is_valid_and_carries_the_evidence_as_properties(project):
    log = json.loads(render(_findings(project), "sarif", project))
    schema = json.loads((ROOT / "tests/data/sarif-schema-2.1.0.json").read_text())
    jsonschema.validate(log, schema)
    (result,) = log["runs"][0]["results"]
    assert result["ruleId"] == "NAN101"
    assert result["properties"] == {"observed": OBSERVED, "count": 4, "ranks": [0, 1], "test": None}
    assert result["relatedLocations"][0]["physicalLocation"]["region"]["startLine"] == 5


def test_github_annotates_the_sink_call(project):
    assert render(_findings(project, 1, ()), "github", project) == (
        "::error file=train.py,line=5,col=22,endLine=5,endColumn=30,title=NAN101 Sigmoid"
        f" probabilities from `torch.sigmoid` reach `nn.BCELoss`%3A {REMEDY}::{MESSAGE}\n"
    )


def test_a_location_where_no_call_starts_is_one_character(project):
    train = project / "train.py"
    train.write_text(train.read_text().replace("model(x)", "m_out   "))
    assert "endLine=5,endColumn=22," in render(_findings(project, 1, ()), "github", project)
    gone = _findings(project)[0]
    train.unlink()  # a file that is gone: no source line, no extent
    assert render([gone], "concise", project).startswith("train.py:5:22: NAN101 ")


@pytest.mark.parametrize("output_format", FORMAT_NAMES)
def test_every_output_format_of_check_names_the_sink(project, output_format):
    assert "train.py" in render(_findings(project), output_format, project)
