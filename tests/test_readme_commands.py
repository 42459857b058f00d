"""Every command the README shows, run in the README's own example project.

Each command in a ```sh block (and each `run:` of the GitHub Actions snippets) is either run
here, in a fresh copy of the Usage section's project, and checked against what the README
says it does, or listed in NOT_RUN with the reason it cannot run in a test and what is
checked instead. A command added to or changed in the README without an entry here fails.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import jsonschema
import pytest
import yaml

import readme
from conftest import ROOT
from nanlint.catalog import INFO_BY_CODE
from nanlint.docs import with_rule_table
from nanlint.rules import ALL_RULES

TRAIN = readme.project_files()["train.py"]
MODELS = readme.project_files()["models.py"]
BCE = "binary_cross_entropy(torch.sigmoid(logits), targets)"
BCE_FIXED = "binary_cross_entropy_with_logits(logits, targets)"
SOFTMAX = "nn.Sequential(nn.Linear(features, classes), nn.Softmax(dim=-1))"
SOFTMAX_FIXED = "nn.Sequential(nn.Linear(features, classes))"
NAN103 = (
    "train.py:11:28: NAN103 Softmax probabilities reach `F.cross_entropy`:"
    " pass the logits (it applies log_softmax)"
)
# the full format explains it: both ends and the path between them
NAN103_WHY = (
    "   = why: Softmax probabilities from `nn.Softmax, last layer of self.net` (models.py:8)"
    " via `Classifier.forward` reach `F.cross_entropy`: it applies log_softmax itself"
)
NAN101 = (
    "train.py:15:35: NAN101 [*] Sigmoid probabilities from `torch.sigmoid` reach"
    " `F.binary_cross_entropy`: use BCEWithLogitsLoss on the logits"
)


@dataclass(frozen=True)
class Expect:
    """What a command does: its exit code, what it prints, which files it changes or writes.

    Every file of the project that is not in `changed` or `written` must stay as it was.
    """

    exit: int
    stdout: tuple[str, ...] = ()  # each appears in stdout
    absent: tuple[str, ...] = ()  # none appears in stdout
    stderr: tuple[str, ...] = ()
    changed: dict[str, tuple[tuple[str, str], ...]] = field(default_factory=dict)  # old -> new
    written: tuple[str, ...] = ()
    extra: dict[str, str] = field(default_factory=dict)  # files added to the project first
    check: Callable[[Path, str], None] | None = None  # (project, stdout) -> asserts


def _json_rules(project: Path, stdout: str) -> None:
    entries = json.loads(stdout)
    assert [entry["code"] for entry in entries][:2] == ["NAN001", "NAN101"]
    assert len(entries) == RULE_COUNT


def _cleaned(project: Path, stdout: str) -> None:
    assert stdout.startswith(("Removed ", "No cache at ")), stdout
    assert not (project / ".nanlint_cache").exists()


def _lines(count: int) -> Callable[[Path, str], None]:
    def check(project: Path, stdout: str) -> None:
        assert len(stdout.splitlines()) == count, stdout

    return check


def _json(project: Path, stdout: str) -> None:
    items = json.loads(stdout)
    assert sorted((item["filename"], item["code"]) for item in items) == [
        (str(project / "train.py"), "NAN101"),
        (str(project / "train.py"), "NAN103"),
    ]


def _sarif(project: Path, stdout: str) -> None:
    log = json.loads((project / "nanlint.sarif").read_text())
    jsonschema.validate(log, json.loads((ROOT / "tests/data/sarif-schema-2.1.0.json").read_text()))
    (run,) = log["runs"]
    assert sorted(result["ruleId"] for result in run["results"]) == ["NAN101", "NAN103"]


def _gitlab(project: Path, stdout: str) -> None:
    report = json.loads((project / "gl-code-quality-report.json").read_text())
    assert sorted(issue["check_name"] for issue in report) == ["NAN101", "NAN103"]
    assert all(issue["location"]["path"] == "train.py" for issue in report)
    assert len({issue["fingerprint"] for issue in report}) == 2


def _fixed_source(project: Path, stdout: str) -> None:
    assert stdout == TRAIN.replace(BCE, BCE_FIXED)


def _named_file_is_linted_without_force_exclude(project: Path, stdout: str) -> None:
    plain = readme.shell("nanlint check build/model.py", project)
    assert plain.returncode == 1 and "build/model.py:15:35: NAN101" in plain.stdout


def _configuration_applies_without_isolated(project: Path, stdout: str) -> None:
    plain = readme.shell("nanlint check", project)
    assert plain.returncode == 0 and "All checks passed!" in plain.stdout


RULE_COUNT = len(ALL_RULES) + 1  # and NAN001
RUN_TIME = readme.section("## Catch it at run time")
FIT = {"fit.py": readme.blocks("python", RUN_TIME)[0]}
# the output the README shows: `$ command`, the program's line, then the findings
(SHOWN_RUN,) = (b for b in readme.blocks("text", RUN_TIME) if b.startswith("$ nanlint run "))
_, SHOWN_STDOUT, SHOWN_FINDINGS = SHOWN_RUN.split("\n", 2)

RUN: dict[str, Expect] = {
    # Check
    "nanlint check": Expect(1, (NAN103, NAN103_WHY, NAN101, "Found 2 errors.")),
    "nanlint check models.py train.py --output-format concise": Expect(
        1,
        (NAN103, NAN101, "Found 2 errors."),
        check=_lines(4),
    ),
    "nanlint check --statistics": Expect(
        1, ("1  NAN101  [*] sigmoid-into-bce-loss\n1  NAN103      softmax-into-cross-entropy",)
    ),
    "nanlint check --select NAN1 --ignore NAN103": Expect(
        1, (NAN101, "Found 1 error."), ("NAN103",)
    ),
    "nanlint check --exit-zero": Expect(0, (NAN103, NAN101, "Found 2 errors.")),
    "nanlint check --no-cache": Expect(1, (NAN103, NAN101, "Found 2 errors.")),
    "nanlint check --ignore-noqa suppressed.py": Expect(
        1, ("suppressed.py:6:28: NAN101 [*]", "suppressed.py:10:5: NAN101", "Found 4 errors.")
    ),
    "nanlint check -q --output-format concise": Expect(
        1, (f"{NAN103}\n{NAN101}\n",), ("Found",), check=_lines(2)
    ),
    "nanlint check --show-files": Expect(0, ("models.py\nsuppressed.py\ntrain.py\n",)),
    "nanlint check --show-settings": Expect(
        0, ("Settings path: (none: the defaults)\n", '\noutput-format = "full"\n')
    ),
    "nanlint clean": Expect(0, check=_cleaned),
    # Fix
    "nanlint check --diff": Expect(
        1,
        ("--- train.py", f"-    return F.{BCE}", f"+    return F.{BCE_FIXED}"),
        ("models.py\n",),
        stderr=("Would fix 1 error.",),
    ),
    "nanlint check --fix": Expect(
        1,
        (NAN103, "Found 2 errors (1 fixed, 1 remaining)."),
        changed={"train.py": ((BCE, BCE_FIXED),)},
    ),
    "nanlint check --fix --unsafe-fixes": Expect(
        0,
        ("Found 2 errors (2 fixed, 0 remaining).",),
        changed={"train.py": ((BCE, BCE_FIXED),), "models.py": ((SOFTMAX, SOFTMAX_FIXED),)},
    ),
    "nanlint check --fix --show-fixes": Expect(
        1,
        ("\nFixed 1 error:\n- train.py:\n    1 \u00d7 NAN101 (sigmoid-into-bce-loss)\n\n",),
        changed={"train.py": ((BCE, BCE_FIXED),)},
    ),
    "nanlint check --fix-only": Expect(
        0, ("Fixed 1 error.\n",), ("NAN103",), changed={"train.py": ((BCE, BCE_FIXED),)}
    ),
    "nanlint check --fix --exit-non-zero-on-fix": Expect(
        1, changed={"train.py": ((BCE, BCE_FIXED),)}
    ),
    "cat train.py | nanlint check --stdin-filename train.py --fix": Expect(
        1, stderr=("Found 2 errors (1 fixed, 1 remaining).",), check=_fixed_source
    ),
    # Rules and reproductions
    "nanlint rule NAN101": Expect(0, ("# NAN101 sigmoid-into-bce-loss\n", "## Fix safety")),
    "nanlint rule --all": Expect(0, ("NAN101  sigmoid-into-bce-loss",), check=_lines(RULE_COUNT)),
    "nanlint rule --all --output-format json": Expect(0, check=_json_rules),
    "nanlint repro NAN101": Expect(
        0, ("loss pinned at 100 from 16.64 (measured 16.64): ok", "  CONFIRMED")
    ),
    "nanlint repro NAN101 --plot plots": Expect(
        0,
        ("  CONFIRMED", "wrote plots/NAN101.png\nwrote plots/NAN101.svg"),
        written=("plots/NAN101.png", "plots/NAN101.svg"),
    ),
    # Configuration
    "nanlint check --config ci/nanlint.toml": Expect(
        1,
        (NAN103, "Found 1 error."),
        ("NAN101",),
        extra={"ci/nanlint.toml": 'select = ["NAN103"]\n'},
    ),
    "nanlint check --isolated": Expect(
        1,
        ("Found 2 errors.",),
        extra={"pyproject.toml": '[tool.nanlint]\nignore = ["ALL"]\n'},
        check=_configuration_applies_without_isolated,
    ),
    "nanlint check --force-exclude build/model.py": Expect(
        0,
        ("All checks passed!",),
        extra={"build/model.py": TRAIN},
        check=_named_file_is_linted_without_force_exclude,
    ),
    "nanlint check --config \"ignore = ['NAN103']\"": Expect(
        1, (NAN101, "Found 1 error."), (NAN103,)
    ),
    'nanlint check --per-file-ignores "train.py:NAN101" --extend-exclude models.py': Expect(
        1, (NAN103, "Found 1 error."), ("NAN101",)
    ),
    "nanlint config": Expect(
        0, ("select             The rules to enable: codes, prefixes or ALL\n",), check=_lines(9)
    ),
    "nanlint config per-file-ignores": Expect(
        0, ("per-file-ignores\n\nRules to disable in the files a pattern matches", "Current: []")
    ),
    # Suppressions
    "nanlint check --add-noqa": Expect(
        0,
        stderr=("Added 2 noqa directives.",),
        changed={
            "train.py": (
                ("labels)\n", "labels)  # noqa: NAN103\n"),
                (f"{BCE}\n", f"{BCE}  # noqa: NAN101\n"),
            )
        },
    ),
    # Output formats and CI
    "nanlint check --output-format json": Expect(1, check=_json),
    "nanlint check --output-format sarif > nanlint.sarif": Expect(
        1, written=("nanlint.sarif",), check=_sarif
    ),
    "nanlint check --output-format gitlab > gl-code-quality-report.json": Expect(
        1, written=("gl-code-quality-report.json",), check=_gitlab
    ),
    "nanlint check --output-format github": Expect(
        1,
        (
            "::error file=train.py,line=11,col=28,endLine=11,endColumn=36,title=NAN103 Softmax"
            " probabilities reach `F.cross_entropy`%3A pass the logits (it applies log_softmax)"
            "::Softmax probabilities from `nn.Softmax, last layer of self.net` (models.py:8)",
            "::error file=train.py,line=15,col=35,endLine=15,endColumn=56,title=NAN101 Sigmoid",
        ),
        check=_lines(2),
    ),
    # Notebooks
    "nanlint check training.ipynb": Expect(
        1,
        ("training.ipynb:cell 4:1:31: NAN101 [*] Sigmoid probabilities",),
        extra={"training.ipynb": (ROOT / "tests/data/training.ipynb").read_text()},
    ),
    # Catch it at run time
    "nanlint run fit.py CrossEntropyLoss": Expect(
        1, (SHOWN_STDOUT + "\n",), stderr=(SHOWN_FINDINGS,), extra=FIT
    ),
    "nanlint run --select NAN1 --output-format json-lines fit.py CrossEntropyLoss": Expect(
        1, ("loss ",), stderr=('"observed": {"dtype": "float32", "numel": 320',), extra=FIT
    ),
    # flake8
    "flake8 --select NAN train.py": Expect(
        1, ("train.py:15:35: NAN101 Sigmoid probabilities",), ("NAN103",), check=_lines(1)
    ),
}


def _setup_run_command(command: str) -> None:
    lint = command.split(" && ", 1)[1]
    done = readme.shell(lint, ROOT)
    golden = ROOT / "tests/golden/projects/example_project.diagnostics"
    expected = [
        line.split(" fix=")[0]
        for line in golden.read_text().splitlines()
        if INFO_BY_CODE[line.split(" fix=")[0].rsplit(" ", 1)[1]].default_enabled
    ]  # the golden lists every rule's findings; the README command runs the default ones
    found = re.findall(r"^fixtures/example_project/(\S+: NAN\d+)", done.stdout, re.M)
    assert done.returncode == 1, done.stdout
    assert [f.replace(": ", " ") for f in found] == expected, done.stdout
    assert f"Found {len(expected)} errors." in done.stdout, done.stdout


def _in_ci_script(command: str) -> None:
    assert command in (ROOT / ".ci" / "run").read_text().splitlines()


def _rule_table_is_current(command: str) -> None:
    assert (ROOT / command.split()[1]).is_file()
    assert with_rule_table(readme.TEXT) == readme.TEXT, f"run {command}"


def _golden_switch_exists(command: str) -> None:
    variable, rest = command.split(" ", 1)[0].split("=")[0], command.split()[-1]
    assert (ROOT / rest).is_file()
    assert f'"{variable}"' in (ROOT / "tests" / "conftest.py").read_text()


def _suite_exists(command: str) -> None:
    assert (ROOT / "tests").is_dir() and "[tool.pytest.ini_options]" in _pyproject()


def _ruff_is_configured(command: str) -> None:
    assert "[tool.ruff]" in _pyproject()
    assert readme.shell("ruff --version", ROOT).returncode == 0


def _benchmark_arguments_parse(command: str) -> None:
    script, *arguments = command.split()[1:]
    parse = f"import sys; sys.path.insert(0, {str(ROOT / 'bench')!r}); import run; run.parse_args()"
    assert (ROOT / script).is_file()
    done = subprocess.run([sys.executable, "-c", parse, *arguments], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr


def _corpus_script_runs(command: str) -> None:
    script = command.split()[1]
    assert readme.shell(f"python {script} --help", ROOT).returncode == 0


def _watch_is_tested(command: str) -> None:
    tests = (ROOT / "tests" / "test_cli_options.py").read_text()
    assert "def test_watch_relints_when_a_file_changes" in tests


def _ddp_test_launches_it(command: str) -> None:
    test = (ROOT / "tests" / "test_guard_ddp.py").read_text()
    assert command.startswith("torchrun ") and " -m nanlint run " in command
    assert '"torchrun"' in test and '"-m", "nanlint", "run"' in test


def _pytest_plugin_is_registered(command: str) -> None:
    assert 'nanlint = "nanlint.pytest_plugin"' in _pyproject().split("pytest11]", 1)[1]
    assert command.split()[1] in (ROOT / "src/nanlint/pytest_plugin.py").read_text()


def _pyproject() -> str:
    return (ROOT / "pyproject.toml").read_text()


# command -> (why it is not run here, what is checked instead)
NOT_RUN: dict[str, tuple[str, Callable[[str], None]]] = {
    "nanlint check --watch": (
        "it runs until interrupted; test_cli_options runs a bounded watch",
        _watch_is_tested,
    ),
    "python -m pip install . && python -m nanlint check fixtures/example_project": (
        "pip install needs the network and changes this environment; the check after && runs",
        _setup_run_command,
    ),
    "python -m pip install -e '.[test]' -c constraints.txt && python -m pytest": (
        "it installs and runs this very suite; .ci/run runs it",
        _in_ci_script,
    ),
    "python scripts/generate_rule_pages.py": (
        "it rewrites this checkout's rules/ and README (test_docs checks its output is committed)",
        _rule_table_is_current,
    ),
    "NANLINT_UPDATE_GOLDEN=1 python -m pytest tests/test_fixtures.py": (
        "it rewrites this checkout's golden files",
        _golden_switch_exists,
    ),
    "python -m pytest": ("it is this very suite", _suite_exists),
    "ruff format . && ruff check .": ("it reformats this checkout", _ruff_is_configured),
    "python bench/run.py --quick --repeat 1": (
        "it downloads the corpora and takes minutes; its options are parsed",
        _benchmark_arguments_parse,
    ),
    "python bench/run.py --corpus timm --torchfix": (
        "it downloads timm and TorchFix and takes many minutes; its options are parsed",
        _benchmark_arguments_parse,
    ),
    "python bench/run.py --json bench.json": (
        "it downloads the corpora and takes most of an hour; its options are parsed",
        _benchmark_arguments_parse,
    ),
    "python scripts/corpus_check.py --mutate 3000": (
        "it downloads four wheels and runs for over an hour; its --help runs",
        _corpus_script_runs,
    ),
    "torchrun --standalone --nproc_per_node 2 -m nanlint run --exit-zero train.py": (
        "the Usage project has no distributed program; test_guard_ddp launches its own with torchrun",
        _ddp_test_launches_it,
    ),
    "pytest --nanlint-guard test_detection.py": (
        "pytest finds the plugin by its entry point, there only once nanlint is installed from"
        " this checkout; test_guard_run_readme runs it and compares the output shown",
        _pytest_plugin_is_registered,
    ),
}


def actions_steps() -> list[dict]:
    """The steps of the README's workflows (test_action runs the action's own)."""
    workflows = (block for block in readme.blocks("yaml") if block.startswith("# .github/"))
    return [
        step for block in workflows for step in yaml.safe_load(block)["jobs"]["nanlint"]["steps"]
    ]


def readme_commands() -> list[str]:
    shown = readme.commands() + [step["run"] for step in actions_steps() if "run" in step]
    return list(dict.fromkeys(shown))


def test_every_readme_command_is_run_or_accounted_for():
    assert sorted(readme_commands()) == sorted([*RUN, *NOT_RUN])


@pytest.mark.parametrize("command", list(RUN))
def test_readme_command_does_what_the_readme_says(tmp_path, command):
    expect = RUN[command]
    project = readme.write_project(tmp_path, expect.extra)
    before = readme.snapshot(project)
    done = readme.shell(command, project)
    assert done.returncode == expect.exit, done.stdout + done.stderr
    for text in expect.stdout:
        assert text in done.stdout
    for text in expect.absent:
        assert text not in done.stdout
    for text in expect.stderr:
        assert text in done.stderr
    after = readme.snapshot(project)
    assert sorted(set(after) - set(before)) == sorted(expect.written)
    for name, content in before.items():
        text = after[name].decode()
        if name in expect.changed:
            for old, new in expect.changed[name]:
                assert old not in text and new in text, text
        else:
            assert after[name] == content, f"{command} changed {name}"
    if expect.check is not None:
        expect.check(project, done.stdout)


@pytest.mark.parametrize("command", list(NOT_RUN))
def test_readme_command_that_cannot_run_here_is_checked_otherwise(command):
    _reason, check = NOT_RUN[command]
    check(command)
