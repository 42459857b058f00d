"""User classes and functions: attribute lookup, method resolution and return summaries."""

from __future__ import annotations

from typing import TYPE_CHECKING

from nanlint.analysis.scopes import ClassInfo, FunctionInfo
from nanlint.analysis.values import (
    UNKNOWN,
    ClassRef,
    FunctionRef,
    Hop,
    Instance,
    Tensor,
    Value,
    join_all,
)

if TYPE_CHECKING:
    from nanlint.analysis.interpreter import Interpreter

# nn.Module methods that return the module itself.
SELF_RETURNING_METHODS = frozenset(
    [
        "to",
        "cuda",
        "cpu",
        "float",
        "double",
        "half",
        "bfloat16",
        "train",
        "eval",
        "requires_grad_",
        "type",
        "share_memory",
        "apply",
    ]
)


class ObjectModel:
    """Answers what `self.x`, `model.forward` and `Net(...)(x)` are, from summaries."""

    def __init__(self, interpreter: Interpreter):
        self.interpreter = interpreter
        self.bases: dict[ClassInfo, list[Value]] = {}
        self.class_values: dict[ClassInfo, dict[str, Value]] = {}
        self.attribute_writes: dict[tuple[ClassInfo, str], list[Value]] = {}
        self._attribute_cache: dict[tuple[ClassInfo, str], Value] = {}
        self._attribute_in_progress: set[tuple[ClassInfo, str]] = set()

    # -- classes -----------------------------------------------------------------

    def define_class(
        self, info: ClassInfo, bases: list[Value], body_values: dict[str, Value]
    ) -> None:
        self.bases[info] = bases
        self.class_values[info] = body_values

    def mro(self, info: ClassInfo) -> tuple[list[ClassInfo], bool]:
        """The file's classes in `info`'s resolution order, and whether any base is unknown."""
        order: list[ClassInfo] = []
        unknown = False
        pending = [info]
        while pending:
            current = pending.pop(0)
            if current in order:
                continue
            order.append(current)
            for base in self.bases.get(current, []):
                if isinstance(base, ClassRef):
                    pending.append(base.info)
                else:
                    unknown = True
        return order, unknown

    def subclasses(self, info: ClassInfo) -> list[ClassInfo]:
        return [other for other in self.bases if other is not info and info in self.mro(other)[0]]

    # -- attributes of instances ----------------------------------------------------

    def instance_attribute(self, info: ClassInfo, name: str) -> Value:
        """`self.name` / `obj.name` for an instance of `info` (UNKNOWN when unsure)."""
        key = (info, name)
        if key in self._attribute_cache:
            return self._attribute_cache[key]
        if key in self._attribute_in_progress:
            return UNKNOWN
        self._attribute_in_progress.add(key)
        try:
            value, final = self._resolve_instance_attribute(info, name)
        finally:
            self._attribute_in_progress.discard(key)
        if final:
            self._attribute_cache[key] = value
        return value

    def _resolve_instance_attribute(self, info: ClassInfo, name: str) -> tuple[Value, bool]:
        """The attribute's value, and whether it is final (no writer was still running)."""
        if name in self.interpreter.scopes.external_attribute_writes:
            return UNKNOWN, True
        order, _ = self.mro(info)
        family = order + self.subclasses(info)
        writers = [w for cls in family for w in cls.attribute_writers.get(name, [])]
        if writers:
            if any(writer in self.interpreter.in_progress for writer in writers):
                return UNKNOWN, False
            for writer in writers:
                self.interpreter.summary(writer)
            written = [v for cls in family for v in self.attribute_writes.get((cls, name), [])]
            return (join_all(written) if written else UNKNOWN), True
        if any(
            name in cls.methods or name in self.class_values.get(cls, {})
            for cls in self.subclasses(info)
        ):
            return UNKNOWN, True  # overridden somewhere below: cannot tell which runs
        for cls in order:
            method = cls.methods.get(name)
            if method is not None:
                if method.is_property:
                    return self.interpreter.summary(
                        method
                    ), method not in self.interpreter.in_progress
                bound = ClassRef(info) if method.is_classmethod else Instance(info)
                return FunctionRef(method, bound=bound), True
            if name in self.class_values.get(cls, {}):
                return self.class_values[cls][name], True
        return UNKNOWN, cls_defined(info, self)

    def class_attribute(self, info: ClassInfo, name: str) -> Value:
        """`Net.name` on the class itself."""
        order, _ = self.mro(info)
        for cls in order:
            method = cls.methods.get(name)
            if method is not None:
                return FunctionRef(method, bound=ClassRef(info) if method.is_classmethod else None)
            if name in self.class_values.get(cls, {}):
                return self.class_values[cls][name]
        return UNKNOWN

    def record_write(self, info: ClassInfo, name: str, value: Value) -> None:
        self.attribute_writes.setdefault((info, name), []).append(value)

    # -- calls ----------------------------------------------------------------------

    def call_instance(self, info: ClassInfo, call_node) -> Value:
        """`model(x)`: `__call__` if the class defines one, else nn.Module's `forward`."""
        order, _ = self.mro(info)
        for name in ("__call__", "forward"):
            if any(name in cls.methods for cls in order):
                method = self.instance_attribute(info, name)
                if isinstance(method, FunctionRef):
                    return self.call_function(method.info, call_node)
                return UNKNOWN
        return UNKNOWN

    def call_function(self, info: FunctionInfo, call_node) -> Value:
        """The return summary of a function called at `call_node`, marked with the hop."""
        self.interpreter.analysis.callers.setdefault(info, []).append(call_node)
        value = self.interpreter.summary(info)
        if isinstance(value, Tensor):
            hop = Hop(info.qualname, info.node, self.interpreter.source)
            return value.with_hop(hop)
        return value


def cls_defined(info: ClassInfo, model: ObjectModel) -> bool:
    """Whether the class statement has run (its class-body values are known)."""
    return info in model.class_values
