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
from typing import Any

from pathspec import GitIgnoreSpec

from nanlint.discovery import DEFAULT_EXCLUDES
from nanlint.selection import enabled_codes, matches
from nanlint.settings import BY_KEY

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
    return Config(path=path, **settings_of(_table(path), str(path)))


def settings_of(table: dict, origin: str) -> dict[str, Any]:
    """The Config attributes a table of keys sets; ConfigError names `origin` and the key."""
    values: dict[str, Any] = {}
    for key, value in table.items():
        setting = BY_KEY.get(key)
        if setting is None:
            raise ConfigError(
                f"{origin}: unknown key `{key}`; accepted keys: {', '.join(sorted(BY_KEY))}"
            )
        try:
            values[setting.attribute] = setting.parse(value)
        except (TypeError, ValueError) as error:
            raise ConfigError(
                f"{origin}: `{key}` {error}; accepted values: {setting.accepted}"
            ) from error
    return values


def inline_settings(text: str) -> dict[str, Any]:
    """`--config "select = ['NAN1']"`: the Config attributes a TOML `KEY = VALUE` sets."""
    try:
        table = tomllib.loads(text)
    except tomllib.TOMLDecodeError as error:
        raise ConfigError(
            f"--config {text!r}: neither a file nor TOML `KEY = VALUE`: {error}"
        ) from error
    return settings_of(table, f"--config {text!r}")


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


def resolve_config(paths: Iterable[Path], explicit: Path | None, isolated: bool) -> Config:
    """The run's configuration: `--config PATH`, none with `--isolated`, else the nearest file."""
    if isolated:
        return Config()
    path = explicit if explicit is not None else find_config(paths)
    return Config() if path is None else load_config(path)
