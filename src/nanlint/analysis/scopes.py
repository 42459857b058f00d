"""The shape of a file before any evaluation: its functions, classes and assigned names."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import libcst as cst

from nanlint.analysis.imports import dotted_name


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

    def decorator_names(self) -> list[str | None]:
        names = []
        for decorator in self.decorators:
            expression = decorator.decorator
            if isinstance(expression, cst.Call):
                expression = expression.func
            names.append(dotted_name(expression))
        return names

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
    """Every function and class of a module, found in one walk."""

    def __init__(self, source):
        module = source.module
        self.source = source
        self.functions: dict[cst.CSTNode, FunctionInfo] = {}
        self.classes: dict[cst.ClassDef, ClassInfo] = {}
        self.module_assigned = assigned_names(module.body)
        _Collector(self).collect(module)
        self.external_attribute_writes = self._external_attribute_writes()

    def _external_attribute_writes(self) -> frozenset[str]:
        """Attributes assigned on something other than `self` (`model.head = ...`)."""
        written = {key.partition(".")[2] for key in self.module_assigned if "." in key}
        for info in self.functions.values():
            for key in info.assigned:
                head, _, attribute = key.partition(".")
                if attribute and head != info.receiver:
                    written.add(attribute)
        return frozenset(written)


def assigned_names(body) -> frozenset[str]:
    """Names (and `name.attr` keys) a block of statements binds, outside nested scopes."""
    collector = _TargetCollector()
    for statement in body:
        statement.visit(collector)
    return frozenset(collector.names)


def declared_globals(body) -> frozenset[str]:
    collector = _TargetCollector()
    for statement in body:
        statement.visit(collector)
    return frozenset(collector.declared)


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


class _TargetCollector(cst.CSTVisitor):
    def __init__(self) -> None:
        self.names: set[str] = set()
        self.declared: set[str] = set()

    def _add(self, target: cst.BaseExpression) -> None:
        self.names.update(target_keys(target))

    def visit_FunctionDef(self, node: cst.FunctionDef) -> bool:
        self.names.add(node.name.value)
        return False

    def visit_ClassDef(self, node: cst.ClassDef) -> bool:
        self.names.add(node.name.value)
        return False

    def visit_Lambda(self, node: cst.Lambda) -> bool:
        return False

    def visit_ListComp(self, node: cst.ListComp) -> bool:
        return False

    def visit_SetComp(self, node: cst.SetComp) -> bool:
        return False

    def visit_DictComp(self, node: cst.DictComp) -> bool:
        return False

    def visit_GeneratorExp(self, node: cst.GeneratorExp) -> bool:
        return False

    def visit_AssignTarget(self, node: cst.AssignTarget) -> None:
        self._add(node.target)

    def visit_AugAssign(self, node: cst.AugAssign) -> None:
        self._add(node.target)

    def visit_AnnAssign(self, node: cst.AnnAssign) -> None:
        self._add(node.target)

    def visit_For(self, node: cst.For) -> None:
        self._add(node.target)

    def visit_WithItem(self, node: cst.WithItem) -> None:
        if node.asname is not None:
            self._add(node.asname.name)

    def visit_ExceptHandler(self, node: cst.ExceptHandler) -> None:
        if node.name is not None:
            self._add(node.name.name)

    def visit_NamedExpr(self, node: cst.NamedExpr) -> None:
        self._add(node.target)

    def visit_Del(self, node: cst.Del) -> None:
        self._add(node.target)

    def visit_ImportAlias(self, node: cst.ImportAlias) -> None:
        if node.asname is not None:
            self._add(node.asname.name)  # type: ignore[arg-type]
        else:
            self.names.add((dotted_name(node.name) or "").split(".")[0])

    def visit_MatchAs(self, node: cst.MatchAs) -> None:
        if node.name is not None:
            self.names.add(node.name.value)

    def visit_MatchStar(self, node: cst.MatchStar) -> None:
        if node.name is not None:
            self.names.add(node.name.value)

    def visit_MatchMapping(self, node: cst.MatchMapping) -> None:
        if node.rest is not None:
            self.names.add(node.rest.value)

    def visit_Call(self, node: cst.Call) -> None:
        """`self.outputs.append(p)` writes the attribute too (it holds what is appended)."""
        func = node.func
        if (
            isinstance(func, cst.Attribute)
            and func.attr.value in ("append", "extend", "insert")
            and isinstance(func.value, cst.Attribute)
            and isinstance(func.value.value, cst.Name)
        ):
            self._add(func.value)

    def visit_Global(self, node: cst.Global) -> None:
        self.declared.update(item.name.value for item in node.names)

    def visit_Nonlocal(self, node: cst.Nonlocal) -> None:
        self.declared.update(item.name.value for item in node.names)


class _Collector(cst.CSTVisitor):
    """Builds FunctionInfo and ClassInfo for every definition, with its parents."""

    def __init__(self, scopes: FileScopes) -> None:
        self.scopes = scopes
        self.stack: list[FunctionInfo | ClassInfo] = []

    def collect(self, module: cst.Module) -> None:
        module.visit(self)

    def _qualname(self, name: str) -> str:
        if not self.stack:
            return name
        parent = self.stack[-1]
        if isinstance(parent, FunctionInfo):
            return f"{parent.qualname}.<locals>.{name}"
        return f"{parent.qualname}.{name}"

    def _enclosing_function(self) -> FunctionInfo | None:
        for item in reversed(self.stack):
            if isinstance(item, FunctionInfo):
                return item
        return None

    def visit_FunctionDef(self, node: cst.FunctionDef) -> None:
        body = node.body.body if isinstance(node.body, cst.IndentedBlock) else [node.body]
        owner = self.stack[-1] if self.stack and isinstance(self.stack[-1], ClassInfo) else None
        params = [p.name.value for p in _all_params(node.params)]
        info = FunctionInfo(
            node=node,
            qualname=self._qualname(node.name.value),
            source=self.scopes.source,
            cls=owner,
            parent=self._enclosing_function(),
            assigned=assigned_names(body) | frozenset(params),
            declared_global=declared_globals(body),
        )
        self.scopes.functions[node] = info
        if owner is not None:
            owner.methods[node.name.value] = info
            receiver = info.receiver
            if receiver is not None:
                for key in info.assigned:
                    head, _, attribute = key.partition(".")
                    if head == receiver and attribute:
                        owner.attribute_writers.setdefault(attribute, []).append(info)
        self.stack.append(info)

    def leave_FunctionDef(self, original_node: cst.FunctionDef) -> None:
        self.stack.pop()

    def visit_Lambda(self, node: cst.Lambda) -> None:
        params = [p.name.value for p in _all_params(node.params)]
        info = FunctionInfo(
            node=node,
            qualname=self._qualname("<lambda>"),
            source=self.scopes.source,
            parent=self._enclosing_function(),
            assigned=frozenset(params),
        )
        self.scopes.functions[node] = info
        self.stack.append(info)

    def leave_Lambda(self, original_node: cst.Lambda) -> None:
        self.stack.pop()

    def visit_ClassDef(self, node: cst.ClassDef) -> None:
        info = ClassInfo(
            node=node, qualname=self._qualname(node.name.value), source=self.scopes.source
        )
        for statement in node.body.body if isinstance(node.body, cst.IndentedBlock) else []:
            if isinstance(statement, cst.SimpleStatementLine):
                for small in statement.body:
                    _record_class_attribute(info, small)
        self.scopes.classes[node] = info
        self.stack.append(info)

    def leave_ClassDef(self, original_node: cst.ClassDef) -> None:
        self.stack.pop()


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
