"""Whether a gradient can flow through an expression: the question rules whose harm is in
the backward pass (an infinite derivative times zero) ask before they report.

`carries_no_gradient` is True only when it is certain that autograd records nothing for the
expression. It is (anything else is "maybe", and rules then report as before):

| what                                   | examples                                             |
|----------------------------------------|------------------------------------------------------|
| evaluated where grad mode is off       | `with torch.no_grad()` / `inference_mode()` blocks,   |
|                                        | functions decorated with them, the `forward` and     |
|                                        | `backward` of a `torch.autograd.Function`            |
| a tensor made from nothing             | `torch.arange/zeros/ones/eye/linspace/rand/randn/`   |
|                                        | `tensor(...)`, `*_like`, window functions            |
| a value that cannot carry a gradient   | comparisons, counts, `argmax/argmin/argsort`,        |
|                                        | `bucketize/searchsorted`, integer casts, `detach()`, |
|                                        | `.data`, `.shape`, `.size()`, `max(d)[1]`, numbers   |
| a zero-derivative operation            | `sign`, `round`, `floor`, `ceil` (autograd returns   |
|                                        | zeros, whatever arrives)                             |
| torch arithmetic of such values only   | `torch.arange(n) / n`, `(m > t).sum(-1).float()`     |
| a name whose every definition is one   | including a parameter annotated `int/float/bool` or  |
| and no write through it brings one in  | holding numbers only (`constants.numbers`: defaults  |
| (`c[i] = w`, `c.add_(w)`)              | and call sites), a `for` target over `range(...)`,   |
|                                        | in-place updates by such values (`t *= c`)           |
| `self.x` every assignment of which is  | `self.freqs = torch.arange(d) / d` in `__init__`,    |
| one (and nothing outside writes it)    | `self.register_buffer("window", torch.hann_window(n))`|

`used_only_without_gradient` asks the other way round: the value is only compared or made a
Python number (`if shift < tol`, `.item()`), so nothing differentiates through it.

Not followed: callers (a function's tensor parameters may carry gradients), values returned
by project functions, and modules (`self.proj(x)` has the module's parameters upstream).
"""

from __future__ import annotations

import weakref

import libcst as cst

from nanlint.analysis import torch_api as api
from nanlint.analysis.constants import numbers, self_assignments
from nanlint.analysis.facts import FileAnalysis
from nanlint.analysis.imports import dotted_name, imported_qualname
from nanlint.analysis.names import assigned_values, reads_of_assigned
from nanlint.analysis.values import BoundMethod, Constant, External

# Tensors made from nothing: no gradient whatever their arguments (but `requires_grad=True`).
_FACTORIES = frozenset(
    f"torch.{name}"
    for name in [
        "arange",
        "range",
        "zeros",
        "ones",
        "empty",
        "full",
        "eye",
        "linspace",
        "logspace",
        "rand",
        "randn",
        "randint",
        "randperm",
        "tensor",
        "from_numpy",
        "zeros_like",
        "ones_like",
        "empty_like",
        "full_like",
        "rand_like",
        "randn_like",
        "randint_like",
        "tril_indices",
        "triu_indices",
        "hann_window",
        "hamming_window",
        "blackman_window",
        "bartlett_window",
        "kaiser_window",
    ]
)

# Operations whose result has no gradient (integer or boolean results, detaching) or whose
# derivative autograd defines as zeros (a NaN arriving from above does not pass).
_STOPPING = frozenset(
    [
        "argmax",
        "argmin",
        "argsort",
        "bucketize",
        "searchsorted",
        "histc",
        "bincount",
        "unique",
        "nonzero",
        "count_nonzero",
        "isnan",
        "isinf",
        "isfinite",
        "isclose",
        "isin",
        "eq",
        "ne",
        "gt",
        "lt",
        "ge",
        "le",
        "greater",
        "less",
        "equal",
        "logical_and",
        "logical_or",
        "logical_not",
        "logical_xor",
        "sign",
        "signbit",
        "round",
        "floor",
        "ceil",
        "trunc",
        "floor_divide",
        "detach",
        "one_hot",
    ]
)
_STOPPING_METHODS = _STOPPING | frozenset(
    [
        "long",
        "int",
        "bool",
        "short",
        "byte",
        "char",
        "item",
        "tolist",
        "numpy",
        "size",
        "dim",
        "numel",
        "any",
        "all",
        "detach_",
    ]
)
_INTEGER_DTYPES = frozenset(
    f"torch.{name}"
    for name in ["long", "int", "int64", "int32", "int16", "int8", "uint8", "bool", "short"]
)

# Attributes that are not tensors with a gradient, and those that are the receiver's view.
_STOPPING_ATTRIBUTES = frozenset(
    ["data", "shape", "dtype", "device", "ndim", "is_cuda", "requires_grad", "layout", "indices"]
)
_VIEW_ATTRIBUTES = frozenset(["T", "mT", "H", "mH", "real", "imag", "values"])

# Calls that give both a value and its indices: `x.max(d)[1]` holds indices.
_WITH_INDICES = frozenset(["max", "min", "topk", "sort", "kthvalue", "mode", "median"])

_GRAD_ON = frozenset(("torch.enable_grad",))
_NOT_PURE = ("torch.nn.Parameter", "torch.nn.parameter.", "torch.autograd.", "torch.enable_grad")
_NUMBER_TYPES = frozenset(("int", "float", "bool"))
_NUMBER_BUILTINS = frozenset(("int", "float", "bool", "len", "round"))
_UNTRACKED_LIBRARIES = ("numpy.", "math.")  # their results are not torch tensors


def carries_no_gradient(analysis: FileAnalysis, node: cst.CSTNode) -> bool:
    """Whether autograd certainly records no gradient through the value `node` computes."""
    return _Gradients(analysis).stopped(node)


def in_no_grad_region(analysis: FileAnalysis, node: cst.CSTNode) -> bool:
    """Whether `node` runs with grad mode off: inside `with torch.no_grad():` or
    `torch.inference_mode()`, in a function decorated with one, or in the `forward` or
    `backward` of a `torch.autograd.Function` (callers are not followed: another may need
    gradients). The innermost `with torch.enable_grad():` turns it back on."""
    parents = analysis.source.parents
    current = parents.get(node)
    while current is not None:
        if isinstance(current, cst.With):
            for item in current.items:
                name = _qualname(analysis, _called(item.item))
                if name in api.NO_GRAD:
                    return True
                if name in _GRAD_ON:
                    return False
        elif isinstance(current, cst.FunctionDef):
            decorators = (_qualname(analysis, _called(d.decorator)) for d in current.decorators)
            return any(name in api.NO_GRAD for name in decorators) or _autograd_function_step(
                analysis, current
            )
        elif isinstance(current, cst.Lambda):
            return False
        current = parents.get(current)
    return False


def _autograd_function_step(analysis: FileAnalysis, function: cst.FunctionDef) -> bool:
    info = analysis.scopes.functions.get(function)
    if info is None or info.cls is None or function.name.value not in ("forward", "backward"):
        return False
    return any(
        _qualname(analysis, base.value)
        in ("torch.autograd.Function", "torch.autograd.function.Function")
        for base in info.cls.node.bases
    )


def _called(node: cst.BaseExpression) -> cst.BaseExpression:
    return node.func if isinstance(node, cst.Call) else node


def _qualname(analysis: FileAnalysis, node: cst.BaseExpression) -> str | None:
    """The canonical qualified name an expression of imported names spells, if any."""
    value = analysis.value_of(node)
    if isinstance(value, External):
        return api.canonical(value.qualname)
    qualname = imported_qualname(analysis.imports, node)
    return None if qualname is None else api.canonical(qualname)


class _Gradients:
    """One query: remembers the names and attributes under examination (cycles are 'maybe')."""

    def __init__(self, analysis: FileAnalysis):
        self.analysis = analysis
        self.pending: set[int] = set()
        self.trust_constructor = False

    def stopped(self, node: cst.CSTNode) -> bool:
        if in_no_grad_region(self.analysis, node):
            return True
        if id(node) in self.pending:
            return False
        self.pending.add(id(node))
        try:
            return self._stopped(node)
        finally:
            self.pending.discard(id(node))

    def _stopped(self, node: cst.CSTNode) -> bool:
        if isinstance(node, (cst.Integer, cst.Float, cst.Imaginary, cst.BaseString)):
            return True
        if isinstance(node, cst.Comparison):
            return True
        if isinstance(self.analysis.value_of(node), Constant) or numbers(self.analysis, node):
            return True  # a number (or string, None): a literal, a constant, a default
        if isinstance(node, cst.Name):
            return self._name(node)
        if isinstance(node, cst.Attribute):
            return self._attribute(node)
        if isinstance(node, cst.Call):
            return self._call(node)
        if isinstance(node, cst.BinaryOperation):
            return self.stopped(node.left) and self.stopped(node.right)
        if isinstance(node, cst.UnaryOperation):
            return self.stopped(node.expression)
        if isinstance(node, cst.BooleanOperation):
            return self.stopped(node.left) and self.stopped(node.right)
        if isinstance(node, cst.IfExp):
            return self.stopped(node.body) and self.stopped(node.orelse)
        if isinstance(node, cst.Subscript):
            return self._subscript(node)
        if isinstance(node, (cst.Tuple, cst.List)):
            return all(self.stopped(element.value) for element in node.elements)
        return False

    def _name(self, node: cst.Name) -> bool:
        definitions = self.analysis.reads.get(node)
        if not definitions or not self._unmutated(definitions):
            return False
        values = assigned_values(self.analysis, node)
        if values is not None:
            return bool(values) and all(self.stopped(value) for value in values)
        return all(self._definition(d) for d in definitions)

    def _unmutated(self, definitions: frozenset[cst.CSTNode]) -> bool:
        """No write through the variable brings a gradient in: `c[i] = w`, `c[m] += w`,
        `c.add_(w)`, `c.copy_(w)` (with `w` possibly carrying one)."""
        parents = self.analysis.source.parents
        for read in _reads_of(self.analysis, definitions):
            parent = parents.get(read)
            if isinstance(parent, cst.Subscript) and parent.value is read:
                holder = parents.get(parent)
                if isinstance(holder, cst.AssignTarget):
                    holder = parents.get(holder)
                if isinstance(holder, (cst.Assign, cst.AugAssign)) and not self.stopped(
                    holder.value
                ):
                    return False
            elif isinstance(parent, cst.Attribute) and parent.value is read:
                call = parents.get(parent)
                if (
                    parent.attr.value.endswith("_")
                    and isinstance(call, cst.Call)
                    and call.func is parent
                    and not all(self.stopped(arg.value) for arg in call.args)
                ):
                    return False
        return True

    def _definition(self, definition: cst.CSTNode) -> bool:
        """A parameter annotated as a number, a loop target over `range(...)` (a default and
        what call sites pass are `constants.numbers`), an in-place update of such values."""
        parent = self.analysis.source.parents.get(definition)
        if isinstance(parent, cst.Param) and parent.name is definition:
            definition = parent
        if isinstance(definition, cst.Param):
            parent = definition
            function = self._function_of(parent)
            if self.trust_constructor and function is not None and function.name == "__init__":
                return True
            annotation = parent.annotation
            return annotation is not None and dotted_name(annotation.annotation) in _NUMBER_TYPES
        if isinstance(definition, cst.Call) and isinstance(definition.func, cst.Attribute):
            return self.stopped(definition)  # `c.fill_diagonal_(v)` rebinds c: as the call
        if isinstance(parent, cst.AugAssign) and parent.target is definition:
            return self.stopped(parent.value) and self.stopped(definition)  # the old value
        if isinstance(parent, cst.For) and parent.target is definition:
            iterator = parent.iter
            return (
                isinstance(iterator, cst.Call)
                and isinstance(iterator.func, cst.Name)
                and iterator.func.value == "range"
                and self.analysis.reads.get(iterator.func) is None
            )
        return False

    def _attribute(self, node: cst.Attribute) -> bool:
        name = node.attr.value
        if name in _STOPPING_ATTRIBUTES:
            return True
        if name in _VIEW_ATTRIBUTES:
            return self.stopped(node.value)
        value = self.analysis.value_of(node)
        if isinstance(value, External):
            return not _is_callable_name(value.qualname)  # `math.pi`, `torch.float32`
        if isinstance(node.value, cst.Name):
            return self._self_attribute(node.value, name)
        return False

    def _self_attribute(self, receiver: cst.Name, name: str) -> bool:
        """`self.name` when every assignment of it in the class (and buffer registration)
        stores a value without a gradient."""
        info = self._function_of(receiver)
        if info is None or info.cls is None or info.receiver != receiver.value:
            return False
        if name in self.analysis.scopes.external_attribute_writes:
            return False
        values = _stored_values(info.cls, name)
        return bool(values) and all(self._stored(value) for value in values)

    def _stored(self, value: cst.BaseExpression) -> bool:
        """A stored value. A tensor computed (not merely passed) from the constructor's
        arguments is a constant of the object: had it a gradient, every backward after the
        first would fail (its graph is freed), so those arguments count as numbers there."""
        if isinstance(value, (cst.Name, cst.Attribute)):
            return self.stopped(value)
        trusted, self.trust_constructor = self.trust_constructor, True
        try:
            return self.stopped(value)
        finally:
            self.trust_constructor = trusted

    def _function_of(self, node: cst.CSTNode):
        parents = self.analysis.source.parents
        current = parents.get(node)
        while current is not None and not isinstance(current, (cst.FunctionDef, cst.Lambda)):
            current = parents.get(current)
        return self.analysis.scopes.functions.get(current) if current is not None else None

    def _subscript(self, node: cst.Subscript) -> bool:
        value = node.value
        if _index(node) == 1 and isinstance(value, cst.Call) and _operation(value) in _WITH_INDICES:
            return True  # the indices of `x.max(d)`
        return self.stopped(value)

    def _call(self, node: cst.Call) -> bool:
        if any(_requires_grad(arg) for arg in node.args):
            return False
        fact = self.analysis.calls.get(node)
        callee = fact.callee if fact is not None else None
        if isinstance(callee, External):
            name = api.canonical(callee.qualname)
            if name.startswith("builtins."):
                return self._builtin(node, name.partition(".")[2])
            if name in _FACTORIES or (name.rpartition(".")[2] in _STOPPING and _torch(name)):
                return True
            if name.startswith(_UNTRACKED_LIBRARIES):
                return True
            if not _torch(name) or name.startswith(_NOT_PURE) or api.is_torch_module_class(name):
                return False
            return self._arguments(node)
        func = node.func
        if isinstance(func, cst.Name) and not self.analysis.reads.get(func):
            return self._builtin(node, func.value)
        if isinstance(callee, BoundMethod) or isinstance(node.func, cst.Attribute):
            return self._method(node)
        return False

    def _builtin(self, node: cst.Call, name: str) -> bool:
        """`int(x)`, `len(x)`: numbers; `min(a, b)`, `abs(x)`: as their arguments."""
        if name in _NUMBER_BUILTINS:
            return True
        return name in ("min", "max", "abs", "sum") and self._arguments(node)

    def _method(self, node: cst.Call) -> bool:
        func = node.func
        if not isinstance(func, cst.Attribute):
            return False
        name = func.attr.value
        if name in _STOPPING_METHODS:
            return True
        if name in ("to", "type") and any(
            _qualname(self.analysis, arg.value) in _INTEGER_DTYPES for arg in node.args
        ):
            return True
        if name.startswith("requires_grad"):
            return False
        receiver = func.value
        return self.stopped(receiver) and self._arguments(node)

    def _arguments(self, node: cst.Call) -> bool:
        """Every argument is without a gradient (numbers, dtypes and devices are)."""
        for arg in node.args:
            value = self.analysis.value_of(arg.value)
            if isinstance(value, External) and not _is_callable_name(value.qualname):
                continue
            if not self.stopped(arg.value):
                return False
        return True


def _torch(name: str) -> bool:
    return name.startswith("torch.")


def _is_callable_name(qualname: str) -> bool:
    """A torch function or class rather than a constant (`torch.float32`, `math.pi`)."""
    last = qualname.rpartition(".")[2]
    return last[:1].isupper() or (qualname.startswith("torch.") and last not in _TORCH_CONSTANTS)


_TORCH_CONSTANTS = frozenset(
    [
        "pi",
        "e",
        "inf",
        "nan",
        "float",
        "float16",
        "float32",
        "float64",
        "half",
        "double",
        "bfloat16",
        "long",
        "int",
        "int64",
        "int32",
        "int16",
        "int8",
        "uint8",
        "bool",
        "short",
        "complex64",
        "complex128",
        "cfloat",
        "cdouble",
    ]
)


def _requires_grad(arg: cst.Arg) -> bool:
    return (
        arg.keyword is not None
        and arg.keyword.value == "requires_grad"
        and not (isinstance(arg.value, cst.Name) and arg.value.value == "False")
    )


def _index(node: cst.Subscript) -> int | None:
    if len(node.slice) != 1 or not isinstance(node.slice[0].slice, cst.Index):
        return None
    value = node.slice[0].slice.value
    return int(value.value) if isinstance(value, cst.Integer) else None


def _operation(node: cst.Call) -> str | None:
    func = node.func
    if isinstance(func, cst.Attribute):
        return func.attr.value
    return func.value if isinstance(func, cst.Name) else None


def _stored_values(cls, name: str) -> list[cst.BaseExpression]:
    """What a class stores in `self.name`: class attributes, `self.name = value` in its
    methods and `self.register_buffer("name", value)`. Empty when one store is not a plain
    assignment (augmented, unpacked)."""
    values: list[cst.BaseExpression] = list(cls.class_attributes.get(name, []))
    for writer in cls.attribute_writers.get(name, []):
        assigned = self_assignments(writer).get(name)
        if assigned is None:
            return []
        values += assigned
    for method in cls.methods.values():
        finder = _BufferFinder(name)
        method.node.visit(finder)
        values += finder.values
    return values


class _BufferFinder(cst.CSTVisitor):
    """`register_buffer("name", value)` calls."""

    def __init__(self, name: str):
        self.name = name
        self.values: list[cst.BaseExpression] = []

    def visit_Call(self, node: cst.Call) -> None:
        func = node.func
        if (
            isinstance(func, cst.Attribute)
            and func.attr.value == "register_buffer"
            and len(node.args) >= 2
            and isinstance(node.args[0].value, cst.SimpleString)
            and node.args[0].value.evaluated_value == self.name
        ):
            self.values.append(node.args[1].value)


def used_only_without_gradient(analysis: FileAnalysis, node: cst.CSTNode) -> bool:
    """Whether the value `node` computes is only compared or turned into a Python number
    (`if shift < tol`, `err.item()`, `float(n)`), directly or through the single name it is
    assigned to: nothing differentiates through it."""
    places = reads_of_assigned(analysis, node) if _assigned_whole(analysis, node) else [node]
    return bool(places) and all(_consumed_as_number(analysis, place) for place in places)


def _assigned_whole(analysis: FileAnalysis, node: cst.CSTNode) -> bool:
    return isinstance(analysis.source.parents.get(node), cst.Assign)


def _consumed_as_number(analysis: FileAnalysis, node: cst.CSTNode) -> bool:
    parents = analysis.source.parents
    parent = parents.get(node)
    if isinstance(parent, (cst.Comparison, cst.ComparisonTarget)):
        return True
    if isinstance(parent, cst.Attribute) and parent.value is node:
        call = parents.get(parent)
        return parent.attr.value in ("item", "tolist") and isinstance(call, cst.Call)
    if isinstance(parent, cst.Arg):
        call = parents.get(parent)
        return (
            isinstance(call, cst.Call)
            and isinstance(call.func, cst.Name)
            and call.func.value in ("float", "int", "bool")
            and not analysis.reads.get(call.func)
        )
    return False


_READERS: dict[int, tuple[weakref.ref, dict]] = {}  # id(FileAnalysis) -> its reverse reads


def _reads_of(analysis: FileAnalysis, definitions: frozenset[cst.CSTNode]) -> list[cst.Name]:
    """Every read some of `definitions` reaches (an index built once per file)."""
    cached = _READERS.get(id(analysis))
    if cached is None or cached[0]() is not analysis:
        index: dict[cst.CSTNode, list[cst.Name]] = {}
        for name, reached in analysis.reads.items():
            for definition in reached:
                index.setdefault(definition, []).append(name)
        key = id(analysis)
        cached = (weakref.ref(analysis, lambda _: _READERS.pop(key, None)), index)
        _READERS[key] = cached
    index = cached[1]
    return list({id(r): r for d in definitions for r in index.get(d, [])}.values())
