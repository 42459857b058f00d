"""`nanlint clean`: remove the results cache."""

from __future__ import annotations

import sys
from pathlib import Path

import click


@click.command()
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
