"""Every output format's exact output on one small project (golden files), and SARIF's schema.

The project under tests/data/formats holds a safe and an unsafe fix, a related location, an
unused noqa, a notebook and a file that cannot be decoded. Set NANLINT_UPDATE_GOLDEN=1 to rewrite
the golden files, then read the diff.
"""

from __future__ import annotations

import json
import subprocess
import sys
import xml.etree.ElementTree as ET

import jsonschema
import pytest
from click.testing import CliRunner

import readme
from conftest import GOLDEN, ROOT, compare_golden
from nanlint import __version__
from nanlint.cli import main
from nanlint.output import FORMAT_NAMES
from nanlint.output.formats import formatter

PROJECT = ROOT / "tests" / "data" / "formats"
SUFFIX = {"json": "json", "json-lines": "jsonl", "sarif": "sarif", "junit": "xml", "gitlab": "json"}


def output(monkeypatch, *args: str) -> str:
    monkeypatch.chdir(PROJECT)
    result = CliRunner().invoke(main, ["check", "--isolated", *args], catch_exceptions=False)
    assert result.exit_code == 1
    return (
        result.stdout.replace(PROJECT.as_uri(), "file:///CWD")
        .replace(str(PROJECT), "/CWD")
        .replace(f'"version": "{__version__}"', '"version": "VERSION"')
    )


@pytest.mark.parametrize("name", FORMAT_NAMES)
def test_every_format_has_a_writer(name):
    assert callable(formatter(name))


@pytest.mark.parametrize("name", FORMAT_NAMES)
def test_format_output(monkeypatch, name):
    text = output(monkeypatch, "--output-format", name)
    compare_golden(GOLDEN / "formats" / f"{name}.{SUFFIX.get(name, 'txt')}", text)


def test_statistics(monkeypatch):
    compare_golden(GOLDEN / "formats" / "statistics.txt", output(monkeypatch, "--statistics"))


def test_sarif_is_valid_against_the_official_schema(monkeypatch):
    schema = json.loads((ROOT / "tests" / "data" / "sarif-schema-2.1.0.json").read_text())
    log = json.loads(output(monkeypatch, "--output-format", "sarif"))
    jsonschema.validate(log, schema)
    run = log["runs"][0]
    assert [rule["id"] for rule in run["tool"]["driver"]["rules"]] == ["NAN001", "NAN101", "NAN103"]
    assert [r["ruleId"] for r in run["results"]] == [
        "NAN101",
        "DecodeError",
        "NAN101",
        "NAN103",
        "NAN001",
    ]


def test_machine_formats_parse(monkeypatch):
    lines = output(monkeypatch, "--output-format", "json-lines").splitlines()
    assert [json.loads(line)["code"] for line in lines] == [
        "NAN101",
        None,
        "NAN101",
        "NAN103",
        "NAN001",
    ]
    junit = ET.fromstring(output(monkeypatch, "--output-format", "junit"))
    assert (junit.get("tests"), junit.get("failures")) == ("5", "5")
    gitlab = json.loads(output(monkeypatch, "--output-format", "gitlab"))
    fingerprints = [issue["fingerprint"] for issue in gitlab]
    assert len(set(fingerprints)) == 5


def test_gitlab_fingerprints_survive_moving_the_code(tmp_path, monkeypatch):
    code = (PROJECT / "train.py").read_text()
    (tmp_path / "train.py").write_text(code)
    monkeypatch.chdir(tmp_path)

    def fingerprints() -> list[str]:
        result = CliRunner().invoke(main, ["check", "--isolated", "--output-format", "gitlab"])
        return [issue["fingerprint"] for issue in json.loads(result.stdout)]

    before = fingerprints()
    (tmp_path / "train.py").write_text("# a new first line\n\n" + code)
    assert fingerprints() == before


def test_junit_with_no_diagnostics_has_one_passing_case(tmp_path, monkeypatch):
    (tmp_path / "clean.py").write_text("x = 1\n")
    monkeypatch.chdir(tmp_path)
    result = CliRunner().invoke(main, ["check", "--isolated", "--output-format", "junit"])
    assert result.exit_code == 0
    assert result.stdout == (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        '<testsuites name="nanlint" tests="1" failures="0" errors="0">\n'
        '  <testsuite name="nanlint" tests="1" failures="0" errors="0">\n'
        '    <testcase name="No errors found" classname="nanlint" />\n'
        "  </testsuite>\n"
        "</testsuites>\n"
    )


APPLY_EDITS = """
import json, sys
from pathlib import Path

for item in json.load(sys.stdin):
    edits = {}
    for edit in item["fix"]["edits"]:
        edits.setdefault(edit.get("filename", item["filename"]), []).append(edit)
    for name, chosen in edits.items():
        lines = Path(name).read_text().splitlines(keepends=True)
        def offset(location):
            return sum(map(len, lines[: location["row"] - 1])) + location["column"] - 1
        text = "".join(lines)
        for edit in sorted(chosen, key=lambda e: offset(e["location"]), reverse=True):
            text = text[: offset(edit["location"])] + edit["content"] + text[offset(edit["end_location"]) :]
        Path(name).write_text(text)
"""


@pytest.mark.parametrize("name", ["json", "json-lines"])
def test_a_cross_file_fix_names_the_file_of_each_edit(tmp_path, monkeypatch, name):
    """NAN103's fix removes the softmax from models.py: applied from the JSON by a script that
    knows only ruff's shape plus `filename` per edit, it edits models.py, not train.py."""
    readme.write_project(tmp_path)
    monkeypatch.chdir(tmp_path)
    result = CliRunner().invoke(
        main, ["check", "--isolated", "--select", "NAN103", "--output-format", name]
    )
    items = (
        [json.loads(line) for line in result.stdout.splitlines()]
        if name == "json-lines"
        else json.loads(result.stdout)
    )
    (item,) = items
    assert item["filename"] == str(tmp_path / "train.py")
    assert [edit.get("filename") for edit in item["fix"]["edits"]] == [str(tmp_path / "models.py")]
    before = (tmp_path / "train.py").read_text()
    subprocess.run(
        [sys.executable, "-c", APPLY_EDITS], input=json.dumps(items), text=True, check=True
    )
    assert (tmp_path / "train.py").read_text() == before
    assert "nn.Sequential(nn.Linear(features, classes))\n" in (tmp_path / "models.py").read_text()
    result = CliRunner().invoke(main, ["check", "--isolated", "--select", "NAN103"])
    assert result.exit_code == 0
