"""`nanlint config [KEY]`: the configuration keys with their documentation."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import click


@click.command()
@click.argument("key", required=False)
@click.option(
    "--output-format",
    type=click.Choice(("text", "json")),
    default="text",
    show_default=True,
    help="Text, or JSON (every key's documentation, accepted values and value).",
)
@click.option("--schema", is_flag=True, help="Print the JSON schema of the configuration.")
def config(key, output_format, schema) -> None:
    """List the configuration keys, or explain KEY (with its value here)."""
    from nanlint.config import ConfigError, resolve_config
    from nanlint.settings import BY_KEY, SETTINGS, describe, toml_value
    from nanlint.settings import schema as configuration_schema

    if schema:
        click.echo(json.dumps(configuration_schema(), indent=2))
        return
    try:
        current = resolve_config((Path("."),), None, False)
    except ConfigError as error:
        click.echo(f"error: {error}", err=True)
        sys.exit(2)
    chosen = SETTINGS
    if key is not None:
        if key not in BY_KEY:
            raise click.UsageError(
                f"unknown key `{key}`; `nanlint config` lists them: {', '.join(BY_KEY)}"
            )
        chosen = (BY_KEY[key],)
    if output_format == "json":
        entries = {
            s.key: {
                "doc": s.doc,
                "accepts": s.accepted,
                "example": s.example,
                "value": toml_value(getattr(current, s.attribute)),
            }
            for s in chosen
        }
        click.echo(json.dumps(entries, indent=2))
    elif key is None:
        width = max(len(s.key) for s in SETTINGS)
        for setting in SETTINGS:
            click.echo(f"{setting.key.ljust(width)}  {setting.doc.split('. ')[0].rstrip('.')}")
    else:
        click.echo(describe(chosen[0], getattr(current, chosen[0].attribute)), nl=False)
