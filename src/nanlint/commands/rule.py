"""`nanlint rule`: a rule's reference text, or the list of every code."""

from __future__ import annotations

import click


@click.command()
@click.argument("code", required=False)
@click.option("--all", "show_all", is_flag=True, help="List every rule.")
@click.option(
    "--output-format",
    type=click.Choice(("text", "json")),
    default="text",
    show_default=True,
    help="Text, or JSON (ruff's fields: code, name, summary, fix, explanation, ...).",
)
def rule(code, show_all, output_format) -> None:
    """Print the reference text of rule CODE, or list every rule with --all."""
    import json

    from nanlint.docs import fix_summary, reference_of
    from nanlint.selection import CATALOG

    if show_all:
        if output_format == "json":
            entries = [
                {
                    "code": entry.code,
                    "name": entry.name,
                    "summary": entry.summary,
                    "fix": fix_summary(entry.code),
                    "default_enabled": entry.default_enabled,
                    "url": entry.url,
                    "explanation": reference_of(entry.code),
                }
                for entry in CATALOG
            ]
            click.echo(json.dumps(entries, indent=2))
            return
        width = max(len(entry.name) for entry in CATALOG)
        for entry in CATALOG:
            default = "" if entry.default_enabled else "  (off by default)"
            fix = fix_summary(entry.code)
            click.echo(f"{entry.code}  {entry.name.ljust(width)}  fix {fix}{default}")
        return
    if code is None:
        raise click.UsageError("give a rule code (nanlint rule NAN101) or --all")
    text = reference_of(code)
    if text is None:
        raise click.UsageError(f"unknown rule `{code}`; `nanlint rule --all` lists them")
    if output_format == "json":
        click.echo(json.dumps({"code": code.upper(), "explanation": text}, indent=2))
    else:
        click.echo(text)
