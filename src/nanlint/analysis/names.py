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


def writable_at(analysis: FileAnalysis, parts: list, place: cst.CSTNode, env: Env) -> bool:
    """Whether every node among `parts` can be written in place of `place`.

    A node can when it lies inside `place` (it is moved, not copied) or is `stable_at` there.
    """
    inside = within(place)
    return all(
        inside(part) or stable_at(analysis, part, env)
        for part in parts
        if isinstance(part, cst.CSTNode)
    )


def assigned_values(analysis: FileAnalysis, name: cst.Name) -> list[cst.BaseExpression] | None:
    """What the definitions reaching `name` assigned to it; None when one of them is not a
    plain assignment (a parameter, a loop target, an unpacking, an augmented assignment)."""
    definitions = analysis.reads.get(name)
    if not definitions:
        return None
    parents = analysis.source.parents
    values = []
    for definition in definitions:
        parent = parents.get(definition)
        if isinstance(parent, cst.AssignTarget):
            parent = parents.get(parent)
        if not isinstance(parent, (cst.Assign, cst.AnnAssign, cst.NamedExpr)):
            return None
        if parent.value is None or not _targets(parent, definition):
            return None
        values.append(parent.value)
    return values


def _targets(statement: cst.Assign | cst.AnnAssign | cst.NamedExpr, name: cst.CSTNode) -> bool:
    if isinstance(statement, cst.Assign):
        return any(target.target is name for target in statement.targets)
    return statement.target is name


def within(container: cst.CSTNode):
    """A predicate: does a node lie inside `container` (is it the container or one of its
    descendants)? Structural, so no positions are computed for the file."""
    inner: set[int] = set()
    pending = [container]
    while pending:
        node = pending.pop()
        inner.add(id(node))
        pending.extend(node.children)

    def inside(node: cst.CSTNode) -> bool:
        return id(node) in inner

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


def reads_of_assigned(analysis: FileAnalysis, value: cst.CSTNode) -> list[cst.Name]:
    """The reads of the single name `value` is assigned to (`name = value`)."""
    statement = analysis.source.parents.get(value)
    if not isinstance(statement, cst.Assign) or len(statement.targets) != 1:
        return []
    target = statement.targets[0].target
    if not isinstance(target, cst.Name):
        return []
    return [name for name, definitions in analysis.reads.items() if target in definitions]
