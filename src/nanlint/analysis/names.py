"""Whether an expression can be written somewhere else: its names still mean the same there."""

from __future__ import annotations

import libcst as cst

from nanlint.analysis.facts import Env, FileAnalysis
from nanlint.analysis.rewrite import is_literal


def stable_at(analysis: FileAnalysis, node: cst.CSTNode, env: Env) -> bool:
    """Whether `node` can be re-evaluated where the environment is `env` with the same value.

    Literals always can; names, attributes of names, subscripts with literal indices and
    arithmetic of those can when every name they read is bound to the same definitions
    there as where `node` was evaluated. Anything with a call cannot (it may not be pure).
    """
    reads = _reads(node)
    if reads is None:
        return False
    for name in reads:
        defs = analysis.reads.get(name)
        binding = env.get(name.value)
        if not defs or binding is None or binding.defs != defs:
            return False
    return True


def within(file, container: cst.CSTNode):
    """A predicate: does a node lie inside `container` (by source offsets)?"""
    start, end = file.node_offsets(container)

    def inside(node: cst.CSTNode) -> bool:
        node_start, node_end = file.node_offsets(node)
        return start <= node_start and node_end <= end

    return inside


def _reads(node: cst.CSTNode) -> list[cst.Name] | None:
    """The names an expression reads; None when it is not a simple, pure expression."""
    if isinstance(node, cst.BaseExpression) and is_literal(node):
        return []
    if isinstance(node, cst.Name):
        return [node]
    if isinstance(node, cst.Attribute):
        return _reads(node.value)
    if isinstance(node, cst.UnaryOperation):
        return _reads(node.expression)
    parts: list[cst.CSTNode] = []
    if isinstance(node, cst.BinaryOperation):
        parts = [node.left, node.right]
    elif isinstance(node, cst.Subscript):
        parts = [node.value]
        for element in node.slice:
            if not isinstance(element.slice, cst.Index):
                return None
            parts.append(element.slice.value)
    else:
        return None
    reads: list[cst.Name] = []
    for part in parts:
        inner = _reads(part)
        if inner is None:
            return None
        reads += inner
    return reads


def assigned_value(analysis: FileAnalysis, node: cst.CSTNode) -> cst.BaseExpression | None:
    """The expression a name read holds, when a single plain assignment reaches the read."""
    defs = analysis.reads.get(node) if isinstance(node, cst.Name) else None
    if not defs or len(defs) != 1:
        return None
    (target,) = defs
    parents = analysis.source.parents
    parent = parents.get(target)
    if isinstance(parent, cst.AnnAssign):
        return parent.value
    assign = parents.get(parent) if isinstance(parent, cst.AssignTarget) else None
    if isinstance(assign, cst.Assign) and len(assign.targets) == 1:
        return assign.value
    return None
