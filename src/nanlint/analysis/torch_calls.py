"""What calling into torch does to values: activations, kind-preserving ops, nn modules."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import libcst as cst

from nanlint.analysis import arithmetic, operations
from nanlint.analysis import torch_api as api
from nanlint.analysis.facts import ArgFact
from nanlint.analysis.imports import dotted_name
from nanlint.analysis.kinds import Kind
from nanlint.analysis.signatures import bind
from nanlint.analysis.values import (
    UNKNOWN,
    BoundMethod,
    Collection,
    Constant,
    External,
    Many,
    Mapping,
    OneHot,
    Origin,
    Removal,
    Sequence,
    Source,
    Step,
    StepRole,
    Tensor,
    TorchModule,
    Value,
    join_all,
    list_items,
)

if TYPE_CHECKING:
    from nanlint.source import SourceFile


@dataclass(frozen=True)
class Call:
    """One call being evaluated: its node, its evaluated arguments, where it is."""

    node: cst.Call
    args: tuple[ArgFact, ...]
    file: SourceFile
    scope: Any  # the FunctionInfo being evaluated, or None at module level
    # what is called, when not `node.func` (the model `data_parallel(model, x)` runs)
    callee: cst.BaseExpression | None = None

    @property
    def callee_text(self) -> str:
        """The callee as written (`self.head`), for labels (only built when one is needed)."""
        func = self.callee if self.callee is not None else self.node.func
        return dotted_name(func) or "the module"

    def positional(self) -> list[ArgFact]:
        return [arg for arg in self.args if arg.keyword is None and not arg.star]


def call_external(qualname: str, call: Call) -> Value:
    """Calling something from outside the analysed code, by qualified name."""
    name = api.canonical(qualname)
    producer = api.PRODUCER_FUNCTIONS.get(name)
    if producer is not None:
        bound = bind(call.args, producer.params)
        return _produce(producer, name, call, bound.get(producer.input), bound)
    role = api.PRESERVING_FUNCTIONS.get(name)
    if role is not None:
        bound = bind(call.args, ("input",))
        return _preserve(bound.get("input"), name.rsplit(".", 1)[-1], role, call.node)
    operation = operations.match(External(name), call.args)
    if operation is not None:
        return arithmetic.evaluate(operation, call.node, call.file, call.scope)
    if name in api.JOINING_FUNCTIONS:
        return _join_tensors(call)
    if name in api.MATMUL_FUNCTIONS and len(call.args) == 2 and len(call.positional()) == 2:
        left, right = call.positional()
        return arithmetic.matmul(left, right, call.node)
    if name in api.ONE_HOT_FUNCTIONS:
        return OneHot(-1)
    if name in api.ZEROS_FUNCTIONS:
        return OneHot(None)
    if name in api.MODEL_WRAPPERS:
        positional = call.positional()
        return positional[0].value if positional else UNKNOWN
    if name == "builtins.getattr":
        return _getattr(call)
    if api.is_torch_module_class(name):
        return _construct_module(name, call)
    return UNKNOWN


def call_module(module: TorchModule, call: Call) -> Value:
    """Calling an nn module instance: `self.act(h)`, `nn.Sigmoid()(x)`, `self.head(x)`."""
    producer = api.ACTIVATION_MODULES.get(module.qualname)
    positional = call.positional()
    first = positional[0] if positional and len(call.args) >= 1 else None
    if producer is not None:
        return _produce_by_module(producer, module, call, first)
    if module.qualname in api.PASS_THROUGH_MODULES:
        return _preserve(first, module.qualname.rsplit(".", 1)[-1], StepRole.COMMUTES, call.node)
    if module.qualname == "torch.nn.Sequential" and module.layers is not None:
        return _fold_sequential(module, call, first.value if first else UNKNOWN)
    return UNKNOWN


def call_tensor_method(
    receiver: Value, receiver_node: cst.BaseExpression, name: str, call: Call
) -> Value:
    """`x.sigmoid()`, `p.view(-1)`, ... on a tensor (or a value that may be one)."""
    if name in api.ZEROS_METHODS:
        return OneHot(None)
    if name in api.MATMUL_METHODS and len(call.args) == 1 and len(call.positional()) == 1:
        left = ArgFact(None, receiver_node, receiver)
        return arithmetic.matmul(left, call.positional()[0], call.node)
    if isinstance(receiver, OneHot):
        return _one_hot_method(receiver, name, call)
    producer = api.PRODUCER_METHODS.get(name)
    if producer is not None:
        receiver_arg = ArgFact(None, receiver_node, receiver)
        bound = bind(call.args, producer.params)
        return _produce(producer, f"Tensor.{name}", call, receiver_arg, bound)
    role = api.PRESERVING_METHODS.get(name)
    if role is not None:
        return _preserve(ArgFact(None, receiver_node, receiver), name, role, call.node)
    operation = operations.match(BoundMethod(receiver, receiver_node, name), call.args)
    if operation is not None:
        return arithmetic.evaluate(operation, call.node, call.file, call.scope)
    return UNKNOWN


def _one_hot_method(mask: OneHot, name: str, call: Call) -> Value:
    """Casts and moves keep a one-hot mask; `scatter_(dim, y, 1)` into zeros makes one."""
    if name in api.SAME_LAYOUT_METHODS or name in ("long", "int", "bool", "byte"):
        return mask
    if name in api.SWAPPING and not call.args:
        return swapped(mask)
    positional = call.positional()
    if name == "unsqueeze" and len(call.args) == 1 and positional and mask.dim == -1:
        new_dim = positional[0].value
        return OneHot(-2) if new_dim == Constant(-1) else UNKNOWN
    if name in api.SCATTER_METHODS and mask.dim is None and len(call.args) == 3:
        bound = bind(call.args, api.SCATTER_PARAMS)
        dim, value = bound.get("dim"), bound.get("value") or bound.get("src")
        if (
            dim is not None
            and value is not None
            and isinstance(dim.value, Constant)
            and isinstance(dim.value.value, int)
            and isinstance(value.value, Constant)
            and value.value.value == 1
        ):
            return OneHot(dim.value.value)
    return UNKNOWN


def swapped(mask: OneHot) -> Value:
    """A one-hot mask with its last two dimensions swapped (`.T`, `.t()`, `.mT`)."""
    return OneHot({-1: -2, -2: -1}[mask.dim]) if mask.dim in (-1, -2) else UNKNOWN


def _produce(
    producer: api.Producer, qualname: str, call: Call, operand: ArgFact | None, bound: dict
) -> Tensor:
    options = tuple((option, bound[option].node) for option in producer.options if option in bound)
    origin = Origin(
        file=call.file,
        node=call.node,
        api=qualname,
        label=_label(qualname),
        kind=producer.kind,
        removal=Removal.CALL if producer.removable else Removal.NONE,
        exact=producer.exact,
        operand=operand.node
        if operand is not None and not operand.star and producer.removable
        else None,
        options=options,
        scope=call.scope,
    )
    return Tensor(producer.kind, (Source(origin),))


def _produce_by_module(
    producer: api.Producer, module: TorchModule, call: Call, operand: ArgFact | None
) -> Tensor:
    options = tuple(
        (option, node) for option, node, _ in module.arguments if option in producer.options
    )
    origin = Origin(
        file=call.file,
        node=call.node,
        api=module.qualname,
        label=f"{_label(module.qualname)} ({call.callee_text})"
        if not call.callee_text.startswith(("nn.", "torch."))
        else _label(module.qualname),
        kind=producer.kind,
        removal=Removal.CALL,
        exact=producer.exact,
        operand=operand.node if operand is not None else None,
        options=options,
        scope=call.scope,
    )
    return Tensor(producer.kind, (Source(origin),))


def _fold_sequential(module: TorchModule, call: Call, value: Value) -> Value:
    """Run the input through the layers: the last layers decide the kind."""
    assert module.layers is not None
    for index, (layer, layer_node) in enumerate(module.layers):
        if isinstance(layer, TorchModule) and layer.qualname in api.ACTIVATION_MODULES:
            producer = api.ACTIVATION_MODULES[layer.qualname]
            position = "last layer" if index == len(module.layers) - 1 else f"layer {index}"
            origin = Origin(
                file=module.file or call.file,
                node=layer.ctor or layer_node or call.node,
                api=layer.qualname,
                label=f"{_label(layer.qualname)}, {position} of {call.callee_text}",
                kind=producer.kind,
                removal=Removal.LAYER if layer_node is not None else Removal.NONE,
                exact=producer.exact,
                options=tuple(
                    (option, node)
                    for option, node, _ in layer.arguments
                    if option in producer.options
                ),
                container=module.ctor,
                element=layer_node,
                scope=None,
            )
            value = Tensor(producer.kind, (Source(origin),))
        elif isinstance(layer, TorchModule) and layer.qualname in api.PASS_THROUGH_MODULES:
            continue
        elif (
            isinstance(layer, TorchModule)
            and layer.qualname == "torch.nn.Sequential"
            and layer.layers is not None
        ):
            value = _fold_sequential(layer, call, value)
        else:
            value = UNKNOWN
    return value


def grown_container(module: TorchModule, method: str, call: Call) -> TorchModule | None:
    """An nn.Sequential or ModuleList after `append(m)`, `extend(ms)` or `add_module(name, m)`
    (a name that cannot replace a numbered layer); None when it cannot be told."""
    args = call.positional()
    if (
        module.layers is None
        or module.qualname == "torch.nn.ModuleDict"
        or len(args) != len(call.args)
    ):
        return None
    added: tuple[Value, ...] | None = None
    if method == "append" and len(args) == 1:
        added = (args[0].value,)
    elif method in ("add_module", "register_module") and len(args) == 2:
        name = args[0].value
        if isinstance(name, Constant) and isinstance(name.value, str) and not name.value.isdigit():
            added = (args[1].value,)
    elif method == "extend" and len(args) == 1:
        value = args[0].value
        if isinstance(value, Sequence):
            added = value.items
        elif isinstance(value, Collection):
            added = (Many(value.item), *value.tail)
    if added is None:
        return None
    layers = (*module.layers, *((layer, None) for layer in added))
    return TorchModule(module.qualname, module.ctor, module.file, module.arguments, layers)


def _preserve(arg: ArgFact | None, op: str, role: StepRole, node: cst.CSTNode) -> Value:
    if arg is None or not isinstance(arg.value, Tensor) or arg.star:
        return UNKNOWN
    return arg.value.with_step(Step(op, node, role, arg.node))


def _join_tensors(call: Call) -> Value:
    """torch.cat / torch.stack of tensors of one kind (a literal list or a Collection)."""
    positional = call.positional()
    if not positional:
        return UNKNOWN
    items = list_items(positional[0].value)
    if not items or not all(isinstance(item, Tensor) for item in items):
        return UNKNOWN
    joined = join_all(list(items))
    kinds = {item.kind for item in items}  # type: ignore[attr-defined]
    if kinds == {Kind.PROB_SIGMOID, Kind.SIGMOID_COMPLEMENT}:
        # `cat([1 - p, p])`: every element is sigmoid(z) or 1 - sigmoid(z) = sigmoid(-z)
        sources = tuple(dict.fromkeys(s for item in items for s in item.sources))  # type: ignore[attr-defined]
        joined = Tensor(Kind.PROB_SIGMOID, sources)
    if not isinstance(joined, Tensor):
        return UNKNOWN
    return joined.with_step(Step("cat", call.node, StepRole.OPAQUE, None))


def _getattr(call: Call) -> Value:
    positional = call.positional()
    if len(positional) == 2 and isinstance(positional[0].value, External):
        name = positional[1].value
        if isinstance(name, Constant) and isinstance(name.value, str) and name.value.isidentifier():
            return positional[0].value.attribute(name.value)
    return UNKNOWN


def _construct_module(qualname: str, call: Call) -> TorchModule:
    producer = api.ACTIVATION_MODULES.get(qualname)
    loss = api.LOSS_BY_MODULE.get(qualname)
    params = producer.params if producer else loss.module_params if loss else ()
    bound = bind(call.args, params)
    arguments = tuple((name, arg.node, arg.value) for name, arg in bound.items())
    layers = _layers(call) if qualname in api.CONTAINER_MODULES else None
    return TorchModule(qualname, call.node, call.file, arguments, layers)


def _layers(call: Call) -> tuple[tuple[Value, cst.CSTNode | None], ...] | None:
    """The layers of nn.Sequential(a, b), nn.Sequential(*layers), nn.ModuleList([a, b])."""
    layers: list[tuple[Value, cst.CSTNode | None]] = []
    for arg in call.args:
        if arg.keyword is not None or arg.star == "**":
            return None
        value = arg.value
        if arg.star == "*" or (
            isinstance(value, (Sequence, Collection)) and not arg.star and len(call.args) == 1
        ):
            if isinstance(value, Collection):  # unknown layers, then a known tail
                layers.extend((item, None) for item in (Many(value.item), *value.tail))
                continue
            if not isinstance(value, Sequence):
                return None
            # Elements of a literal list passed directly can be edited; unpacked ones cannot.
            literal = not arg.star
            layers.extend((item, node if literal else None) for item, node in _items(value))
        elif isinstance(value, Mapping):
            layers.extend((item, None) for _, item in value.items)
        else:
            layers.append((value, arg.arg))
    return tuple(layers)


def _items(sequence: Sequence):
    nodes = sequence.nodes or (None,) * len(sequence.items)
    return zip(sequence.items, nodes)


def _label(qualname: str) -> str:
    """`torch.nn.functional.softmax` -> `F.softmax`, `torch.nn.Sigmoid` -> `nn.Sigmoid`,
    `Tensor.softmax` -> `.softmax()`."""
    if qualname.startswith("Tensor."):
        return f".{qualname[len('Tensor.') :]}()"
    for prefix, short in (("torch.nn.functional.", "F."), ("torch.nn.", "nn.")):
        if qualname.startswith(prefix):
            return short + qualname[len(prefix) :]
    return qualname
