"""The README's code and configuration snippets do what its text says.

The commands are in test_readme_commands.py. Here: the opening example and its plot, the
configuration, the suppressions, the pre-commit and GitHub Actions snippets (validated, and
the nanlint invocations inside them run; pre-commit itself would fetch the hook repository
and GitHub's actions cannot run here), the ruff snippet (run with ruff), the rule table.
"""

from __future__ import annotations

import json
import re
import sys

import pytest
import yaml
from lupa import LuaRuntime

import readme
from conftest import ROOT
from nanlint import __version__
from nanlint.docs import rule_table, with_rule_table
from nanlint.rules import ALL_RULES
from nanlint.selection import validate

if sys.version_info >= (3, 11):
    import tomllib
else:
    import tomli as tomllib

INTRO = readme.TEXT.split("\n## ", 1)[0]
CONCISE = re.compile(r"^([\w/.-]+):\d+:\d+: (NAN\d+) ", re.M)
BEFORE, AFTER = readme.blocks("python", INTRO)


def lint(project, *arguments: str):
    return readme.shell(" ".join(("nanlint", "check", *arguments)), project)


def found(stdout: str) -> list[str]:
    """`path CODE` of each diagnostic in concise output."""
    return [f"{path} {code}" for path, code in CONCISE.findall(stdout)]


def test_the_opening_example_is_fixed_as_shown(tmp_path):
    (command,) = re.findall(r"`(nanlint check --fix loss\.py)`", INTRO)
    (tmp_path / "loss.py").write_text(BEFORE)
    done = readme.shell(command, tmp_path)
    assert done.returncode == 0, done.stdout
    assert "Found 1 error (1 fixed, 0 remaining)." in done.stdout
    assert (tmp_path / "loss.py").read_text() == AFTER


def test_the_opening_plot_and_its_numbers_are_the_measured_ones(reproduced):
    (image,) = re.findall(r"!\[[^\]]+\]\(([^)]+)\)", INTRO)
    assert image == "rules/img/NAN101.png" and (ROOT / image).is_file()
    caption = INTRO.split("--plot DIR", 1)[1]
    measured = {claim.measured for claim in reproduced["NAN101"].claims}
    numbers = re.findall(r"\d+\.\d+", caption)
    assert numbers == ["16.64", "6.24"]
    assert set(numbers) <= measured


CONFIG_PROJECT = {
    "tests/test_loss.py": BEFORE,  # per-file-ignores: NAN101 under tests/
    "generated/loss.py": BEFORE,  # extend-exclude
    "loss_pb2.py": BEFORE,  # extend-exclude
    "scratch/loss.py": BEFORE,  # .gitignore
    ".gitignore": "scratch/\n",
    "double_sigmoid.py": (  # NAN102: ignored
        "import torch\nimport torch.nn.functional as F\n\n\n"
        "def loss(z, y):\n    return F.binary_cross_entropy_with_logits(torch.sigmoid(z), y)\n"
    ),
    "manual.py": "import torch\n\n\ndef p(x):\n    return 1 / (1 + torch.exp(-x))\n",  # NAN301
    "rate.py": "import torch\n\n\ndef r(x):\n    return torch.log(1 + x)\n",  # NAN205
    "norm.py": "import torch\n\n\ndef n(x):\n    return torch.sqrt((x**2).sum(-1))\n",  # NAN601
}


def test_the_configuration_snippet_applies_every_key(tmp_path):
    (config,) = (block for block in readme.blocks("toml") if "[tool.nanlint]" in block)
    project = readme.write_project(tmp_path, {**CONFIG_PROJECT, "pyproject.toml": config})
    assert readme.shell("git init -q", project).returncode == 0
    done = lint(project)
    assert done.returncode == 1
    assert sorted(found(done.stdout)) == [
        "norm.py NAN601",  # extend-select
        "rate.py NAN205",  # selected by the NAN2 prefix
        "train.py NAN101",
        "train.py NAN103",
    ]
    assert done.stdout.splitlines()[-2:] == [  # output-format = "concise"; no unsafe fixes
        "Found 4 errors.",
        "[*] 3 fixable with the `--fix` option (1 hidden fix can be enabled with the"
        " `--unsafe-fixes` option).",
    ]


SUPPRESSIONS = readme.section("### Suppressions")
(SUPPRESSED,) = readme.blocks("python", SUPPRESSIONS)
NOQA = re.compile(r"  # noqa.*$", re.M)


def test_each_suppression_in_the_snippet_suppresses_its_line(tmp_path):
    (tmp_path / "suppressed.py").write_text(SUPPRESSED)
    done = lint(tmp_path, "suppressed.py")
    assert done.returncode == 0 and "All checks passed!" in done.stdout, done.stdout
    (tmp_path / "suppressed.py").write_text(NOQA.sub("", SUPPRESSED))
    bare = lint(tmp_path, "suppressed.py", "--output-format", "concise")
    assert found(bare.stdout) == ["suppressed.py NAN101"] * 4


@pytest.mark.parametrize("directive", re.findall(r"`(# nanlint: noqa[^`]*)`", SUPPRESSIONS))
def test_a_file_level_directive_suppresses_the_whole_file(tmp_path, directive):
    (tmp_path / "suppressed.py").write_text(f"{directive}\n{NOQA.sub('', SUPPRESSED)}")
    done = lint(tmp_path, "suppressed.py")
    assert done.returncode == 0, done.stdout


def test_unused_noqa_loses_only_its_nan_codes(tmp_path):
    before, after = re.findall(r"\(`(# noqa: [^`]+)` becomes `(# noqa: [^`]+)`\)", SUPPRESSIONS)[0]
    (tmp_path / "a.py").write_text(f"x = 1  {before}\n")
    done = lint(tmp_path, "--fix", "a.py")
    assert done.returncode == 0, done.stdout
    assert (tmp_path / "a.py").read_text() == f"x = 1  {after}\n"


def _hooks() -> dict[str, dict]:
    return {
        hook["id"]: hook for hook in yaml.safe_load((ROOT / ".pre-commit-hooks.yaml").read_text())
    }


def test_the_pre_commit_snippet_names_real_hooks_that_work(tmp_path):
    (snippet,) = (block for block in readme.blocks("yaml") if block.startswith("repos:"))
    (repository,) = yaml.safe_load(snippet)["repos"]
    assert repository["repo"] == "https://github.com/nanlint/nanlint"
    # no release is tagged: the snippet names the branch and says how to pin a commit
    assert repository["rev"] == "main"
    assert "pre-commit autoupdate --freeze" in snippet
    assert f"`v{__version__}` being the first" in readme.section("### pre-commit")
    shown = re.findall(r"- id: ([\w-]+)", snippet)  # the commented-out one too
    assert shown == ["nanlint", "nanlint-fix"] == list(_hooks())
    project = readme.write_project(tmp_path)
    for hook in _hooks().values():
        assert hook["types_or"] == ["python", "jupyter"] and "--force-exclude" in hook["entry"]
    check = readme.shell(f"{_hooks()['nanlint']['entry']} models.py train.py", project)
    assert check.returncode == 1 and "Found 2 errors." in check.stdout
    fix = readme.shell(f"{_hooks()['nanlint-fix']['entry']} models.py train.py", project)
    assert fix.returncode == 1 and "(1 fixed, 1 remaining)" in fix.stdout
    assert "binary_cross_entropy_with_logits" in (project / "train.py").read_text()


def _workflows() -> list[dict]:
    return [yaml.safe_load(b) for b in readme.blocks("yaml") if b.startswith("# .github/")]


def test_the_github_actions_workflows_use_this_action_with_its_inputs():
    action = yaml.safe_load((ROOT / "action.yml").read_text())
    workflows = _workflows()
    assert len(workflows) == 2
    for parsed in workflows:
        assert parsed[True] == ["push", "pull_request"]  # YAML 1.1 reads the key `on` as true
        steps = parsed["jobs"]["nanlint"]["steps"]
        assert [step.get("uses", "").split("@")[0] for step in steps[:3]] == [
            "actions/checkout",
            "actions/setup-python",
            "nanlint/nanlint",
        ]
        assert set(steps[2].get("with", {})) <= set(action["inputs"])
        assert not any("run" in step for step in steps)


def test_the_code_scanning_workflow_uploads_what_the_action_writes():
    job = _workflows()[1]["jobs"]["nanlint"]
    assert job["permissions"]["security-events"] == "write"
    lint, upload = job["steps"][2:]
    assert upload["uses"] == "github/codeql-action/upload-sarif@v3"
    assert upload["with"]["sarif_file"] == lint["with"]["sarif-file"]
    # A step runs after a failing one only with if: always(); the check fails on findings.
    assert upload["if"] == "always()"


def test_the_ruff_snippet_keeps_nan_codes_through_rufs_unused_noqa_fix(tmp_path):
    section = readme.section("### ruff")
    (snippet,) = readme.blocks("toml", section)
    assert tomllib.loads(snippet) == {"tool": {"ruff": {"lint": {"external": ["NAN"]}}}}
    before, after = re.findall(r"`(# noqa: NAN101, F401)`.*?`(# noqa: NAN101)`", section, re.S)[0]
    for config, expected in (("[tool.ruff.lint]\n", "x = 1\n"), (snippet, f"x = 1  {after}\n")):
        (tmp_path / "pyproject.toml").write_text(config)
        (tmp_path / "a.py").write_text(f"x = 1  {before}\n")
        done = readme.shell("ruff check --select RUF100 --fix a.py", tmp_path)
        assert done.returncode == 0, done.stdout + done.stderr
        assert (tmp_path / "a.py").read_text() == expected


def test_the_rule_table_is_generated_from_the_rules():
    assert with_rule_table(readme.TEXT) == readme.TEXT, "run python scripts/generate_rule_pages.py"
    table = readme.section("## Rules")
    assert rule_table("rules/") in table
    for rule in ALL_RULES:
        assert f"| [{rule.code}](rules/{rule.code}.md) | {rule.name} |" in table
        assert (ROOT / "rules" / f"{rule.code}.md").is_file()


def test_the_benchmark_section_runs_bench_and_dates_its_figures():
    section = readme.section("## Benchmark")
    assert "`bench/run.py`" in section and (ROOT / "bench" / "run.py").is_file()
    assert "(bench/README.md)" in section and (ROOT / "bench" / "README.md").is_file()
    figures = section.split("<!-- benchmark figures: start -->\n", 1)[1]
    figures = figures.split("<!-- benchmark figures: end -->", 1)[0]
    assert re.search(r"\b20\d\d-\d\d-\d\d\b", figures), "the figures need their date"
    assert re.search(r"\b\d+ cores\b", figures), "the figures need their machine"


EDITORS = readme.section("### Editors: the language server")


def test_the_editor_snippets_parse_and_start_nanlint_server_with_valid_options():
    (vscode,) = (json.loads(block) for block in readme.blocks("json", EDITORS))
    assert vscode["glspc.server.command"] == "nanlint"
    assert vscode["glspc.server.commandArguments"] == ["server"]
    assert vscode["glspc.server.languageId"] == ["python"]
    (helix,) = (tomllib.loads(block) for block in readme.blocks("toml", EDITORS))
    server = helix["language-server"]["nanlint"]
    assert [server["command"], *server["args"]] == ["nanlint", "server"]
    (python,) = helix["language"]
    assert python["name"] == "python" and "nanlint" in python["language-servers"]
    (neovim,) = readme.blocks("lua", EDITORS)
    compiled = LuaRuntime().eval("load")(neovim)  # compiles, runs nothing
    assert not isinstance(compiled, tuple), compiled  # (nil, the syntax error)
    assert 'cmd = { "nanlint", "server" }' in neovim
    assert 'init_options = { ignore = { "NAN205" } }' in neovim
    for options in (vscode["glspc.server.initializationOptions"], server["config"]):
        assert options == {"ignore": ["NAN205"]}
        assert [validate(code) for code in options["ignore"]] == ["NAN205"]
    assert "pip install 'nanlint[server]'" in EDITORS
    assert _pyproject_extras()["server"] == ["pygls>=2.0"]


def _pyproject_extras() -> dict[str, list[str]]:
    return tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["optional-dependencies"]
