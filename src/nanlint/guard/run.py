"""Run a program as `python` would: a script or `-m module`, its argv, `__main__`, its exit status.

The caller wraps `run_program` in the guard; everything the program prints, reads or raises
goes where it would go under `python`. On an uncaught exception the traceback is printed by
`sys.excepthook` (the program may have replaced it), without the frames of the launcher
(nanlint, runpy) and without the frames the guard adds inside torch calls (the mode's
dispatch), so that it reads as `python train.py` prints it.
"""

from __future__ import annotations

import builtins
import io
import os
import runpy
import sys
import types
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from importlib.machinery import SourceFileLoader
from pathlib import Path

import nanlint

_NANLINT_DIR = os.path.dirname(os.path.abspath(nanlint.__file__)) + os.sep
_LAUNCHER_FILES = (runpy.__file__, runpy.run_module.__code__.co_filename)  # may be frozen
_DISPATCH_SUFFIX = os.path.join("torch", "overrides.py")
INTERRUPTED = 130  # python dies of SIGINT on an uncaught KeyboardInterrupt; a shell shows 130


@dataclass(frozen=True)
class Program:
    """`target` is a script path, or a module name when `module` is set; `args` its arguments."""

    target: str
    args: tuple[str, ...] = ()
    module: bool = False


def run_program(program: Program) -> int:
    """Run `program` in this interpreter; its exit status, as `python` would exit with it."""
    with _program_state(program):
        try:
            if program.module:
                runpy.run_module(program.target, run_name="__main__", alter_sys=True)
            else:
                _run_script(program.target)
        except SystemExit as exit_:
            return _exit_status(exit_.code)
        except KeyboardInterrupt as error:
            _print_exception(error)
            return INTERRUPTED
        except _Unreadable as error:
            print(f"nanlint run: {error}", file=sys.stderr)
            return 2
        except ImportError as error:
            if program.module and _from_launcher(error):  # no such module: python says so
                print(f"nanlint run: {error}", file=sys.stderr)
            else:
                _print_exception(error)
            return 1
        except BaseException as error:  # the program's own error, printed as python prints it
            _print_exception(error)
            return 1
    return 0


def _exit_status(code: object) -> int:
    """The status `raise SystemExit(code)` exits with; a non-integer code is printed first."""
    if code is None:
        return 0
    if isinstance(code, int):
        return code
    print(code, file=sys.stderr)
    return 1


class _Unreadable(Exception):
    """The script cannot be opened (python says so and exits 2)."""


def _run_script(target: str) -> None:
    """Execute the file as `python target` does: a fresh `__main__` whose __file__ is the path
    joined to the working directory (not normalised, as python does)."""
    path = os.path.join(os.getcwd(), target)
    try:
        with io.open_code(path) as file:
            source = file.read()
    except OSError as error:
        raise _Unreadable(
            f"can't open file {path!r}: [Errno {error.errno}] {error.strerror}"
        ) from None
    code = compile(source, path, "exec", dont_inherit=True)
    main = types.ModuleType("__main__")
    main.__dict__.update(
        __file__=path,
        __cached__=None,
        __loader__=SourceFileLoader("__main__", path),
        __builtins__=builtins,
        __annotations__={},
    )
    sys.modules["__main__"] = main
    exec(code, main.__dict__)


@contextmanager
def _program_state(program: Program) -> Iterator[None]:
    """`sys.argv`, `sys.path[0]` and `__main__` as python sets them; restored afterwards."""
    saved_argv, saved_path, saved_main = sys.argv[:], sys.path[:], sys.modules.get("__main__")
    sys.argv = ["-m" if program.module else program.target, *program.args]
    if not getattr(sys.flags, "safe_path", False):
        first = os.getcwd() if program.module else str(Path(program.target).resolve().parent)
        sys.path[:1] = [first]
    try:
        yield
    finally:
        sys.argv, sys.path[:] = saved_argv, saved_path
        if saved_main is not None:
            sys.modules["__main__"] = saved_main


def _from_launcher(error: BaseException) -> bool:
    """Whether the error was raised before any frame of the program ran (no such file/module)."""
    return all(_is_launcher(tb) for tb in _frames(error.__traceback__))


def _print_exception(error: BaseException) -> None:
    """Print as python does, each exception of the chain with its program traceback."""
    seen: set[int] = set()
    pending: list[BaseException | None] = [error]
    while pending:
        item = pending.pop()
        if item is None or id(item) in seen:
            continue
        seen.add(id(item))
        item.with_traceback(_program_traceback(item.__traceback__))
        pending.extend((item.__cause__, item.__context__))
    sys.excepthook(type(error), error, error.__traceback__)


def _program_traceback(tb: types.TracebackType | None) -> types.TracebackType | None:
    """The traceback without the launcher's frames and the guard's dispatch frames.

    Under a TorchFunctionMode a torch function called from Python appears twice: once where
    it dispatches to the mode (torch/overrides.py, then nanlint) and once where the mode calls
    it again; the first appearance goes with the dispatch frames. When the error is raised in
    nanlint itself, nothing past the launcher is dropped: that traceback is nanlint's bug.
    """
    frames = list(_frames(tb))
    while frames and _is_launcher(frames[0]):
        frames.pop(0)
    if frames and _in_nanlint(frames[-1]):
        return _chain(frames)
    kept: list[types.TracebackType] = []
    dispatched = False
    for frame in frames:
        if _in_nanlint(frame) or frame.tb_frame.f_code.co_filename.endswith(_DISPATCH_SUFFIX):
            dispatched = True
            continue
        if dispatched and kept and kept[-1].tb_frame.f_code is frame.tb_frame.f_code:
            kept.pop()
        kept.append(frame)
        dispatched = False
    return _chain(kept)


def _frames(tb: types.TracebackType | None) -> Iterator[types.TracebackType]:
    while tb is not None:
        yield tb
        tb = tb.tb_next


def _chain(frames: list[types.TracebackType]) -> types.TracebackType | None:
    chained = None
    for frame in reversed(frames):
        chained = types.TracebackType(chained, frame.tb_frame, frame.tb_lasti, frame.tb_lineno)
    return chained


def _is_launcher(tb: types.TracebackType) -> bool:
    return _in_nanlint(tb) or tb.tb_frame.f_code.co_filename in _LAUNCHER_FILES


def _in_nanlint(tb: types.TracebackType) -> bool:
    return tb.tb_frame.f_code.co_filename.startswith(_NANLINT_DIR)
