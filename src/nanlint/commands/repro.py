"""`nanlint repro`: run the rules' torch reproductions (and draw them)."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import NoReturn

import click


@click.command()
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
    from nanlint.repro.report import LEGEND, terminal
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
    click.echo(LEGEND.replace("`", ""))
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
