"""`nanlint run [OPTIONS] PROGRAM ARGS...`: run a program under the runtime guard, then report.

This module stays light (click only): the guard, and with it torch, is imported when the
command runs, never when the CLI starts.
"""

from __future__ import annotations

import contextlib
import sys
import time
from pathlib import Path

import click

from nanlint.output import FORMAT_NAMES


@click.command(context_settings={"allow_interspersed_args": False})
@click.option(
    "-m", "--module", "as_module", is_flag=True, help="Run PROGRAM as a module (python -m)."
)
@click.option(
    "--select", multiple=True, help="Rule codes or prefixes to check (NAN101, NAN1, ALL)."
)
@click.option("--ignore", multiple=True, help="Rule codes or prefixes not to check.")
@click.option(
    "--output-format",
    type=click.Choice(FORMAT_NAMES),
    default="full",
    help="How to print findings.",
)
@click.option(
    "-o",
    "--output-file",
    type=click.Path(path_type=Path, dir_okay=False),
    help="Write the findings to this file instead of standard error.",
)
@click.option(
    "--exit-zero", is_flag=True, help="Exit 0 on findings (the program's failure still counts)."
)
@click.argument("program")
@click.argument("args", nargs=-1, type=click.UNPROCESSED)
def run(program, args, as_module, select, ignore, output_format, output_file, exit_zero) -> None:
    """Run PROGRAM (a script, or a module with -m) with ARGS under the guard; report at exit.

    Options end where the program starts: `nanlint run --select NAN1 train.py --epochs 1`.
    The exit code is the program's when it failed, else 1 when there are findings, else 0.
    """
    from nanlint.selection import SelectorError, validate

    try:
        selected = _selectors(select, validate)
        ignored = _selectors(ignore, validate) or []
    except SelectorError as error:
        raise click.UsageError(str(error)) from error
    from nanlint.guard import guard

    try:
        watched = guard(select=selected, ignore=ignored, on_finding="record")
    except ModuleNotFoundError as error:
        if error.name != "torch":
            raise
        click.echo(
            f"error: `nanlint run` needs torch ({error}). Install it with:"
            " pip install 'nanlint[repro]'",
            err=True,
        )
        sys.exit(2)
    from nanlint.guard.distributed import Launch, gather
    from nanlint.guard.report import render
    from nanlint.guard.run import Program, run_program

    cwd = Path.cwd()  # the program may change directory: paths are shown from here
    if output_file is not None:
        output_file = output_file.absolute()
    started = time.time()
    with watched:
        status = run_program(Program(program, tuple(args), as_module))
    findings = list(watched.findings)
    launch = Launch.from_environment()
    if launch is not None:
        findings = gather(findings, launch, started)
        if findings is None:  # another rank prints
            sys.exit(status)
    report = render(findings, output_format, cwd)
    if output_file is None:
        with contextlib.suppress(ValueError, OSError):  # the program's output first
            sys.stdout.flush()
        sys.stderr.write(report)
        sys.stderr.flush()
    else:
        output_file.write_text(report, encoding="utf-8")
    sys.exit(status or (1 if findings and not exit_zero else 0))


def _selectors(values: tuple[str, ...], validate) -> list[str] | None:
    """`--select A,B --select C` -> [A, B, C], validated; None when the option was not given."""
    if not values:
        return None
    return [validate(part) for value in values for part in value.split(",") if part.strip()]
