"""Spelling a torch name in a fix the way the file already does, adding an import if needed."""

from __future__ import annotations

import re

import libcst as cst

from nanlint.analysis.facts import FileAnalysis
from nanlint.analysis.imports import dotted_name, imported_qualname
from nanlint.analysis.rewrite import EditPlan
from nanlint.analysis.torch_api import canonical

_LINE_BREAK = re.compile(r"\r\n|\r|\n")

# Conventional aliases, used when a new import has to be added.
_ALIASES = {"torch.nn.functional": "F", "torch.nn": "nn"}


def spell(plan: EditPlan, analysis: FileAnalysis, qualname: str, scope=None) -> str:
    """An expression naming `qualname` at a place in `scope` (a FunctionInfo or None).

    Uses an existing import when one reaches the name (`F.binary_cross_entropy_with_logits`);
    otherwise extends a `from <module> import ...` of the same module, or adds
    `import torch.nn.functional as F` / `import torch` / `import math` after the file's
    imports. When none of these is possible (the file binds `torch` to something else, or
    imports it only under a condition), the plan is given up.
    """
    shadowed = frozenset(scope.assigned) if scope is not None else frozenset()
    existing = analysis.imports.spelling(qualname, shadowed)
    if existing is not None:
        return existing
    module, _, name = qualname.rpartition(".")
    taken = _taken_names(analysis)
    from_import = _from_import_of(analysis, module)
    if from_import is not None and name not in taken:
        _extend_from_import(plan, analysis, from_import, name)
        return name
    alias = _ALIASES.get(module)
    if alias is not None and alias not in taken:
        _add_import_line(plan, analysis, f"import {module} as {alias}")
        return f"{alias}.{name}"
    top = module.split(".")[0]
    if top not in taken:
        _add_import_line(plan, analysis, f"import {top}")  # `import torch`, `import math`
        return qualname
    plan.impossible(f"cannot spell {qualname} here")
    return qualname


def _taken_names(analysis: FileAnalysis) -> set[str]:
    names = set(analysis.scopes.module_assigned)
    for info in analysis.scopes.functions.values():
        names.update(info.assigned)
    return names


def _from_import_of(analysis: FileAnalysis, module: str) -> cst.ImportFrom | None:
    for binding in analysis.imports.bindings:
        statement = binding.statement
        if (
            isinstance(statement, cst.ImportFrom)
            and not statement.relative
            and statement.module is not None
            and dotted_name(statement.module) == module
            and not isinstance(statement.names, cst.ImportStar)
        ):
            return statement
    return None


def _extend_from_import(
    plan: EditPlan, analysis: FileAnalysis, statement: cst.ImportFrom, name: str
) -> None:
    assert not isinstance(statement.names, cst.ImportStar)
    last = statement.names[-1]
    _, end = analysis.source.node_offsets(last)
    trailing_comma = isinstance(last.comma, cst.Comma)
    if trailing_comma:
        # `from m import (a, b,)`: the alias node ends before its comma
        end = analysis.source.text.index(",", end) + 1
        plan.insert(analysis.source, end, f" {name},")
    else:
        plan.insert(analysis.source, end, f", {name}")


def _add_import_line(plan: EditPlan, analysis: FileAnalysis, line: str) -> None:
    source = analysis.source
    newline = source.module.default_newline
    offset = _after_imports(analysis)
    if offset == len(source.text) and source.text and source.text[-1] not in "\r\n":
        plan.insert(source, offset, newline + line + newline)
    else:
        plan.insert(source, offset, line + newline)


def _after_imports(analysis: FileAnalysis) -> int:
    """The start of the line after the last top-level import (or after the docstring)."""
    source = analysis.source
    last_end = None
    for index, statement in enumerate(source.module.body):
        if not isinstance(statement, cst.SimpleStatementLine):
            continue
        if all(isinstance(small, (cst.Import, cst.ImportFrom)) for small in statement.body) or (
            index == 0 and _is_docstring(statement)
        ):
            last_end = source.node_offsets(statement)[1]
    if last_end is None:
        return 0
    line_break = _LINE_BREAK.search(source.text, last_end)
    return line_break.end() if line_break else len(source.text)


def _is_docstring(statement: cst.SimpleStatementLine) -> bool:
    return (
        len(statement.body) == 1
        and isinstance(statement.body[0], cst.Expr)
        and isinstance(statement.body[0].value, (cst.SimpleString, cst.ConcatenatedString))
    )


def names_directly(analysis: FileAnalysis, node: cst.BaseExpression, qualnames) -> bool:
    """Whether `node` spells one of `qualnames` through the file's imports (`nn.BCELoss`,
    `F.binary_cross_entropy`, an imported alias), rather than reaching it through a variable
    or a lookup that a fix must not bypass."""
    qualname = imported_qualname(analysis.imports, node)
    return qualname is not None and canonical(qualname) in set(qualnames)
