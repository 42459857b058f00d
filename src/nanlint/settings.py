"""The configuration keys: how each is read, what it accepts, and its documentation.

One definition per key serves reading the files (nanlint.config), `nanlint config [KEY]`,
`--show-settings` and the JSON schema shipped for editors (`nanlint/nanlint.schema.json`).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from nanlint.output import FORMAT_NAMES
from nanlint.selection import SelectorError, validate

SCHEMA_ID = "https://github.com/nanlint/nanlint/blob/main/src/nanlint/nanlint.schema.json"


@dataclass(frozen=True)
class Setting:
    key: str  # as written in the file: `extend-select`
    attribute: str  # on nanlint.config.Config
    parse: Callable[[Any], Any]  # raises TypeError / ValueError on a bad value
    accepted: str  # what the error message says is accepted
    doc: str
    example: str  # a TOML line
    schema: dict


def _strings(value: Any) -> tuple[str, ...]:
    if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
        raise TypeError(f"must be a list of strings, not {value!r}")
    return tuple(value)


def _selectors(value: Any) -> tuple[str, ...]:
    items = _strings(value)
    try:
        return tuple(validate(item) for item in items)
    except SelectorError as error:
        raise ValueError(f"has an {error}") from error


def _per_file_ignores(value: Any) -> tuple[tuple[str, tuple[str, ...]], ...]:
    if not isinstance(value, dict):
        raise TypeError(f"must be a table of glob = [codes], not {value!r}")
    return tuple((str(glob), _selectors(codes)) for glob, codes in value.items())


def _boolean(value: Any) -> bool:
    if not isinstance(value, bool):
        raise TypeError(f"must be true or false, not {value!r}")
    return value


def _output_format(value: Any) -> str:
    if value not in FORMAT_NAMES:
        raise ValueError(f"must be an output format, not {value!r}")
    return value


_SELECTORS = "a list of codes (NAN101), prefixes (NAN1) or ALL"
_PATTERNS = "a list of gitignore-style patterns"
_SELECTOR_SCHEMA = {
    "type": "array",
    "items": {"type": "string", "pattern": "^(ALL|NAN[0-9]{0,3})$"},
}
_PATTERN_SCHEMA = {"type": "array", "items": {"type": "string"}}

SETTINGS: tuple[Setting, ...] = (
    Setting(
        "select",
        "select",
        _selectors,
        _SELECTORS,
        "The rules to enable: codes, prefixes or ALL. Replaces the default selection (the"
        " rules on by default); `--select` on the command line replaces it in turn.",
        'select = ["NAN1", "NAN2"]',
        _SELECTOR_SCHEMA,
    ),
    Setting(
        "ignore",
        "ignore",
        _selectors,
        _SELECTORS,
        "Rules to disable: codes, prefixes or ALL. The most specific selector wins; on a tie,"
        " ignore wins over select.",
        'ignore = ["NAN102"]',
        _SELECTOR_SCHEMA,
    ),
    Setting(
        "extend-select",
        "extend_select",
        _selectors,
        _SELECTORS,
        "Rules to enable on top of `select` (for example a rule that is off by default).",
        'extend-select = ["NAN205"]',
        _SELECTOR_SCHEMA,
    ),
    Setting(
        "per-file-ignores",
        "per_file_ignores",
        _per_file_ignores,
        'a table of pattern = [codes], e.g. "tests/*" = ["NAN101"]',
        "Rules to disable in the files a pattern matches (gitignore-style, relative to the"
        " configuration file's directory).",
        '[tool.nanlint.per-file-ignores]\n"tests/**" = ["NAN101"]',
        {"type": "object", "additionalProperties": _SELECTOR_SCHEMA},
    ),
    Setting(
        "exclude",
        "exclude",
        _strings,
        _PATTERNS,
        "Files and directories to skip (gitignore-style patterns, relative to the"
        " configuration file's directory). Replaces the default list (.git, .venv, build,"
        " dist, __pycache__, ...).",
        'exclude = [".git", "build"]',
        _PATTERN_SCHEMA,
    ),
    Setting(
        "extend-exclude",
        "extend_exclude",
        _strings,
        _PATTERNS,
        "Files and directories to skip on top of `exclude`.",
        'extend-exclude = ["generated/", "*_pb2.py"]',
        _PATTERN_SCHEMA,
    ),
    Setting(
        "unsafe-fixes",
        "unsafe_fixes",
        _boolean,
        "true, false",
        "Offer and (with --fix) apply unsafe fixes: those that change behaviour on purpose"
        " (removing a model's last softmax changes what it returns).",
        "unsafe-fixes = false",
        {"type": "boolean", "default": False},
    ),
    Setting(
        "output-format",
        "output_format",
        _output_format,
        ", ".join(FORMAT_NAMES),
        "How diagnostics are printed when `--output-format` is not given.",
        'output-format = "concise"',
        {"type": "string", "enum": list(FORMAT_NAMES), "default": "full"},
    ),
    Setting(
        "respect-gitignore",
        "respect_gitignore",
        _boolean,
        "true, false",
        "Skip what git ignores: the repository's .gitignore files, its info/exclude and the"
        " global ignore file (core.excludesFile).",
        "respect-gitignore = true",
        {"type": "boolean", "default": True},
    ),
)
BY_KEY: dict[str, Setting] = {setting.key: setting for setting in SETTINGS}


def schema() -> dict:
    """The JSON schema of `[tool.nanlint]` and nanlint.toml (for editors' TOML completion)."""
    return {
        "$schema": "http://json-schema.org/draft-07/schema#",
        "$id": SCHEMA_ID,
        "title": "nanlint",
        "description": "nanlint's settings: [tool.nanlint] in pyproject.toml, or nanlint.toml.",
        "type": "object",
        "additionalProperties": False,
        "properties": {
            setting.key: {"description": setting.doc, **setting.schema} for setting in SETTINGS
        },
    }


def describe(setting: Setting, value: Any) -> str:
    """`nanlint config KEY`: the documentation, the accepted values, an example."""
    return (
        f"{setting.key}\n\n{setting.doc}\n\nAccepts: {setting.accepted}\n"
        f"Current: {toml_value(value)}\nExample:\n\n    "
        + setting.example.replace("\n", "\n    ")
        + "\n"
    )


def toml_value(value: Any) -> str:
    """A setting's value as TOML (tuples as arrays, pairs as an inline table)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return f'"{value}"'
    if value is None:
        return "(the default)"
    items = list(value)
    if items and all(isinstance(item, tuple) and len(item) == 2 for item in items):
        return "{ " + ", ".join(f'"{key}" = {toml_value(codes)}' for key, codes in items) + " }"
    return "[" + ", ".join(toml_value(item) for item in items) + "]"
