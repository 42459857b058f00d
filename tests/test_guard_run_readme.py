"""The README's "Catch it at run time" section shows real output.

Its commands are run by test_readme_commands.py (the `nanlint run` output there must be the
one shown); here: the "before" (`nanlint check` sees nothing), the `nanlint.guard()` snippet
with what it prints, and the pytest plugin's report.
"""

from __future__ import annotations

import subprocess
import sys

import readme

SECTION = readme.section("## Catch it at run time")
FILES = {block.split("\n", 1)[0][2:]: block for block in readme.blocks("python", SECTION)}


def _shown(start: str) -> str:
    """The output block of the section that starts with `start`."""
    (block,) = (block for block in readme.blocks("text", SECTION) if block.startswith(start))
    return block


def test_before_the_static_check_sees_nothing_in_fit_py(tmp_path):
    project = readme.write_project(tmp_path, {"fit.py": FILES["fit.py"]})
    command, output = _shown("$ nanlint check ").split("\n", 1)
    done = readme.shell(command[2:], project)
    assert (done.returncode, done.stdout) == (0, output)


# runs the snippet as a script, then calls its decorated `step`
DRIVER = (
    "import runpy\n"
    "import nanlint\n"
    "snippet = runpy.run_path('guarded.py', run_name='__main__')\n"
    "try:\n"
    "    snippet['step'](snippet['logits'], snippet['targets'])\n"
    "except nanlint.guard.GuardError as error:\n"
    "    print('raised', error.finding.code)\n"
)


def test_the_guard_snippet_prints_what_the_readme_shows_and_its_decorator_raises(tmp_path):
    (tmp_path / "guarded.py").write_text(FILES["guarded.py"])
    done = subprocess.run(
        [sys.executable, "-c", DRIVER], cwd=tmp_path, capture_output=True, text=True
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout == _shown("NAN101 ") + "raised NAN101\n"


def test_the_pytest_plugin_reports_what_the_readme_shows(tmp_path):
    project = readme.write_project(tmp_path, {"test_detection.py": FILES["test_detection.py"]})
    (command,) = (line for line in readme.commands(SECTION) if line.startswith("pytest "))
    plugin = command.replace("pytest ", "python -m pytest -p no:cacheprovider ")
    done = readme.shell(plugin, project)
    assert done.returncode == 1, done.stdout
    report = _shown("=").split("\n", 1)[1]  # below the title, whose width is the terminal's
    assert report in done.stdout and "1 passed" in done.stdout
