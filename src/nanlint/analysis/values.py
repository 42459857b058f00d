"""Abstract values: what the interpreter knows about an expression.

A tensor value carries a kind and, for every way it can have been produced, a source: the
activation that produced it (the origin), the kind-preserving steps applied since, and the
hops (function returns, attributes) it crossed. Everything the interpreter cannot tell is
UNKNOWN, and a join of two different things is UNKNOWN: unknown stays unknown.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

import libcst as cst

from nanlint.analysis.kinds import Kind

if TYPE_CHECKING:
    from nanlint.analysis.scopes import ClassInfo, FunctionInfo
    from nanlint.source import SourceFile


class Removal(enum.Enum):
    """How an origin's activation can be taken out of the code."""

    CALL = "call"  # replace the activation call by its operand
    LAYER = "layer"  # delete the layer from its nn.Sequential(...)
    NONE = "none"  # cannot be taken out by an edit (a layer of an unpacked list, ...)


@dataclass(frozen=True, eq=False)
class Origin:
    """An activation that produced a tensor of a kind; identified by its producing node."""

    file: SourceFile = field(repr=False)
    node: cst.CSTNode = field(repr=False)
    api: str
    label: str
    kind: Kind
    removal: Removal
    exact: bool = True  # False when removing it changes more than the numerics (hardsigmoid)
    operand: cst.BaseExpression | None = field(default=None, repr=False)
    options: tuple[tuple[str, cst.BaseExpression], ...] = field(default=(), repr=False)
    container: cst.Call | None = field(
        default=None, repr=False
    )  # the nn.Sequential(...) holding a LAYER origin
    element: cst.CSTNode | None = field(
        default=None, repr=False
    )  # the argument or list element of that layer
    scope: Any = field(
        default=None, repr=False
    )  # the FunctionInfo (or module) the producing expression is in

    def option(self, name: str) -> cst.BaseExpression | None:
        return dict(self.options).get(name)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Origin) and other.node is self.node

    def __hash__(self) -> int:
        return id(self.node)


class StepRole(enum.Enum):
    """How an operation applied after the activation relates to it."""

    COMMUTES = "commutes"  # shape, dtype, device, indexing: removable activation stays exact
    GUARD = "guard"  # clamp or +eps: must go with the activation, and changes the value
    OPAQUE = "opaque"  # cat/stack and the like: keeps the kind, blocks rewriting
    TRANSFORM = "transform"  # changes the kind: exp(x).sum(d), 1 + exp(x), 1 - sigmoid(z)


@dataclass(frozen=True)
class Step:
    op: str
    node: cst.CSTNode = field(repr=False)
    role: StepRole
    operand: cst.BaseExpression | None = field(
        repr=False
    )  # the expression inside `node` that holds the input


@dataclass(frozen=True)
class Hop:
    """A boundary the value crossed: a function return or an attribute."""

    label: str
    node: cst.CSTNode = field(repr=False)
    file: SourceFile = field(repr=False)


@dataclass(frozen=True)
class Source:
    origin: Origin
    steps: tuple[Step, ...] = ()
    hops: tuple[Hop, ...] = ()

    @property
    def guarded(self) -> bool:
        return any(step.role is StepRole.GUARD for step in self.steps)


class Value:
    """Base of every abstract value."""

    __slots__ = ()


class _Unknown(Value):
    __slots__ = ()

    def __repr__(self) -> str:
        return "UNKNOWN"


UNKNOWN: Value = _Unknown()


class _Absent(Value):
    """A name with no binding on some path (joins as the identity)."""

    __slots__ = ()

    def __repr__(self) -> str:
        return "ABSENT"


ABSENT: Value = _Absent()


@dataclass(frozen=True)
class Constant(Value):
    value: Any


@dataclass(frozen=True)
class External(Value):
    """Something from outside the analysed code, by qualified name (`torch.nn.functional`)."""

    qualname: str

    def attribute(self, name: str) -> External:
        return External(f"{self.qualname}.{name}")


@dataclass(frozen=True)
class Tensor(Value):
    kind: Kind
    sources: tuple[Source, ...]

    def with_step(self, step: Step) -> Tensor:
        return Tensor(self.kind, tuple(replace(s, steps=(*s.steps, step)) for s in self.sources))

    def transform(self, kind: Kind, step: Step) -> Tensor:
        """This value after an operation that changes its kind (recorded as a step)."""
        return Tensor(kind, self.with_step(step).sources)

    def with_hop(self, hop: Hop) -> Tensor:
        return Tensor(self.kind, tuple(replace(s, hops=(*s.hops, hop)) for s in self.sources))

    @property
    def origins(self) -> tuple[Origin, ...]:
        return tuple(dict.fromkeys(source.origin for source in self.sources))


@dataclass(frozen=True)
class TorchModule(Value):
    """An instance of a torch.nn module class; containers hold their layers."""

    qualname: str
    ctor: cst.Call | None = field(repr=False)
    file: SourceFile | None = field(default=None, repr=False)
    arguments: tuple[tuple[str, cst.BaseExpression, Value], ...] = field(default=(), repr=False)
    layers: tuple[tuple[Value, cst.CSTNode | None], ...] | None = None

    def argument(self, name: str) -> tuple[cst.BaseExpression, Value] | None:
        for key, node, value in self.arguments:
            if key == name:
                return node, value
        return None


@dataclass(frozen=True)
class ClassRef(Value):
    info: ClassInfo


@dataclass(frozen=True)
class Instance(Value):
    """An object of a class of the project. `exact`: its class is exactly `info` (it was
    built by `info(...)`), so methods and attributes resolve without subclass doubts."""

    info: ClassInfo
    exact: bool = False


@dataclass(frozen=True)
class FunctionRef(Value):
    info: FunctionInfo
    bound: Value | None = None  # the receiver of a bound method


@dataclass(frozen=True)
class Sequence(Value):
    """A tuple or list whose items are known one by one."""

    items: tuple[Value, ...]
    nodes: tuple[cst.CSTNode | None, ...] = field(default=(), compare=False)
    is_list: bool = False


@dataclass(frozen=True)
class Collection(Value):
    """A list of unknown length whose every item is `item` (`outputs.append(p)` in a loop)."""

    item: Value


@dataclass(frozen=True)
class Mapping(Value):
    """A dict with constant keys."""

    items: tuple[tuple[Any, Value], ...]

    def get(self, key: Any) -> Value:
        for item_key, value in self.items:
            if item_key == key:
                return value
        return UNKNOWN


def join(left: Value, right: Value) -> Value:
    """What is known on both paths. Different things make UNKNOWN."""
    if left is ABSENT:
        return right
    if right is ABSENT or left == right:
        return left
    if isinstance(left, Tensor) and isinstance(right, Tensor) and left.kind is right.kind:
        return Tensor(left.kind, tuple(dict.fromkeys(left.sources + right.sources)))
    if (
        isinstance(left, Sequence)
        and isinstance(right, Sequence)
        and len(left.items) == len(right.items)
        and left.is_list == right.is_list
    ):
        return Sequence(
            tuple(join(a, b) for a, b in zip(left.items, right.items)), is_list=left.is_list
        )
    if _growing_list(left) and _growing_list(right):
        return Collection(join_all([*list_items(left), *list_items(right)]))
    return UNKNOWN


def _growing_list(value: Value) -> bool:
    return isinstance(value, Collection) or (isinstance(value, Sequence) and value.is_list)


def list_items(value: Value) -> tuple[Value, ...]:
    """The items a list value may hold (a Collection holds one kind of item)."""
    if isinstance(value, Collection):
        return (value.item,)
    if isinstance(value, Sequence):
        return value.items
    return ()


def join_all(values: list[Value]) -> Value:
    result: Value = ABSENT
    for value in values:
        result = join(result, value)
    return UNKNOWN if result is ABSENT else result


@dataclass(frozen=True)
class BoundMethod(Value):
    """`receiver.name` where the receiver is a tensor, an nn module or unknown."""

    receiver: Value
    receiver_node: cst.BaseExpression = field(repr=False)
    name: str


@dataclass(frozen=True)
class SuperOf(Value):
    """`super()` inside a method of `info`."""

    info: ClassInfo
    instance: Value


@dataclass(frozen=True)
class ModuleRef(Value):
    """A module of the project (`import models`)."""

    path: Path
    qualname: str


@dataclass(frozen=True)
class ProjectName(Value):
    """An imported name of a project module, resolved when it is used (so that importing a
    module does not read every module it imports)."""

    qualname: str


def produced(
    kind: Kind,
    label: str,
    node: cst.CSTNode,
    operand: cst.CSTNode | None,
    file: Any,
    scope: Any,
    options: tuple = (),
    removal: Removal = Removal.CALL,
) -> Tensor:
    """A tensor of `kind` computed at `node` by arithmetic (`label` names the form)."""
    origin = Origin(
        file=file,
        node=node,
        api=label,
        label=label,
        kind=kind,
        removal=removal,
        operand=operand,  # type: ignore[arg-type]
        options=options,
        scope=scope,
    )
    return Tensor(kind, (Source(origin),))
