"""The shape of a file before any evaluation: its functions, classes and assigned names."""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

import libcst as cst

from nanlint.analysis.imports import dotted_name
from nanlint.analysis.torch_api import VALUE_KEEPING_METHODS


@dataclass(eq=False)
class FunctionInfo:
    """A function, method or lambda."""

    node: cst.FunctionDef | cst.Lambda = field(repr=False)
    qualname: str
    source: Any = field(default=None, repr=False)  # the SourceFile it is defined in
    cls: ClassInfo | None = field(default=None, repr=False)
    parent: FunctionInfo | None = field(default=None, repr=False)
    assigned: frozenset[str] = frozenset()
    declared_global: frozenset[str] = frozenset()

    def __repr__(self) -> str:
        return f"FunctionInfo({self.qualname})"

    @property
    def name(self) -> str:
        return self.qualname.rsplit(".", 1)[-1]

    @property
    def params(self) -> cst.Parameters:
        return self.node.params

    @property
    def decorators(self) -> tuple[cst.Decorator, ...]:
        return tuple(self.node.decorators) if isinstance(self.node, cst.FunctionDef) else ()

    @cached_property
    def _decorator_names(self) -> tuple[str | None, ...]:
        names = []
        for decorator in self.decorators:
            expression = decorator.decorator
            if isinstance(expression, cst.Call):
                expression = expression.func
            names.append(dotted_name(expression))
        return tuple(names)

    def decorator_names(self) -> list[str | None]:
        return list(self._decorator_names)

    @property
    def is_static(self) -> bool:
        return "staticmethod" in self.decorator_names()

    @property
    def is_classmethod(self) -> bool:
        return "classmethod" in self.decorator_names()

    @property
    def is_property(self) -> bool:
        return any(
            name
            and (name == "property" or name.endswith(".setter") or name.endswith("cached_property"))
            for name in self.decorator_names()
        )

    def parameter_names(self) -> list[str]:
        params = self.params
        every = [*params.posonly_params, *params.params, *params.kwonly_params]
        return [param.name.value for param in every if param.name.value != self.receiver]

    def positional_params(self) -> list[cst.Param]:
        params = self.params
        return [*params.posonly_params, *params.params]

    @property
    def receiver(self) -> str | None:
        """The name of `self` (or `cls`) in a method."""
        if self.cls is None or self.is_static:
            return None
        positional = self.positional_params()
        return positional[0].name.value if positional else None


@dataclass(eq=False)
class ClassInfo:
    node: cst.ClassDef = field(repr=False)
    qualname: str
    source: Any = field(default=None, repr=False)  # the SourceFile it is defined in
    methods: dict[str, FunctionInfo] = field(default_factory=dict)
    # name -> value expressions assigned in the class body
    class_attributes: dict[str, list[cst.BaseExpression]] = field(default_factory=dict)
    # attribute -> methods that assign self.<attribute>
    attribute_writers: dict[str, list[FunctionInfo]] = field(default_factory=dict)

    def __repr__(self) -> str:
        return f"ClassInfo({self.qualname})"

    @property
    def name(self) -> str:
        return self.node.name.value


class FileScopes:
    """Every function and class of a module, found by walking its statements."""

    def __init__(self, source):
        module = source.module
        self.source = source
        self.functions: dict[cst.CSTNode, FunctionInfo] = {}
        self.classes: dict[cst.ClassDef, ClassInfo] = {}
        self._assigned: dict[int, frozenset[str]] = {}
        self.module_assigned = assigned_names(module.body)
        # the top-level statements binding each module-level name, and the top-level
        # statement each def and class sits in (for evaluating a dependency on demand)
        self.binders: dict[str, list[cst.CSTNode]] = {}
        self.top_level: dict[cst.CSTNode, cst.CSTNode] = {}
        for statement in module.body:
            for name in assigned_names([statement]):
                self.binders.setdefault(name, []).append(statement)
            _collect(self, [statement], [], statement)
        self.external_attribute_writes = self._external_attribute_writes()

    def assigned_in(self, node: cst.CSTNode, body) -> frozenset[str]:
        """`assigned_names(body)` of a loop, try or case, computed once per node."""
        key = id(node)
        if key not in self._assigned:
            self._assigned[key] = assigned_names(body)
        return self._assigned[key]

    def lambda_info(self, node: cst.Lambda, parent: FunctionInfo | None) -> FunctionInfo:
        """The FunctionInfo of a lambda (made when the interpreter first meets it)."""
        info = self.functions.get(node)
        if info is None:
            params = [p.name.value for p in _all_params(node.params)]
            qualname = f"{parent.qualname}.<locals>.<lambda>" if parent else "<lambda>"
            info = FunctionInfo(
                node=node,
                qualname=qualname,
                source=self.source,
                parent=parent,
                assigned=frozenset(params),
            )
            self.functions[node] = info
        return info

    def _external_attribute_writes(self) -> frozenset[str]:
        """Attributes assigned on something other than `self` (`model.head = ...`)."""
        written = {key.partition(".")[2] for key in self.module_assigned if "." in key}
        for info in self.functions.values():
            for key in info.assigned:
                head, _, attribute = key.partition(".")
                if attribute and head != info.receiver:
                    written.add(attribute)
        return frozenset(written)


def assigned_names(body, keeping: str | None = None) -> frozenset[str]:
    """Names (and `name.attr` keys) a block of statements binds, outside nested scopes.

    With `keeping` (a receiver's name), `self.net = self.net.to(device)` does not count:
    it gives the attribute back what it held.
    """
    names: set[str] = set()
    declared: set[str] = set()
    for statement in body:
        _bindings(statement, names, declared, keeping)
    return frozenset(names)


def defined_names(statement: cst.CSTNode) -> frozenset[str]:
    """The names one top-level statement binds (a def, a class, an assignment)."""
    return frozenset(name for name in assigned_names([statement]) if "." not in name)


def declared_globals(body) -> frozenset[str]:
    names: set[str] = set()
    declared: set[str] = set()
    for statement in body:
        _bindings(statement, names, declared)
    return frozenset(declared)


def target_keys(target: cst.BaseExpression) -> list[str]:
    """The env keys an assignment target binds: names and `self.attr`-style keys."""
    if isinstance(target, cst.Name):
        return [target.value]
    if isinstance(target, (cst.Tuple, cst.List)):
        return [key for element in target.elements for key in target_keys(element.value)]
    if isinstance(target, cst.StarredElement):
        return target_keys(target.value)
    if isinstance(target, cst.Attribute) and isinstance(target.value, cst.Name):
        return [f"{target.value.value}.{target.attr.value}"]
    return []


def _bindings(
    statement: cst.CSTNode, names: set[str], declared: set[str], keeping: str | None = None
) -> None:
    """Add what one statement binds, walking compound statements but not nested scopes or
    expressions (a walrus target is missed: its name then reads as unknown, never wrong)."""
    if isinstance(statement, (cst.SimpleStatementLine, cst.SimpleStatementSuite)):
        for small in statement.body:
            if keeping is None or not _keeps_attribute(small, keeping):
                _small_bindings(small, names, declared)
    elif isinstance(statement, (cst.FunctionDef, cst.ClassDef)):
        names.add(statement.name.value)
    elif isinstance(statement, cst.For):
        names.update(target_keys(statement.target))
    elif isinstance(statement, cst.With):
        for item in statement.items:
            if item.asname is not None:
                names.update(target_keys(item.asname.name))  # type: ignore[arg-type]
    elif isinstance(statement, cst.ExceptHandler):
        if statement.name is not None:
            names.update(target_keys(statement.name.name))  # type: ignore[arg-type]
    elif isinstance(statement, cst.MatchCase):
        names.update(_pattern_names(statement.pattern))
    for child in _child_statements(statement):
        _bindings(child, names, declared, keeping)


def _keeps_attribute(small: cst.CSTNode, receiver: str) -> bool:
    """`self.net = self.net.to(device).train()`: the attribute, through methods that give
    the module (or a tensor of the same kind) back."""
    if not (isinstance(small, cst.Assign) and len(small.targets) == 1):
        return False
    value, calls = small.value, 0
    while (
        isinstance(value, cst.Call)
        and isinstance(value.func, cst.Attribute)
        and value.func.attr.value in VALUE_KEEPING_METHODS
    ):
        value, calls = value.func.value, calls + 1
    if calls == 0 or not isinstance(value, cst.Attribute):
        return False
    key = target_keys(value)
    return key == target_keys(small.targets[0].target) == [f"{receiver}.{value.attr.value}"]


def _small_bindings(small: cst.CSTNode, names: set[str], declared: set[str]) -> None:
    if isinstance(small, cst.Assign):
        for target in small.targets:
            names.update(target_keys(target.target))
    elif isinstance(small, (cst.AnnAssign, cst.AugAssign, cst.Del)):
        names.update(target_keys(small.target))
    elif isinstance(small, (cst.Import, cst.ImportFrom)) and not isinstance(
        small.names, cst.ImportStar
    ):
        for alias in small.names:
            if alias.asname is not None:
                names.update(target_keys(alias.asname.name))  # type: ignore[arg-type]
            else:
                names.add((dotted_name(alias.name) or "").split(".")[0])
    elif isinstance(small, (cst.Global, cst.Nonlocal)):
        declared.update(item.name.value for item in small.names)
    elif isinstance(small, cst.Expr):
        _appended_attribute(small.value, names)


def _appended_attribute(expression: cst.BaseExpression, names: set[str]) -> None:
    """`self.outputs.append(p)` writes the attribute too (it holds what is appended)."""
    if not isinstance(expression, cst.Call):
        return
    func = expression.func
    if (
        isinstance(func, cst.Attribute)
        and func.attr.value in ("append", "extend", "insert")
        and isinstance(func.value, cst.Attribute)
        and isinstance(func.value.value, cst.Name)
    ):
        names.update(target_keys(func.value))


def _child_statements(statement: cst.CSTNode) -> list[cst.CSTNode]:
    """The statements directly inside a compound statement (not inside nested scopes)."""
    if isinstance(statement, (cst.FunctionDef, cst.ClassDef)):
        return []
    children: list[cst.CSTNode] = []
    for part in ("body", "orelse", "finalbody"):
        block = getattr(statement, part, None)
        if block is None:
            continue
        if isinstance(block, cst.IndentedBlock):
            children.extend(block.body)
        elif isinstance(block, (cst.Else, cst.Finally, cst.If, cst.BaseSuite)):
            children.append(block)
        elif isinstance(block, (list, tuple)):
            children.extend(block)
    children.extend(getattr(statement, "handlers", ()))
    children.extend(getattr(statement, "cases", ()))
    return [child for child in children if isinstance(child, cst.CSTNode)]


def _pattern_names(pattern: cst.CSTNode) -> set[str]:
    names: set[str] = set()
    pending = [pattern]
    while pending:
        node = pending.pop()
        if isinstance(node, (cst.MatchAs, cst.MatchStar)) and node.name is not None:
            names.add(node.name.value)
        if isinstance(node, cst.MatchMapping) and node.rest is not None:
            names.add(node.rest.value)
        pending.extend(child for child in node.children if isinstance(child, cst.CSTNode))
    return names


def _collect(scopes: FileScopes, body, stack: list, top: cst.CSTNode) -> None:
    """Make a FunctionInfo or ClassInfo for every def and class, with their parents."""
    for statement in body:
        if isinstance(statement, cst.FunctionDef):
            scopes.top_level[statement] = top
            info = _function(scopes, statement, stack)
            _collect(scopes, _block(statement), [*stack, info], top)
        elif isinstance(statement, cst.ClassDef):
            scopes.top_level[statement] = top
            info = _class(scopes, statement, stack)
            _collect(scopes, _block(statement), [*stack, info], top)
        else:
            _collect(scopes, _child_statements(statement), stack, top)


def _block(node: cst.FunctionDef | cst.ClassDef) -> list[cst.CSTNode]:
    body = node.body
    return list(body.body) if isinstance(body, cst.IndentedBlock) else [body]


def _qualname(stack: list, name: str) -> str:
    if not stack:
        return name
    parent = stack[-1]
    if isinstance(parent, FunctionInfo):
        return f"{parent.qualname}.<locals>.{name}"
    return f"{parent.qualname}.{name}"


def _function(scopes: FileScopes, node: cst.FunctionDef, stack: list) -> FunctionInfo:
    body = _block(node)
    owner = stack[-1] if stack and isinstance(stack[-1], ClassInfo) else None
    params = [p.name.value for p in _all_params(node.params)]
    info = FunctionInfo(
        node=node,
        qualname=_qualname(stack, node.name.value),
        source=scopes.source,
        cls=owner,
        parent=next((item for item in reversed(stack) if isinstance(item, FunctionInfo)), None),
        assigned=assigned_names(body) | frozenset(params),
        declared_global=declared_globals(body),
    )
    scopes.functions[node] = info
    if owner is not None:
        owner.methods[node.name.value] = info
        receiver = info.receiver
        if receiver is not None:
            for key in assigned_names(body, keeping=receiver):
                head, _, attribute = key.partition(".")
                if head == receiver and attribute:
                    owner.attribute_writers.setdefault(attribute, []).append(info)
    return info


def _class(scopes: FileScopes, node: cst.ClassDef, stack: list) -> ClassInfo:
    info = ClassInfo(node=node, qualname=_qualname(stack, node.name.value), source=scopes.source)
    for statement in _block(node):
        if isinstance(statement, cst.SimpleStatementLine):
            for small in statement.body:
                _record_class_attribute(info, small)
    scopes.classes[node] = info
    return info


def _record_class_attribute(info: ClassInfo, small: cst.BaseSmallStatement) -> None:
    if isinstance(small, cst.Assign):
        for target in small.targets:
            if isinstance(target.target, cst.Name):
                info.class_attributes.setdefault(target.target.value, []).append(small.value)
    elif (
        isinstance(small, cst.AnnAssign)
        and small.value is not None
        and isinstance(small.target, cst.Name)
    ):
        info.class_attributes.setdefault(small.target.value, []).append(small.value)


def _all_params(params: cst.Parameters) -> list[cst.Param]:
    result = [*params.posonly_params, *params.params, *params.kwonly_params]
    if isinstance(params.star_arg, cst.Param):
        result.append(params.star_arg)
    if params.star_kwarg is not None:
        result.append(params.star_kwarg)
    return result
