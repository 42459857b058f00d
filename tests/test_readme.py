"""The README's two set-up commands are what CI runs and what a user types."""

from __future__ import annotations

import re

from conftest import ROOT

README = (ROOT / "README.md").read_text()
SETUP = README.split("## Set-up", 1)[1].split("\n## ", 1)[0]
COMMANDS = re.findall(r"```sh\n(.*?)\n```", SETUP, flags=re.S)


def test_exactly_two_setup_commands():
    assert len(COMMANDS) == 2
    assert all("\n" not in command for command in COMMANDS)


def test_ci_runs_the_readme_test_command():
    ci = (ROOT / ".ci" / "run").read_text()
    assert COMMANDS[1] in ci.splitlines()


def test_the_run_command_lints_the_example_project():
    assert "nanlint check fixtures/example_project" in COMMANDS[0]
    assert (ROOT / "fixtures" / "example_project").is_dir()


def test_the_test_command_uses_the_torch_pin():
    assert "-c constraints.txt" in COMMANDS[1]
    assert "torch==2.13.0" in (ROOT / "constraints.txt").read_text()
