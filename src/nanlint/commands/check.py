"""`nanlint check`: lint (and fix) files, with ruff's options, sections and exit codes."""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING

import click

from nanlint.commands.grouped import GroupedCommand, option
from nanlint.output import FORMAT_NAMES

if TYPE_CHECKING:
    from nanlint.config import Config
    from nanlint.runner import RunResult

RULES, FILES, MISC, LOG, GLOBAL = (
    "Rule selection",
    "File selection",
    "Miscellaneous",
    "Log levels",
    "Global options",
)
ENVIRONMENT = """\b
Environment variables:
  NANLINT_CACHE_DIR      where the results cache lives (--cache-dir)
  NANLINT_OUTPUT_FORMAT  the output format (--output-format)
  NANLINT_OUTPUT_FILE    the file to write the output to (--output-file)
  NO_COLOR               no colour with --color auto (any non-empty value)
  FORCE_COLOR            colour with --color auto, even when not on a terminal"""


def _codes(values: tuple[str, ...]) -> list[str] | None:
    """`--select A,B --select C` -> [A, B, C]; None when the option was not given."""
    if not values:
        return None
    return [part.strip() for value in values for part in value.split(",") if part.strip()]


@click.command(cls=GroupedCommand, epilog=ENVIRONMENT)
@click.argument("paths", nargs=-1, type=click.Path(path_type=Path))
@option("Options", "--fix", is_flag=True, help="Apply safe fixes.")
@option(
    "Options",
    "--unsafe-fixes/--no-unsafe-fixes",
    default=None,
    help="Also offer and (with --fix) apply unsafe fixes.",
)
@option("Options", "--show-fixes", is_flag=True, help="List the fixes --fix applied, by file.")
@option("Options", "--diff", is_flag=True, help="Print the diff --fix would make; write nothing.")
@option("Options", "-w", "--watch", is_flag=True, help="Re-lint whenever a file changes.")
@option(
    "Options",
    "--fix-only",
    is_flag=True,
    help="Apply fixes, without reporting (or failing on) what remains. Implies --fix.",
)
@option("Options", "--ignore-noqa", is_flag=True, help="Ignore every `# noqa` comment.")
@option(
    "Options",
    "--output-format",
    type=click.Choice(FORMAT_NAMES),
    envvar="NANLINT_OUTPUT_FORMAT",
    help="How to print diagnostics (default: full, or the configuration's).",
)
@option(
    "Options",
    "-o",
    "--output-file",
    type=click.Path(path_type=Path, dir_okay=False),
    envvar="NANLINT_OUTPUT_FILE",
    help="Write the output to this file instead of standard output.",
)
@option("Options", "--statistics", is_flag=True, help="Print the number of diagnostics per rule.")
@option(
    "Options",
    "--add-noqa",
    is_flag=True,
    help="Add a `# noqa: CODE` to each line with a diagnostic (not in notebooks).",
)
@option("Options", "--show-files", is_flag=True, help="List the files nanlint would lint.")
@option("Options", "--show-settings", is_flag=True, help="Print the settings nanlint would use.")
@option(RULES, "--select", multiple=True, help="Codes or prefixes to enable (NAN101, NAN1, ALL).")
@option(RULES, "--ignore", multiple=True, help="Codes or prefixes to disable.")
@option(RULES, "--extend-select", multiple=True, help="Codes to enable on top of the selection.")
@option(RULES, "--extend-ignore", multiple=True, help="Codes to disable on top of ignore.")
@option(
    RULES,
    "--per-file-ignores",
    multiple=True,
    help="PATTERN:CODES pairs (comma-separated) that replace the configured ones.",
)
@option(
    RULES,
    "--extend-per-file-ignores",
    multiple=True,
    help="PATTERN:CODES pairs added to the configured ones.",
)
@option(
    FILES,
    "--exclude",
    multiple=True,
    help="Patterns to skip (comma-separated), replacing the default list.",
)
@option(FILES, "--extend-exclude", multiple=True, help="Patterns to skip on top of exclude.")
@option(
    FILES,
    "--respect-gitignore/--no-respect-gitignore",
    default=None,
    help="Skip what git ignores (.gitignore, info/exclude, core.excludesFile).",
)
@option(
    FILES, "--force-exclude", is_flag=True, help="Skip excluded files even when named explicitly."
)
@option(MISC, "-n", "--no-cache", is_flag=True, help="Neither read nor write the results cache.")
@option(
    MISC,
    "--cache-dir",
    type=click.Path(path_type=Path, file_okay=False),
    envvar="NANLINT_CACHE_DIR",
    help="Where the results cache lives (default: .nanlint_cache beside the configuration).",
)
@option(
    MISC,
    "--stdin-filename",
    type=click.Path(path_type=Path),
    help="Lint standard input as this file (with --fix, print the fixed source).",
)
@option(MISC, "-e", "--exit-zero", is_flag=True, help="Exit 0 even when diagnostics remain.")
@option(MISC, "--exit-non-zero-on-fix", is_flag=True, help="Exit 1 when --fix changed a file.")
@option(LOG, "-q", "--quiet", is_flag=True, help="Print diagnostics, but nothing else.")
@option(LOG, "-s", "--silent", is_flag=True, help="Print nothing; the exit code still tells.")
@option(
    GLOBAL,
    "--config",
    "config_options",
    multiple=True,
    help="A configuration file (pyproject.toml, nanlint.toml), or a TOML `KEY = VALUE` setting"
    " that overrides every file (--config \"select = ['NAN1']\").",
)
@option(GLOBAL, "--isolated", is_flag=True, help="Ignore every configuration file.")
@option(
    GLOBAL,
    "--color",
    type=click.Choice(("auto", "always", "never")),
    default="auto",
    show_default=True,
    help="Colour the output: on a terminal (auto, unless NO_COLOR or FORCE_COLOR say"
    " otherwise), always or never.",
)
def check(paths: tuple[Path, ...], **given) -> None:
    """Lint PATHS (default: the current directory; `-` is standard input)."""
    _escape_unencodable_output()
    paths, stdin_name = _stdin_path(paths, given["stdin_filename"])
    config = _configuration(paths, given)
    if given["show_settings"]:
        click.echo(_settings_report(config), nl=False)
        sys.exit(0)
    if given["show_files"]:
        _show_files(paths, config, given["force_exclude"])
        sys.exit(0)
    stdin = sys.stdin.buffer.read() if stdin_name is not None else None
    color = _use_color(given["color"]) and given["output_file"] is None

    def once() -> int:
        return _run(paths, config, given, stdin, color)

    if given["watch"]:
        from nanlint.watch import watch

        watch(once, lambda: _watched(paths, config), click.echo)
        sys.exit(0)
    sys.exit(once())


def _escape_unencodable_output() -> None:
    """Print what the terminal cannot encode (a file name that is not UTF-8, say) as escapes."""
    for stream in (sys.stdout, sys.stderr):
        if hasattr(stream, "reconfigure"):
            stream.reconfigure(errors="backslashreplace")


def _stdin_path(paths: tuple[Path, ...], name: Path | None) -> tuple[tuple[Path, ...], Path | None]:
    """The paths to lint, and the name standard input is linted as (None: no stdin)."""
    if Path("-") in paths:
        if len(paths) > 1:
            raise click.UsageError("`-` (standard input) cannot be combined with other paths")
        name = name or Path("-")
    if name is not None:
        return (name,), name
    return tuple(paths) or (Path("."),), None


def _use_color(choice: str) -> bool:
    """--color always/never, else NO_COLOR, FORCE_COLOR (https://no-color.org), a terminal."""
    if choice != "auto":
        return choice == "always"
    if os.environ.get("NO_COLOR"):
        return False
    if os.environ.get("FORCE_COLOR"):
        return True
    return sys.stdout.isatty()


def _configuration(paths: tuple[Path, ...], given: dict) -> Config:
    """The configuration file's settings, then --config KEY=VALUE, then the options."""
    from nanlint.config import ConfigError, inline_settings, resolve_config
    from nanlint.selection import SelectorError, validate

    def codes(name: str) -> tuple[str, ...]:
        return tuple(validate(code) for code in _codes(given[name]) or ())

    files = [value for value in given["config_options"] if _is_file(value)]
    if len(files) > 1:
        raise click.UsageError("--config names more than one configuration file")
    try:
        config = resolve_config(paths, Path(files[0]) if files else None, given["isolated"])
        for value in given["config_options"]:
            if value not in files:
                config = config.override(**inline_settings(value))
        select = _codes(given["select"])
        per_file = _per_file_ignores(given["per_file_ignores"])
        return config.override(
            select=None if select is None else tuple(validate(code) for code in select),
            ignore=config.ignore + codes("ignore") + codes("extend_ignore"),
            extend_select=config.extend_select + codes("extend_select"),
            per_file_ignores=(config.per_file_ignores if per_file is None else per_file)
            + (_per_file_ignores(given["extend_per_file_ignores"]) or ()),
            exclude=_patterns(given["exclude"]),
            extend_exclude=config.extend_exclude + (_patterns(given["extend_exclude"]) or ()),
            respect_gitignore=given["respect_gitignore"],
            unsafe_fixes=given["unsafe_fixes"],
            output_format=given["output_format"],
        )
    except SelectorError as error:
        raise click.UsageError(str(error)) from error
    except ConfigError as error:
        click.echo(f"error: {error}", err=True)
        sys.exit(2)


def _is_file(value: str) -> bool:
    """A --config value is a file when it names one, or has no `=` (then it must exist)."""
    return "=" not in value or Path(value).is_file()


def _patterns(values: tuple[str, ...]) -> tuple[str, ...] | None:
    return None if not values else tuple(_codes(values) or ())


def _per_file_ignores(values: tuple[str, ...]) -> tuple[tuple[str, tuple[str, ...]], ...] | None:
    """ruff's `PATTERN:CODE` pairs (`tests/*:NAN101,scripts/*:NAN2`), joined by pattern."""
    from nanlint.selection import validate

    if not values:
        return None
    pairs: dict[str, list[str]] = {}
    for pair in _codes(values) or ():
        pattern, colon, code = pair.rpartition(":")
        if not colon or not pattern:
            raise click.BadParameter(
                f"`{pair}` is not PATTERN:CODE", param_hint="--per-file-ignores"
            )
        pairs.setdefault(pattern, []).append(validate(code))
    return tuple((pattern, tuple(codes)) for pattern, codes in pairs.items())


def _settings_report(config: Config) -> str:
    """--show-settings: where the settings come from, each key's value, the enabled codes."""
    from nanlint.settings import SETTINGS, toml_value

    lines = [f"Settings path: {config.path or '(none: the defaults)'}", ""]
    lines += [f"{s.key} = {toml_value(getattr(config, s.attribute))}" for s in SETTINGS]
    lines += ["", f"enabled = {toml_value(sorted(config.enabled))}"]
    return "\n".join(lines) + "\n"


def _discovered(paths: tuple[Path, ...], config: Config, force_exclude: bool):
    from nanlint.discovery import Exclusions, discover

    exclusions = Exclusions(config.root, config.exclude_patterns, config.respect_gitignore)
    return discover(list(paths), exclusions, force_exclude)


def _show_files(paths: tuple[Path, ...], config: Config, force_exclude: bool) -> None:
    from nanlint.output.paths import display

    cwd = Path.cwd()
    for path in _discovered(paths, config, force_exclude).files:
        click.echo(display(path, cwd))


def _watched(paths: tuple[Path, ...], config: Config) -> object:
    """What a change to the linted files shows in: their names, sizes and times."""
    state = []
    for path in _discovered(paths, config, False).files:
        try:
            stat = path.stat()
        except OSError:
            continue
        state.append((path, stat.st_size, stat.st_mtime_ns))
    return state


def _run(
    paths: tuple[Path, ...], config: Config, given: dict, stdin: bytes | None, color: bool
) -> int:
    """One run: lint or fix, print, and the exit code."""
    from nanlint.cache import default_directory
    from nanlint.output import RunSummary
    from nanlint.output.formats import formatter
    from nanlint.output.statistics import statistics_table
    from nanlint.runner import CheckOptions, run_check

    fix = given["fix"] or given["fix_only"]
    cache_dir = None if given["no_cache"] else given["cache_dir"] or default_directory(config.root)
    options = CheckOptions(
        paths,
        config,
        fix,
        given["diff"],
        given["force_exclude"],
        stdin,
        cache_dir,
        ignore_noqa=given["ignore_noqa"],
        add_noqa=given["add_noqa"],
    )
    result = run_check(options)
    silent, quiet = given["silent"], given["quiet"] or given["silent"]
    _warnings(result, quiet)
    if given["diff"]:
        if not silent:
            sys.stdout.write("".join(result.diffs))
        noun = "error" if result.fixed == 1 else "errors"
        if not quiet:
            click.echo(f"Would fix {result.fixed} {noun}.", err=True)
        return 2 if result.errors else 1 if result.diffs else 0
    if given["add_noqa"]:
        if not quiet:
            noun = "directive" if result.noqa_added == 1 else "directives"
            click.echo(f"Added {result.noqa_added} noqa {noun}.", err=True)
        return 2 if result.errors else 0
    summary = RunSummary(
        config.unsafe_fixes,
        result.fixed,
        Path.cwd(),
        result.sources,
        color=color,
        quiet=quiet,
        fixes=tuple(result.fixed_diagnostics) if given["show_fixes"] else None,
    )
    if given["fix_only"]:
        report = _fixed_only(summary)
    elif given["statistics"]:
        report = statistics_table(result.diagnostics, summary)
    else:
        report = formatter(config.output_format)(result.diagnostics, summary)
    if stdin is not None and fix:
        sys.stdout.buffer.write(result.stdin_fixed or b"")
        sys.stdout.flush()
        _print(report, given, err=True, color=color, silent=silent)
    else:
        _print(report, given, err=False, color=color, silent=silent)
    if result.errors:
        return 2
    remaining = result.diagnostics and not given["exit_zero"] and not given["fix_only"]
    return 1 if remaining or (given["exit_non_zero_on_fix"] and result.fixed) else 0


def _fixed_only(summary) -> str:
    """--fix-only: what was fixed, nothing about what remains (ruff's `Fixed N errors.`)."""
    from nanlint.output.text import fixes_listing

    if summary.quiet or not summary.fixed:
        return ""
    listing = fixes_listing(summary)
    if listing:
        return "\n".join(listing[1:]) + "\n"
    return f"Fixed {summary.fixed} error{'s' if summary.fixed != 1 else ''}.\n"


def _warnings(result: RunResult, quiet: bool) -> None:
    for error in result.errors:  # internal errors are shown even with --quiet
        rule = f" in rule {error.rule}" if error.rule else ""
        click.echo(f"error: internal error{rule} on {error.path}: {error.message}", err=True)
    if quiet:
        return
    for message in result.withheld:
        click.echo(f"warning: {message}", err=True)
    if result.nothing_found:
        click.echo("warning: No Python files found under the given path(s)", err=True)


def _print(report: str, given: dict, err: bool, color: bool, silent: bool) -> None:
    """The report on standard output (or error), or into --output-file."""
    if silent or not report:
        return
    target: Path | None = given["output_file"]
    if target is None:
        # the stream itself, which escapes what its encoding cannot hold (click's own would not)
        click.echo(report, file=sys.stderr if err else sys.stdout, nl=False, color=color)
        return
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(report, encoding="utf-8")
