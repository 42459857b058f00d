"""Classes and their objects: attribute lookup, method resolution, constructor calls.

An instance built by `Net(...)` is *exact*: its class is known, so `model.forward` is Net's
own (or inherited) forward, and its attributes are what Net's `__init__` assigns when run
for that very receiver (with the constructor's arguments). `self` inside a method is not
exact: it may be any subclass, so an attribute or method that a subclass overrides is
unknown there. Methods run once per receiver context: (class, exact).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from nanlint.analysis.scopes import ClassInfo, FunctionInfo
from nanlint.analysis.values import (
    UNKNOWN,
    ClassRef,
    FunctionRef,
    Instance,
    Value,
    join_all,
)

if TYPE_CHECKING:
    from nanlint.analysis.interpreter import Interpreter

Context = tuple  # (ClassInfo, exact) for a method's receiver; None for a plain function


def primary_context(info: FunctionInfo) -> Context | None:
    """The context facts are recorded in: a method for any receiver of its class."""
    if info.cls is None or info.is_static:
        return None
    return (info.cls, False)


def context_of(receiver: Value) -> Context | None:
    if isinstance(receiver, Instance):
        return (receiver.info, receiver.exact)
    if isinstance(receiver, ClassRef):
        return (receiver.info, False)
    return None


class ObjectModel:
    """Answers for the classes of one file; other files' classes go to their interpreter."""

    def __init__(self, interpreter: Interpreter):
        self.interpreter = interpreter
        self.bases: dict[ClassInfo, list[Value]] = {}
        self.class_values: dict[ClassInfo, dict[str, Value]] = {}
        # (writer key, attribute) -> values assigned; the writer key is (class, True) for an
        # exact receiver context and the method's own class otherwise
        self.attribute_writes: dict[tuple, list[Value]] = {}
        self._attribute_cache: dict[tuple, Value] = {}
        self._attribute_in_progress: set[tuple] = set()
        self._mro: dict[ClassInfo, tuple[list[ClassInfo], bool]] = {}

    # -- classes --------------------------------------------------------------------------

    def define_class(
        self, info: ClassInfo, bases: list[Value], body_values: dict[str, Value]
    ) -> None:
        self.bases[info] = bases
        self.class_values[info] = body_values
        self.interpreter.project.define_class(self, info)

    def _model_of(self, info: ClassInfo) -> ObjectModel:
        return self.interpreter.owner(info).objects

    def _bases(self, info: ClassInfo) -> list[Value]:
        model = self._model_of(info)
        return [self.interpreter.resolved(base) for base in model.bases.get(info, [])]

    def _class_values(self, info: ClassInfo) -> dict[str, Value]:
        return self._model_of(info).class_values.get(info, {})

    def mro(self, info: ClassInfo) -> tuple[list[ClassInfo], bool]:
        """The project's classes in `info`'s resolution order, and whether a base is unknown."""
        cached = self._mro.get(info)
        if cached is None:
            cached = self._mro[info] = self._linearise(info)
        return cached

    def _linearise(self, info: ClassInfo) -> tuple[list[ClassInfo], bool]:
        order: list[ClassInfo] = []
        unknown = False
        pending = [info]
        while pending:
            current = pending.pop(0)
            if current in order:
                continue
            order.append(current)
            for base in self._bases(current):
                if isinstance(base, ClassRef):
                    pending.append(base.info)
                else:
                    unknown = True
        return order, unknown

    # -- attributes of instances --------------------------------------------------------

    def instance_attribute(self, instance: Instance, name: str) -> Value:
        """`self.name` / `obj.name` (UNKNOWN when unsure)."""
        key = (instance.info, instance.exact, name)
        if key in self._attribute_cache:
            return self._attribute_cache[key]
        if key in self._attribute_in_progress:
            return UNKNOWN
        self._attribute_in_progress.add(key)
        try:
            value, final = self._resolve(instance, name)
        finally:
            self._attribute_in_progress.discard(key)
        if final:
            self._attribute_cache[key] = value
        return value

    def _resolve(self, instance: Instance, name: str) -> tuple[Value, bool]:
        """The attribute's value, and whether it is final (no writer was still running)."""
        info = instance.info
        if name in self.interpreter.project.external_attribute_writes(info):
            return UNKNOWN, True
        order, _ = self.mro(info)
        below = [] if instance.exact else self.interpreter.project.subclasses(info)
        writers = [(cls, w) for cls in order + below for w in cls.attribute_writers.get(name, [])]
        if writers:
            return self._written(instance, name, writers)
        if any(name in cls.methods or name in self._class_values(cls) for cls in below):
            return UNKNOWN, True  # overridden below: cannot tell which runs
        for cls in order:
            method = cls.methods.get(name)
            if method is not None:
                if method.is_property:
                    value = self.interpreter.summary(method, (info, instance.exact))
                    return value, not self.interpreter.project.running(method)
                bound = ClassRef(info) if method.is_classmethod else instance
                return FunctionRef(method, bound=bound), True
            if name in self._class_values(cls):
                return self._class_values(cls)[name], True
        return UNKNOWN, True

    def _written(self, instance: Instance, name: str, writers: list) -> tuple[Value, bool]:
        context = (instance.info, instance.exact)
        values: list[Value] = []
        for cls, writer in writers:
            writer_context = context if instance.exact else (cls, False)
            if self.interpreter.project.running(writer, writer_context):
                return UNKNOWN, False
            self.interpreter.summary(writer, writer_context)
            key = (instance.info, True) if instance.exact else cls
            values.extend(self._model_of(writer.cls).attribute_writes.get((key, name), []))
        return (join_all(values) if values else UNKNOWN), True

    def class_attribute(self, info: ClassInfo, name: str) -> Value:
        """`Net.name` on the class itself."""
        order, _ = self.mro(info)
        for cls in order:
            method = cls.methods.get(name)
            if method is not None:
                return FunctionRef(method, bound=ClassRef(info) if method.is_classmethod else None)
            if name in self._class_values(cls):
                return self._class_values(cls)[name]
        return UNKNOWN

    def record_write(self, context: Context, method: FunctionInfo, name: str, value: Value) -> None:
        """`self.name = value` in `method` run for a receiver `context`."""
        cls, exact = context
        key = (cls, True) if exact else method.cls
        self.attribute_writes.setdefault((key, name), []).append(value)

    def replace_write(
        self, context: Context, method: FunctionInfo, name: str, old: Value, new: Value
    ) -> bool:
        """`self.name`, assigned `old` earlier in `method`, changed in place into `new`
        (`self.net.add_module(...)`): what the attribute holds from then on."""
        cls, exact = context
        key = ((cls, True) if exact else method.cls, name)
        values = self.attribute_writes.get(key, [])
        if old not in values:
            return False
        self.attribute_writes[key] = [new if value == old else value for value in values]
        return True

    # -- calls ------------------------------------------------------------------------------

    def call_method_of(self, instance: Instance, names: tuple[str, ...]) -> FunctionRef | None:
        """The first of `names` the instance's class defines (`__call__`, then `forward`)."""
        order, _ = self.mro(instance.info)
        for name in names:
            if any(name in cls.methods for cls in order):
                method = self.instance_attribute(instance, name)
                return method if isinstance(method, FunctionRef) else None
        return None

    def constructor(self, info: ClassInfo) -> FunctionInfo | None:
        """The `__init__` a `Net(...)` call runs, if the project defines it."""
        order, _ = self.mro(info)
        for cls in order:
            if "__init__" in cls.methods:
                return cls.methods["__init__"]
        return None
