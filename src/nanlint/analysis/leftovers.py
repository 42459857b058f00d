"""What a fix leaves behind: a variable or an import that only the rewritten code read.

`p = torch.sigmoid(z)` read only by the loss the fix now feeds `z`, or
`from torch.nn.functional import softmax` once no softmax is called, are dead after the
edit. They are removed when that is provably harmless: the name was read inside the edited
text, no read of it is left anywhere in the file (any scope: a name read elsewhere keeps
every definition), every assignment of it is a statement of its own whose value is pure (torch
activations, tensor operations, arithmetic, names), and removing the line leaves its block
non-empty. Deleting one can orphan another (`p = torch.sigmoid(z)` read only by
`q = p.clamp(...)`), so this repeats until nothing changes.
"""

from __future__ import annotations

import re

import libcst as cst
from libcst.metadata import MetadataWrapper, PositionProvider

from nanlint.analysis import torch_api as api
from nanlint.analysis.imports import ImportTable, dotted_name
from nanlint.source import line_starts

_IDENTIFIER = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")

_PURE_FUNCTIONS = frozenset(
    {*api.PRODUCER_FUNCTIONS, *api.PRESERVING_FUNCTIONS, *api.OPERATION_BY_FUNCTION}
    | {*api.ACTIVATION_MODULES, *api.LOSS_BY_MODULE}
)
_PURE_METHODS = frozenset(
    name
    for name in {*api.PRODUCER_METHODS, *api.PRESERVING_METHODS, *api.OPERATION_BY_METHOD}
    if not name.endswith("_")
)

Span = tuple[int, int, str]  # replace [start, end) of the original text by a string


def without_leftovers(text: str, edits: list[Span]) -> list[Span]:
    """`edits` (offsets of the original text), plus the removal of what they leave unused.
    An edit inside a removed or rewritten statement (a name added to an import that loses
    another) is taken into that statement's new text."""
    edits = list(edits)
    removed = _identifiers_removed(text, edits)
    for _ in range(4):  # each round may orphan a definition the last one removed
        if not removed:
            break
        current = list(edits)
        found = _unused(_apply(text, current), removed)
        removed = set()
        for start, end, new in found:
            inside = _inside_edits(start, end, current)
            if inside is None:
                continue  # an edit straddles the statement: leave it
            original = (_original(start, current), _original(end, current, end=True))
            removed |= set(_IDENTIFIER.findall(text[original[0] : original[1]]))
            edits = [edit for edit in edits if edit not in inside] + [(*original, new)]
    return edits


def _inside_edits(start: int, end: int, edits: list[Span]) -> list[Span] | None:
    """The edits whose new text lies within [start, end) of the edited text; None when one
    straddles a bound."""
    inside, shift = [], 0
    for edit in sorted(edits):
        edit_start, edit_end, new = edit
        new_start = edit_start + shift
        new_end = new_start + len(new)
        shift += len(new) - (edit_end - edit_start)
        insertion_at_start = new_start == new_end == start and edit_start == edit_end
        if (new_end <= start or new_start >= end) and not insertion_at_start:
            continue
        if start <= new_start and new_end <= end:
            inside.append(edit)
        else:
            return None
    return inside


def _identifiers_removed(text: str, edits: list[Span]) -> set[str]:
    before = {word for start, end, _ in edits for word in _IDENTIFIER.findall(text[start:end])}
    after = {word for _, _, new in edits for word in _IDENTIFIER.findall(new)}
    return before - after


def _apply(text: str, edits: list[Span]) -> str:
    pieces, cursor = [], 0
    for start, end, new in sorted(edits):
        pieces += [text[cursor:start], new]
        cursor = end
    pieces.append(text[cursor:])
    return "".join(pieces)


def _original(offset: int, edits: list[Span], end: bool = False) -> int:
    """The original offset of an offset of the edited text outside every edit. An edit whose
    new text is empty and sits exactly at `offset` counts as before a start, after an end."""
    shift = 0
    for start, stop, new in sorted(edits):
        new_start = start + shift
        new_end = new_start + len(new)
        if new_end > offset or (end and new_start == offset):
            break
        shift += len(new) - (stop - start)
    return offset - shift


def _unused(text: str, candidates: set[str]) -> list[Span]:
    try:
        wrapper = MetadataWrapper(cst.parse_module(text))
    except cst.ParserSyntaxError:
        return []
    finder = _Definitions(candidates, ImportTable.of_module(wrapper.module))
    wrapper.visit(finder)
    positions = wrapper.resolve(PositionProvider)
    starts = line_starts(text)
    spans: list[Span] = []
    for (name, scope), statements in finder.definitions.items():
        if (name, scope) in finder.impure or name in finder.impure:
            continue
        reads = finder.reads.get(name, [])
        if any(scope is None or scope in functions for functions in reads):
            continue
        for line, statement in statements:
            position = positions[line]
            start = starts[position.start.line - 1]
            end = starts[position.end.line] if position.end.line < len(starts) else len(text)
            indent = text[start : start + position.start.column]
            if "#" in text[start:end] or indent.strip():
                continue
            code = "" if statement is None else indent + _statement_code(line, statement)
            spans.append((start, end, code))
    return spans


def _statement_code(line: cst.SimpleStatementLine, statement: cst.BaseSmallStatement) -> str:
    return cst.Module(body=[line.with_changes(leading_lines=[], body=[statement])]).code


class _Definitions(cst.CSTVisitor):
    """Reads of the candidate names (with the functions around each), and the statements
    that define them (with the function they are local to, None at module level)."""

    def __init__(self, candidates: set[str], imports: ImportTable):
        self.candidates = candidates
        self.imports = imports
        self.reads: dict[str, list[frozenset]] = {}
        # (name, function or None) -> its defining lines, what replaces each (None: delete)
        self.definitions: dict[tuple, list[tuple]] = {}
        self.impure: set = set()  # names, or (name, function), that must stay
        self._skip: set[int] = set()  # Name nodes that are not reads
        self._blocks: list[int] = []
        self._functions: list[cst.CSTNode] = []

    def visit_FunctionDef(self, node: cst.FunctionDef) -> None:
        self._functions.append(node)

    def leave_FunctionDef(self, original_node: cst.FunctionDef) -> None:
        self._functions.pop()

    def visit_ClassDef(self, node: cst.ClassDef) -> None:
        self._functions.append(node)  # class attributes are read as `self.x`: never removed

    def leave_ClassDef(self, original_node: cst.ClassDef) -> None:
        self._functions.pop()

    def visit_Lambda(self, node: cst.Lambda) -> None:
        self._functions.append(node)

    def leave_Lambda(self, original_node: cst.Lambda) -> None:
        self._functions.pop()

    def visit_Global(self, node: cst.Global) -> None:
        self.impure.update(item.name.value for item in node.names)

    def visit_Nonlocal(self, node: cst.Nonlocal) -> None:
        self.impure.update(item.name.value for item in node.names)

    def _scope(self) -> cst.CSTNode | None:
        return self._functions[-1] if self._functions else None

    def _define(self, name: str, line: cst.SimpleStatementLine, replacement) -> None:
        if isinstance(self._scope(), cst.ClassDef):
            return
        self.definitions.setdefault((name, self._scope()), []).append((line, replacement))

    def _read(self, name: str) -> None:
        self.reads.setdefault(name, []).append(frozenset(self._functions))

    def visit_IndentedBlock(self, node: cst.IndentedBlock) -> None:
        self._blocks.append(len(node.body))

    def leave_IndentedBlock(self, original_node: cst.IndentedBlock) -> None:
        self._blocks.pop()

    def visit_SimpleStatementLine(self, node: cst.SimpleStatementLine) -> None:
        if len(node.body) != 1:
            return
        small = node.body[0]
        alone = not self._blocks or self._blocks[-1] > 1
        if isinstance(small, cst.Assign) and len(small.targets) == 1:
            target = small.targets[0].target
            if isinstance(target, cst.Name) and target.value in self.candidates:
                self._skip.add(id(target))
                if alone and self._pure(small.value):
                    self._define(target.value, node, None)
                else:
                    self.impure.add((target.value, self._scope()))
        elif isinstance(small, (cst.Import, cst.ImportFrom)):
            self._import(node, small, alone)

    def _import(self, line: cst.SimpleStatementLine, statement, alone: bool) -> None:
        if isinstance(statement, cst.ImportFrom) and (
            isinstance(statement.names, cst.ImportStar)
            or (statement.module is not None and dotted_name(statement.module) == "__future__")
        ):
            return
        aliases = list(statement.names)  # type: ignore[arg-type]
        unused = []
        for alias in aliases:
            bound = alias.asname.name if alias.asname else alias.name
            local = bound.value if isinstance(bound, cst.Name) else None
            if isinstance(alias.name, cst.Attribute) and alias.asname is None:
                local = dotted_name(alias.name).split(".")[0]  # type: ignore[union-attr]
            if local in self.candidates:
                unused.append((alias, local))
                for node in (alias.name, bound):
                    self._skip_names(node)
        for alias, local in unused:
            kept = [a for a in aliases if a is not alias]
            if kept:
                kept[-1] = kept[-1].with_changes(comma=cst.MaybeSentinel.DEFAULT)
                replacement = statement.with_changes(names=kept)
                self._define(local, line, replacement)
            elif alone:
                self._define(local, line, None)
            else:
                self.impure.add((local, self._scope()))
        if len(unused) > 1:  # one edit per statement: keep it simple, remove none
            self.impure.update((local, self._scope()) for _, local in unused)

    def _skip_names(self, node: cst.CSTNode) -> None:
        for child in _walk(node):
            if isinstance(child, cst.Name):
                self._skip.add(id(child))

    def visit_Attribute(self, node: cst.Attribute) -> None:
        self._skip.add(id(node.attr))

    def visit_Arg(self, node: cst.Arg) -> None:
        if node.keyword is not None:
            self._skip.add(id(node.keyword))

    def visit_Name(self, node: cst.Name) -> None:
        if node.value in self.candidates and id(node) not in self._skip:
            self._read(node.value)

    def visit_SimpleString(self, node: cst.SimpleString) -> None:
        value = node.evaluated_value
        if isinstance(value, str) and value in self.candidates:
            self._read(value)  # `__all__`, getattr(...)

    def _pure(self, node: cst.CSTNode) -> bool:
        if isinstance(node, cst.Call):
            return self._pure_callee(node.func) and all(self._pure(a.value) for a in node.args)
        if isinstance(node, (cst.Lambda, cst.Await, cst.Yield, cst.NamedExpr)):
            return False
        return all(self._pure(child) for child in node.children if isinstance(child, cst.CSTNode))

    def _pure_callee(self, func: cst.BaseExpression) -> bool:
        dotted = dotted_name(func)
        if dotted is not None:
            head, _, rest = dotted.partition(".")
            qualname = self.imports.qualname_of(head)
            if qualname is not None:
                name = api.canonical(f"{qualname}.{rest}" if rest else qualname)
                return name in _PURE_FUNCTIONS
        if isinstance(func, cst.Attribute):
            return func.attr.value in _PURE_METHODS and self._pure(func.value)
        return False


def _walk(node: cst.CSTNode):
    yield node
    for child in node.children:
        yield from _walk(child)
