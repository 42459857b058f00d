"""The project: the files being linted and the project files they import, analysed together.

A model defined in `models/unet.py` and trained in `train.py` meet here. Imports between
project files are resolved against package roots derived from the linted paths (a `src/`
layout too); third-party imports stay external. A project file is read, parsed and
evaluated only when an analysed file actually uses something from it.

Parameters get the values their call sites pass (`train(Net(), nn.BCELoss(), loader)`):
the files are analysed in rounds, each round binding every function's parameters to the
join of what the previous round saw at its call sites, until nothing changes. A function
whose reference escapes (passed as a value) keeps unknown parameters.
"""

from __future__ import annotations

import ast
import contextlib
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

from nanlint.analysis.facts import FileAnalysis
from nanlint.analysis.interpreter import Interpreter
from nanlint.analysis.layout import absolute, find_module, relative, roots_for
from nanlint.analysis.objects import primary_context
from nanlint.analysis.scopes import ClassInfo, FileScopes, FunctionInfo, defined_names
from nanlint.analysis.torch_api import LOSSES
from nanlint.analysis.values import (
    ABSENT,
    UNKNOWN,
    ClassRef,
    Collection,
    Constant,
    External,
    FunctionRef,
    Instance,
    Mapping,
    ModuleRef,
    OneHot,
    OneOf,
    ProjectName,
    Sequence,
    Tensor,
    TorchModule,
    Value,
    is_flag,
    join,
)
from nanlint.source import DecodeError, SourceFile

MAX_ROUNDS = 4
# How far from an analysed file dependencies are read (re-exporting __init__ files are free).
MAX_DEPTH = 2
# How many receiver classes a method is evaluated for, one by one (`Base.post_init` run for
# `self` a `BertModel`, a `GPT2Model`, ...); beyond that it runs once for every subclass of
# its class at once. Real projects rarely reach it; transformers reaches 600 per method.
MAX_CONTEXTS = 8
# How many function evaluations may nest (f calls g calls h ...); deeper calls are unknown.
# Flows that matter are a few calls deep; each level costs a few dozen Python frames, and
# the stack the analysis runs on (see nanlint.engine) is shared with module evaluations.
MAX_CALL_DEPTH = 24


@dataclass
class CallSites:
    """What one round saw at the call sites of a function in one receiver context."""

    passed: list[dict[str, Value]] = field(default_factory=list)
    unclear: set[str] = field(default_factory=set)  # parameters some site passes by unpacking
    all_unclear: bool = False  # a site unpacks **kwargs or *args over every parameter
    implicit: bool = False  # no site at all: a constructor's defaults (see _unbuilt_constructors)


def analyze(source: SourceFile) -> FileAnalysis:
    """Interpret one parsed file on its own (its project imports stay unknown)."""
    project = Project(sources={source.path: source})
    analyses, failures = project.analyze([source])
    if failures:
        raise failures[0][1]
    return next(iter(analyses.values()))


class Project:
    def __init__(self, roots: Iterable[Path] = (), sources: dict[Path, SourceFile] | None = None):
        self.roots = [Path(root) for root in dict.fromkeys(roots)]
        self._sources: dict[Path, SourceFile | None] = {
            absolute(Path(path)): source for path, source in (sources or {}).items()
        }
        self._scopes: dict[int, FileScopes] = {}
        self._interpreters: dict[Path, object] = {}
        self._module_paths: dict[str, Path | None] = {}
        self.defaults: dict[tuple[FunctionInfo, str], Value] = {}
        self.bindings: dict[tuple, dict[str, Value]] = {}
        self.call_sites: dict[tuple, CallSites] = {}
        self.escaped: set[int] = set()  # ids of function and class nodes referenced as values
        self.analyses: dict[Path, FileAnalysis] = {}
        self._running: set[tuple] = set()
        self._relevant_cache: dict[tuple, set[str]] = {}
        self._start_round()

    @classmethod
    def for_paths(
        cls, paths: Iterable[Path], sources: dict[Path, SourceFile] | None = None
    ) -> Project:
        """A project whose roots are the package roots of `paths` and their project tops."""
        return cls(roots_for(paths), sources)

    # -- files -------------------------------------------------------------------------

    def source(self, path: Path) -> SourceFile | None:
        """The file at `path`, read and decoded once (None when it cannot be read)."""
        path = absolute(path)
        if path not in self._sources:
            try:
                self._sources[path] = SourceFile.from_bytes(relative(path), path.read_bytes())
            except (OSError, DecodeError):
                self._sources[path] = None
        return self._sources[path]

    def inputs(self) -> dict[Path, SourceFile | None]:
        """Every file the analysis was given or read (None: it could not be read)."""
        return dict(self._sources)

    def resolved_modules(self) -> dict[str, Path | None]:
        """Every module name the analysis looked up, with the file it found (None: none)."""
        return dict(self._module_paths)

    def scopes(self, source: SourceFile) -> FileScopes:
        """The file's functions and classes, shared by every round."""
        key = id(source)
        if key not in self._scopes:
            self._scopes[key] = FileScopes(source)
        return self._scopes[key]

    def package_of(self, source: SourceFile) -> str | None:
        """The package a file's relative imports resolve against (`models` for models/unet.py)."""
        name = self.module_name(Path(source.path))
        if name is None:
            return None
        is_package = Path(source.path).name == "__init__.py"
        return name if is_package else name.rpartition(".")[0]

    def module_name(self, path: Path) -> str | None:
        path = absolute(path)
        for root in self.roots:
            try:
                relative = path.relative_to(absolute(root))
            except ValueError:
                continue
            parts = list(relative.with_suffix("").parts)
            if parts and parts[-1] == "__init__":
                parts.pop()
            if parts and all(part.isidentifier() for part in parts):
                return ".".join(parts)
        return None

    def module_path(self, qualname: str) -> Path | None:
        """The project file of module `qualname`, if there is one."""
        if qualname not in self._module_paths:
            self._module_paths[qualname] = find_module(self.roots, qualname)
        return self._module_paths[qualname]

    # -- interpreters --------------------------------------------------------------------

    def interpreter(self, source: SourceFile):
        """The current round's interpreter of a file (created on first use)."""
        interpreter = self._by_source.get(source)
        if interpreter is None:
            interpreter = Interpreter(source, self)
            self._by_source[source] = interpreter
            self._interpreters[absolute(Path(source.path))] = interpreter
        return interpreter

    def interpreter_at(self, path: Path, depth: int = 0):
        """The interpreter of a dependency at `depth` hops from an analysed file, or None
        when the file cannot be read or lies beyond MAX_DEPTH (a package's `__init__.py`,
        which only re-exports, costs no hop)."""
        source = self.source(path)
        if source is None:
            return None
        interpreter = self._by_source.get(source)
        if interpreter is None:
            if depth > MAX_DEPTH:
                return None
            interpreter = self.interpreter(source)
            interpreter.depth = depth
        elif depth < interpreter.depth:
            interpreter.depth = depth
        return interpreter

    def resolve(self, qualname: str, depth: int = 0, hops: int = 0) -> Value | None:
        """A project value for an imported qualified name, or None when it is not a project's.

        `models.unet.UNet` is module `models.unet`'s global `UNet` (which may itself be an
        import re-exported through a package `__init__`); `models` is the module itself.
        `depth` is the requesting file's distance from the analysed files.
        """
        if hops > 8:
            return UNKNOWN
        parts = qualname.split(".")
        for cut in range(len(parts), 0, -1):
            path = self.module_path(".".join(parts[:cut]))
            if path is None:
                continue
            value: Value = ModuleRef(path, ".".join(parts[:cut]))
            for name in parts[cut:]:
                value = self.member(value, name, depth, hops + 1)
            return value
        return None

    def member(self, module: Value, name: str, depth: int = 0, hops: int = 0) -> Value:
        """`module.name` for a project module: a global of its file, or a submodule."""
        if not isinstance(module, ModuleRef):
            return UNKNOWN
        submodule = self.module_path(f"{module.qualname}.{name}")
        step = 0 if module.path.name == "__init__.py" else 1
        interpreter = (
            self.interpreter_at(module.path, depth + step) if module.path.is_file() else None
        )
        value = interpreter.module_global(name) if interpreter is not None else ABSENT
        if value is ABSENT:
            if submodule is not None:
                return ModuleRef(submodule, f"{module.qualname}.{name}")
            return UNKNOWN
        if isinstance(value, ProjectName):  # re-exported: `from .unet import UNet` in __init__
            return self.resolve(value.qualname, depth + step, hops + 1) or UNKNOWN
        return value

    # -- rounds ----------------------------------------------------------------------------

    def analyze(
        self,
        sources: Iterable[SourceFile],
        candidates: Iterable[SourceFile] = (),
        tokens: Iterable[str] = (),
    ) -> tuple[dict[Path, FileAnalysis], list]:
        """Analyse `sources` (and what they use) until parameter bindings are stable.

        A candidate (a linted file the token prefilter skipped) joins the analysis when it
        turns out to matter: it defines a function whose parameters its call sites bind, or
        it mentions a name whose definition mentions one of `tokens` (what the rules look
        for). Returns the analyses by absolute path, and the (source, exception) of any file
        whose analysis failed (the others are still analysed).
        """
        analysed = {absolute(Path(s.path)): s for s in sources}
        pending = {absolute(Path(s.path)): s for s in candidates}
        for path in analysed:
            pending.pop(path, None)
        tokens = tuple(tokens)
        failures: list = []
        for _ in range(MAX_ROUNDS):
            self._start_round()
            self.analyses, failures = {}, []
            failed: dict[Path, Exception] = {}
            # every module first, so that a method sees every subclass of its class
            for path, source in list(analysed.items()):
                with _recorded_failure(failed, path):
                    self.interpreter(source).begin()
            for path, source in list(analysed.items()):
                with _recorded_failure(failed, path):
                    if path not in failed:
                        self.analyses[path] = self.interpreter(source).run()
            failures = [(analysed[path], error) for path, error in failed.items()]
            bindings = self._bindings()
            joined = self._joining(analysed, pending, bindings, tokens)
            for path in joined:
                analysed[path] = pending.pop(path)
            if not joined and bindings == self.bindings:
                break
            self.bindings = bindings
        return self.analyses, failures

    def _joining(self, analysed: dict, pending: dict, bindings: dict, tokens: tuple) -> list[Path]:
        """The candidates that matter now (see analyze)."""
        joined = {
            absolute(Path(info.source.path))
            for (info, _), values in bindings.items()
            if any(self._relevant(value) for value in values.values())
        } & pending.keys()
        names = set()
        for source in analysed.values():
            key = (id(source), tokens)
            if key not in self._relevant_cache:
                with contextlib.suppress(RecursionError):  # too deep: reported elsewhere
                    self._relevant_cache[key] = relevant_names(source, tokens)
            names |= self._relevant_cache[key]
        sunk = self._sunk_origins()
        if sunk:
            for interpreter in self.interpreters():
                names |= self._producing_names(interpreter, sunk)
        if names:
            pattern = re.compile(r"\b(?:" + "|".join(sorted(map(re.escape, names))) + r")\b")
            joined |= {path for path, source in pending.items() if pattern.search(source.text)}
        return [path for path in sorted(joined) if _parses(pending[path])]

    def _sunk_origins(self) -> set:
        """Origins whose values reached a loss or a logarithm this round."""
        from nanlint.analysis.operations import match
        from nanlint.analysis.sinks import sink_call

        sunk = set()
        for interpreter in self.interpreters():
            for fact in interpreter.analysis.call_facts():
                operation = match(fact.callee, fact.args)
                if sink_call(fact, LOSSES) is None and (
                    operation is None or operation.name not in ("log", "log1p")
                ):
                    continue
                for arg in fact.args:
                    if isinstance(arg.value, Tensor):
                        sunk.update(arg.value.origins)
        return sunk

    def _relevant(self, value: Value) -> bool:
        """A parameter value worth analysing the function's file for: one with a kind."""
        if isinstance(value, (Tensor, TorchModule)):
            return True
        if isinstance(value, (Sequence, Collection, Mapping)):
            return bindable(value) and not isinstance(value, Constant)
        return False

    def _producing_names(self, interpreter, sunk: set) -> set[str]:
        """Top-level names of a file whose value carries one of the `sunk` origins: a class
        whose forward returns it, a function returning it, a module-level tensor (so the
        files that use them, for predictions or call sites, get analysed too)."""
        names = set()
        for name, values in interpreter.module_values().items():
            if any(sunk.intersection(self._origins(interpreter, value)) for value in values):
                names.add(name)
        return names

    def _origins(self, interpreter, value: Value) -> tuple:
        if isinstance(value, Tensor):
            return value.origins
        if isinstance(value, (ClassRef, Instance)):
            method = value.info.methods.get("forward") or value.info.methods.get("__call__")
            if method is None:
                return ()
            owner = self._by_source.get(method.source)
            summaries = [
                owner.summaries.get((method, (value.info, exact))) if owner else None
                for exact in (False, True)
            ]
            return tuple(
                o for summary in summaries if isinstance(summary, Tensor) for o in summary.origins
            )
        if isinstance(value, FunctionRef) and value.info.cls is None:
            owner = self._by_source.get(value.info.source)
            result = owner.summaries.get((value.info, None)) if owner else None
            return result.origins if isinstance(result, Tensor) else ()
        return ()

    def _start_round(self) -> None:
        self._interpreters = {}
        self._by_source: dict[SourceFile, object] = {}
        self._classes: list = []  # (ObjectModel, ClassInfo) of the classes defined this round
        self._subclass_index: dict[ClassInfo, list[ClassInfo]] = {}
        self._indexed = 0  # how many of _classes the index holds
        self._running = set()
        self.call_sites = {}
        self.escaped = set()
        self._contexts: dict[FunctionInfo, set] = {}
        self._external_writes: tuple[int, frozenset[str]] = (-1, frozenset())

    def record_call(
        self, key: tuple, passed: dict[str, Value], unclear: set[str], all_unclear: bool
    ) -> None:
        sites = self.call_sites.setdefault(key, CallSites())
        sites.passed.append(passed)
        sites.unclear |= unclear
        sites.all_unclear = sites.all_unclear or all_unclear

    def record_escape(self, node) -> None:
        self.escaped.add(id(node))

    def _bindings(self) -> dict[tuple, dict[str, Value]]:
        """Each function context's parameter values: the join over its call sites.

        A method's primary context (any receiver of its class) sees every call site of the
        method, whatever the receiver: `Trainer(...)` and a subclass's `super().__init__(...)`.
        """
        by_function: dict[FunctionInfo, CallSites] = {}
        for (info, _), sites in self.call_sites.items():
            merged = by_function.setdefault(info, CallSites())
            merged.passed += sites.passed
            merged.unclear |= sites.unclear
            merged.all_unclear = merged.all_unclear or sites.all_unclear
        keys = dict(self.call_sites)
        for info, sites in by_function.items():
            keys[(info, primary_context(info))] = sites
        for info in self._unbuilt_constructors(by_function):
            keys[(info, primary_context(info))] = CallSites(passed=[{}], implicit=True)
        bindings: dict[tuple, dict[str, Value]] = {}
        for key, sites in keys.items():
            values = self._bound(key[0], sites)
            if values:
                bindings[key] = values
        return bindings

    def _unbuilt_constructors(self, called) -> list[FunctionInfo]:
        """The `__init__` methods of the analysed files that no call site runs: they are
        evaluated with their default objects and Nones, as if built by `Net()`, while a
        default flag or name leaves its variants open (a class that is passed around as a
        value, into a registry or a factory, is left unknown by _bound)."""
        return [
            info
            for interpreter in self.interpreters()
            if interpreter.depth == 0
            for info in interpreter.scopes.functions.values()
            if info.name == "__init__" and info.cls is not None and info not in called
        ]

    def _bound(self, info: FunctionInfo, sites: CallSites) -> dict[str, Value]:
        if sites.all_unclear or id(info.node) in self.escaped or _escaped_class(self, info):
            return {}
        owner = self._by_source.get(info.source)
        if owner is not None and not self.refined(owner):
            return {}
        values: dict[str, Value] = {}
        for name in info.parameter_names():
            if name in sites.unclear:
                continue
            joined: Value = ABSENT
            for passed in sites.passed:
                joined = join(joined, passed.get(name, self.defaults.get((info, name), UNKNOWN)))
            if joined is not ABSENT and bindable(joined):
                if owner is not None and owner.depth > 0 and isinstance(joined, Constant):
                    continue  # flags choose branches in the analysed files only
                if sites.implicit and joined != Constant(None) and isinstance(joined, Constant):
                    continue  # a library class's variants (`variant="O"`) all stay open
                values[name] = joined
        return values

    def refined(self, interpreter: Interpreter) -> bool:
        """Whether a file's functions see what their call sites pass: the outermost
        dependencies (MAX_DEPTH hops away) are read, not refined."""
        return interpreter.depth < MAX_DEPTH

    def uses_of(self, origin) -> list:
        """Every recorded use of an origin, in every file of this round."""
        uses = []
        for interpreter in self.interpreters():
            uses.extend(interpreter.analysis.uses_of(origin))
        return uses

    def interpreters(self) -> list:
        return list(self._interpreters.values())

    def define_class(self, model, info: ClassInfo) -> None:
        """Note a class definition just evaluated by `model` (an ObjectModel)."""
        self._classes.append((model, info))

    def subclasses(self, info: ClassInfo) -> list[ClassInfo]:
        """The subclasses of `info` among the classes defined so far this round (indexed
        once each, as they appear)."""
        while self._indexed < len(self._classes):  # (an MRO may define more classes)
            model, other = self._classes[self._indexed]
            self._indexed += 1
            for ancestor in model.mro(other)[0][1:]:
                self._subclass_index.setdefault(ancestor, []).append(other)
        return self._subclass_index.get(info, [])

    def external_attribute_writes(self, info) -> frozenset[str]:
        """Attributes assigned from outside a class (`model.head = ...`) in any loaded file."""
        if self._external_writes[0] != len(self._interpreters):
            names: set[str] = set()
            for interpreter in self.interpreters():
                names |= interpreter.scopes.external_attribute_writes
            self._external_writes = (len(self._interpreters), frozenset(names))
        return self._external_writes[1]

    # -- functions being evaluated ----------------------------------------------------------

    def context_for(self, info: FunctionInfo, context):
        """The receiver context `info` is evaluated in: `context`, unless `info` already ran
        for MAX_CONTEXTS receiver classes this round; then its class-wide context, whose
        attribute values join those of every subclass (less precise, never wrong)."""
        if context is None or info.cls is None or context == (info.cls, False):
            return context
        seen = self._contexts.setdefault(info, set())
        if context in seen or len(seen) < MAX_CONTEXTS:
            seen.add(context)
            return context
        return (info.cls, False)

    def start(self, info: FunctionInfo, context) -> None:
        self._running.add((info, context))

    def stop(self, info: FunctionInfo, context) -> None:
        self._running.discard((info, context))

    def too_deep(self) -> bool:
        """Whether MAX_CALL_DEPTH function evaluations are already under way."""
        return len(self._running) >= MAX_CALL_DEPTH

    def running(self, info: FunctionInfo, context=...) -> bool:
        """Whether `info` is being evaluated (in `context`, or in any context)."""
        if context is ...:
            return any(key[0] is info for key in self._running)
        return (info, context) in self._running


def bindable(value: Value) -> bool:
    """Whether a parameter value is worth another round: something that can carry or
    decide a kind (a tensor, an nn module, a model, a torch loss or activation, a flag, a
    name or a None choosing a branch). Numbers, callbacks and unresolved values cannot,
    and binding them would only cost rounds."""
    from nanlint.analysis.torch_api import is_kind_related

    if isinstance(value, Constant):
        return is_flag(value)
    if isinstance(value, External):
        return is_kind_related(value.qualname)
    if isinstance(value, Collection):
        return any(bindable(item) for item in (value.item, *value.tail))
    if isinstance(value, Sequence):
        return any(bindable(item) for item in value.items)
    if isinstance(value, Mapping):
        return any(bindable(item) for _, item in value.items)
    if isinstance(value, OneOf):
        return any(bindable(option) for option in value.options)
    return isinstance(value, (Tensor, TorchModule, Instance, ClassRef, OneHot))


def relevant_names(source: SourceFile, tokens: tuple[str, ...]) -> set[str]:
    """Names a file defines at top level whose definition mentions one of `tokens`.

    Uses Python's own parser for the statements' line ranges: a hundred times cheaper than
    regenerating each statement's code from the libcst tree.
    """
    names: set[str] = set()
    if not tokens or not any(token in source.text for token in tokens):
        return names
    try:
        tree = ast.parse(source.text)
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return {name for statement in source.module.body for name in defined_names(statement)}
    lines = source.text.splitlines()
    for statement in tree.body:
        end = getattr(statement, "end_lineno", None) or statement.lineno
        text = "\n".join(lines[statement.lineno - 1 : end])
        if any(token in text for token in tokens):
            names |= _ast_bound_names(statement)
    return names


def _ast_bound_names(statement: ast.stmt) -> set[str]:
    if isinstance(statement, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
        return {statement.name}
    names = set()
    for node in ast.walk(statement):
        if isinstance(node, ast.Name) and isinstance(node.ctx, ast.Store):
            names.add(node.id)
        elif isinstance(node, ast.alias):
            names.add((node.asname or node.name).split(".")[0])
        elif isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            names.add(node.name)
    return names


def _parses(source: SourceFile) -> bool:
    try:
        source.module  # noqa: B018 - parse
    except Exception:
        return False
    return True


@contextlib.contextmanager
def _recorded_failure(failed: dict[Path, Exception], path: Path):
    """One file's failure must not stop the others: it is noted, and the file skipped."""
    try:
        yield
    except Exception as error:
        failed[path] = error


def _escaped_class(project: Project, info: FunctionInfo) -> bool:
    """A constructor whose class is passed around as a value can be called anywhere."""
    return info.name == "__init__" and info.cls is not None and id(info.cls.node) in project.escaped
