"""Abstract values: what the interpreter knows about an expression.

A tensor value carries a kind and, for every way it can have been produced, a source: the
activation that produced it (the origin), the kind-preserving steps applied since, and the
hops (function returns, attributes) it crossed. Everything the interpreter cannot tell is
UNKNOWN, and a join of two different things is UNKNOWN (None beside a tensor aside, see
join): unknown stays unknown.
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
    dim: Any = None  # the dimension a one-hot mask selects along (op "one_hot")


@dataclass(frozen=True)
class Hop:
    """A boundary the value crossed: a function return or an attribute.

    `chosen`: a return that the constants of this call site chose (`score(v, True)`); the
    function's other callers get something else, so its activation cannot be taken out.
    """

    label: str
    node: cst.CSTNode = field(repr=False)
    file: SourceFile = field(repr=False)
    chosen: bool = False


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
class Many(Value):
    """Any number of layers, each `item` (UNKNOWN: unknown ones): the layers of a list built
    by a comprehension or grown in a loop."""

    item: Value


@dataclass(frozen=True)
class Constant(Value):
    value: Any


@dataclass(frozen=True)
class External(Value):
    """Something from outside the analysed code, by qualified name (`torch.nn.functional`)."""

    qualname: str
    # reached through a parameter whose default is a torch module (`def f(x, F=torch)`):
    # another namespace may be passed, so nothing produced by it is rewritten
    via_parameter: bool = field(default=False, compare=False)

    def attribute(self, name: str) -> External:
        return External(f"{self.qualname}.{name}", self.via_parameter)


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
class OneHot(Value):
    """A tensor of zeros with at most a single one along `dim` (`F.one_hot(y, C)`, rows of
    `torch.eye(C)`, `scatter_(dim, y, 1)` into zeros); `dim` None: all zeros so far."""

    dim: int | None


@dataclass(frozen=True)
class TorchModule(Value):
    """An instance of a torch.nn module class; containers hold their layers. `ctor` is None
    when it is not built by one known constructor call (see _same_module)."""

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


# How many objects a OneOf keeps apart; a join of more is UNKNOWN.
MAX_OPTIONS = 4


@dataclass(frozen=True)
class OneOf(Value):
    """One of a few project objects or functions: `self.model` that each subclass assigns a
    model of its own. Calling it calls each, and the result is the join of theirs, so it has
    a kind only when every option gives that kind."""

    options: tuple[Value, ...]


@dataclass(frozen=True)
class Sequence(Value):
    """A tuple or list whose items are known one by one."""

    items: tuple[Value, ...]
    nodes: tuple[cst.CSTNode | None, ...] = field(default=(), compare=False)
    is_list: bool = False


@dataclass(frozen=True)
class Collection(Value):
    """A list of unknown length: any number of items that are each `item` (`outputs.append(p)`
    in a loop), then the known `tail` appended after them (`layers.append(nn.Sigmoid())`
    after the loop)."""

    item: Value
    tail: tuple[Value, ...] = ()


@dataclass(frozen=True)
class Choice(Value):
    """One of a container's modules, not known which (`self.heads[name]`): calling it gives
    what calling every one of them agrees on."""

    options: tuple[Value, ...]


@dataclass(frozen=True)
class Mapping(Value):
    """A dict with constant keys."""

    items: tuple[tuple[Any, Value], ...]

    def get(self, key: Any) -> Value:
        for item_key, value in self.items:
            if item_key == key:
                return value
        return UNKNOWN


NONE = Constant(None)


def is_flag(value: Value | None) -> bool:
    """A constant that can choose a branch: a bool, a string, None."""
    return isinstance(value, Constant) and (
        value.value is None or isinstance(value.value, (bool, str))
    )


def join(left: Value, right: Value) -> Value:
    """What is known on both paths. Different things make UNKNOWN, except None and a tensor.

    None joined with a tensor is the tensor: `if x is None: return None` (or a function that
    falls off its end) beside `return torch.sigmoid(z)` still returns probabilities, since the
    None can never be what a tensor operation or a loss receives (it would raise there). So a
    Tensor value may stand for None on some path: whether it is None is never folded (see
    interpreter._is_none). Tensors of two kinds still join to UNKNOWN. Two different project
    objects or functions join to OneOf of them.
    """
    if left is ABSENT:
        return right
    if right is ABSENT or left == right:
        return left
    if left == NONE and isinstance(right, Tensor):
        return right
    if right == NONE and isinstance(left, Tensor):
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
        return _join_lists(left, right)
    if _same_module(left, right):  # built at two places: no single constructor to fix
        return TorchModule(left.qualname, None, None, left.arguments)  # type: ignore[attr-defined]
    if _callable(left) and _callable(right):
        options = tuple(dict.fromkeys([*_options(left), *_options(right)]))
        return OneOf(options) if len(options) <= MAX_OPTIONS else UNKNOWN
    return UNKNOWN


def _same_module(left: Value, right: Value) -> bool:
    """Two constructions of one torch module class (not a container) with the same constant
    arguments: `nn.BCELoss().cuda()` in one branch, `nn.BCELoss()` in the other."""
    return (
        isinstance(left, TorchModule)
        and isinstance(right, TorchModule)
        and left.qualname == right.qualname
        and left.layers is None
        and right.layers is None
        and _arguments_known(left)
        and _arguments_known(right)
        and all(isinstance(value, Constant) for _, _, value in left.arguments)
        and [(name, value) for name, _, value in left.arguments]
        == [(name, value) for name, _, value in right.arguments]
    )


def _arguments_known(module: TorchModule) -> bool:
    """Whether every argument of the module's constructor call is in its `arguments`."""
    return module.ctor is None or len(module.ctor.args) == len(module.arguments)


def _callable(value: Value) -> bool:
    return isinstance(value, (Instance, FunctionRef, OneOf))


def _options(value: Value) -> tuple[Value, ...]:
    return value.options if isinstance(value, OneOf) else (value,)


def _join_lists(left: Value, right: Value) -> Collection:
    """Two lists of different lengths: what both end with stays known."""
    ends = [_known_tail(left), _known_tail(right)]
    common = 0
    while common < min(map(len, ends)) and ends[0][-1 - common] == ends[1][-1 - common]:
        common += 1
    tail = ends[0][len(ends[0]) - common :]
    rest = [item for value in (left, right) for item in _before_last(list_items(value), common)]
    return Collection(join_all(rest), tail)


def _before_last(items: tuple[Value, ...], count: int) -> tuple[Value, ...]:
    return items[: len(items) - count]


def _known_tail(value: Value) -> tuple[Value, ...]:
    return value.tail if isinstance(value, Collection) else value.items  # type: ignore[attr-defined]


def _growing_list(value: Value) -> bool:
    return isinstance(value, Collection) or (isinstance(value, Sequence) and value.is_list)


def list_items(value: Value) -> tuple[Value, ...]:
    """The items a list value may hold (a Collection holds one kind of item)."""
    if isinstance(value, Collection):
        return (value.item, *value.tail)
    if isinstance(value, Sequence):
        return value.items
    return ()


def concatenate(left: Value, right: Value) -> Value:
    """`a + b` and `a += b` of two lists (or two tuples); items added this way are not
    elements of a literal a fix could edit."""
    if isinstance(left, Sequence) and isinstance(right, Sequence):
        if left.is_list != right.is_list:
            return UNKNOWN
        return Sequence((*left.items, *right.items), is_list=left.is_list)
    if _growing_list(left) and _growing_list(right):
        if isinstance(right, Sequence):
            return Collection(left.item, (*left.tail, *right.items))  # type: ignore[union-attr]
        return Collection(join_all([*list_items(left), right.item]), right.tail)  # type: ignore[union-attr]
    return UNKNOWN


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
