"""The options a ruff user reaches for, run in the README's project (models.py, train.py,
suppressed.py): colour, short output, fixing modes, noqa handling, file and rule selection
on the command line, --config KEY=VALUE, stdin, --watch, `nanlint config`."""

from __future__ import annotations

import json
import re

import jsonschema
import pytest
from click.testing import CliRunner

import readme
from conftest import ROOT
from nanlint.cli import main
from nanlint.settings import SETTINGS, schema

if __import__("sys").version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

NAN103 = (
    "train.py:11:28: NAN103 Softmax probabilities reach `F.cross_entropy`:"
    " pass the logits (it applies log_softmax)"
)
NAN101 = (
    "train.py:15:35: NAN101 [*] Sigmoid probabilities from `torch.sigmoid` reach"
    " `F.binary_cross_entropy`: use BCEWithLogitsLoss on the logits"
)
FOOTER = [
    "Found 2 errors.",
    "[*] 1 fixable with the `--fix` option (1 hidden fix can be enabled with the"
    " `--unsafe-fixes` option).",
]
BCE = "F.binary_cross_entropy(torch.sigmoid(logits), targets)"


@pytest.fixture
def project(tmp_path, monkeypatch):
    readme.write_project(tmp_path)
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("NO_COLOR", raising=False)
    monkeypatch.delenv("FORCE_COLOR", raising=False)
    return tmp_path


def check(*args: str, input: str | None = None):
    return CliRunner().invoke(
        main, ["check", "--no-cache", *args], input=input, catch_exceptions=False
    )


def concise(*args: str, input: str | None = None):
    return check("--output-format", "concise", *args, input=input)


# -- colour ------------------------------------------------------------------------------

BOLD, CYAN, RED, RESET = "\x1b[1m", "\x1b[36m", "\x1b[31m", "\x1b[0m"


def test_color_always_styles_the_path_the_code_and_the_fix_marker(project):
    lines = concise("--color", "always").stdout.splitlines()
    colon = f"{CYAN}:{RESET}"
    assert lines[1] == (
        f"{BOLD}train.py{RESET}{colon}15{colon}35: {RED}{BOLD}NAN101{RESET} [{CYAN}*{RESET}]"
        " Sigmoid probabilities from `torch.sigmoid` reach `F.binary_cross_entropy`:"
        " use BCEWithLogitsLoss on the logits"
    )
    assert lines[3].startswith(f"[{CYAN}*{RESET}] 1 fixable")


def test_full_output_colours_the_gutter_caret_and_annotations(project):
    lines = check("--color", "always", "train.py").stdout.splitlines()
    bar = "\x1b[34m\x1b[1m|\x1b[0m"
    assert (
        lines[2] == f"\x1b[34m\x1b[1m11\x1b[0m {bar}     return F.cross_entropy(model(x), labels)"
    )
    assert lines[3] == f"   {bar}                            {RED}{BOLD}^^^^^^^^ NAN103{RESET}"
    assert lines[5].startswith(f"   = {CYAN}{BOLD}why{RESET}: Softmax probabilities from")


@pytest.mark.parametrize(
    ("color", "environment", "styled"),
    [
        ("auto", {}, False),  # CliRunner's output is not a terminal
        ("auto", {"FORCE_COLOR": "1"}, True),
        ("auto", {"NO_COLOR": "1", "FORCE_COLOR": "1"}, False),
        ("auto", {"NO_COLOR": ""}, False),  # an empty NO_COLOR is no request (no-color.org)
        ("always", {"NO_COLOR": "1"}, True),
        ("never", {"FORCE_COLOR": "1"}, False),
    ],
)
def test_color_choice_and_environment(project, monkeypatch, color, environment, styled):
    for name, value in environment.items():
        monkeypatch.setenv(name, value)
    assert ("\x1b[" in concise("--color", color).stdout) is styled


def test_machine_formats_and_output_files_are_never_coloured(project):
    assert "\x1b[" not in check("--color", "always", "--output-format", "json").stdout
    check("--color", "always", "--output-format", "concise", "-o", "report.txt")
    assert "\x1b[" not in (project / "report.txt").read_text()


# -- what is printed ---------------------------------------------------------------------


def test_quiet_prints_the_diagnostics_only_and_silent_nothing(project):
    result = concise("-q")
    assert (result.exit_code, result.stdout) == (1, f"{NAN103}\n{NAN101}\n")
    result = check("--select", "NAN001", "-q")
    assert (result.exit_code, result.stdout) == (0, "")
    result = concise("--silent")
    assert (result.exit_code, result.stdout, result.stderr) == (1, "", "")


def test_output_file_takes_the_report(project):
    result = concise("-o", "reports/nanlint.txt")
    assert (result.exit_code, result.stdout) == (1, "")
    assert (project / "reports" / "nanlint.txt").read_text().splitlines() == [
        NAN103,
        NAN101,
        *FOOTER,
    ]


def test_statistics_end_with_the_total(project):
    assert check("--statistics").stdout.splitlines() == [
        "1  NAN101  [*] sigmoid-into-bce-loss",
        "1  NAN103      softmax-into-cross-entropy",
        *FOOTER,
    ]


def test_help_lists_options_in_ruff_s_sections_and_the_environment(project):
    text = CliRunner().invoke(main, ["check", "--help"]).stdout
    sections = re.findall(r"^(\w[\w ]*):$", text, re.M)
    assert sections == [
        "Options",
        "Rule selection",
        "File selection",
        "Miscellaneous",
        "Log levels",
        "Global options",
    ]
    assert "\n  Environment variables:\n" in text
    assert "  NO_COLOR               no colour with --color auto" in text


# -- fixing ------------------------------------------------------------------------------


def test_show_fixes_lists_what_fix_applied_by_file(project):
    result = concise("--fix", "--unsafe-fixes", "--show-fixes")
    assert result.stdout.splitlines() == [
        "",
        "Fixed 2 errors:",
        "- train.py:",
        "    1 \u00d7 NAN101 (sigmoid-into-bce-loss)",
        "    1 \u00d7 NAN103 (softmax-into-cross-entropy)",
        "",
        "Found 2 errors (2 fixed, 0 remaining).",
    ]


def test_fix_only_fixes_and_says_nothing_of_what_remains(project):
    result = concise("--fix-only")
    assert (result.exit_code, result.stdout) == (0, "Fixed 1 error.\n")
    assert (
        "F.binary_cross_entropy_with_logits(logits, targets)" in (project / "train.py").read_text()
    )
    result = concise("--fix-only")  # nothing left to fix; NAN103 (unsafe) is not reported
    assert (result.exit_code, result.stdout) == (0, "")
    assert concise("--fix-only", "--exit-non-zero-on-fix", "--unsafe-fixes").exit_code == 1


# -- noqa --------------------------------------------------------------------------------


def test_ignore_noqa_reports_what_the_comments_suppress(project):
    result = concise("--ignore-noqa", "suppressed.py")
    assert [line.split(" ")[0] for line in result.stdout.splitlines()[:-2]] == [
        "suppressed.py:6:28:",
        "suppressed.py:7:28:",
        "suppressed.py:8:28:",
        "suppressed.py:10:5:",
    ]
    assert concise("suppressed.py").stdout == "All checks passed!\n"


def test_add_noqa_suppresses_each_diagnostic_on_its_line(project):
    (project / "more.py").write_text(
        "import torch\nimport torch.nn.functional as F\n\n"
        f"a = {BCE}  # keep\n"
        f"b = {BCE}  # noqa: E501\n"
        f'c = """{BCE}"""\n'
    )
    result = check("--add-noqa")
    assert (result.exit_code, result.stdout) == (0, "")
    assert result.stderr == "Added 4 noqa directives.\n"
    assert (project / "more.py").read_text() == (
        "import torch\nimport torch.nn.functional as F\n\n"
        f"a = {BCE}  # keep  # noqa: NAN101\n"
        f"b = {BCE}  # noqa: E501, NAN101\n"
        f'c = """{BCE}"""\n'
    )
    assert "return F.cross_entropy(model(x), labels)  # noqa: NAN103\n" in (
        (project / "train.py").read_text()
    )
    assert check().stdout == "All checks passed!\n"
    assert check("--add-noqa").stderr == "Added 0 noqa directives.\n"


# -- selection on the command line --------------------------------------------------------


def test_extend_ignore_and_per_file_ignores(project):
    assert concise("--extend-ignore", "NAN103", "-q").stdout == f"{NAN101}\n"
    assert concise("--per-file-ignores", "train.py:NAN101", "-q").stdout == f"{NAN103}\n"
    assert concise("--per-file-ignores", "train.py:NAN101,train.py:NAN103").exit_code == 0
    result = concise("--per-file-ignores", "NAN101")
    assert result.exit_code == 2 and "`NAN101` is not PATTERN:CODE" in result.stderr


def test_exclude_and_extend_exclude(project):
    (project / "build").mkdir()
    (project / "build" / "gen.py").write_text("")
    assert check("--show-files").stdout == "models.py\nsuppressed.py\ntrain.py\n"
    assert check("--show-files", "--extend-exclude", "train.py,models.py").stdout == (
        "suppressed.py\n"
    )
    assert check("--show-files", "--exclude", "suppressed.py").stdout == (
        "build/gen.py\nmodels.py\ntrain.py\n"
    )


def test_config_takes_a_file_or_inline_toml_settings(project):
    (project / "ci.toml").write_text('select = ["NAN103"]\n')
    assert concise("--config", "ci.toml", "-q").stdout == f"{NAN103}\n"
    assert concise("--config", "select = ['NAN101']", "-q").stdout == f"{NAN101}\n"
    # an inline setting overrides the file's, whatever the order
    assert concise("--config", "ignore = ['NAN103']", "--config", "ci.toml").exit_code == 0
    result = check("--config", "select = NAN1")
    assert result.exit_code == 2
    assert result.stderr.startswith("error: --config 'select = NAN1': neither a file nor TOML")
    result = check("--config", "colour = 'red'")
    assert result.stderr.startswith("""error: --config "colour = 'red'": unknown key `colour`""")


def test_show_settings_prints_the_resolved_configuration(project):
    result = check("--show-settings", "--config", "ignore = ['NAN2']", "--extend-select", "NAN205")
    lines = result.stdout.splitlines()
    assert lines[:5] == [
        "Settings path: (none: the defaults)",
        "",
        "select = (the default)",
        'ignore = ["NAN2"]',
        'extend-select = ["NAN205"]',
    ]
    assert lines[-1] == (
        'enabled = ["NAN001", "NAN101", "NAN102", "NAN103", "NAN104", "NAN105", "NAN106",'
        ' "NAN205", "NAN301", "NAN302", "NAN401", "NAN402", "NAN501", "NAN602"]'
    )


def test_dash_reads_standard_input(project):
    source = (project / "train.py").read_text()
    result = concise("-q", "-", input=source)
    assert result.stdout == f"-{NAN103[len('train.py') :]}\n-{NAN101[len('train.py') :]}\n"
    result = concise("-q", "-", "--stdin-filename", "train.py", input=source)
    assert result.stdout == f"{NAN103}\n{NAN101}\n"
    assert concise("-", "train.py").exit_code == 2


# -- watch -------------------------------------------------------------------------------


def test_watch_relints_when_a_file_changes(project, monkeypatch):
    """Bounded: the first pause edits train.py, the second one stops the watch (Ctrl-C)."""
    pauses = []

    def pause(seconds: float) -> None:
        pauses.append(seconds)
        if len(pauses) == 1:
            text = (project / "train.py").read_text()
            (project / "train.py").write_text(text.replace(BCE, "0"))
        elif len(pauses) == 3:
            raise KeyboardInterrupt

    monkeypatch.setattr("nanlint.watch.time.sleep", pause)
    result = CliRunner().invoke(
        main, ["check", "--watch", "--output-format", "concise"], catch_exceptions=False
    )
    assert result.exit_code == 0
    assert re.sub(r"^\[\d\d:\d\d:\d\d\] ", "[T] ", result.stdout, flags=re.M).splitlines() == [
        "[T] Starting linter in watch mode...",
        NAN103,
        NAN101,
        *FOOTER,
        "[T] File change detected...",
        NAN103,
        "Found 1 error.",
        "No fixes available (1 hidden fix can be enabled with the `--unsafe-fixes` option).",
    ]
    assert pauses == [0.5, 0.5, 0.5]


# -- nanlint config ----------------------------------------------------------------------


def test_config_lists_the_keys_and_explains_one(project):
    lines = CliRunner().invoke(main, ["config"]).stdout.splitlines()
    assert [line.split()[0] for line in lines] == [setting.key for setting in SETTINGS]
    assert lines[0] == "select             The rules to enable: codes, prefixes or ALL"
    (project / "nanlint.toml").write_text('ignore = ["NAN102"]\n')
    assert CliRunner().invoke(main, ["config", "ignore"]).stdout == (
        "ignore\n\n"
        "Rules to disable: codes, prefixes or ALL. The most specific selector wins; on a tie,"
        " ignore wins over select.\n\n"
        "Accepts: a list of codes (NAN101), prefixes (NAN1) or ALL\n"
        'Current: ["NAN102"]\n'
        "Example:\n\n"
        '    ignore = ["NAN102"]\n'
    )
    assert CliRunner().invoke(main, ["config", "colour"]).exit_code == 2


def test_the_shipped_schema_is_current_and_accepts_every_example():
    shipped = ROOT / "src" / "nanlint" / "nanlint.schema.json"
    assert json.loads(shipped.read_text()) == schema(), "run: nanlint config --schema > " + str(
        shipped.relative_to(ROOT)
    )
    printed = CliRunner().invoke(main, ["config", "--schema"]).stdout
    assert printed == shipped.read_text()
    for setting in SETTINGS:
        table = tomllib.loads(setting.example)
        table = table.get("tool", {}).get("nanlint", table)
        jsonschema.validate(table, schema())
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate({"select": ["E501"]}, schema())
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate({"colour": "red"}, schema())


def test_extend_per_file_ignores_and_respect_gitignore_on_the_command_line(project):
    (project / "nanlint.toml").write_text('[per-file-ignores]\n"train.py" = ["NAN103"]\n')
    assert concise("-q").stdout == f"{NAN101}\n"
    assert concise("-q", "--extend-per-file-ignores", "train.py:NAN101").stdout == ""
    assert concise("-q", "--per-file-ignores", "train.py:NAN101").stdout == f"{NAN103}\n"
    (project / ".git").mkdir()
    (project / ".gitignore").write_text("suppressed.py\n")
    assert check("--show-files").stdout == "models.py\ntrain.py\n"
    assert check("--show-files", "--no-respect-gitignore").stdout == (
        "models.py\nsuppressed.py\ntrain.py\n"
    )


def test_rule_json_for_one_code(project):
    entry = json.loads(
        CliRunner().invoke(main, ["rule", "NAN001", "--output-format", "json"]).stdout
    )
    assert entry["code"] == "NAN001"
    assert entry["explanation"].startswith("# NAN001 unused-noqa\n")
