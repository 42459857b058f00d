"""Suppression comments and NAN001: found with the tokenizer, other tools' codes left alone."""

from __future__ import annotations

import re
import textwrap

from click.testing import CliRunner

from conftest import ALL_RULES, source_of
from nanlint.cli import main
from nanlint.engine import lint, lint_and_fix

HEADER = "import torch\nimport torch.nn.functional as F\n"
CALL = "F.binary_cross_entropy(torch.sigmoid(z), y)"


def diagnostics(code: str, rules=ALL_RULES) -> list[str]:
    found, errors = lint(source_of(HEADER + textwrap.dedent(code)), rules, unused_noqa=True)
    assert not errors
    # the message in full for NAN001, the position only for the others
    return [
        f"{d.code} {d.start.line}:{d.start.column}"
        + (f" {d.message}" if d.code == "NAN001" else "")
        for d in found
    ]


def fixed(code: str) -> str:
    report = lint_and_fix(source_of(HEADER + textwrap.dedent(code)), ALL_RULES, False, True)
    return report.source.text[len(HEADER) :]


def test_unsuppressed_diagnostic_for_reference():
    assert diagnostics(f"loss = {CALL}\n") == ["NAN101 3:31"]


def test_code_noqa_and_bare_noqa_on_the_reported_line():
    assert diagnostics(f"loss = {CALL}  # noqa: NAN101\n") == []
    assert diagnostics(f"loss = {CALL}  # NOQA:NAN101\n") == []
    assert diagnostics(f"loss = {CALL}  # noqa\n") == []
    assert diagnostics(f"loss = {CALL}  # noqa: E501,NAN101 W291\n") == []


def test_noqa_on_the_first_or_last_line_of_a_multi_line_consuming_call():
    first = "loss = F.binary_cross_entropy(  # noqa: NAN101\n    torch.sigmoid(z),\n    y,\n)\n"
    last = "loss = F.binary_cross_entropy(\n    torch.sigmoid(z),\n    y,\n)  # noqa: NAN101\n"
    other = "loss = F.binary_cross_entropy(\n    torch.sigmoid(z),\n    y,  # noqa: NAN101\n)\n"
    assert diagnostics(first) == []
    assert diagnostics(last) == []
    assert diagnostics(other) == [
        "NAN101 4:5",
        "NAN001 5:9 Unused `noqa` directive (unused: `NAN101`)",
    ]


def test_noqa_for_another_code_does_not_suppress():
    assert diagnostics(f"loss = {CALL}  # noqa: E501, NAN102\n") == [
        "NAN101 3:31",
        "NAN001 3:53 Unused `noqa` directive (unused: `NAN102`)",
    ]


def test_noqa_inside_a_string_is_not_a_comment():
    code = f'loss = {CALL}; s = "# noqa: NAN101"\n'
    assert diagnostics(code) == ["NAN101 3:31"]


def test_file_level_directives():
    assert diagnostics(f"# nanlint: noqa\nloss = {CALL}\n") == []
    assert diagnostics(f"# nanlint: noqa: NAN101\nloss = {CALL}\n") == []
    assert diagnostics(f"# nanlint: noqa: NAN102\nloss = {CALL}\n") == ["NAN101 4:31"]
    # a plain `# noqa` on a line of its own is line-level only
    assert diagnostics(f"# noqa\nloss = {CALL}\n") == ["NAN101 4:31"]


def test_a_line_directive_under_a_file_level_one_is_not_unused():
    """The file-level directive suppresses first; the line's own stays right without it."""
    lines = f"loss = {CALL}  # noqa: NAN101\nx = 1  # noqa: NAN101, NAN102\n"
    assert diagnostics(f"# nanlint: noqa: NAN101\n{lines}") == [
        "NAN001 5:8 Unused `noqa` directive (unused: `NAN102`)"
    ]
    assert diagnostics(f"# nanlint: noqa\n{lines}") == []
    # without the file-level directive, the second line's codes are unused
    assert diagnostics(lines) == ["NAN001 4:8 Unused `noqa` directive (unused: `NAN101`, `NAN102`)"]


def test_unused_noqa_reports_only_nan_codes_of_enabled_rules_and_unknown_nan_codes():
    code = "x = 1  # noqa: E501, NAN101, NAN102, NAN999\ny = 2  # noqa\n"
    assert diagnostics(code) == [
        "NAN001 3:8 Unused `noqa` directive (unused: `NAN101`, `NAN102`; unknown: `NAN999`)"
    ]
    only_nan102 = [rule for rule in ALL_RULES if rule.code == "NAN102"]
    assert diagnostics("x = 1  # noqa: NAN101\n", only_nan102) == []
    assert diagnostics("x = 1  # noqa: NAN101, NAN001\n") == []


def test_unused_noqa_is_not_reported_for_a_file_that_does_not_parse():
    (only,) = diagnostics("loss = F.cross_entropy(  # noqa: NAN101\n")
    assert only.startswith("None 3:")  # the syntax error; Python versions differ on the column


def test_fix_removes_only_the_nan_codes():
    assert fixed("x = 1  # noqa: NAN101\n") == "x = 1\n"
    assert fixed("x = 1  # noqa: E501, NAN101\n") == "x = 1  # noqa: E501\n"
    assert fixed("x = 1  # noqa: NAN101,E501 NAN102\n") == "x = 1  # noqa: E501\n"
    assert fixed("x = 1  # type: ignore  # noqa: NAN101\n") == "x = 1  # type: ignore\n"
    assert fixed("x = 1  # noqa: NAN101  # why\n") == "x = 1  # why\n"
    assert fixed("x = 1  # noqa: NAN101 reasons\n") == "x = 1  # reasons\n"
    assert fixed("x = 1\n# noqa: NAN101\ny = 2\n") == "x = 1\ny = 2\n"
    assert fixed(f"loss = {CALL}  # noqa: NAN101, NAN102\n") == (f"loss = {CALL}  # noqa: NAN101\n")


def test_fixing_a_diagnostic_keeps_a_used_noqa_and_removes_it_when_it_became_unused():
    code = f"loss = {CALL}  # noqa: NAN103\n"
    assert fixed(code) == "loss = F.binary_cross_entropy_with_logits(z, y)\n"


def test_cli_ignore_nan001_and_fix(tmp_path, monkeypatch):
    (tmp_path / "a.py").write_text("x = 1  # noqa: E501, NAN101\n")
    monkeypatch.chdir(tmp_path)
    runner = CliRunner()
    assert runner.invoke(main, ["check", "--ignore", "NAN001"]).exit_code == 0
    result = runner.invoke(main, ["check", "--output-format", "concise"])
    assert result.output.splitlines()[0] == (
        "a.py:1:8: NAN001 [*] Unused `noqa` directive (unused: `NAN101`)"
    )
    assert runner.invoke(main, ["check", "--fix"]).exit_code == 0
    assert (tmp_path / "a.py").read_text() == "x = 1  # noqa: E501\n"


def test_the_nan001_reference_example_is_flagged_and_fixed_as_it_says():
    from nanlint.docs import reference_of

    page = reference_of("NAN001")
    example, improved = re.findall(r"```python\n(.*?)```", page, re.S)
    assert diagnostics(example) == ["NAN001 3:50 Unused `noqa` directive (unused: `NAN101`)"]
    assert fixed(example) == improved
