"""Bad input: a clear message at the right place, the other files still linted (and fixed), the
bad file never written, and never a crash."""

from __future__ import annotations

import codecs
import os
import subprocess
import sys
import time
import warnings
from pathlib import Path

import pytest

from conftest import BCE_BAD, BCE_FIXED, BCE_MESSAGE, nanlint
from nanlint import engine, parsing, runner
from nanlint.analysis.project import Project
from nanlint.rules import get_rule
from nanlint.source import SourceFile

GOOD = f"good.py:4:31: {BCE_MESSAGE}"
CE = "import torch.nn.functional as F\nloss = F.cross_entropy(x, y)\n"  # makes a file parsed
FIXABLE = "[*] 1 fixable with the `--fix` option."


def concise(*args: str):
    return nanlint("check", "--output-format", "concise", *args)


@pytest.fixture
def project(inside):
    """A directory with good.py, which has one safe fix."""
    (inside / "good.py").write_text(BCE_BAD)
    return inside


def assert_reported_and_untouched(project: Path, name: str, data: bytes, report: str) -> None:
    """`name` gets the one line `report`, good.py is still linted and fixed, `name` keeps its
    bytes."""
    (project / name).write_bytes(data)
    result = concise()
    assert result.exit_code == 1
    assert result.stdout.splitlines() == [*sorted([report, GOOD]), "Found 2 errors.", FIXABLE]
    result = concise("--fix")
    assert result.exit_code == 1
    assert result.stdout.splitlines() == [report, "Found 2 errors (1 fixed, 1 remaining)."]
    assert (project / name).read_bytes() == data
    assert (project / "good.py").read_text() == BCE_FIXED


def python_syntax_error(text: str) -> tuple[int, int, str]:
    """Where and why the running Python rejects `text`."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            compile(text, "bad.py", "exec", dont_inherit=True)
        except SyntaxError as error:
            return error.lineno, error.offset, error.msg
    raise AssertionError("the example compiles")


LAMBDAS = "x = " + "lambda: " * 1500 + "1\n"
AND_CHAIN = "x = a" + " and a" * 20_000 + "\n"


@pytest.mark.parametrize(
    "data, report",
    [
        pytest.param(
            b"import torch\nloss = F.cross_entropy(\n",
            "bad.py:2:23: SyntaxError: '(' was never closed",
            id="syntax-error",
        ),
        pytest.param(
            CE.encode() + b"x = 1\x00\n",
            "bad.py:3:6: SyntaxError: source code cannot contain null bytes",
            id="nul-byte",
        ),
        pytest.param(
            CE.encode() + b"label = '\xe9t\xe9'\n",
            "bad.py:3:1: DecodeError: not valid utf-8 (byte 0xe9 on line 3); declare the file's"
            " encoding in a coding comment (PEP 263)",
            id="latin-1-without-a-cookie",
        ),
        pytest.param(
            b"# -*- coding: klingon -*-\n" + CE.encode(),
            "bad.py:1:1: DecodeError: bad coding comment: unknown encoding: klingon",
            id="unknown-encoding",
        ),
        pytest.param(
            codecs.BOM_UTF8 + b"# coding: latin-1\n" + CE.encode(),
            "bad.py:1:1: DecodeError: bad coding comment: it contradicts the UTF-8 byte order mark",
            id="cookie-against-bom",
        ),
        pytest.param(
            (CE + "x = " + "-" * 100_000 + "1\n").encode(),
            "bad.py:1:1: ParseError: skipped, the code nests too deeply for Python's parser",
            id="too-deep-for-python",
        ),
        pytest.param(
            (CE + LAMBDAS).encode(),
            f"bad.py:3:{len(LAMBDAS) - 1}: ParseError: skipped, the code nests 1503 levels deep"
            " (nanlint analyses up to 1000)",
            id="nested-lambdas",
        ),
        pytest.param(
            (CE + AND_CHAIN).encode(),
            f"bad.py:3:{len(AND_CHAIN) - 1}: ParseError: skipped, the code nests 20004 levels"
            " deep (nanlint analyses up to 1000)",
            id="and-chain-flat-for-python",
        ),
        pytest.param(
            (CE + "import " + ".".join(["a"] * 20_000) + "\n").encode(),
            "bad.py:3:1: ParseError: skipped, the code nests 20002 levels deep"
            " (nanlint analyses up to 1000)",
            id="dotted-import",
        ),
    ],
)
def test_a_bad_file_is_reported_and_the_rest_linted(project, data, report):
    assert_reported_and_untouched(project, "bad.py", data, report)


DEEP_UNARY = (CE + "x = " + "-" * 900 + "1\n").encode()  # within MAX_DEPTH, deep for Python


def test_code_too_deep_for_the_analysis_is_reported_and_the_rest_linted(project, monkeypatch):
    monkeypatch.setattr(engine, "ANALYSIS_RECURSION_LIMIT", 1000)  # Python's default
    report = "bad.py:1:1: ParseError: skipped, the code nests too deeply for the analysis"
    assert_reported_and_untouched(project, "bad.py", DEEP_UNARY, report)


def test_the_analysis_has_room_for_what_the_parser_accepts(project):
    (project / "bad.py").write_bytes(DEEP_UNARY)
    assert concise().stdout.splitlines() == [GOOD, "Found 1 error.", FIXABLE]


@pytest.mark.parametrize(
    "data, report",
    [
        pytest.param(
            b'{"cells": [',
            "bad.ipynb:1:1: NotebookError: not valid JSON: Expecting value: line 1 column 12"
            " (char 11)",
            id="truncated-json",
        ),
        pytest.param(
            b"",
            "bad.ipynb:1:1: NotebookError: not valid JSON: Expecting value: line 1 column 1"
            " (char 0)",
            id="empty",
        ),
        pytest.param(
            b"\xff\xfe{}",
            "bad.ipynb:1:1: NotebookError: not valid JSON: 'utf-8' codec can't decode byte 0xff"
            " in position 0: invalid start byte",
            id="not-utf-8",
        ),
        pytest.param(
            b"[1, 2]",
            "bad.ipynb:1:1: NotebookError: not a Jupyter notebook in nbformat 4 (no `cells` list)",
            id="not-a-notebook",
        ),
        pytest.param(
            b"[" * 100_000,
            "bad.ipynb:1:1: NotebookError: not a notebook: its JSON nests too deeply",
            id="deeply-nested-json",
        ),
        pytest.param(
            b'{"cells": [{"cell_type": "code", "source": ["loss = F.cross_entropy(\\n"]}],'
            b' "metadata": {}, "nbformat": 4}',
            "bad.ipynb:cell 1:1:23: SyntaxError: '(' was never closed",
            id="syntax-error-in-a-cell",
        ),
    ],
)
def test_a_bad_notebook_is_reported_and_the_rest_linted(project, data, report):
    assert_reported_and_untouched(project, "bad.ipynb", data, report)


@pytest.mark.parametrize(
    "code",
    [
        "print 'loss', F.cross_entropy(x, y)\n",
        "exec 'loss = F.cross_entropy(x, y)'\n",
        "loss = `F.cross_entropy(x, y)`\n",
        "try:\n    F.cross_entropy(x, y)\nexcept ValueError, error:\n    pass\n",
        "raise ValueError, 'F.cross_entropy'\n",
        "if F.cross_entropy(x, y) <> 0:\n    pass\n",
        "mode = 0777\nF.cross_entropy(x, y)\n",
        "name = ur'F.cross_entropy'\n",
    ],
)
def test_python2_syntax_is_a_syntax_error_diagnostic(project, code):
    text = "import torch.nn.functional as F\n" + code
    line, column, message = python_syntax_error(text)
    report = f"bad.py:{line}:{column}: SyntaxError: {message}"
    assert_reported_and_untouched(project, "bad.py", text.encode(), report)


def test_a_5_mb_generated_file_is_skipped_with_its_size(project):
    row = "    [" + ", ".join(f"{i / 1000:.6f}" for i in range(16)) + "],\n"
    text = BCE_BAD + "WEIGHTS = [\n" + row * (5_000_000 // len(row)) + "]\n"
    report = (
        f"bad.py:1:1: ParseError: skipped, the file has {len(text):,} characters"
        " (nanlint analyses up to 1,000,000)"
    )
    assert_reported_and_untouched(project, "bad.py", text.encode(), report)


def test_the_size_limit_is_inclusive(project, monkeypatch):
    monkeypatch.setattr(parsing, "MAX_CHARACTERS", len(BCE_BAD))
    (project / "long.py").write_text(BCE_BAD + "\n")
    result = concise()
    assert result.stdout.splitlines()[:2] == [
        GOOD,
        f"long.py:1:1: ParseError: skipped, the file has {len(BCE_BAD) + 1} characters"
        f" (nanlint analyses up to {len(BCE_BAD)})",
    ]


@pytest.mark.parametrize(
    "data",
    [b"", codecs.BOM_UTF8, b"\n\n", b"# F.cross_entropy\n", b"\x0c\n", b"\t\n"],
    ids=["empty", "bom-only", "blank-lines", "comment-only", "form-feed-only", "tab-only"],
)
def test_files_without_code_pass_and_are_not_written(project, data):
    (project / "empty.py").write_bytes(data)
    result = concise("--fix")
    assert result.exit_code == 0
    assert result.stdout == "Found 1 error (1 fixed, 0 remaining).\n"
    assert (project / "empty.py").read_bytes() == data


@pytest.mark.parametrize(
    "before",
    [
        pytest.param(BCE_BAD.replace("\n", "\r\n").encode(), id="crlf"),
        pytest.param(BCE_BAD.replace("\n", "\r").encode(), id="cr"),
        pytest.param(BCE_BAD.replace("\n", "\r\n", 2).encode(), id="mixed-newlines"),
        pytest.param(BCE_BAD[:-1].encode(), id="no-final-newline"),
        pytest.param(codecs.BOM_UTF8 + BCE_BAD.encode(), id="utf-8-bom"),
        pytest.param(
            ("# -*- coding: latin-1 -*-\n# Modèle de défauts\n" + BCE_BAD).encode("latin-1"),
            id="latin-1-with-a-cookie",
        ),
        pytest.param(
            ("# vim: set fileencoding=cp1252 :\n# coût €\n" + BCE_BAD).encode("cp1252"),
            id="cp1252-with-a-vim-cookie",
        ),
        pytest.param(
            BCE_BAD.replace("\nloss", "\n\x0c\nif True:\n\tloss").encode(), id="tabs-form-feeds"
        ),
        pytest.param(
            BCE_BAD.replace("loss =", "étiquette = 'é'; loss =").encode(), id="non-ascii-before"
        ),
    ],
)
def test_a_fix_changes_exactly_the_fixed_code(inside, before):
    after = before.replace(
        b"binary_cross_entropy(torch.sigmoid(z), y)", b"binary_cross_entropy_with_logits(z, y)"
    )
    (inside / "model.py").write_bytes(before)
    report = concise()
    assert report.exit_code == 1
    assert report.stdout.splitlines()[1:] == ["Found 1 error.", FIXABLE]
    result = concise("--fix")
    assert result.exit_code == 0
    assert result.stdout == "Found 1 error (1 fixed, 0 remaining).\n"
    assert (inside / "model.py").read_bytes() == after


def test_a_directory_named_like_a_python_file_is_walked(inside):
    (inside / "x.py").mkdir()
    (inside / "x.py" / "model.py").write_text(BCE_BAD)
    for args in ((), ("x.py",)):
        result = concise(*args)
        assert result.exit_code == 1
        assert result.stdout.splitlines()[0] == f"x.py/model.py:4:31: {BCE_MESSAGE}"


@pytest.mark.skipif(sys.platform == "win32", reason="symlinks need privileges on Windows")
@pytest.mark.parametrize("explicit", [False, True], ids=["walked", "named"])
def test_broken_symlinks_and_symlink_loops_are_reported(project, explicit):
    os.symlink("nowhere.py", project / "broken.py")
    os.symlink("loop.py", project / "loop.py")
    result = concise(*(("broken.py", "loop.py", "good.py") if explicit else ()))
    assert result.exit_code == 1
    assert result.stdout.splitlines() == [
        "broken.py:1:1: IOError: broken symbolic link",
        GOOD,
        "loop.py:1:1: IOError: symbolic link loop",
        "Found 3 errors.",
        FIXABLE,
    ]


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="no named pipes")
def test_a_named_pipe_is_reported_not_read(project):
    os.mkfifo(project / "pipe.py")  # reading it would block forever
    result = concise()
    assert result.stdout.splitlines()[:2] == [GOOD, "pipe.py:1:1: IOError: not a regular file"]


@pytest.mark.skipif(
    sys.platform == "win32" or os.geteuid() == 0, reason="root (or Windows) can read anything"
)
def test_an_unreadable_file_is_reported(project):
    (project / "secret.py").write_text(BCE_BAD)
    (project / "secret.py").chmod(0)
    result = concise()
    assert result.exit_code == 1
    assert result.stdout.splitlines()[:2] == [GOOD, "secret.py:1:1: IOError: Permission denied"]


def test_a_file_that_cannot_be_read_is_reported(project, monkeypatch):
    """The same as above, by injection, so that it also runs as root."""
    (project / "secret.py").write_text(BCE_BAD)
    read_bytes = Path.read_bytes

    def refuse(path: Path) -> bytes:
        if path.name == "secret.py":
            raise PermissionError(13, "Permission denied", str(path))
        return read_bytes(path)

    monkeypatch.setattr(Path, "read_bytes", refuse)
    result = concise("--fix")
    assert result.exit_code == 1
    assert result.stdout.splitlines() == [
        "secret.py:1:1: IOError: Permission denied",
        "Found 2 errors (1 fixed, 1 remaining).",
    ]
    monkeypatch.undo()
    assert (project / "secret.py").read_text() == BCE_BAD


def test_a_path_that_does_not_exist_is_reported_and_the_rest_linted(project):
    """As ruff's E902: a diagnostic (exit 1), and the other paths are linted and fixed."""
    result = concise("good.py", "nope.py")
    assert result.exit_code == 1
    assert result.stdout.splitlines() == [
        GOOD,
        "nope.py:1:1: IOError: No such file or directory",
        "Found 2 errors.",
        "[*] 1 fixable with the `--fix` option.",
    ]
    assert result.stderr == ""
    result = concise("--fix", "nope.py", "good.py")
    assert result.exit_code == 1
    assert result.stdout.splitlines() == [
        "nope.py:1:1: IOError: No such file or directory",
        "Found 2 errors (1 fixed, 1 remaining).",
    ]
    assert (project / "good.py").read_text() == BCE_FIXED


def test_an_empty_directory_warns_that_no_python_file_was_found(project):
    (project / "empty").mkdir()
    (project / "empty" / "notes.txt").write_text("not python\n")
    result = concise("empty")
    assert result.exit_code == 0
    assert result.stdout == "All checks passed!\n"
    assert result.stderr == "warning: No Python files found under the given path(s)\n"
    assert concise("empty", "good.py").stderr == ""


def test_an_internal_error_in_one_rule_on_one_file_is_reported_and_the_run_goes_on(
    project, monkeypatch
):
    (project / "bad.py").write_text(BCE_BAD)
    rule = get_rule("NAN101")
    check = type(rule).check

    def fail_on_bad(self, analysis):
        if analysis.source.path.name == "bad.py":
            raise RuntimeError("boom")
        return check(self, analysis)

    monkeypatch.setattr(type(rule), "check", fail_on_bad)
    result = concise()
    assert result.exit_code == 2
    assert result.stderr == "error: internal error in rule NAN101 on bad.py: RuntimeError: boom\n"
    assert result.stdout.splitlines() == [GOOD, "Found 1 error.", FIXABLE]
    result = concise("--fix")
    assert result.exit_code == 2
    assert (project / "bad.py").read_text() == BCE_BAD
    assert (project / "good.py").read_text() == BCE_FIXED


def test_a_failure_of_the_project_pass_is_an_internal_error_of_each_analysed_file(
    project, monkeypatch
):
    (project / "bad.py").write_text(BCE_BAD)

    def fail(*args):
        raise KeyError("boom")

    monkeypatch.setattr(Project, "analyze", fail)
    result = concise("--fix")
    assert result.exit_code == 2
    assert result.stderr == (
        "error: internal error on bad.py: KeyError: 'boom'\n"
        "error: internal error on good.py: KeyError: 'boom'\n"
    )
    assert result.stdout == "All checks passed!\n"
    assert (project / "bad.py").read_text() == BCE_BAD


def test_an_unexpected_error_elsewhere_is_an_internal_error_not_a_traceback(project, monkeypatch):
    def fail(*args, **kwargs):
        raise KeyError("boom")

    monkeypatch.setattr(runner, "fix_files", fail)
    result = concise("--fix", ".")
    assert result.exit_code == 2
    assert result.stderr == "error: internal error on .: KeyError: 'boom'\n"
    assert (project / "good.py").read_text() == BCE_BAD


def test_an_unexpected_error_reading_one_file_costs_that_file(project, monkeypatch):
    (project / "bad.py").write_text(BCE_BAD)
    from_bytes = SourceFile.from_bytes

    def fail_on_bad(path, data):
        if path.name == "bad.py":
            raise KeyError("boom")
        return from_bytes(path, data)

    monkeypatch.setattr(SourceFile, "from_bytes", fail_on_bad)
    result = concise("--fix")
    assert result.exit_code == 2
    assert result.stderr == "error: internal error on bad.py: KeyError: 'boom'\n"
    assert result.stdout == "Found 1 error (1 fixed, 0 remaining).\n"
    assert (project / "bad.py").read_text() == BCE_BAD


@pytest.mark.skipif(sys.platform != "linux", reason="file names must be bytes, not UTF-8")
def test_unencodable_names_and_text_are_escaped_not_a_crash(tmp_path):
    name = os.fsencode(tmp_path) + b"/mod\xe8le.py"
    with open(name, "w", encoding="utf-8") as stream:
        stream.write(BCE_BAD.replace("loss =", "étiquette = 1; loss ="))
    completed = subprocess.run(
        [sys.executable, "-m", "nanlint", "check"],
        cwd=tmp_path,
        capture_output=True,
        env={**os.environ, "PYTHONIOENCODING": "ascii"},
    )
    assert completed.stderr == b""
    assert completed.returncode == 1
    lines = completed.stdout.decode("ascii").splitlines()
    assert lines[0].startswith("mod\\udce8le.py:4:46: NAN101 [*] Sigmoid probabilities")
    assert lines[2] == "4 | \\xe9tiquette = 1; loss = F.binary_cross_entropy(torch.sigmoid(z), y)"


def test_work_on_a_large_stack_may_ask_for_the_same_stack_again():
    from nanlint.stack import on_large_stack

    def nested(depth: int) -> int:
        return depth if depth == 3 else on_large_stack(nested, depth + 1, stack_bytes=1 << 24)

    assert on_large_stack(nested, 0, stack_bytes=1 << 24) == 3


def test_an_error_on_a_large_stack_reaches_the_caller():
    from nanlint.stack import on_large_stack

    with pytest.raises(ZeroDivisionError):
        on_large_stack(lambda: 1 / 0, stack_bytes=1 << 24)


@pytest.mark.skipif(not hasattr(os, "fork"), reason="needs fork")
def test_a_forked_process_gets_its_own_large_stack_thread():
    """flake8 forks its workers: a child must not wait on its parent's thread."""
    from nanlint.stack import on_large_stack

    assert on_large_stack(abs, -1, stack_bytes=1 << 24) == 1  # the parent's thread exists
    pid = os.fork()
    if pid == 0:  # the child: exit 0 only if the call returns
        os._exit(0 if on_large_stack(abs, -2, stack_bytes=1 << 24) == 2 else 1)
    for _ in range(100):
        done, status = os.waitpid(pid, os.WNOHANG)
        if done:
            break
        time.sleep(0.05)
    else:
        os.kill(pid, 9)
        os.waitpid(pid, 0)
        pytest.fail("the forked child hung")
    assert os.waitstatus_to_exitcode(status) == 0
