"""The command line: `nanlint check`, `nanlint rule`, `nanlint repro` (thin: parse, call, print)."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import NoReturn

import click

from nanlint import __version__
from nanlint.output import FORMAT_NAMES
from nanlint.run_command import run


def _codes(values: tuple[str, ...]) -> list[str] | None:
    """`--select A,B --select C` -> [A, B, C]; None when the option was not given."""
    if not values:
        return None
    return [part for value in values for part in value.split(",") if part.strip()]


def _escape_unencodable_output() -> None:
    """Print what the terminal cannot encode (a file name that is not UTF-8, say) as escapes."""
    for stream in (sys.stdout, sys.stderr):
        if hasattr(stream, "reconfigure"):
            stream.reconfigure(errors="backslashreplace")


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="nanlint")
def main() -> None:
    """nanlint finds numerically unstable PyTorch loss and probability code and fixes it."""


main.add_command(run)


@main.command()
@click.argument("paths", nargs=-1, type=click.Path(path_type=Path))
@click.option(
    "--output-format",
    type=click.Choice(FORMAT_NAMES),
    help="How to print diagnostics (default: full, or the configuration's).",
)
@click.option("--fix", is_flag=True, help="Apply safe fixes.")
@click.option(
    "--unsafe-fixes/--no-unsafe-fixes",
    default=None,
    help="Also offer and (with --fix) apply unsafe fixes.",
)
@click.option("--diff", is_flag=True, help="Print the diff --fix would make; write nothing.")
@click.option(
    "--select", multiple=True, help="Rule codes or prefixes to enable (NAN101, NAN1, ALL)."
)
@click.option("--extend-select", multiple=True, help="More codes to enable on top of select.")
@click.option("--ignore", multiple=True, help="Rule codes or prefixes to disable.")
@click.option("--exit-zero", is_flag=True, help="Exit 0 even when diagnostics remain.")
@click.option("--exit-non-zero-on-fix", is_flag=True, help="Exit 1 when --fix changed a file, too.")
@click.option("--statistics", is_flag=True, help="Print the number of diagnostics per rule.")
@click.option(
    "--config",
    "config_path",
    type=click.Path(path_type=Path, dir_okay=False),
    help="Use this configuration file (pyproject.toml, nanlint.toml) instead of searching.",
)
@click.option("--isolated", is_flag=True, help="Ignore every configuration file.")
@click.option(
    "--force-exclude", is_flag=True, help="Exclude excluded files even when named explicitly."
)
@click.option(
    "--stdin-filename",
    type=click.Path(path_type=Path),
    help="Lint standard input as this file (with --fix, print the fixed source).",
)
@click.option("--no-cache", is_flag=True, help="Neither read nor write the results cache.")
@click.option(
    "--cache-dir",
    type=click.Path(path_type=Path, file_okay=False),
    envvar="NANLINT_CACHE_DIR",
    help="Where the results cache lives (default: .nanlint_cache beside the configuration).",
)
def check(
    paths,
    output_format,
    fix,
    unsafe_fixes,
    diff,
    select,
    extend_select,
    ignore,
    exit_zero,
    exit_non_zero_on_fix,
    statistics,
    config_path,
    isolated,
    force_exclude,
    stdin_filename,
    no_cache,
    cache_dir,
) -> None:
    """Lint PATHS (default: the current directory)."""
    from nanlint.cache import default_directory
    from nanlint.config import ConfigError, resolve_config
    from nanlint.discovery import PathError
    from nanlint.output import RunSummary
    from nanlint.output.formats import formatter
    from nanlint.output.statistics import statistics_table
    from nanlint.runner import CheckOptions, run_check
    from nanlint.selection import SelectorError, validate

    _escape_unencodable_output()
    if stdin_filename is not None:
        paths = (stdin_filename,)
    paths = tuple(paths) or (Path("."),)
    try:
        config = resolve_config(paths, config_path, isolated)
        given = _codes(select)
        config = config.override(
            select=None if given is None else tuple(validate(code) for code in given),
            ignore=config.ignore + tuple(validate(code) for code in _codes(ignore) or ()),
            extend_select=config.extend_select
            + tuple(validate(code) for code in _codes(extend_select) or ()),
            unsafe_fixes=unsafe_fixes,
            output_format=output_format,
        )
    except SelectorError as error:
        raise click.UsageError(str(error)) from error
    except ConfigError as error:
        click.echo(f"error: {error}", err=True)
        sys.exit(2)
    stdin = sys.stdin.buffer.read() if stdin_filename is not None else None
    cache_dir = None if no_cache else cache_dir or default_directory(config.root)
    options = CheckOptions(paths, config, fix, diff, force_exclude, stdin, cache_dir)
    try:
        result = run_check(options)
    except PathError as error:
        click.echo(f"error: {error}", err=True)
        sys.exit(2)
    for message in result.withheld:
        click.echo(f"warning: {message}", err=True)
    for error in result.errors:
        rule = f" in rule {error.rule}" if error.rule else ""
        click.echo(f"error: internal error{rule} on {error.path}: {error.message}", err=True)
    if diff:
        sys.stdout.write("".join(result.diffs))
        noun = "error" if result.fixed == 1 else "errors"
        click.echo(f"Would fix {result.fixed} {noun}.", err=True)
        sys.exit(2 if result.errors else 1 if result.diffs else 0)
    summary = RunSummary(config.unsafe_fixes, result.fixed, Path.cwd(), result.sources)
    if statistics:
        report = statistics_table(result.diagnostics, summary)
    else:
        report = formatter(config.output_format)(result.diagnostics, summary)
    if stdin is not None and fix:
        sys.stdout.buffer.write(result.stdin_fixed or b"")
        sys.stdout.flush()
        click.echo(report, err=True, nl=False)
    else:
        sys.stdout.write(report)
    if result.errors:
        sys.exit(2)
    failed = (result.diagnostics and not exit_zero) or (exit_non_zero_on_fix and result.fixed)
    sys.exit(1 if failed else 0)


@main.command()
@click.option(
    "--cache-dir",
    type=click.Path(path_type=Path, file_okay=False),
    envvar="NANLINT_CACHE_DIR",
    help="The cache to remove (default: .nanlint_cache beside the configuration).",
)
def clean(cache_dir) -> None:
    """Remove the results cache."""
    from nanlint.cache import clean as remove
    from nanlint.cache import default_directory
    from nanlint.config import ConfigError, resolve_config

    if cache_dir is None:
        try:
            cache_dir = default_directory(resolve_config((Path("."),), None, False).root)
        except ConfigError as error:
            click.echo(f"error: {error}", err=True)
            sys.exit(2)
    try:
        removed = remove(cache_dir)
    except OSError as error:
        click.echo(f"error: {error}", err=True)
        sys.exit(2)
    click.echo(f"Removed {cache_dir}" if removed else f"No cache at {cache_dir}")


@main.command()
@click.argument("code", required=False)
@click.option("--all", "show_all", is_flag=True, help="List every rule.")
def rule(code, show_all) -> None:
    """Print the reference text of rule CODE, or list every rule with --all."""
    from nanlint.docs import availability, reference
    from nanlint.rules import ALL_RULES, get_rule

    if show_all:
        width = max(len(r.name) for r in ALL_RULES)
        for item in ALL_RULES:
            default = "" if item.default_enabled else "  (off by default)"
            click.echo(f"{item.code}  {item.name.ljust(width)}  fix {availability(item)}{default}")
        return
    if code is None:
        raise click.UsageError("give a rule code (nanlint rule NAN101) or --all")
    found = get_rule(code)
    if found is None:
        raise click.UsageError(f"unknown rule `{code}`; `nanlint rule --all` lists them")
    click.echo(reference(found))


@main.command()
@click.argument("codes", nargs=-1)
@click.option(
    "--plot",
    "plot_dir",
    type=click.Path(path_type=Path, file_okay=False),
    help="Also draw each reproduction into DIR/<CODE>.png and .svg (needs nanlint[plot]).",
)
def repro(codes, plot_dir) -> None:
    """Run the torch reproductions of CODES (default: every rule) and print the evidence."""
    from nanlint.repro.harness import TorchMissing
    from nanlint.repro.report import terminal
    from nanlint.repro.rules import reproduce
    from nanlint.rules import ALL_RULES, get_rule

    chosen = []
    for code in codes:
        found = get_rule(code)
        if found is None:
            raise click.UsageError(f"unknown rule `{code}`; `nanlint rule --all` lists them")
        chosen.append(found)
    draw = None if plot_dir is None else _plotter()
    confirmed = True
    for item in chosen or ALL_RULES:
        try:
            result = reproduce(item)
        except TorchMissing:
            _missing("`nanlint repro` needs torch", "pip install 'nanlint[repro]'")
        click.echo(terminal(result))
        if draw is not None:
            for path in draw(result, plot_dir):
                click.echo(f"wrote {path}")
        confirmed = confirmed and result.confirmed
    sys.exit(0 if confirmed else 1)


def _plotter():
    """repro.plot.write, or exit 2 saying how to install matplotlib."""
    from nanlint.repro import plot

    try:
        plot.import_matplotlib()
    except plot.MatplotlibMissing:
        _missing("`nanlint repro --plot` needs matplotlib", plot.INSTALL)
    return plot.write


def _missing(what: str, install: str) -> NoReturn:
    click.echo(f"error: {what}. Install it with: {install}", err=True)
    sys.exit(2)
