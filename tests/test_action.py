"""action.yml, run as a GitHub runner runs a composite action: its inputs substituted into each
step's `env`, its `if:` conditions evaluated, each `run:` with `bash -e {0}`, stopping at the first
failing step. `python` is a stand-in that records the pip install; `nanlint` is this checkout's.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

import readme
from conftest import ROOT

ACTION = yaml.safe_load((ROOT / "action.yml").read_text())
EXPRESSION = re.compile(r"\$\{\{\s*(.*?)\s*\}\}")
INPUT_SET = re.compile(r"^inputs\.([\w-]+) != ''$")
TRAIN = (
    "import torch\nimport torch.nn.functional as F\n\n\n"
    "def loss(z, y):\n    return F.binary_cross_entropy(torch.sigmoid(z), y)\n"
)
ANNOTATION = (
    "::error file=train.py,line=6,col=35,endLine=6,endColumn=51,title=NAN101 Sigmoid"
    " probabilities from `torch.sigmoid` reach `F.binary_cross_entropy`%3A use BCEWithLogitsLoss"
    " on the logits::Sigmoid probabilities from `torch.sigmoid` (line 6) reach"
)
STAND_INS = {
    "python": '#!/bin/sh\necho "$@" >> "$PIP_LOG"\n',
    "nanlint": f'#!/bin/sh\nexec "{sys.executable}" -m nanlint "$@"\n',
}


def _value(expression: str, inputs: dict[str, str]) -> str:
    context, _, name = expression.partition(".")
    if context == "inputs":
        return inputs[name]
    assert expression == "github.action_path", f"the test does not know `{expression}`"
    return str(ROOT)


def _applies(condition: str | None, inputs: dict[str, str]) -> bool:
    if condition is None:
        return True
    (name,) = INPUT_SET.match(condition).groups()
    return inputs[name] != ""


def run_action(project: Path, **given: str) -> tuple[list[int], str, list[str]]:
    """Each step's exit code, the standard output, and the pip install command lines."""
    declared = ACTION["inputs"]
    assert set(given) <= set(declared)
    inputs = {name: given.get(name, spec["default"]) for name, spec in declared.items()}
    bin_dir = project.parent / "bin"
    bin_dir.mkdir(exist_ok=True)
    for name, script in STAND_INS.items():
        (bin_dir / name).write_text(script)
        (bin_dir / name).chmod(0o755)
    log = project.parent / "pip.log"
    log.write_text("")
    environment = {
        **os.environ,
        "PATH": f"{bin_dir}{os.pathsep}{os.environ['PATH']}",
        "PYTHONPATH": str(ROOT / "src"),
        "PIP_LOG": str(log),
    }
    codes, output = [], ""
    assert ACTION["runs"]["using"] == "composite"
    for step in ACTION["runs"]["steps"]:
        if not _applies(step.get("if"), inputs):
            continue
        assert step["shell"] == "bash"
        env = {
            key: EXPRESSION.sub(lambda match: _value(match.group(1), inputs), value)
            for key, value in step.get("env", {}).items()
        }
        assert "${{" not in step["run"], "inputs reach the script through env, never inline"
        script = project.parent / "step.sh"
        script.write_text(step["run"])
        done = subprocess.run(
            [shutil.which("bash"), "--noprofile", "--norc", "-eo", "pipefail", str(script)],
            cwd=project,
            env={**environment, **env},
            capture_output=True,
            text=True,
        )
        codes.append(done.returncode)
        output += done.stdout
        if done.returncode:
            break
    return codes, output, log.read_text().splitlines()


@pytest.fixture
def project(tmp_path: Path) -> Path:
    (tmp_path / "project").mkdir()
    (tmp_path / "project" / "train.py").write_text(TRAIN)
    (tmp_path / "project" / "clean.py").write_text("x = 1\n")
    return tmp_path / "project"


def test_the_defaults_install_the_checkout_and_annotate_each_finding(project):
    codes, output, installs = run_action(project)
    assert installs == [f"-m pip install --disable-pip-version-check {ROOT}"]
    assert codes == [0, 1]  # the check's exit code is the action's: it fails the job
    (line,) = output.splitlines()
    assert line.startswith(ANNOTATION)
    assert not (project / "nanlint.sarif").exists()


def test_a_clean_project_passes_without_annotations(project):
    codes, output, _ = run_action(project, src="clean.py")
    assert codes == [0, 0] and output == ""


@pytest.mark.parametrize(
    ("version", "requirement"),
    [
        ("0.1.0", "nanlint==0.1.0"),
        (
            "nanlint @ git+https://github.com/nanlint/nanlint@main",
            "nanlint @ git+https://github.com/nanlint/nanlint@main",
        ),
        ("nanlint>=0.1", "nanlint>=0.1"),
    ],
)
def test_the_version_is_a_release_or_a_pip_requirement(project, version, requirement):
    _, _, installs = run_action(project, version=version)
    assert installs == [f"-m pip install --disable-pip-version-check {requirement}"]


def test_the_sarif_file_is_written_and_the_check_still_fails(project):
    codes, output, _ = run_action(project, **{"sarif-file": "nanlint.sarif"})
    assert codes == [0, 0, 1]  # SARIF with --exit-zero, then the check
    assert output.startswith(ANNOTATION) and output.count("::error ") == 1
    sarif = json.loads((project / "nanlint.sarif").read_text())
    (result,) = sarif["runs"][0]["results"]
    assert result["ruleId"] == "NAN101"
    region = result["locations"][0]["physicalLocation"]["region"]
    assert (region["startLine"], region["startColumn"]) == (6, 35)


def test_args_and_src_reach_the_command_line(project):
    (project / "tests").mkdir()
    (project / "tests" / "test_loss.py").write_text(TRAIN)
    codes, output, _ = run_action(project, args="check --ignore NAN101", src="train.py tests")
    assert codes == [0, 0] and output == ""
    codes, output, _ = run_action(project, src="train.py tests")
    assert codes == [0, 1]
    assert sorted(re.findall(r"file=([\w/.]+),", output)) == ["tests/test_loss.py", "train.py"]


def test_the_readme_workflow_inputs_annotate_the_readme_project(tmp_path):
    (workflow, _) = (b for b in readme.blocks("yaml") if b.startswith("# .github/"))
    (step,) = (
        s
        for s in yaml.safe_load(workflow)["jobs"]["nanlint"]["steps"]
        if s.get("uses", "").startswith("nanlint/")
    )
    project = readme.write_project(tmp_path / "project")
    (project / "src").mkdir()
    (project / "tests").mkdir()
    for name in ("models.py", "train.py"):
        (project / name).rename(project / "src" / name)
    codes, output, _ = run_action(project, **step["with"])
    assert codes == [0, 1]
    assert sorted(re.findall(r"file=([\w/.]+),.*title=(NAN\d+)", output)) == [
        ("src/train.py", "NAN101"),
        ("src/train.py", "NAN103"),
    ]
