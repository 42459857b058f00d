"""`nanlint run` runs a program as `python` does: each case is run both ways and compared.

The runner is driven here without the guard (no torch to import: fast); tests/test_guard_run.py
runs the fixtures through the whole command, guard included.
"""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

RUNNER = (
    "import sys\n"
    "from nanlint.guard.run import Program, run_program\n"
    "module = sys.argv[1] == '-m'\n"
    "target, *args = sys.argv[2:] if module else sys.argv[1:]\n"
    "sys.exit(run_program(Program(target, tuple(args), module)))\n"
)

SHOW = textwrap.dedent(
    """\
    import sys
    print("argv", sys.argv)
    print("path0", sys.path[0])
    print("name", __name__, "file", __file__, "spec", __spec__ and __spec__.name)
    print("main", sys.modules["__main__"].__dict__ is globals())
    print("stdin", sys.stdin.read())
    import helper
    print("helper", helper.__file__)
    """
)

FAIL = textwrap.dedent(
    """\
    import sys


    class Broken(Exception):
        pass


    def inner(code):
        if code == "raise":
            try:
                {}["missing"]
            except KeyError as error:
                raise Broken("while training") from error
        if code == "interrupt":
            raise KeyboardInterrupt
        if code == "text":
            sys.exit("stopped: out of data")
        if code == "none":
            sys.exit()
        sys.exit(int(code))


    inner(sys.argv[1])
    """
)


def _project(tmp_path: Path) -> Path:
    package = tmp_path / "project" / "pkg"
    package.mkdir(parents=True)
    (package / "__init__.py").write_text("")
    for directory in (package.parent, package):
        (directory / "helper.py").write_text("")
    (package / "show.py").write_text(SHOW)
    (package / "__main__.py").write_text(SHOW)
    (package / "fail.py").write_text(FAIL)
    (package / "syntax.py").write_text("x = (\n")
    return package.parent


def _python(arguments: list[str], cwd: Path, stdin: str = "") -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, *arguments], cwd=cwd, input=stdin, capture_output=True, text=True
    )


def _both(arguments: list[str], cwd: Path, stdin: str = ""):
    plain = _python(arguments, cwd, stdin)
    ours = _python(["-c", RUNNER, *arguments], cwd, stdin)
    return plain, ours


@pytest.mark.parametrize(
    "arguments",
    [
        ["pkg/show.py", "--epochs", "1", "-h"],
        ["./pkg/../pkg/show.py"],
        ["-m", "pkg.show", "--lr", "0.1"],
        ["-m", "pkg"],
    ],
    ids=["script", "script-dotted-path", "module", "package"],
)
def test_argv_path_main_and_stdin_are_pythons(tmp_path, arguments):
    project = _project(tmp_path)
    plain, ours = _both(arguments, project, stdin="batch 1\n")
    assert plain.returncode == 0, plain.stderr
    assert "helper " + str(project / ("pkg" if "show.py" in arguments[0] else "")) in plain.stdout
    assert (ours.returncode, ours.stdout, ours.stderr) == (0, plain.stdout, plain.stderr)


@pytest.mark.parametrize(
    ("code", "status"),
    [("3", 3), ("0", 0), ("none", 0), ("text", 1), ("raise", 1), ("interrupt", 130)],
)
@pytest.mark.parametrize("module", [False, True], ids=["script", "module"])
def test_exit_status_and_traceback_are_pythons(tmp_path, code, status, module):
    project = _project(tmp_path)
    arguments = ["-m", "pkg.fail", code] if module else ["pkg/fail.py", code]
    plain, ours = _both(arguments, project)
    assert ours.returncode == status
    if code != "interrupt":  # python kills itself with SIGINT; the runner exits 130
        assert plain.returncode == status
    if module:  # python -m shows two frames of runpy first; the runner shows none
        lines = plain.stderr.splitlines(keepends=True)
        plain_stderr = "".join(line for line in lines if "<frozen runpy>" not in line)
    else:
        plain_stderr = plain.stderr
    assert ours.stderr == plain_stderr
    if code == "raise":
        assert "KeyError: 'missing'" in ours.stderr and "Broken: while training" in ours.stderr


def test_a_syntax_error_is_printed_as_python_prints_it(tmp_path):
    project = _project(tmp_path)
    plain, ours = _both(["pkg/syntax.py"], project)
    assert plain.returncode == ours.returncode == 1
    assert ours.stderr == plain.stderr and "SyntaxError" in ours.stderr


def test_a_missing_script_or_module_is_reported_like_python(tmp_path):
    project = _project(tmp_path)
    missing = _python(["-c", RUNNER, "nosuch.py"], project)
    assert missing.returncode == 2
    assert missing.stderr == (
        f"nanlint run: can't open file {str(project / 'nosuch.py')!r}:"
        " [Errno 2] No such file or directory\n"
    )
    no_module = _python(["-c", RUNNER, "-m", "nosuch"], project)
    assert (no_module.returncode, no_module.stderr) == (1, "nanlint run: No module named nosuch\n")
