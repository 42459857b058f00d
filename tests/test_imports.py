"""The modules that handle text import each other one way only (no cycle, lazy imports
included): positions <- cells <- source <- notebook, and positions <- parsing <- source."""

from __future__ import annotations

import ast

import pytest

from conftest import ROOT

PACKAGE = ROOT / "src" / "nanlint"
TEXT_MODULES = ("positions", "cells", "parsing", "source", "notebook")


def _imports(name: str) -> set[str]:
    tree = ast.parse((PACKAGE / f"{name}.py").read_text())
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("nanlint."):
            found.add(node.module.removeprefix("nanlint."))
        elif isinstance(node, ast.Import):
            found.update(a.name.removeprefix("nanlint.") for a in node.names)
    return found


@pytest.mark.parametrize("name", TEXT_MODULES)
def test_no_text_module_reaches_itself(name):
    seen, pending = set(), [name]
    while pending:
        for imported in _imports(pending.pop()):
            assert imported != name, f"nanlint.{name} imports itself through nanlint.{imported}"
            if imported not in seen and (PACKAGE / f"{imported}.py").is_file():
                seen.add(imported)
                pending.append(imported)
