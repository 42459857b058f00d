"""The README's "Catch it at run time" section shows real output.

Its commands are run by test_readme_commands.py (the `nanlint run` output there must be the
one shown); here: the "before" (`nanlint check` sees nothing) and the `nanlint.guard()`
snippet with what it prints.
"""

from __future__ import annotations

import subprocess
import sys

import readme

SECTION = readme.section("## Catch it at run time")
FIT, GUARDED = readme.blocks("python", SECTION)
SHOWN = {
    block.split("\n", 1)[0]: block.split("\n", 1)[1]
    for block in readme.blocks("text", SECTION)
    if block.startswith("$ ")
}


def test_before_the_static_check_sees_nothing_in_fit_py(tmp_path):
    project = readme.write_project(tmp_path, {"fit.py": FIT})
    (command,) = (line for line in SHOWN if line.startswith("$ nanlint check "))
    done = readme.shell(command[2:], project)
    assert (done.returncode, done.stdout) == (0, SHOWN[command])


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
    assert GUARDED.startswith("# guarded.py\n")
    (tmp_path / "guarded.py").write_text(GUARDED)
    done = subprocess.run(
        [sys.executable, "-c", DRIVER], cwd=tmp_path, capture_output=True, text=True
    )
    assert done.returncode == 0, done.stderr
    (printed,) = (block for block in readme.blocks("text", SECTION) if block.startswith("NAN101 "))
    assert done.stdout == printed + "raised NAN101\n"
