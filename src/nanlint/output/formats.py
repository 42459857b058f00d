"""`FORMATS` maps each `--output-format` name to its writer."""

from __future__ import annotations

from collections.abc import Callable

from nanlint.diagnostics import Diagnostic
from nanlint.output import (
    RunSummary,
    github,
    gitlab,
    json_format,
    json_lines,
    junit,
    sarif,
    text,
)

Formatter = Callable[[list[Diagnostic], RunSummary], str]

FORMATS: dict[str, Formatter] = {
    "full": text.full,
    "concise": text.concise,
    "json": json_format.render,
    "json-lines": json_lines.render,
    "github": github.render,
    "sarif": sarif.render,
    "junit": junit.render,
    "gitlab": gitlab.render,
}
