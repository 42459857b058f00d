"""`--output-format json-lines`: one JSON object per line, as in the json format's array."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING

from nanlint.diagnostics import Diagnostic
from nanlint.output.json_format import as_dict

if TYPE_CHECKING:
    from nanlint.output import RunSummary


def render(diagnostics: list[Diagnostic], summary: RunSummary) -> str:
    return "".join(json.dumps(as_dict(d, summary)) + "\n" for d in diagnostics)
