"""The numbers a name can hold, by value: `eps`, `self.eps`, `self.gamma`, `EPS`.

A guard or a divisor is known by what it holds, not by what it is called. A number reaches
an expression through a module constant or a class attribute (the interpreter folds those),
a function parameter's default together with what every call site seen passes for it, or
`self.eps = eps` assigned in the methods of the class (usually `__init__`). Anything else
is not a known number; `numbers` tells apart what comes from outside the code (a parameter
no call site sets, a configuration's attribute: None) from what is known not to be a number
(a tensor, a call: ()).
"""

from __future__ import annotations

from weakref import WeakKeyDictionary

import libcst as cst

from nanlint.analysis.facts import ArgFact, FileAnalysis
from nanlint.analysis.kinds import EPS_LIMIT
from nanlint.analysis.scopes import FunctionInfo, assigned_names
from nanlint.analysis.values import UNKNOWN, BoundMethod, Constant

_DEPTH = 4  # names and attributes followed from the expression
_ASSIGNMENTS: WeakKeyDictionary = WeakKeyDictionary()  # FunctionInfo -> its self.x = ...


Numbers = tuple[float, ...] | None  # None: comes from outside the code; (): not only numbers


def numbers(analysis: FileAnalysis, node: cst.CSTNode, depth: int = _DEPTH) -> Numbers:
    """Every number `node` can hold; () when one of its values is not a number (or not known
    here), None when it comes from outside: a parameter with no default that no call site
    sets, an attribute of something other than `self`."""
    value = analysis.value_of(node)
    held = _number(value)
    if held is not None:
        return (held,)
    if depth == 0 or not (value is None or value is UNKNOWN or isinstance(value, BoundMethod)):
        return ()  # a tensor, a module, a string: not a number (`cfg.eps` is a BoundMethod)
    if isinstance(node, cst.UnaryOperation) and isinstance(node.operator, cst.Minus):
        inner = numbers(analysis, node.expression, depth)
        return inner and tuple(-number for number in inner)
    if isinstance(node, cst.Name):
        return _name_numbers(analysis, node, depth - 1)
    if isinstance(node, cst.Attribute):
        return _attribute_numbers(analysis, node, depth - 1)
    return ()


def _union(parts: list[Numbers]) -> Numbers:
    """Numbers of several definitions: () if one is not a number, else None if one is from
    outside."""
    if any(part == () for part in parts):
        return ()
    if any(part is None for part in parts):
        return None
    return tuple(dict.fromkeys(number for part in parts for number in part))  # type: ignore[union-attr]


def numbers_of(value: Constant) -> Numbers:
    """The number a constant holds, or () when it holds something else."""
    number = _number(value)
    return (number,) if number is not None else ()


def _number(value: object) -> float | None:
    if (
        isinstance(value, Constant)
        and isinstance(value.value, (int, float))
        and not isinstance(value.value, bool)
    ):
        return value.value
    return None


def _name_numbers(analysis: FileAnalysis, node: cst.Name, depth: int) -> Numbers:
    """A parameter's default and what call sites pass, or what plain assignments bound."""
    definitions = analysis.reads.get(node)
    if definitions is None:
        param = _unassigned_parameter(analysis, node)
        definitions = frozenset({param}) if param is not None else None
    if not definitions:
        return ()
    return _union(
        [
            _parameter_numbers(analysis, definition, depth)
            if isinstance(definition, cst.Param)
            else _assigned_numbers(analysis, definition, depth)
            for definition in definitions
        ]
    )


def _unassigned_parameter(analysis: FileAnalysis, node: cst.Name) -> cst.Param | None:
    """The parameter a name reads when its function was not evaluated yet and never assigns
    the name in its body (`self.eps = eps` in an `__init__` not run yet)."""
    info = _function_of(analysis, node)
    if info is None or isinstance(info.node, cst.Lambda):
        return None
    params = info.params
    every = [*params.posonly_params, *params.params, *params.kwonly_params]
    param = next((p for p in every if p.name.value == node.value), None)
    body = info.node.body
    statements = body.body if isinstance(body, cst.IndentedBlock) else [body]
    if param is None or node.value in assigned_names(statements):
        return None
    return param


def _assigned_numbers(analysis: FileAnalysis, target: cst.CSTNode, depth: int) -> Numbers:
    parents = analysis.source.parents
    parent = parents.get(target)
    if isinstance(parent, cst.AnnAssign) and parent.value is not None:
        return numbers(analysis, parent.value, depth)
    assign = parents.get(parent) if isinstance(parent, cst.AssignTarget) else None
    if isinstance(assign, cst.Assign):
        return numbers(analysis, assign.value, depth)
    return ()


def _parameter_numbers(analysis: FileAnalysis, param: cst.Param, depth: int) -> Numbers:
    info = _function_of(analysis, param)
    if info is None or analysis.project is None:
        return ()
    found: list[Numbers] = [numbers(analysis, param.default, depth) if param.default else None]
    name = param.name.value
    for (function, _), sites in analysis.project.call_sites.items():
        if function is not info:
            continue
        if sites.all_unclear or name in sites.unclear:
            return None
        for passed in sites.passed:
            if name in passed:
                value = passed[name]
                number = _number(value)
                found.append((number,) if number is not None else None if value is UNKNOWN else ())
    return _union(found)


def _attribute_numbers(analysis: FileAnalysis, node: cst.Attribute, depth: int) -> Numbers:
    """`self.eps`: every value the methods of the class assign to it (and none else does)."""
    method = _function_of(analysis, node)
    receiver = method.receiver if method is not None else None
    if (
        method is None
        or method.cls is None
        or not isinstance(node.value, cst.Name)
        or node.value.value != receiver
    ):
        return None  # `config.eps`, `args.tau`: set outside the code
    attribute = node.attr.value
    if attribute in analysis.scopes.external_attribute_writes:
        return ()
    values: list[cst.BaseExpression] = list(method.cls.class_attributes.get(attribute, []))
    for writer in method.cls.attribute_writers.get(attribute, []):
        assigned = self_assignments(writer).get(attribute)
        if assigned is None:
            return ()
        values += assigned
    if not values:
        return None  # set by a base class or from outside
    return _union([numbers(analysis, value, depth) for value in values])


def self_assignments(method: FunctionInfo) -> dict[str, list[cst.BaseExpression] | None]:
    """attribute -> the values `self.<attribute> = value` statements of a method assign;
    None for an attribute written any other way (augmented, unpacked)."""
    cached = _ASSIGNMENTS.get(method)
    if cached is not None:
        return cached
    receiver = method.receiver
    found: dict[str, list[cst.BaseExpression] | None] = {}

    def add(attribute: str, value: cst.BaseExpression | None) -> None:
        held = found.setdefault(attribute, [])
        if held is not None and value is not None:
            held.append(value)
        elif value is None:
            found[attribute] = None

    class Finder(cst.CSTVisitor):
        def visit_FunctionDef(self, node: cst.FunctionDef) -> bool:
            return node is method.node

        def visit_Lambda(self, node: cst.Lambda) -> bool:
            return False

        def visit_Assign(self, node: cst.Assign) -> None:
            for target in node.targets:
                if _self_attribute(target.target, receiver) is not None:
                    add(_self_attribute(target.target, receiver), node.value)  # type: ignore[arg-type]
                else:
                    for attribute in _attributes_within(target.target, receiver):
                        add(attribute, None)

        def visit_AugAssign(self, node: cst.AugAssign) -> None:
            attribute = _self_attribute(node.target, receiver)
            if attribute is not None:
                add(attribute, None)

        def visit_AnnAssign(self, node: cst.AnnAssign) -> None:
            attribute = _self_attribute(node.target, receiver)
            if attribute is not None:
                add(attribute, node.value)

    method.node.visit(Finder())
    _ASSIGNMENTS[method] = found
    return found


def _self_attribute(target: cst.CSTNode, receiver: str | None) -> str | None:
    """`self.<name>` -> name."""
    if (
        isinstance(target, cst.Attribute)
        and isinstance(target.value, cst.Name)
        and target.value.value == receiver
    ):
        return target.attr.value
    return None


def _attributes_within(target: cst.CSTNode, receiver: str | None) -> set[str]:
    """The `self.<name>` attributes an unpacking target binds."""
    if isinstance(target, (cst.Tuple, cst.List)):
        found: set[str] = set()
        for element in target.elements:
            found |= _attributes_within(element.value, receiver)
        return found
    if isinstance(target, cst.StarredElement):
        return _attributes_within(target.value, receiver)
    attribute = _self_attribute(target, receiver)
    return {attribute} if attribute is not None else set()


def _function_of(analysis: FileAnalysis, node: cst.CSTNode) -> FunctionInfo | None:
    """The function or lambda whose parameters or body hold `node`."""
    parents = analysis.source.parents
    current = parents.get(node)
    while current is not None:
        if isinstance(current, (cst.FunctionDef, cst.Lambda)):
            return analysis.scopes.functions.get(current)
        current = parents.get(current)
    return None


def is_eps(arg: ArgFact, analysis: FileAnalysis | None = None) -> bool:
    """A small positive number, by value (`1e-8`, `EPS`, `self.eps` set from a default,
    `gamma=1e-6`); when the value comes from outside the code (a configuration, a parameter
    no call site sets), a name that says it is one (`eps`, `self.epsilon`)."""
    held: Numbers = ()
    if isinstance(arg.value, Constant):
        held = numbers_of(arg.value)
    elif arg.value is UNKNOWN or isinstance(arg.value, BoundMethod):  # `cfg.eps` is one
        named = analysis is not None and isinstance(arg.node, (cst.Name, cst.Attribute))
        held = numbers(analysis, arg.node) if named else None  # type: ignore[arg-type]
    if held is not None:
        return bool(held) and all(0 < number <= EPS_LIMIT for number in held)
    name = (
        arg.node.attr.value
        if isinstance(arg.node, cst.Attribute)
        else getattr(arg.node, "value", None)
    )
    return isinstance(name, str) and "eps" in name.lower()
