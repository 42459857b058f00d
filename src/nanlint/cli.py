"""The command line: the `nanlint` group and its commands (each in nanlint.commands).

A new command is a click command in its own module, added to COMMANDS below.
"""

from __future__ import annotations

import click

from nanlint import __version__
from nanlint.commands.check import check
from nanlint.commands.clean import clean
from nanlint.commands.config import config
from nanlint.commands.repro import repro
from nanlint.commands.rule import rule
from nanlint.commands.run import run
from nanlint.commands.server import server

COMMANDS: tuple[click.Command, ...] = (check, run, rule, config, repro, clean, server)


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="nanlint")
def main() -> None:
    """nanlint finds numerically unstable PyTorch loss and probability code and fixes it."""


for command in COMMANDS:
    main.add_command(command)
