"""What the interpreter records while it evaluates a file: the facts rules query."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import libcst as cst

from nanlint.analysis.values import Origin, Tensor, Value

if TYPE_CHECKING:
    from nanlint.analysis.imports import ImportTable
    from nanlint.analysis.scopes import FileScopes, FunctionInfo
    from nanlint.source import SourceFile


@dataclass(frozen=True)
class Binding:
    """A variable's value and the definitions (assignment targets, parameters) that reach."""

    value: Value
    defs: frozenset[cst.CSTNode]


Env = dict  # str -> Binding; never mutated in place once shared (copy on write)


@dataclass(frozen=True)
class ArgFact:
    """One argument of a call as evaluated: keyword (or None), its node and value."""

    keyword: str | None
    node: cst.BaseExpression
    value: Value
    star: str = ""  # "*" or "**" for unpacked arguments
    arg: cst.Arg | None = None


@dataclass(frozen=True)
class WithItem:
    """An enclosing `with` item: what it evaluated to (for a call, the callee) and its node."""

    value: Value
    item: cst.BaseExpression


@dataclass(frozen=True)
class CallFact:
    """A call the interpreter evaluated, with everything a rule asks of it."""

    node: cst.Call
    callee: Value
    args: tuple[ArgFact, ...]
    result: Value
    env: Env
    scope: FunctionInfo | None  # None at module level
    contexts: tuple[WithItem, ...]  # the enclosing `with` statements' items, outermost first


@dataclass(frozen=True)
class OpFact:
    """A binary operation the interpreter evaluated (`1 / (1 + torch.exp(-x))`, ...)."""

    node: cst.BinaryOperation
    operator: str  # "+", "-", "*", "/", "**"
    left: ArgFact
    right: ArgFact
    result: Value
    env: Env
    scope: FunctionInfo | None


@dataclass(frozen=True)
class Use:
    """A place where a value of some origin is consumed (not passed on with its kind)."""

    origin: Origin
    node: cst.CSTNode  # the expression holding the value
    consumer: cst.CSTNode  # the call, operation or statement consuming it
    scope: FunctionInfo | None
    returned: bool = False  # consumed by a `return`: the value continues at the callers
    file: Any = None  # the SourceFile of the consumer


@dataclass
class FileAnalysis:
    """The result of interpreting one file."""

    source: SourceFile
    imports: ImportTable
    scopes: FileScopes
    calls: dict[cst.Call, CallFact] = field(default_factory=dict)
    # the same calls evaluated for an exact receiver (`Trainer(...)` built somewhere): what
    # they see can differ (the constructor's arguments), and each is a real scenario
    context_calls: dict[tuple, CallFact] = field(default_factory=dict)
    operations: dict[cst.BinaryOperation, OpFact] = field(default_factory=dict)
    uses: dict[Origin, list[Use]] = field(default_factory=dict)
    reads: dict[cst.Name, frozenset[cst.CSTNode]] = field(default_factory=dict)
    values: dict[cst.CSTNode, Value] = field(default_factory=dict)
    mutated_containers: set[cst.Call] = field(default_factory=set)
    # module constructor -> places its object is used other than by calling it
    module_uses: dict[cst.Call, list[cst.CSTNode]] = field(default_factory=dict)
    # function -> the calls that reach it (call sites inside this file)
    callers: dict[FunctionInfo, list[cst.Call]] = field(default_factory=dict)
    project: Any = None  # the Project this file was analysed in

    def of_file(self, source: SourceFile) -> FileAnalysis:
        """The analysis of another file of the same project (for edits made there)."""
        if source is self.source or self.project is None:
            return self
        return self.project.interpreter(source).analysis

    def project_uses_of(self, origin: Origin) -> list[Use]:
        """Uses of an origin in every file analysed with this one."""
        if self.project is None:
            return self.uses_of(origin)
        return self.project.uses_of(origin)

    def value_of(self, node: cst.CSTNode) -> Value | None:
        return self.values.get(node)

    def call_facts(self) -> Iterator[CallFact]:
        """Every evaluated call: first as run for any receiver, then for exact receivers."""
        yield from self.calls.values()
        yield from self.context_calls.values()

    def uses_of(self, origin: Origin) -> list[Use]:
        return self.uses.get(origin, [])

    def record_use(self, value: Value, use: Use) -> None:
        if not isinstance(value, Tensor):
            return
        for origin in value.origins:
            existing = self.uses.setdefault(origin, [])
            if not any(u.node is use.node and u.consumer is use.consumer for u in existing):
                existing.append(
                    Use(origin, use.node, use.consumer, use.scope, use.returned, use.file)
                )
