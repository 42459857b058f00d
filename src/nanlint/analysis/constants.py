"""The numbers a name can hold, by value: `eps`, `self.eps`, `self.gamma`, `EPS`.

A guard or a divisor is known by what it holds, not by what it is called. A number reaches
an expression through a module constant or a class attribute (the interpreter folds those),
a function parameter's default together with what every call site seen passes for it, or
`self.eps = eps` assigned in the methods of the class (usually `__init__`). Anything else
(a tensor, a value read from a config, a parameter some call site unpacks) is not a number.
"""

from __future__ import annotations

import libcst as cst

from nanlint.analysis.facts import FileAnalysis
from nanlint.analysis.scopes import FunctionInfo
from nanlint.analysis.values import Constant

_DEPTH = 4  # names and attributes followed from the expression


def numbers(analysis: FileAnalysis, node: cst.CSTNode, depth: int = _DEPTH) -> tuple[float, ...]:
    """Every number `node` can hold, or () when one of its values is not a known number."""
    held = _number(analysis.value_of(node))
    if held is not None:
        return (held,)
    if depth == 0:
        return ()
    if isinstance(node, cst.UnaryOperation) and isinstance(node.operator, cst.Minus):
        return tuple(-value for value in numbers(analysis, node.expression, depth))
    if isinstance(node, cst.Name):
        return _name_numbers(analysis, node, depth - 1)
    if isinstance(node, cst.Attribute):
        return _attribute_numbers(analysis, node, depth - 1)
    return ()


def _number(value: object) -> float | None:
    if (
        isinstance(value, Constant)
        and isinstance(value.value, (int, float))
        and not isinstance(value.value, bool)
    ):
        return value.value
    return None


def _name_numbers(analysis: FileAnalysis, node: cst.Name, depth: int) -> tuple[float, ...]:
    """A parameter's default and what call sites pass, or what plain assignments bound."""
    definitions = analysis.reads.get(node)
    if not definitions:
        return ()
    found: list[float] = []
    for definition in definitions:
        if isinstance(definition, cst.Param):
            values = _parameter_numbers(analysis, definition, depth)
        else:
            values = _assigned_numbers(analysis, definition, depth)
        if not values:
            return ()
        found += values
    return tuple(dict.fromkeys(found))


def _assigned_numbers(analysis: FileAnalysis, target: cst.CSTNode, depth: int) -> tuple[float, ...]:
    parents = analysis.source.parents
    parent = parents.get(target)
    if isinstance(parent, cst.AnnAssign) and parent.value is not None:
        return numbers(analysis, parent.value, depth)
    assign = parents.get(parent) if isinstance(parent, cst.AssignTarget) else None
    if isinstance(assign, cst.Assign):
        return numbers(analysis, assign.value, depth)
    return ()


def _parameter_numbers(analysis: FileAnalysis, param: cst.Param, depth: int) -> tuple[float, ...]:
    info = _function_of(analysis, param)
    if param.default is None or info is None or analysis.project is None:
        return ()
    found = list(numbers(analysis, param.default, depth))
    if not found:
        return ()
    name = param.name.value
    for (function, _), sites in analysis.project.call_sites.items():
        if function is not info:
            continue
        if sites.all_unclear or name in sites.unclear:
            return ()
        for passed in sites.passed:
            if name in passed:
                value = _number(passed[name])
                if value is None:
                    return ()
                found.append(value)
    return tuple(dict.fromkeys(found))


def _attribute_numbers(
    analysis: FileAnalysis, node: cst.Attribute, depth: int
) -> tuple[float, ...]:
    """`self.eps`: every value the methods of the class assign to it (and none else does)."""
    method = _function_of(analysis, node)
    receiver = method.receiver if method is not None else None
    if (
        method is None
        or method.cls is None
        or not isinstance(node.value, cst.Name)
        or node.value.value != receiver
    ):
        return ()
    attribute = node.attr.value
    if attribute in analysis.scopes.external_attribute_writes:
        return ()
    values: list[cst.BaseExpression] = list(method.cls.class_attributes.get(attribute, []))
    for writer in method.cls.attribute_writers.get(attribute, []):
        assigned = _self_assignments(writer, attribute)
        if assigned is None:
            return ()
        values += assigned
    found: list[float] = []
    for value in values:
        held = numbers(analysis, value, depth)
        if not held:
            return ()
        found += held
    return tuple(dict.fromkeys(found))


def _self_assignments(method: FunctionInfo, attribute: str) -> list[cst.BaseExpression] | None:
    """The values `self.<attribute> = value` statements of a method assign; None when it is
    written any other way (augmented, unpacked)."""
    receiver = method.receiver
    values: list[cst.BaseExpression] = []
    other = False

    class Finder(cst.CSTVisitor):
        def visit_FunctionDef(self, node: cst.FunctionDef) -> bool:
            return node is method.node

        def visit_Assign(self, node: cst.Assign) -> None:
            nonlocal other
            for target in node.targets:
                if _is_self_attribute(target.target, receiver, attribute):
                    values.append(node.value)
                elif attribute in _attributes_within(target.target, receiver):
                    other = True

        def visit_AugAssign(self, node: cst.AugAssign) -> None:
            nonlocal other
            other = other or _is_self_attribute(node.target, receiver, attribute)

        def visit_AnnAssign(self, node: cst.AnnAssign) -> None:
            if _is_self_attribute(node.target, receiver, attribute) and node.value is not None:
                values.append(node.value)

    method.node.visit(Finder())
    return None if other else values


def _is_self_attribute(target: cst.CSTNode, receiver: str | None, attribute: str) -> bool:
    return (
        isinstance(target, cst.Attribute)
        and isinstance(target.value, cst.Name)
        and target.value.value == receiver
        and target.attr.value == attribute
    )


def _attributes_within(target: cst.CSTNode, receiver: str | None) -> set[str]:
    """The `self.<name>` attributes an unpacking target binds."""
    if isinstance(target, (cst.Tuple, cst.List)):
        found: set[str] = set()
        for element in target.elements:
            found |= _attributes_within(element.value, receiver)
        return found
    if isinstance(target, cst.StarredElement):
        return _attributes_within(target.value, receiver)
    if isinstance(target, cst.Attribute) and _is_self_attribute(
        target, receiver, target.attr.value
    ):
        return {target.attr.value}
    return set()


def _function_of(analysis: FileAnalysis, node: cst.CSTNode) -> FunctionInfo | None:
    """The function or lambda whose parameters or body hold `node`."""
    parents = analysis.source.parents
    current = parents.get(node)
    while current is not None:
        if isinstance(current, (cst.FunctionDef, cst.Lambda)):
            return analysis.scopes.functions.get(current)
        current = parents.get(current)
    return None
