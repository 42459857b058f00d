"""The abstract interpreter: evaluates a file's statements in order and records facts.

Local variables are flow-sensitive (copy-on-write environments, joined where branches
meet; a loop first forgets what its body assigns, so a read before the assignment in the
body is unknown). Functions are evaluated once each, lazily when a call needs their return
summary, then all the rest in source order. Class attributes are the join of every value
assigned to `self.<name>` in the class family, in any method (`self.net = self.net.to(d)`
assigns nothing new: see scopes.assigned_names).

Joins that lose nothing real:
- a path that raises or ends does not reach the join; None beside a tensor is the tensor
  (values.join), so `if x is None: return None` keeps a function's kind;
- a test on a constant picks its branch (`if`, `a if flag else b`, `crit or Default()`,
  `p is None` for a value that cannot be None); parameters are bound to what every call
  site passes, defaults included (project.Project), and a call site whose constant flags
  differ from the others' gets a result of its own (Interpreter._flags);
- two project objects join to OneOf of them, whose call joins their results.
Two tensors of different kinds still join to UNKNOWN.
"""

from __future__ import annotations

import ast
import builtins
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any

import libcst as cst

from nanlint.analysis import arithmetic, torch_calls
from nanlint.analysis import torch_api as api
from nanlint.analysis.facts import (
    ArgFact,
    Binding,
    CallFact,
    Env,
    FileAnalysis,
    OpFact,
    Use,
    WithItem,
)
from nanlint.analysis.imports import ImportTable, import_bindings
from nanlint.analysis.names import within
from nanlint.analysis.objects import (
    Context,
    ObjectModel,
    context_of,
    primary_context,
)
from nanlint.analysis.scopes import FunctionInfo, target_keys
from nanlint.analysis.signatures import bind
from nanlint.analysis.values import (
    ABSENT,
    UNKNOWN,
    BoundMethod,
    Choice,
    ClassRef,
    Collection,
    Constant,
    External,
    FunctionRef,
    Hop,
    Instance,
    Many,
    Mapping,
    ModuleRef,
    OneHot,
    OneOf,
    ProjectName,
    Removal,
    Sequence,
    Step,
    StepRole,
    SuperOf,
    Tensor,
    TorchModule,
    Value,
    concatenate,
    is_flag,
    join,
    join_all,
    list_items,
)
from nanlint.source import SourceFile

if TYPE_CHECKING:
    from nanlint.analysis.project import Project

# Constants passed by one call site, by parameter name (see Interpreter._flags).
Flags = tuple[tuple[str, Constant], ...]
# How many call-site sets of constants a function is evaluated for, beyond its joined run.
MAX_SPECIALISATIONS = 4


@dataclass
class _LoopExits:
    breaks: list[Env | None] = field(default_factory=list)
    continues: list[Env | None] = field(default_factory=list)


@dataclass
class Frame:
    """The state of one scope being evaluated."""

    info: FunctionInfo | None  # None for the module (and class bodies at module level)
    env: Env | None  # None: this point is unreachable
    returns: list[Value] = field(default_factory=list)
    loops: list[_LoopExits] = field(default_factory=list)
    contexts: tuple[WithItem, ...] = ()
    generator: bool = False
    history: dict[str, list[Value]] = field(default_factory=dict)
    outer: Frame | None = None  # set for class bodies: names fall back to the enclosing frame
    context: Context | None = None  # the receiver's (class, exact) for a method
    record: bool = True  # whether facts are recorded (the primary run of a function)
    on_demand: bool = False  # a module statement of a dependency: other globals on demand
    # `y[mask] = v`: the env key `y[mask]` holds v while y and mask keep these bindings
    item_writes: dict[str, tuple[Binding, ...]] = field(default_factory=dict)

    @property
    def receiver(self) -> str | None:
        return self.info.receiver if self.info is not None else None


class Interpreter:
    def __init__(self, source: SourceFile, project: Project):
        self.source = source
        self.project = project
        module = source.module
        self.module = module
        self.package = project.package_of(source)
        self.imports = ImportTable.of_module(module, self.package)
        self.scopes = project.scopes(source)
        self.analysis = FileAnalysis(source, self.imports, self.scopes, project=project)
        self.objects = ObjectModel(self)
        self.summaries: dict[tuple, Value] = {}
        self.specialisations: dict[tuple, set[Flags]] = {}
        self.histories: dict[FunctionInfo | None, dict[str, list[Value]]] = {}
        self.recording = False  # facts are recorded only for the files being analysed
        self.depth = 0  # how many dependency hops from a file being analysed
        self._module_state = "pending"
        self._on_demand: dict[str, Value] = {}
        self._demanding: set[str] = set()
        self._demand_history: dict[str, list[Value]] = {}
        self._evaluated: set[cst.CSTNode] = set()

    # -- driver -----------------------------------------------------------------------

    def begin(self) -> None:
        """Evaluate the module, recording facts (its classes are then known to the project).
        What ran before without recording (as someone's dependency) runs again: it is
        deterministic, so its results do not change."""
        if not self.recording:
            self.recording, self.depth = True, 0
            self.summaries.clear()
        self.evaluate_module()

    def run(self) -> FileAnalysis:
        """Evaluate the module, then every function not yet evaluated (in source order)."""
        self.begin()
        done: set[FunctionInfo] = set()
        while len(done) < len(self.scopes.functions):  # lambdas appear as they are met
            for info in list(self.scopes.functions.values()):
                if info not in done:
                    done.add(info)
                    self.summary(info, primary_context(info))
        return self.analysis

    def evaluate_module(self) -> None:
        if self._module_state != "pending":
            return
        self._module_state = "running"
        frame = Frame(None, {}, record=self.recording)
        self.histories[None] = frame.history
        try:
            self.exec_block(self.module.body, frame)
        finally:
            self._module_state = "done"

    def module_global(self, name: str) -> Value:
        """The value of a module-level name (ABSENT when the module never binds it).

        A file that is not being analysed is evaluated on demand: only the top-level
        statements that bind `name`, and then what they read, so that a dependency of a
        dependency is not read unless something needs it.
        """
        if self._module_state != "pending":
            values = self.histories[None].get(name)
            return join_all(values) if values else ABSENT
        if name not in self._on_demand:
            if name in self._demanding:
                return UNKNOWN
            self._demanding.add(name)
            try:
                for statement in self.scopes.binders.get(name, ()):
                    self._evaluate_on_demand(statement)
            finally:
                self._demanding.discard(name)
            values = self._demand_history.get(name)
            self._on_demand[name] = join_all(values) if values else self._from_stars(name)
        return self._on_demand[name]

    def _evaluate_on_demand(self, statement: cst.CSTNode) -> None:
        if statement in self._evaluated:
            return
        self._evaluated.add(statement)
        frame = Frame(None, {}, history=self._demand_history, on_demand=True, record=False)
        self.exec_statement(statement, frame)

    def _from_stars(self, name: str) -> Value:
        """A name a `from <project module> import *` brings in, else ABSENT."""
        for star in self.imports.star_modules:
            value = self.project.resolve(f"{star}.{name}", self.depth)
            if value is not None and value is not UNKNOWN:
                return value
        return ABSENT

    def module_values(self) -> dict[str, list[Value]]:
        """Every module-level name evaluated so far, with the values bound to it."""
        return self.histories.get(None) or self._demand_history

    def owner(self, info) -> Interpreter:
        """The interpreter of the file that defines a function or class, with that
        definition evaluated (its class and decorators known)."""
        owner = self if info.source is self.source else self.project.interpreter(info.source)
        if owner._module_state == "pending":
            node = info.node
            top = owner.scopes.top_level.get(node)
            if top is None and getattr(info, "cls", None) is not None:
                top = owner.scopes.top_level.get(info.cls.node)
            if top is not None:
                owner._evaluate_on_demand(top)
        return owner

    def resolved(self, value: Value) -> Value:
        """A lazily imported project name, resolved now that it is used."""
        if isinstance(value, ProjectName):
            return self.project.resolve(value.qualname, self.depth) or UNKNOWN
        return value

    def summary(
        self, info: FunctionInfo, context: Context | None = None, flags: Flags = ()
    ) -> Value:
        """What `info` returns in a receiver context; each (function, context) runs once.

        With `flags` (constants one call site passes), what it returns for that call site:
        such a run records no facts.
        """
        owner = self.owner(info)
        if owner is not self:
            return owner.summary(info, context, flags)
        context = self.project.context_for(info, context)
        key = (info, context, flags) if flags else (info, context)
        if key in self.summaries:
            return self.summaries[key]
        if self.project.running(info, context) or self.project.too_deep():
            return UNKNOWN
        frame = Frame(
            info,
            self._parameters(info, context, flags),
            context=context,
            record=self.recording and context == primary_context(info) and not flags,
        )
        if frame.record:
            self.histories[info] = frame.history
        self.project.start(info, context)
        try:
            if isinstance(info.node, cst.Lambda):
                frame.returns.append(self.eval(info.node.body, frame))
            else:
                self.exec_block(_body(info.node), frame)
                if frame.env is not None:
                    frame.returns.append(Constant(None))
        finally:
            self.project.stop(info, context)
        is_async = isinstance(info.node, cst.FunctionDef) and info.node.asynchronous is not None
        result = UNKNOWN if frame.generator or is_async else join_all(frame.returns)
        self.summaries[key] = result
        return result

    def _parameters(self, info: FunctionInfo, context: Context | None, flags: Flags = ()) -> Env:
        env: Env = {}
        params = info.params
        every = [*params.posonly_params, *params.params, *params.kwonly_params]
        if isinstance(params.star_arg, cst.Param):
            every.append(params.star_arg)
        if params.star_kwarg is not None:
            every.append(params.star_kwarg)
        receiver = info.receiver
        bound = {**self.project.bindings.get((info, context), {}), **dict(flags)}
        for param in every:
            name = param.name.value
            value: Value = bound.get(name, UNKNOWN)
            if name not in bound and param.default is not None:
                value = self._namespace_default(info, name)
            if name == receiver and context is not None:
                cls, exact = context
                value = ClassRef(cls) if info.is_classmethod else Instance(cls, exact)
            env[name] = Binding(value, frozenset({param}))
        return env

    def _namespace_default(self, info: FunctionInfo, name: str) -> Value:
        """`def f(x, F=torch)`: the torch module, when no call site passes another one."""
        default = self.project.defaults.get((info, name))
        if not isinstance(default, External) or default.qualname not in api.NAMESPACES:
            return UNKNOWN
        for (function, _), sites in self.project.call_sites.items():
            if function is info and (
                sites.all_unclear
                or name in sites.unclear
                or any(passed.get(name, default) != default for passed in sites.passed)
            ):
                return UNKNOWN
        return External(default.qualname, via_parameter=True)

    # -- statements ---------------------------------------------------------------------

    def exec_block(self, statements, frame: Frame) -> None:
        for statement in statements:
            if frame.env is None:
                return
            self.exec_statement(statement, frame)

    def exec_statement(self, node: cst.CSTNode, frame: Frame) -> None:
        handler = getattr(self, f"_exec_{type(node).__name__}", None)
        if handler is not None:
            handler(node, frame)
        else:
            self._eval_children(node, frame)

    def _exec_SimpleStatementLine(self, node: cst.SimpleStatementLine, frame: Frame) -> None:
        for small in node.body:
            if frame.env is None:
                return
            self.exec_statement(small, frame)

    def _exec_SimpleStatementSuite(self, node: cst.SimpleStatementSuite, frame: Frame) -> None:
        self._exec_SimpleStatementLine(node, frame)  # type: ignore[arg-type]

    def _exec_IndentedBlock(self, node: cst.IndentedBlock, frame: Frame) -> None:
        self.exec_block(node.body, frame)

    def _exec_Expr(self, node: cst.Expr, frame: Frame) -> None:
        self.eval(node.value, frame)

    def _exec_Assign(self, node: cst.Assign, frame: Frame) -> None:
        value = self.eval(node.value, frame)
        for target in node.targets:
            self.bind_target(target.target, value, frame)

    def _exec_AnnAssign(self, node: cst.AnnAssign, frame: Frame) -> None:
        if node.value is not None:
            self.bind_target(node.target, self.eval(node.value, frame), frame)

    def _exec_AugAssign(self, node: cst.AugAssign, frame: Frame) -> None:
        current = self.eval(node.target, frame)
        operand = self.eval(node.value, frame)
        for value, child in ((current, node.target), (operand, node.value)):
            self._use(value, child, node, frame)
        result = UNKNOWN
        if isinstance(node.operator, cst.AddAssign):  # `layers += [nn.Sigmoid()]`
            result = concatenate(current, operand)
        if isinstance(node.operator, cst.SubtractAssign):  # `x -= x.max(...)`: a shift
            left, right = ArgFact(None, node.target, current), ArgFact(None, node.value, operand)
            result = arithmetic.subtract(left, right, node, self.source, frame.info)
        self.bind_target(node.target, result, frame)

    def _exec_Return(self, node: cst.Return, frame: Frame) -> None:
        value = self.eval(node.value, frame) if node.value is not None else Constant(None)
        if node.value is not None:
            self._use(value, node.value, node, frame, returned=True)
        frame.returns.append(value)
        frame.env = None

    def _exec_Raise(self, node: cst.Raise, frame: Frame) -> None:
        self._eval_children(node, frame)
        frame.env = None

    def _exec_Break(self, node: cst.Break, frame: Frame) -> None:
        if frame.loops:
            frame.loops[-1].breaks.append(frame.env)
        frame.env = None

    def _exec_Continue(self, node: cst.Continue, frame: Frame) -> None:
        if frame.loops:
            frame.loops[-1].continues.append(frame.env)
        frame.env = None

    def _exec_Import(self, node: cst.Import | cst.ImportFrom, frame: Frame) -> None:
        for binding in import_bindings(node, self.package):
            self.bind_name(binding.local, self._imported(binding.qualname), node, frame)

    _exec_ImportFrom = _exec_Import

    def _imported(self, qualname: str) -> Value:
        """A project module's name stays lazy until used; anything else is external."""
        if self.project.module_path(qualname.partition(".")[0]) is not None or qualname.startswith(
            "."
        ):
            return ProjectName(qualname) if not qualname.startswith(".") else UNKNOWN
        return External(qualname)

    def _exec_Del(self, node: cst.Del, frame: Frame) -> None:
        for key in target_keys(node.target):
            frame.env = {**frame.env, key: Binding(ABSENT, frozenset({node}))}  # type: ignore[misc]

    def _exec_Global(self, node: cst.Global, frame: Frame) -> None:
        """Handled by name resolution (FunctionInfo.declared_global)."""

    _exec_Nonlocal = _exec_Global
    _exec_Pass = _exec_Global

    def _exec_If(self, node: cst.If, frame: Frame) -> None:
        test = self.eval(node.test, frame)
        self._use(test, node.test, node, frame)
        before = frame.env
        branches = []
        truth = test.value if isinstance(test, Constant) else None
        if truth is None or truth:
            self.exec_statement(node.body, frame)
            branches.append(frame.env)
        frame.env = before
        if truth is None or not truth:
            if node.orelse is not None:
                self.exec_statement(node.orelse, frame)
            branches.append(frame.env)
        frame.env = join_envs(branches)

    def _exec_Else(self, node: cst.Else, frame: Frame) -> None:
        self.exec_statement(node.body, frame)

    def _exec_For(self, node: cst.For, frame: Frame) -> None:
        iterated = self.resolved(self.eval(node.iter, frame))
        items = list_items(iterated) if isinstance(iterated, (Sequence, Collection)) else ()
        if not items:
            self._use(iterated, node.iter, node, frame)
        before = frame.env
        self._loop(node, frame, target=node.target, item=join_all(list(items)))
        last = _last_item(iterated)
        if last is not None and before is not None and not _leaves_early(node):
            self._after_last_iteration(node, frame, before, last)

    def _after_last_iteration(self, node: cst.For, frame: Frame, before: Env, last: Value) -> None:
        """A loop over a known, non-empty sequence ends with its last item: what the body
        assigns is what the last iteration assigned (`for layer in self.layers: x = layer(x)`
        leaves the last layer's output). The body runs once more for it, recording nothing."""
        assigned = set(self.scopes.assigned_in(node, _body(node))) | set(target_keys(node.target))
        after, record = frame.env, frame.record
        frame.env, frame.record = forget(before, assigned, node), False
        self.bind_target(node.target, last, frame)
        frame.loops.append(_LoopExits())
        try:
            self.exec_statement(node.body, frame)
        finally:
            exits = frame.loops.pop()
            frame.record = record
        final = join_envs([frame.env, *exits.continues])
        frame.env = after
        if final is None or after is None:
            return
        inside = within(node.body)
        updated = dict(after)
        for key in assigned:
            binding = final.get(key)
            if binding is not None:
                updated[key] = Binding(_pinned(binding.value, inside), binding.defs)
        frame.env = updated

    def _exec_While(self, node: cst.While, frame: Frame) -> None:
        self._loop(node, frame, test=node.test)

    def _loop(
        self, node: cst.For | cst.While, frame: Frame, target=None, test=None, item: Value = UNKNOWN
    ) -> None:
        before = frame.env
        assigned = set(self.scopes.assigned_in(node, _body(node)))
        if target is not None:
            assigned.update(target_keys(target))
        frame.env = forget(before, assigned, node)
        endless = False
        if test is not None:
            value = self.eval(test, frame)
            endless = isinstance(value, Constant) and bool(value.value)
        if target is not None:
            self.bind_target(target, item, frame)
        frame.loops.append(_LoopExits())
        self.exec_statement(node.body, frame)
        exits = frame.loops.pop()
        finished = [] if endless else [before, frame.env, *exits.continues]
        frame.env = join_envs(finished)
        if node.orelse is not None and frame.env is not None:
            self.exec_statement(node.orelse, frame)
        frame.env = join_envs([frame.env, *exits.breaks])

    def _exec_Try(self, node: cst.Try, frame: Frame) -> None:
        before = frame.env
        self.exec_statement(node.body, frame)
        if node.orelse is not None and frame.env is not None:
            self.exec_statement(node.orelse, frame)
        ends = [frame.env]
        entry = forget(before, set(self.scopes.assigned_in(node, _body(node))), node)
        for handler in node.handlers:
            frame.env = entry
            if handler.type is not None:
                self.eval(handler.type, frame)
            if handler.name is not None:
                self.bind_target(handler.name.name, UNKNOWN, frame)
            self.exec_statement(handler.body, frame)
            ends.append(frame.env)
        frame.env = join_envs(ends)
        if node.finalbody is not None:
            reachable = frame.env is not None
            if not reachable:
                frame.env = entry
            self.exec_statement(node.finalbody.body, frame)
            if not reachable:
                frame.env = None

    _exec_TryStar = _exec_Try

    def _exec_With(self, node: cst.With, frame: Frame) -> None:
        contexts = []
        for item in node.items:
            value = self.eval(item.item, frame)
            if isinstance(item.item, cst.Call):
                value = self.eval(item.item.func, frame)
            contexts.append(WithItem(value, item.item))
            if item.asname is not None:
                self.bind_target(item.asname.name, UNKNOWN, frame)
        saved = frame.contexts
        frame.contexts = saved + tuple(contexts)
        try:
            self.exec_statement(node.body, frame)
        finally:
            frame.contexts = saved

    def _exec_Match(self, node: cst.Match, frame: Frame) -> None:
        self.eval(node.subject, frame)
        before = frame.env
        ends = [before]
        for case in node.cases:
            frame.env = forget(before, set(self.scopes.assigned_in(case, [case])), case)
            if case.guard is not None:
                self.eval(case.guard, frame)
            self.exec_statement(case.body, frame)
            ends.append(frame.env)
        frame.env = join_envs(ends)

    def _exec_FunctionDef(self, node: cst.FunctionDef, frame: Frame) -> None:
        transparent = all(self._transparent(decorator, frame) for decorator in node.decorators)
        info = self.scopes.functions[node]
        self._record_defaults(info, node.params, frame)
        value = FunctionRef(info) if transparent else UNKNOWN
        self.bind_name(node.name.value, value, node.name, frame)

    def _record_defaults(self, info: FunctionInfo, params: cst.Parameters, frame: Frame) -> None:
        """Evaluate default values; call sites that omit a parameter pass its default."""
        for param in [*params.posonly_params, *params.params, *params.kwonly_params]:
            if param.default is not None:
                self.project.defaults[(info, param.name.value)] = self.eval(param.default, frame)

    def _transparent(self, decorator: cst.Decorator, frame: Frame) -> bool:
        expression = decorator.decorator
        value = self.eval(expression, frame)
        if isinstance(expression, cst.Call):
            value = self.eval(expression.func, frame)
        if not isinstance(value, External):
            return False
        name = value.qualname.removeprefix("builtins.")
        return name in api.TRANSPARENT_DECORATORS or name in (
            "property",
            "functools.cached_property",
        )

    def _exec_ClassDef(self, node: cst.ClassDef, frame: Frame) -> None:
        bases = [self.eval(arg.value, frame) for arg in node.bases]
        for keyword in node.keywords:
            self.eval(keyword.value, frame)
        for decorator in node.decorators:
            self.eval(decorator.decorator, frame)
        body_frame = Frame(
            frame.info, dict(frame.env or {}), outer=frame, on_demand=frame.on_demand
        )
        self.exec_block(_body(node), body_frame)
        info = self.scopes.classes[node]
        body_values = {
            key: binding.value
            for key, binding in (body_frame.env or {}).items()
            if "." not in key and (frame.env or {}).get(key) is not binding
        }
        self.objects.define_class(info, bases, body_values)
        self.bind_name(node.name.value, ClassRef(info), node.name, frame)

    # -- bindings ------------------------------------------------------------------------

    def bind_name(self, key: str, value: Value, definition: cst.CSTNode, frame: Frame) -> None:
        if frame.env is None:
            return
        frame.env = {**frame.env, key: Binding(value, frozenset({definition}))}
        frame.history.setdefault(key, []).append(value)

    def bind_target(self, target: cst.BaseExpression, value: Value, frame: Frame) -> None:
        if isinstance(target, cst.Name):
            self.bind_name(target.value, value, target, frame)
        elif isinstance(target, (cst.Tuple, cst.List)):
            self._bind_unpacked(target, value, frame)
        elif isinstance(target, cst.StarredElement):
            self.bind_target(target.value, UNKNOWN, frame)
        elif isinstance(target, cst.Attribute):
            self._bind_attribute(target, value, frame)
        elif isinstance(target, cst.Subscript):
            self._bind_item(target, value, frame)

    def _bind_unpacked(self, target: cst.Tuple | cst.List, value: Value, frame: Frame) -> None:
        elements = [element.value for element in target.elements]
        starred = any(isinstance(element, cst.StarredElement) for element in target.elements)
        known = isinstance(value, Sequence) and not starred and len(value.items) == len(elements)
        for index, element in enumerate(elements):
            self.bind_target(element, value.items[index] if known else UNKNOWN, frame)  # type: ignore[union-attr]
        if not known:
            self._use(value, target, target, frame)

    def _bind_attribute(self, target: cst.Attribute, value: Value, frame: Frame) -> None:
        base = target.value
        if (
            isinstance(base, cst.Name)
            and frame.context is not None
            and base.value == frame.receiver
        ):
            assert frame.info is not None and frame.info.cls is not None
            self.owner(frame.info).objects.record_write(
                frame.context, frame.info, target.attr.value, value
            )
            self.bind_name(f"{base.value}.{target.attr.value}", value, target, frame)
            return
        self.eval(base, frame)
        self._use(value, target, target, frame)

    def _bind_item(self, target: cst.Subscript, value: Value, frame: Frame) -> None:
        if isinstance(target.value, cst.Name):
            self._forget_items(target.value.value, frame)
            written = self._item_key(target, frame) if isinstance(value, Tensor) else None
            if written is not None and frame.env is not None:
                key, bindings = written
                frame.env = {**frame.env, key: Binding(value, frozenset({target}))}
                frame.item_writes[key] = bindings
        container = self.eval(target.value, frame)
        key = self._constant_index(target, frame)
        if (
            isinstance(container, Mapping)
            and key is not None
            and isinstance(target.value, cst.Name)
        ):
            items = (*tuple((k, v) for k, v in container.items if k != key), (key, value))
            self.bind_name(target.value.value, Mapping(items), target, frame)
            return
        self._use(value, target, target, frame)

    # -- expressions -----------------------------------------------------------------------

    def eval(self, node: cst.BaseExpression, frame: Frame) -> Value:
        handler = getattr(self, f"_eval_{type(node).__name__}", None)
        value = handler(node, frame) if handler is not None else self._eval_children(node, frame)
        if frame.record:
            self.analysis.values[node] = value
        return value

    def _eval_children(self, node: cst.CSTNode, frame: Frame) -> Value:
        """Evaluate what an unmodelled node contains (for its facts); it is UNKNOWN."""
        for child in node.children:
            if isinstance(child, cst.BaseExpression):
                self._use(self.eval(child, frame), child, node, frame)
            elif not isinstance(child, (cst.BaseSuite, cst.BaseStatement)):
                self._eval_children(child, frame)
        return UNKNOWN

    def _eval_Name(self, node: cst.Name, frame: Frame) -> Value:
        if node.value in ("True", "False", "None"):
            return Constant({"True": True, "False": False, "None": None}[node.value])
        return self.resolved(self.lookup(node, frame))

    def _eval_Integer(self, node: cst.Integer, frame: Frame) -> Value:
        return Constant(_number(node.value, int))

    def _eval_Float(self, node: cst.Float, frame: Frame) -> Value:
        return Constant(_number(node.value, float))

    def _eval_SimpleString(self, node: cst.SimpleString, frame: Frame) -> Value:
        prefix = node.prefix.lower()
        if (
            "b" not in prefix
            and "\r" not in node.raw_value
            and ("r" in prefix or "\\" not in node.raw_value)
        ):
            return Constant(node.raw_value)  # what it means is what it says (no compile)
        try:
            return Constant(node.evaluated_value)
        except Exception:  # an unusual prefix libcst cannot evaluate
            return UNKNOWN

    def _eval_Ellipsis(self, node: cst.Ellipsis, frame: Frame) -> Value:
        return Constant(...)

    def _eval_UnaryOperation(self, node: cst.UnaryOperation, frame: Frame) -> Value:
        operand = self.eval(node.expression, frame)
        if isinstance(operand, Constant) and isinstance(operand.value, (int, float)):
            if isinstance(node.operator, cst.Minus):
                return Constant(-operand.value)
            if isinstance(node.operator, cst.Plus):
                return operand
        if isinstance(node.operator, cst.Not) and isinstance(operand, Constant):
            return Constant(not operand.value)
        self._use(operand, node.expression, node, frame)
        return UNKNOWN

    def _eval_BinaryOperation(self, node: cst.BinaryOperation, frame: Frame) -> Value:
        left = ArgFact(None, node.left, self.eval(node.left, frame))
        right = ArgFact(None, node.right, self.eval(node.right, frame))
        operator = arithmetic.OPERATORS.get(type(node.operator))
        result = UNKNOWN
        if operator == "+" and _is_list_like(left.value) and _is_list_like(right.value):
            result = concatenate(left.value, right.value)
        elif operator is not None:
            result = arithmetic.binary(
                operator, left, right, node, self.source, frame.info, self.analysis
            )
            if frame.record:
                self.analysis.operations[node] = OpFact(
                    node, operator, left, right, result, frame.env or {}, frame.info
                )
        carried = set(result.origins) if isinstance(result, Tensor) else set()
        for operand in (left, right):
            if not isinstance(operand.value, Tensor) or not set(operand.value.origins) <= carried:
                self._use(operand.value, operand.node, node, frame)
        return result

    def _eval_IfExp(self, node: cst.IfExp, frame: Frame) -> Value:
        """`torch.sigmoid(v) if apply_sigmoid else v`: a constant test picks one branch."""
        test = self.eval(node.test, frame)
        self._use(test, node.test, node, frame)
        truth = _truth(test)
        if truth is None:
            return join(self.eval(node.body, frame), self.eval(node.orelse, frame))
        return self.eval(node.body if truth else node.orelse, frame)

    def _eval_BooleanOperation(self, node: cst.BooleanOperation, frame: Frame) -> Value:
        """`crit or nn.BCELoss()`: the left operand when its truth decides, else either."""
        left = self.eval(node.left, frame)
        truth = _truth(left)
        if truth is not None and truth is isinstance(node.operator, cst.Or):
            return left
        right = self.eval(node.right, frame)
        result = right if truth is not None else join(left, right)
        carried = set(result.origins) if isinstance(result, Tensor) else set()
        for value, part in ((left, node.left), (right, node.right)):
            if not isinstance(value, Tensor) or not set(value.origins) <= carried:
                self._use(value, part, node, frame)
        return result

    def _eval_Tuple(self, node: cst.Tuple | cst.List, frame: Frame) -> Value:
        items = [self.eval(element.value, frame) for element in node.elements]
        if any(isinstance(element, cst.StarredElement) for element in node.elements):
            for item, element in zip(items, node.elements):
                self._use(item, element.value, node, frame)
            return UNKNOWN
        return Sequence(tuple(items), tuple(node.elements), is_list=isinstance(node, cst.List))

    _eval_List = _eval_Tuple

    def _eval_Comparison(self, node: cst.Comparison, frame: Frame) -> Value:
        """Comparisons of constants fold (`if LOSS == "bce":` picks one branch)."""
        left = self.eval(node.left, frame)
        values = [left]
        for target in node.comparisons:
            values.append(self.eval(target.comparator, frame))
        if all(isinstance(value, Constant) for value in values):
            folded = _fold_comparison(node, [value.value for value in values])  # type: ignore[union-attr]
            if folded is not None:
                return Constant(folded)
        folded = _fold_none_test(node, values)
        if folded is not None:
            return Constant(folded)
        for value, part in zip(values, [node.left, *(t.comparator for t in node.comparisons)]):
            self._use(value, part, node, frame)
        return UNKNOWN

    def _eval_Dict(self, node: cst.Dict, frame: Frame) -> Value:
        items = []
        known = True
        for element in node.elements:
            if isinstance(element, cst.DictElement):
                key = self.eval(element.key, frame)
                value = self.eval(element.value, frame)
                if isinstance(key, Constant):
                    items.append((key.value, value))
                    continue
                self._use(value, element.value, node, frame)
            else:
                self._use(self.eval(element.value, frame), element.value, node, frame)
            known = False
        return Mapping(tuple(items)) if known else UNKNOWN

    def _eval_NamedExpr(self, node: cst.NamedExpr, frame: Frame) -> Value:
        value = self.eval(node.value, frame)
        self.bind_target(node.target, value, frame)
        return value

    def _eval_Yield(self, node: cst.Yield, frame: Frame) -> Value:
        frame.generator = True
        self._eval_children(node, frame)
        return UNKNOWN

    def _eval_Lambda(self, node: cst.Lambda, frame: Frame) -> Value:
        info = self.scopes.lambda_info(node, frame.info)
        self._record_defaults(info, node.params, frame)
        return FunctionRef(info)

    def _eval_ListComp(self, node, frame: Frame) -> Value:
        """Comprehensions: their targets are a scope of their own."""
        saved = frame.env
        for clause in _for_clauses(node.for_in):
            self._use(self.eval(clause.iter, frame), clause.iter, node, frame)
            self.bind_target(clause.target, UNKNOWN, frame)
            for condition in clause.ifs:
                self.eval(condition.test, frame)
        parts = (node.key, node.value) if isinstance(node, cst.DictComp) else (node.elt,)
        values = []
        for part in parts:
            values.append(self.eval(part, frame))
            self._use(values[-1], part, node, frame)
        frame.env = saved
        return Collection(values[0]) if isinstance(node, cst.ListComp) else UNKNOWN

    _eval_SetComp = _eval_ListComp
    _eval_DictComp = _eval_ListComp
    _eval_GeneratorExp = _eval_ListComp

    def _eval_Attribute(self, node: cst.Attribute, frame: Frame) -> Value:
        base_node = node.value
        name = node.attr.value
        if isinstance(base_node, cst.Name) and frame.env is not None:
            binding = frame.env.get(f"{base_node.value}.{name}")
            if binding is not None and base_node.value == frame.receiver:
                self.eval(base_node, frame)
                return binding.value
        base = self.eval(base_node, frame)
        return self.attribute(base, base_node, name, node)

    def attribute(
        self, base: Value, base_node: cst.BaseExpression, name: str, node: cst.CSTNode
    ) -> Value:
        base = self.resolved(base)
        if isinstance(base, External):
            return base.attribute(name)
        if isinstance(base, ModuleRef):
            return self.project.member(base, name, self.depth)
        if isinstance(base, Instance):
            value = self.objects.instance_attribute(base, name)
            if isinstance(value, Tensor):
                return value.with_hop(
                    Hop(self.source.module.code_for_node(node), node, self.source)
                )
            if value is UNKNOWN and name in api.SELF_RETURNING_METHODS:
                return BoundMethod(base, base_node, name)
            return value
        if isinstance(base, ClassRef):
            return self.objects.class_attribute(base.info, name)
        if isinstance(base, OneOf):
            if name in api.SELF_RETURNING_METHODS:
                return BoundMethod(base, base_node, name)
            return join_all([self.attribute(o, base_node, name, node) for o in base.options])
        if isinstance(base, SuperOf):
            return self._super_attribute(base, name)
        if isinstance(base, OneHot) and name in api.SWAPPING:
            return torch_calls.swapped(base)
        if isinstance(base, Tensor) and name in api.PRESERVING_ATTRIBUTES:
            return base.with_step(Step(name, node, StepRole.COMMUTES, base_node))
        if base is UNKNOWN or isinstance(
            base, (Tensor, TorchModule, Sequence, Collection, Mapping, OneHot)
        ):
            return BoundMethod(base, base_node, name)
        return UNKNOWN

    def _super_attribute(self, base: SuperOf, name: str) -> Value:
        order, _ = self.objects.mro(base.info)
        for cls in order[1:]:
            method = cls.methods.get(name)
            if method is not None:
                return FunctionRef(method, bound=base.instance)
        return UNKNOWN

    def _item_key(
        self, node: cst.Subscript, frame: Frame
    ) -> tuple[str, tuple[Binding, ...]] | None:
        """`y[mask]`, `y[..., :4]` of a local tensor, indexed by constants and local names:
        the key its value is kept under, and the bindings it depends on."""
        if not isinstance(node.value, cst.Name):
            return None
        names = [node.value.value]
        if not _plain_index(node.slice, names):
            return None
        bindings = tuple(self._local_binding(name, frame) for name in names)
        if any(binding is None for binding in bindings):
            return None
        return " ".join(self.module.code_for_node(node).split()), bindings  # type: ignore[return-value]

    def _forget_items(self, name: str, frame: Frame) -> None:
        """Every `name[...]` written so far may have changed (another write into `name`)."""
        prefix = f"{name}["
        if frame.env is not None and any(key.startswith(prefix) for key in frame.item_writes):
            frame.env = {key: b for key, b in frame.env.items() if not key.startswith(prefix)}

    def _written_item(self, node: cst.Subscript, frame: Frame) -> Value | None:
        """What `y[mask] = v` stored, read back by the same `y[mask]` (None: nothing)."""
        written = self._item_key(node, frame)
        if written is None or frame.env is None:
            return None
        key, bindings = written
        binding = frame.env.get(key)
        recorded = frame.item_writes.get(key)
        if binding is None or recorded is None:
            return None
        if len(recorded) != len(bindings) or any(a is not b for a, b in zip(recorded, bindings)):
            return None
        return binding.value

    def _eval_Subscript(self, node: cst.Subscript, frame: Frame) -> Value:
        value = self._subscript(node, frame)
        if frame.item_writes and isinstance(node.value, cst.Name):
            written = self._written_item(node, frame)
            if written is not None:
                return written
        return value

    def _subscript(self, node: cst.Subscript, frame: Frame) -> Value:
        base = self.resolved(self.eval(node.value, frame))
        index = self._constant_index(node, frame)
        if isinstance(base, Tensor):
            return base.with_step(Step("index", node, StepRole.COMMUTES, node.value))
        if isinstance(base, OneHot) and base.dim == -1 and _selects_rows(node):
            return base
        if (
            isinstance(base, Sequence)
            and isinstance(index, int)
            and -len(base.items) <= index < len(base.items)
        ):
            return base.items[index]
        if isinstance(base, Sequence) and isinstance(index, slice):
            return Sequence(base.items[index], is_list=base.is_list)
        if isinstance(base, Collection):
            if isinstance(index, int) and -len(base.tail) <= index < 0:
                return base.tail[index]
            return join_all(list(list_items(base)))
        if isinstance(base, Mapping) and index is not None:
            return base.get(index)
        if isinstance(base, (Sequence, Mapping)):  # `MODELS[name]`: any item, used anywhere
            self._use(base, node.value, node, frame)
        if isinstance(base, TorchModule) and base.layers is not None:
            return _layer(base, node, index)
        return UNKNOWN

    def _constant_index(self, node: cst.Subscript, frame: Frame) -> Any:
        """The constant of `x[0]` / `x["key"]`; evaluates every index expression."""
        values = []
        for element in node.slice:
            if isinstance(element.slice, cst.Index):
                values.append(self.eval(element.slice.value, frame))
            else:
                self._eval_children(element.slice, frame)
                values.append(UNKNOWN)
        if len(values) == 1 and isinstance(values[0], Constant):
            return values[0].value
        if len(node.slice) == 1 and isinstance(node.slice[0].slice, cst.Slice):
            return _constant_slice(node.slice[0].slice)
        return None

    def _eval_Call(self, node: cst.Call, frame: Frame) -> Value:
        callee = self.resolved(self.eval(node.func, frame))
        args = tuple(
            ArgFact(
                arg.keyword.value if arg.keyword is not None else None,
                arg.value,
                self.eval(arg.value, frame),
                arg.star,
                arg,
            )
            for arg in node.args
        )
        call = torch_calls.Call(node, args, self.source, frame.info)
        result = self.call(callee, call, frame)
        fact = CallFact(node, callee, args, result, frame.env or {}, frame.info, frame.contexts)
        if frame.record:
            self.analysis.calls[node] = fact
        elif self.recording and frame.context is not None and frame.context[1]:
            self.analysis.context_calls[(node, frame.context)] = fact
        carried = set(result.origins) if isinstance(result, Tensor) else set()
        consumed = list(args)
        if isinstance(callee, BoundMethod):
            consumed.append(ArgFact(None, callee.receiver_node, callee.receiver))
        benign = _benign(callee)
        for arg in consumed:
            if (isinstance(arg.value, Tensor) and not set(arg.value.origins) <= carried) or (
                isinstance(
                    arg.value, (Sequence, Mapping, TorchModule, FunctionRef, ClassRef, OneOf)
                )
                and arg.value != result
                and not benign
            ):
                self._use(arg.value, arg.node, node, frame)
        return result

    def call(self, callee: Value, call: torch_calls.Call, frame: Frame) -> Value:
        if isinstance(callee, External):
            if callee.qualname == "builtins.super" and frame.info is not None and frame.info.cls:
                receiver = frame.receiver
                binding = (frame.env or {}).get(receiver) if receiver else None
                return SuperOf(frame.info.cls, binding.value if binding else UNKNOWN)
            runner = api.MODEL_RUNNERS.get(api.canonical(callee.qualname))
            if runner is not None:
                return self._run_model(runner, call, frame)
            result = torch_calls.call_external(callee.qualname, call)
            if callee.via_parameter:
                return _pinned(result, lambda node: node is call.node)
            return result
        if isinstance(callee, TorchModule):
            return torch_calls.call_module(callee, call)
        if isinstance(callee, Instance):
            method = self.objects.call_method_of(callee, ("__call__", "forward"))
            return self.call_function(method, call, frame) if method is not None else UNKNOWN
        if isinstance(callee, ClassRef):
            constructor = self.objects.constructor(callee.info)
            if constructor is not None:
                self._record_site(constructor, (callee.info, True), call.args)
            return Instance(callee.info, exact=True)
        if isinstance(callee, FunctionRef):
            return self.call_function(callee, call, frame)
        if isinstance(callee, OneOf):
            return join_all([self.call(option, call, frame) for option in callee.options])
        if isinstance(callee, BoundMethod):
            return self._call_method(callee, call, frame)
        if isinstance(callee, Choice):
            results = [self.call(option, call, frame) for option in callee.options]
            return _pinned(join_all(results), lambda node: node is call.node)
        return UNKNOWN

    def _run_model(self, inputs: str, call: torch_calls.Call, frame: Frame) -> Value:
        """`data_parallel(model, inputs)`, `checkpoint(fn, *args)`: what the model returns.
        An activation produced by the model call itself cannot be edited at this call."""
        args = [arg for arg in call.args if arg.keyword is None]
        if not args or any(arg.star for arg in args):
            return UNKNOWN
        model, passed = args[0], args[1:]
        if inputs != "*args":  # `data_parallel(model, inputs, device_ids, ...)`
            if not passed:
                return UNKNOWN
            passed = passed[:1]
            packed = passed[0].value
            if isinstance(packed, Sequence) and not packed.is_list:
                nodes = [getattr(node, "value", passed[0].node) for node in packed.nodes]
                if len(nodes) != len(packed.items):
                    nodes = [passed[0].node] * len(packed.items)
                passed = [ArgFact(None, node, item) for item, node in zip(packed.items, nodes)]
        inner = torch_calls.Call(call.node, tuple(passed), call.file, call.scope, model.node)
        return _pinned(self.call(model.value, inner, frame), lambda node: node is call.node)

    def call_function(self, ref: FunctionRef, call: torch_calls.Call, frame: Frame) -> Value:
        """A call of a project function: bind the call site, return its summary."""
        info = ref.info
        args = call.args
        context = None
        if ref.bound is not None:
            context = context_of(ref.bound)
        elif info.receiver is not None and args and not args[0].star and args[0].keyword is None:
            context, args = context_of(args[0].value), args[1:]  # `Base.forward(self, x)`
        if info.receiver is not None and context is None:
            return UNKNOWN
        passed, unclear = self._record_site(info, context, args)
        if frame.record:
            self.analysis.callers.setdefault(info, []).append(call.node)
        result = self.summary(info, context)
        flags = self._flags(info, context, passed, unclear)
        if flags:
            chosen = self.summary(info, context, flags)
            if chosen != result:
                passes = ", ".join(f"{name}={value.value!r}" for name, value in flags)
                hop = Hop(f"{info.qualname}({passes})", info.node, info.source, chosen=True)
                return _with_hop(chosen, hop)
        return _with_hop(result, Hop(info.qualname, info.node, info.source))

    def _flags(
        self, info: FunctionInfo, context: Context | None, passed: dict, unclear: set
    ) -> Flags:
        """The constants a call site passes (or leaves at their default) where the function's
        other call sites pass something else: `score(v, apply_sigmoid=True)` beside
        `score(v)`. Its result for this site is then told apart from the others' (for a
        function MAX_SPECIALISATIONS sets of constants at most)."""
        owner = self.owner(info)
        if not self.project.refined(owner):
            return ()
        context = self.project.context_for(info, context)
        bound = self.project.bindings.get((info, context), {})
        flags = []
        for name in info.parameter_names():
            value = passed.get(name, self.project.defaults.get((info, name)))
            if name not in unclear and is_flag(value) and bound.get(name) != value:
                flags.append((name, value))  # type: ignore[arg-type]
        if not flags:
            return ()
        runs = owner.specialisations.setdefault((info, context), set())
        if len(runs) >= MAX_SPECIALISATIONS and tuple(flags) not in runs:
            return ()
        runs.add(tuple(flags))
        return tuple(flags)

    def _record_site(self, info: FunctionInfo, context: Context | None, args) -> tuple[dict, set]:
        """What a call site passes to each parameter (the project binds parameters to it):
        the values passed by name, and the parameters passed in an unpacking."""
        names = info.parameter_names()
        params = info.params
        positional = [
            p.name.value for p in [*params.posonly_params, *params.params] if p.name.value in names
        ]
        passed = {name: arg.value for name, arg in bind(args, positional).items() if name in names}
        unclear: set[str] = set()
        if any(arg.star == "*" for arg in args):
            unclear.update(name for name in positional if name not in passed)
        if any(arg.star == "**" for arg in args):
            unclear.update(name for name in names if name not in passed)
        self.project.record_call((info, context), passed, unclear, False)
        return passed, unclear

    def _call_method(self, method: BoundMethod, call: torch_calls.Call, frame: Frame) -> Value:
        receiver, name = method.receiver, method.name
        if (
            isinstance(receiver, (TorchModule, Instance, OneOf))
            and name in api.SELF_RETURNING_METHODS
        ):
            return receiver
        if isinstance(receiver, TorchModule):
            if name == "forward":
                return torch_calls.call_module(receiver, call)
            if name in api.MUTATING_METHODS and receiver.ctor is not None:
                grown = torch_calls.grown_container(receiver, name, call)
                if grown is None or not self._rebind(method, grown, frame):
                    self.analysis.mutated_containers.add(receiver.ctor)  # even in a secondary run
            return UNKNOWN
        if name in ("append", "extend", "insert") and self._attribute_list(method, call, frame):
            return UNKNOWN
        if isinstance(receiver, (Sequence, Collection)):
            return self._list_method(method, call, frame)
        if isinstance(receiver, Mapping):
            if name == "get" and call.args and isinstance(call.args[0].value, Constant):
                return receiver.get(call.args[0].value.value)
            if name in _DICT_MUTATORS and isinstance(method.receiver_node, cst.Name):
                changed = _updated(receiver, call) if name == "update" else UNKNOWN
                self.bind_name(method.receiver_node.value, changed, call.node, frame)
            return UNKNOWN
        result = torch_calls.call_tensor_method(receiver, method.receiver_node, name, call)
        target = method.receiver_node
        if name.endswith("_") and isinstance(target, cst.Name):
            self.bind_name(target.value, result, call.node, frame)
        elif (
            name.endswith("_")
            and isinstance(target, cst.Subscript)
            and isinstance(target.value, cst.Name)
        ):  # `y[mask].mul_(2)`
            self._forget_items(target.value.value, frame)
        return result

    def _rebind(self, method: BoundMethod, grown: Value, frame: Frame) -> bool:
        """A container changed in place (`net.append(m)`, `self.net.add_module(n, m)`) where
        it is known: a local variable, or an attribute this very method assigned."""
        target = method.receiver_node
        if isinstance(target, cst.Name) and self._local_binding(target.value, frame) is not None:
            self.bind_name(target.value, grown, method.receiver_node, frame)
            return True
        if not (
            isinstance(target, cst.Attribute)
            and isinstance(target.value, cst.Name)
            and target.value.value == frame.receiver
            and frame.context is not None
            and frame.info is not None
        ):
            return False
        key = f"{frame.receiver}.{target.attr.value}"
        binding = (frame.env or {}).get(key)
        if binding is None or binding.value != method.receiver:
            return False
        objects = self.owner(frame.info).objects
        if not objects.replace_write(
            frame.context, frame.info, target.attr.value, binding.value, grown
        ):
            return False
        self.bind_name(key, grown, target, frame)
        return True

    def _list_method(self, method: BoundMethod, call: torch_calls.Call, frame: Frame) -> Value:
        """`outputs.append(p)` on a local list keeps what the list holds known."""
        target = method.receiver_node
        if not isinstance(target, cst.Name):
            return UNKNOWN
        receiver = method.receiver
        added = _added_items(method.name, call)
        extension = _extension(method.name, call)
        if isinstance(receiver, Sequence) and method.name == "append" and added is not None:
            nodes = receiver.nodes or (None,) * len(receiver.items)
            grown = Sequence((*receiver.items, *added), (*nodes, None), is_list=receiver.is_list)
        elif isinstance(receiver, Collection) and method.name == "append" and added is not None:
            grown = Collection(receiver.item, (*receiver.tail, *added))
        elif extension is not None and concatenate(receiver, extension) is not UNKNOWN:
            grown = concatenate(receiver, extension)
        elif added is not None:
            grown = Collection(join_all([*list_items(receiver), *added]))
        else:
            grown = UNKNOWN
        self.bind_name(target.value, grown, call.node, frame)
        return UNKNOWN

    def _attribute_list(self, method: BoundMethod, call: torch_calls.Call, frame: Frame) -> bool:
        """`self.outputs.append(p)`: the attribute holds what is appended (for every method)."""
        target = method.receiver_node
        if not (
            isinstance(target, cst.Attribute)
            and isinstance(target.value, cst.Name)
            and frame.context is not None
            and target.value.value == frame.receiver
        ):
            return False
        added = _added_items(method.name, call)
        value = Collection(join_all(list(added))) if added else UNKNOWN
        assert frame.info is not None
        self.owner(frame.info).objects.record_write(
            frame.context, frame.info, target.attr.value, value
        )
        return True

    # -- names ---------------------------------------------------------------------------------

    def lookup(self, node: cst.Name, frame: Frame) -> Value:
        name = node.value
        binding = self._local_binding(name, frame)
        if binding is not None:
            if frame.record:
                self.analysis.reads[node] = binding.defs
            return UNKNOWN if binding.value is ABSENT else binding.value
        return self._outer_value(name, frame)

    def _local_binding(self, name: str, frame: Frame) -> Binding | None:
        env = frame.env or {}
        if frame.outer is not None:  # a class body: its own names, then the enclosing frame's
            return env.get(name) or self._local_binding(name, frame.outer)
        info = frame.info
        if info is None:
            return env.get(name)
        if name in info.assigned and name not in info.declared_global:
            return env.get(name) or Binding(UNKNOWN, frozenset())
        return None

    def _outer_value(self, name: str, frame: Frame) -> Value:
        info = frame.info.parent if frame.info is not None else None
        while info is not None:
            if name in info.assigned and name not in info.declared_global:
                return join_all(self.histories.get(info, {}).get(name, []))
            info = info.parent
        if frame.info is not None or frame.on_demand:
            value = self.module_global(name)
            if value is not ABSENT:
                return value
        else:
            module_values = self.histories.get(None, {}).get(name)
            if module_values:
                return join_all(module_values)
        if name in self.scopes.module_assigned:
            return UNKNOWN
        for star in self.imports.star_modules:
            candidate = api.canonical(f"{star}.{name}")
            if _known_torch_name(candidate):
                return External(candidate)
        return External(f"builtins.{name}") if hasattr(builtins, name) else UNKNOWN

    # -- uses ----------------------------------------------------------------------------------

    def _use(
        self,
        value: Value,
        node: cst.CSTNode,
        consumer: cst.CSTNode,
        frame: Frame,
        returned: bool = False,
    ) -> None:
        if isinstance(value, (FunctionRef, ClassRef)):
            self.project.record_escape(value.info.node)  # may be called from anywhere now
        elif not frame.record:
            return
        elif isinstance(value, Tensor):
            self.analysis.record_use(
                value, Use(value.origins[0], node, consumer, frame.info, returned, self.source)
            )
        elif isinstance(value, TorchModule) and value.ctor is not None:
            self.analysis.module_uses.setdefault(value.ctor, []).append(consumer)
        elif isinstance(value, Sequence):
            for item in value.items:
                self._use(item, node, consumer, frame, returned)
        elif isinstance(value, Mapping):
            for _, item in value.items:
                self._use(item, node, consumer, frame, returned)
        elif isinstance(value, OneOf):
            for option in value.options:
                self._use(option, node, consumer, frame, returned)


def join_envs(envs: list[Env | None]) -> Env | None:
    """The environment where paths meet; None when no path reaches."""
    reachable = [env for env in envs if env is not None]
    if not reachable:
        return None
    first = reachable[0]
    if all(env is first for env in reachable):
        return first
    keys = dict.fromkeys(key for env in reachable for key in env)
    joined: Env = {}
    for key in keys:
        bindings = [env.get(key) for env in reachable]
        present = [b for b in bindings if b is not None]
        value: Value = ABSENT
        for binding in bindings:
            missing = UNKNOWN if "[" in key else ABSENT  # `y[mask]` not written on a path
            value = join(value, binding.value if binding is not None else missing)
        defs = frozenset().union(*(b.defs for b in present))
        same = all(b is present[0] for b in present) and ("[" not in key or None not in bindings)
        joined[key] = present[0] if same else Binding(value, defs)
    return joined


_INDEX_TOKENS = (
    cst.Integer,
    cst.Ellipsis,
    cst.Comma,
    cst.Colon,
    cst.Minus,
    cst.BaseParenthesizableWhitespace,
    cst.TrailingWhitespace,
)


def _plain_index(elements, names: list[str]) -> bool:
    """An index of constants, slices of constants and names (collected into `names`)."""
    pending: list[cst.CSTNode] = list(elements)
    while pending:
        node = pending.pop()
        if isinstance(node, cst.Name):
            names.append(node.value)
        elif isinstance(node, (cst.SubscriptElement, cst.Index, cst.Slice)):
            pending.extend(node.children)
        elif isinstance(node, cst.UnaryOperation) and isinstance(node.operator, cst.Minus):
            pending.append(node.expression)
        elif not isinstance(node, _INDEX_TOKENS):
            return False
    return True


def forget(env: Env | None, keys: set[str], marker: cst.CSTNode) -> Env | None:
    """`env` with `keys` unknown: what a loop body or handler may have assigned earlier."""
    if env is None:
        return None
    forgotten = dict(env)
    for key in keys:
        old = env.get(key)
        defs = (old.defs if old is not None else frozenset()) | {marker}
        forgotten[key] = Binding(UNKNOWN, defs)
    return forgotten


def _body(node) -> list:
    body = node.body
    if isinstance(body, cst.IndentedBlock):
        return list(body.body)
    if isinstance(body, cst.SimpleStatementSuite):
        return [body]
    return [body]


def _for_clauses(clause: cst.CompFor):
    while clause is not None:
        yield clause
        clause = clause.inner_for_in


def _layer(container: TorchModule, node: cst.Subscript, index: Any) -> Value:
    """`self.layers[-1]`, `self.net[1:]`, `self.heads[name]` (one of them: a Choice)."""
    assert container.layers is not None
    layers = container.layers
    if index is None or container.qualname == "torch.nn.ModuleDict":
        options = [layer.item if isinstance(layer, Many) else layer for layer, _ in layers]
        return Choice(tuple(dict.fromkeys(options))) if options else UNKNOWN
    many = [i for i, (layer, _) in enumerate(layers) if isinstance(layer, Many)]
    if many:  # known only before and after the layers of a comprehension or loop
        known = isinstance(index, int) and (
            0 <= index < many[0] or many[-1] - len(layers) < index < 0
        )
        return layers[index][0] if known else UNKNOWN
    if (
        container.ctor is not None
        and isinstance(index, int)
        and -len(layers) <= index < len(layers)
    ):
        return layers[index][0]
    if isinstance(index, slice):
        return TorchModule(container.qualname, container.ctor, container.file, (), layers[index])
    return UNKNOWN


def _constant_slice(node: cst.Slice) -> slice | None:
    parts = []
    for part in (node.lower, node.upper, node.step):
        if part is None:
            parts.append(None)
            continue
        value = _integer(part)
        if value is None:
            return None
        parts.append(value)
    return slice(*parts)


def _integer(node: cst.BaseExpression) -> int | None:
    if isinstance(node, cst.Integer):
        return int(node.evaluated_value)
    if isinstance(node, cst.UnaryOperation) and isinstance(node.operator, cst.Minus):
        inner = _integer(node.expression)
        return -inner if inner is not None else None
    return None


def _known_torch_name(qualname: str) -> bool:
    return (
        qualname in api.PRODUCER_FUNCTIONS
        or qualname in api.PRESERVING_FUNCTIONS
        or qualname in api.LOSS_BY_FUNCTION
        or api.is_torch_module_class(qualname)
    )


def _with_hop(value: Value, hop: Hop) -> Value:
    """A function's result marked with the return it came through (tuples item by item)."""
    if isinstance(value, Tensor):
        return value.with_hop(hop)
    if isinstance(value, Sequence):
        return Sequence(
            tuple(_with_hop(item, hop) for item in value.items), value.nodes, value.is_list
        )
    return value


def _selects_rows(node: cst.Subscript) -> bool:
    """`eye[y]`: one index of the first dimension (the rows of a one-hot stay one-hot)."""
    return len(node.slice) == 1 and isinstance(node.slice[0].slice, cst.Index)


def _last_item(iterated: Value) -> Value | None:
    """What the last iteration over a known, non-empty sequence binds (None: unknown)."""
    if isinstance(iterated, Sequence) and iterated.items:
        return iterated.items[-1]
    if isinstance(iterated, Collection) and iterated.tail:
        return iterated.tail[-1]
    if (
        isinstance(iterated, TorchModule)
        and iterated.qualname != "torch.nn.ModuleDict"
        and iterated.layers
        and not isinstance(iterated.layers[-1][0], Many)
    ):
        return iterated.layers[-1][0]
    return None


def _leaves_early(loop: cst.For) -> bool:
    """Whether the body can end the loop (or the function) before the last item."""

    def leaves(node: cst.CSTNode, nested: bool) -> bool:
        if isinstance(node, (cst.FunctionDef, cst.ClassDef, cst.Lambda)):
            return False
        if isinstance(node, (cst.Return, cst.Yield)) or (
            isinstance(node, cst.Break) and not nested
        ):
            return True
        nested = nested or isinstance(node, (cst.For, cst.While))
        return any(leaves(child, nested) for child in node.children)

    return loop.orelse is not None or leaves(loop.body, False)


def _pinned(value: Value, where) -> Value:
    """`value` with the calls it was produced by at nodes `where` accepts marked as not
    editable: such a call runs something else too (every layer of a loop, a whole model)."""
    if not isinstance(value, Tensor):
        return value
    sources = tuple(
        replace(source, origin=replace(source.origin, removal=Removal.NONE, operand=None))
        if source.origin.removal is Removal.CALL and where(source.origin.node)
        else source
        for source in value.sources
    )
    return Tensor(value.kind, sources)


_BENIGN_CALLS = frozenset(
    f"builtins.{name}"
    for name in (
        "isinstance",
        "issubclass",
        "type",
        "id",
        "repr",
        "str",
        "print",
        "hasattr",
        "callable",
    )
)


def _benign(callee: Value) -> bool:
    """Calls that take a function or class without calling it later."""
    return isinstance(callee, External) and (
        callee.qualname in _BENIGN_CALLS or api.canonical(callee.qualname) in api.MODEL_WRAPPERS
    )


_COMPARISONS = {
    cst.Equal: lambda a, b: a == b,
    cst.NotEqual: lambda a, b: a != b,
    cst.LessThan: lambda a, b: a < b,
    cst.LessThanEqual: lambda a, b: a <= b,
    cst.GreaterThan: lambda a, b: a > b,
    cst.GreaterThanEqual: lambda a, b: a >= b,
    cst.Is: lambda a, b: a is b,
    cst.IsNot: lambda a, b: a is not b,
}


def _truth(value: Value) -> bool | None:
    """Whether a value is true in a test, when that is certain: a constant, a function or
    class, an nn module that is not a container (a container is false when empty)."""
    if isinstance(value, Constant):
        try:
            return bool(value.value)
        except Exception:  # a constant whose truth is not a plain bool
            return None
    if isinstance(value, TorchModule):
        if value.qualname not in api.CONTAINER_MODULES:
            return True
        return bool(value.layers) if value.layers is not None else None
    if isinstance(value, (FunctionRef, ClassRef)):
        return True
    return None


# Values that are never None. A tensor is not among them: a tensor value may also stand for
# None on some path (see values.join).
_NEVER_NONE = (TorchModule, Instance, FunctionRef, ClassRef, OneOf, Sequence, Collection, Mapping)


def _is_none(value: Value) -> bool | None:
    """`value is None`, when that is certain."""
    if isinstance(value, Constant):
        return value.value is None
    return False if isinstance(value, _NEVER_NONE) else None


def _fold_none_test(node: cst.Comparison, values: list[Value]) -> bool | None:
    """`crit is None` / `crit is not None` when whether `crit` is None is certain."""
    if len(values) != 2 or not isinstance(node.comparisons[0].operator, (cst.Is, cst.IsNot)):
        return None
    left, right = values
    if right == Constant(None):
        answer = _is_none(left)
    elif left == Constant(None):
        answer = _is_none(right)
    else:
        return None
    if answer is None:
        return None
    return answer if isinstance(node.comparisons[0].operator, cst.Is) else not answer


def _fold_comparison(node: cst.Comparison, values: list) -> bool | None:
    """`"bce" == "bce"` -> True; None when an operator or operand cannot be folded."""
    result = True
    for target, left, right in zip(node.comparisons, values, values[1:]):
        compare = _COMPARISONS.get(type(target.operator))
        if compare is None:
            return None
        try:
            result = result and bool(compare(left, right))
        except TypeError:
            return None
    return result


def _added_items(method: str, call) -> tuple[Value, ...] | None:
    """What `append(x)` / `extend(xs)` / `insert(i, x)` add to a list, when it can be told."""
    args = [arg for arg in call.args if not arg.star and arg.keyword is None]
    if method == "append" and len(args) == 1:
        return (args[0].value,)
    if method == "insert" and len(args) == 2:
        return (args[1].value,)
    if method == "extend" and len(args) == 1:
        items = list_items(args[0].value)
        return items or None
    return None


_DICT_MUTATORS = frozenset(("update", "pop", "popitem", "clear", "setdefault"))


def _updated(mapping: Mapping, call) -> Value:
    """`d.update(other)` / `d.update(key=value)` of a dict whose keys are known."""
    added: list[tuple[Any, Value]] = []
    for arg in call.args:
        if arg.star:
            return UNKNOWN
        if arg.keyword is not None:
            added.append((arg.keyword, arg.value))
        elif isinstance(arg.value, Mapping):
            added.extend(arg.value.items)
        else:
            return UNKNOWN
    keys = {key for key, _ in added}
    kept = tuple((key, value) for key, value in mapping.items if key not in keys)
    return Mapping((*kept, *added))


def _extension(method: str, call) -> Value | None:
    """The list `extend(xs)` adds, when it is one."""
    args = [arg for arg in call.args if not arg.star and arg.keyword is None]
    if method == "extend" and len(args) == 1 and _is_list_like(args[0].value):
        value = args[0].value
        return Sequence(value.items, is_list=True) if isinstance(value, Sequence) else value
    return None


def _is_list_like(value: Value) -> bool:
    return isinstance(value, (Sequence, Collection))


def _number(text: str, kind):
    """A numeric literal's value (libcst's evaluated_value compiles every one: slow)."""
    cleaned = text.replace("_", "")
    try:
        return int(cleaned, 0) if kind is int else float(cleaned)
    except ValueError:
        return ast.literal_eval(text)
