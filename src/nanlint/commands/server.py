"""`nanlint server`: the language server over stdio (needs the `server` extra: pygls)."""

from __future__ import annotations

import click


@click.command()
def server() -> None:
    """Run the language server on standard input and output (for editors)."""
    try:
        from nanlint.server.app import serve
    except ImportError as error:
        raise click.ClickException(
            f"{error}: install the language server's dependencies with"
            " `pip install 'nanlint[server]'`"
        ) from error
    serve()
