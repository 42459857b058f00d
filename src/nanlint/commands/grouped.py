"""`--help` with options in sections, as ruff groups them ("Rule selection", "File
selection", ...). click has no option groups of its own; this is the small part of
click-option-group that nanlint needs: a section name on each option, and a command that
writes one section per name, in the order the sections first appear."""

from __future__ import annotations

import click


class GroupedOption(click.Option):
    """A click option that belongs to a help section (`group="Rule selection"`)."""

    def __init__(self, *args, group: str = "Options", **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.group = group


class GroupedCommand(click.Command):
    """A command whose help lists its options by section."""

    def format_options(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        sections: dict[str, list[tuple[str, str]]] = {}
        for param in self.get_params(ctx):
            record = param.get_help_record(ctx)
            if record is not None:
                sections.setdefault(getattr(param, "group", "Options"), []).append(record)
        for name, records in sections.items():
            with formatter.section(name):
                formatter.write_dl(records)


def option(group: str, *declarations: str, **attributes):
    """`click.option` in help section `group`."""
    return click.option(*declarations, cls=GroupedOption, group=group, **attributes)
