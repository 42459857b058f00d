"""Configuration: `[tool.nanlint]` in pyproject.toml, or a `nanlint.toml` / `.nanlint.toml`.

The file is found by walking up from the linted paths (the first directory holding one of
CONFIG_NAMES wins; a pyproject.toml counts only when it has a `[tool.nanlint]` table).
Patterns (`exclude`, `per-file-ignores`) are gitignore-style, relative to the file's directory.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Iterable
from dataclasses import dataclass, replace
from functools import cached_property
from pathlib import Path
from typing import Any, Callable

from pathspec import GitIgnoreSpec

from nanlint.discovery import DEFAULT_EXCLUDES
from nanlint.output import FORMAT_NAMES
from nanlint.selection import SelectorError, enabled_codes, matches, validate

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - exercised on Python < 3.11 only
    import tomli as tomllib

CONFIG_NAMES = (".nanlint.toml", "nanlint.toml", "pyproject.toml")


class ConfigError(Exception):
    """A configuration file that cannot be read, or a key or value nanlint does not accept."""


@dataclass(frozen=True)
class Config:
    """The settings of a run; `path` is the file they came from (None: the defaults)."""

    path: Path | None = None
    select: tuple[str, ...] | None = None
    ignore: tuple[str, ...] = ()
    extend_select: tuple[str, ...] = ()
    per_file_ignores: tuple[tuple[str, tuple[str, ...]], ...] = ()
    exclude: tuple[str, ...] = tuple(sorted(DEFAULT_EXCLUDES))
    extend_exclude: tuple[str, ...] = ()
    unsafe_fixes: bool = False
    output_format: str = "full"
    respect_gitignore: bool = True

    @property
    def root(self) -> Path:
        """The directory that relative patterns are resolved against."""
        return self.path.parent if self.path is not None else Path.cwd()

    @property
    def exclude_patterns(self) -> tuple[str, ...]:
        return self.exclude + self.extend_exclude

    @cached_property
    def enabled(self) -> frozenset[str]:
        """The codes enabled by select, ignore and extend-select."""
        return enabled_codes(self.select, self.ignore, self.extend_select)

    @cached_property
    def _per_file(self) -> list[tuple[GitIgnoreSpec, tuple[str, ...]]]:
        return [
            (GitIgnoreSpec.from_lines([pattern]), selectors)
            for pattern, selectors in self.per_file_ignores
        ]

    def codes_for(self, path: Path) -> frozenset[str]:
        """The codes enabled for `path`: the selection less its per-file ignores."""
        relative = relative_to(path, self.root)
        if relative is None:
            return self.enabled
        ignored = [
            selector
            for spec, selectors in self._per_file
            if spec.match_file(relative)
            for selector in selectors
        ]
        return frozenset(c for c in self.enabled if not any(matches(s, c) for s in ignored))

    def override(self, **changes: Any) -> Config:
        """These settings with the command line's (None values leave a setting alone)."""
        return replace(self, **{k: v for k, v in changes.items() if v is not None})


def relative_to(path: Path, root: Path) -> str | None:
    """`path` relative to `root` in posix form, or None when it lies outside."""
    relative = os.path.relpath(os.path.abspath(path), os.path.abspath(root))
    if relative == os.pardir or relative.startswith(os.pardir + os.sep):
        return None
    return Path(relative).as_posix()


def find_config(paths: Iterable[Path]) -> Path | None:
    """The configuration file of the nearest directory above the common parent of `paths`."""
    absolute = [os.path.abspath(p) for p in paths] or [os.getcwd()]
    start = Path(os.path.commonpath(absolute))
    if not start.is_dir():
        start = start.parent
    for directory in (start, *start.parents):
        for name in CONFIG_NAMES:
            candidate = directory / name
            if candidate.is_file() and (name != "pyproject.toml" or _has_table(candidate)):
                return candidate
    return None


def load_config(path: Path) -> Config:
    """Read and check one configuration file."""
    table = _table(path)
    values: dict[str, Any] = {}
    for key, value in table.items():
        option = _OPTIONS.get(key)
        if option is None:
            raise ConfigError(
                f"{path}: unknown key `{key}`; accepted keys: {', '.join(sorted(_OPTIONS))}"
            )
        attribute, check, accepted = option
        try:
            values[attribute] = check(value)
        except (TypeError, ValueError) as error:
            raise ConfigError(f"{path}: `{key}` {error}; accepted values: {accepted}") from error
    return Config(path=path, **values)


def _read_toml(path: Path) -> dict:
    try:
        return tomllib.loads(path.read_text(encoding="utf-8"))
    except OSError as error:
        raise ConfigError(f"{path}: cannot read: {error.strerror or error}") from error
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as error:
        raise ConfigError(f"{path}: not valid TOML: {error}") from error


def _table(path: Path) -> dict:
    """The nanlint settings of a file: all of a nanlint.toml, `[tool.nanlint]` of a pyproject."""
    data = _read_toml(path)
    if path.name != "pyproject.toml":
        return data
    section = data.get("tool", {}).get("nanlint", {})
    if not isinstance(section, dict):
        raise ConfigError(f"{path}: `tool.nanlint` must be a table")
    return section


def _has_table(pyproject: Path) -> bool:
    return "nanlint" in _read_toml(pyproject).get("tool", {})


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
_OPTIONS: dict[str, tuple[str, Callable[[Any], Any], str]] = {
    "select": ("select", _selectors, _SELECTORS),
    "ignore": ("ignore", _selectors, _SELECTORS),
    "extend-select": ("extend_select", _selectors, _SELECTORS),
    "per-file-ignores": (
        "per_file_ignores",
        _per_file_ignores,
        'a table of pattern = [codes], e.g. "tests/*" = ["NAN101"]',
    ),
    "exclude": ("exclude", _strings, _PATTERNS),
    "extend-exclude": ("extend_exclude", _strings, _PATTERNS),
    "unsafe-fixes": ("unsafe_fixes", _boolean, "true, false"),
    "output-format": ("output_format", _output_format, ", ".join(FORMAT_NAMES)),
    "respect-gitignore": ("respect_gitignore", _boolean, "true, false"),
}


def resolve_config(paths: Iterable[Path], explicit: Path | None, isolated: bool) -> Config:
    """The run's configuration: `--config PATH`, none with `--isolated`, else the nearest file."""
    if isolated:
        return Config()
    path = explicit if explicit is not None else find_config(paths)
    return Config() if path is None else load_config(path)
