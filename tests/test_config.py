"""Configuration files: discovery, every key, the CLI's --config / --isolated, and bad input."""

from __future__ import annotations

import pytest
from click.testing import CliRunner

from conftest import BAD
from nanlint.cli import main

HEAD = "train.py:6:35: NAN101 [*] Sigmoid probabilities"


def check(*args: str):
    return CliRunner().invoke(main, ["check", "--output-format", "concise", *args])


@pytest.fixture
def project(write, monkeypatch):
    root = write({"src/pkg/train.py": BAD, "tests/test_train.py": BAD})
    monkeypatch.chdir(root)
    return root


def lines(result) -> list[str]:
    return [line.split(" Sigmoid")[0] for line in result.output.splitlines()]


def test_pyproject_table_is_found_walking_up_from_the_linted_path(project):
    (project / "pyproject.toml").write_text('[tool.nanlint]\nignore = ["NAN101"]\n')
    result = check("src/pkg")
    assert (result.exit_code, result.output) == (0, "All checks passed!\n")


def test_pyproject_without_a_nanlint_table_is_skipped(project):
    (project / "pyproject.toml").write_text('[tool.nanlint]\nignore = ["NAN1"]\n')
    (project / "src" / "pyproject.toml").write_text("[project]\nname = 'x'\n")
    assert check("src/pkg").exit_code == 0


def test_nanlint_toml_wins_over_pyproject_in_the_same_directory(project):
    (project / "pyproject.toml").write_text('[tool.nanlint]\nselect = ["NAN101"]\n')
    (project / "nanlint.toml").write_text('select = ["NAN103"]\n')
    assert check().exit_code == 0
    (project / ".nanlint.toml").write_text('select = ["NAN1"]\n')
    assert check().exit_code == 1


def test_per_file_ignores_match_gitignore_style_patterns_from_the_config_directory(project):
    (project / "pyproject.toml").write_text(
        '[tool.nanlint.per-file-ignores]\n"tests/*" = ["NAN1"]\n'
    )
    result = check()
    assert lines(result)[0] == "src/pkg/train.py:6:35: NAN101 [*]"
    assert result.output.count("NAN101") == 1


def test_exclude_replaces_and_extend_exclude_adds_to_the_defaults(project):
    (project / "build").mkdir()
    (project / "build" / "gen.py").write_text(BAD)
    (project / "pyproject.toml").write_text('[tool.nanlint]\nextend-exclude = ["tests/"]\n')
    assert [line.split(":")[0] for line in check().output.splitlines()[:-2]] == ["src/pkg/train.py"]
    (project / "pyproject.toml").write_text('[tool.nanlint]\nexclude = ["src"]\n')
    assert [line.split(":")[0] for line in check().output.splitlines()[:-2]] == [
        "build/gen.py",
        "tests/test_train.py",
    ]


def test_unsafe_fixes_and_output_format_from_the_config(project):
    (project / "pyproject.toml").write_text(
        '[tool.nanlint]\nunsafe-fixes = true\noutput-format = "json-lines"\n'
    )
    result = CliRunner().invoke(main, ["check", "src"])
    assert result.output.startswith('{"cell": null, "code": "NAN101"')
    fix = CliRunner().invoke(main, ["check", "--fix", "--no-unsafe-fixes", "src"])
    assert fix.exit_code == 0


def test_command_line_select_replaces_the_configured_one(project):
    (project / "pyproject.toml").write_text('[tool.nanlint]\nselect = ["NAN103"]\n')
    assert check().exit_code == 0
    assert check("--select", "NAN101").exit_code == 1


def test_explicit_config_and_isolated(project):
    (project / "pyproject.toml").write_text('[tool.nanlint]\nignore = ["NAN101"]\n')
    (project / "strict.toml").write_text('select = ["ALL"]\n')
    assert check().exit_code == 0
    assert check("--config", "strict.toml").exit_code == 1
    assert check("--isolated").exit_code == 1


@pytest.mark.parametrize(
    "content, message",
    [
        (
            "[tool.nanlint]\nselct = []\n",
            "pyproject.toml: unknown key `selct`; accepted keys: exclude, extend-exclude,"
            " extend-select, ignore, output-format, per-file-ignores, respect-gitignore,"
            " select, unsafe-fixes",
        ),
        (
            '[tool.nanlint]\nselect = ["E501"]\n',
            "pyproject.toml: `select` has an unknown rule selector `E501` (codes look like NAN101,"
            " prefixes like NAN1, or ALL); accepted values: a list of codes (NAN101),"
            " prefixes (NAN1) or ALL",
        ),
        (
            '[tool.nanlint]\nselect = "NAN101"\n',
            "pyproject.toml: `select` must be a list of strings, not 'NAN101'; accepted values:"
            " a list of codes (NAN101), prefixes (NAN1) or ALL",
        ),
        (
            '[tool.nanlint]\noutput-format = "xml"\n',
            "pyproject.toml: `output-format` must be an output format, not 'xml'; accepted"
            " values: full, concise, json, json-lines, github, sarif, junit, gitlab",
        ),
        (
            '[tool.nanlint]\nunsafe-fixes = "yes"\n',
            "pyproject.toml: `unsafe-fixes` must be true or false, not 'yes'; accepted values:"
            " true, false",
        ),
        (
            '[tool.nanlint.per-file-ignores]\n"tests/*" = ["X1"]\n',
            "pyproject.toml: `per-file-ignores` has an unknown rule selector `X1` (codes look"
            " like NAN101, prefixes like NAN1, or ALL); accepted values: a table of"
            ' pattern = [codes], e.g. "tests/*" = ["NAN101"]',
        ),
        ("[tool.nanlint\n", "pyproject.toml: not valid TOML: "),
    ],
)
def test_bad_configuration_is_a_clear_error_and_exit_2(project, content, message):
    (project / "pyproject.toml").write_text(content)
    result = CliRunner().invoke(main, ["check"])
    assert result.exit_code == 2
    assert result.output.startswith(f"error: {project}/{message}")


def test_missing_explicit_config_is_an_error(project):
    result = CliRunner().invoke(main, ["check", "--config", "nope.toml"])
    assert result.exit_code == 2
    assert result.output.startswith("error: nope.toml: cannot read: No such file or directory")
