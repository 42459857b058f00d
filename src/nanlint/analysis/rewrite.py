"""Edit plans: fixes written against tree nodes, resolved to text edits at the end.

A replacement names a node and what goes in its place: literal text and other nodes, whose
text is copied from the source *with the replacements inside them applied*. So removing a
clamp around a sigmoid (`clamp(sigmoid(z), a, b)` -> its operand) and removing the sigmoid
(`sigmoid(z)` -> `z`) compose into `z`, whatever order the rules planned them in.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Union

import libcst as cst

from nanlint.analysis.leftovers import without_leftovers
from nanlint.fixes import Applicability, Edit, Fix
from nanlint.source import SourceFile

Part = Union[str, cst.CSTNode]

# Expressions that can stand anywhere an atom can, without parentheses.
_ATOMS = (
    cst.Name,
    cst.Attribute,
    cst.Call,
    cst.Subscript,
    cst.Integer,
    cst.Float,
    cst.Imaginary,
    cst.SimpleString,
    cst.ConcatenatedString,
    cst.FormattedString,
    cst.List,
    cst.Tuple,
    cst.Dict,
    cst.Set,
    cst.ListComp,
    cst.SetComp,
    cst.DictComp,
    cst.GeneratorExp,
)


@dataclass(frozen=True)
class _Replacement:
    file: SourceFile
    node: cst.CSTNode | None  # None for a raw text range
    parts: tuple[Part, ...]
    start: int
    end: int


@dataclass
class EditPlan:
    """Edits to one or more files, planned on nodes."""

    title: str
    applicability: Applicability = Applicability.SAFE
    notes: list[str] = field(default_factory=list)
    _replacements: list[_Replacement] = field(default_factory=list)
    _insertions: list[tuple[SourceFile, int, str]] = field(default_factory=list)
    _impossible: str | None = None  # why the fix cannot be made, when a step found out

    def impossible(self, reason: str) -> None:
        """Give the fix up (the diagnostic stays, without a fix): `reason` says why."""
        self._impossible = self._impossible or reason

    def downgrade(self, applicability: Applicability, note: str | None = None) -> None:
        self.applicability = self.applicability.at_least(applicability)
        if note and note not in self.notes:
            self.notes.append(note)

    def replace(self, file: SourceFile, node: cst.CSTNode, *parts: Part) -> None:
        if any(r.node is node for r in self._replacements):
            return
        start, end = file.node_offsets(node)
        self._replacements.append(_Replacement(file, node, tuple(parts), start, end))

    def replace_atom(self, file: SourceFile, node: cst.CSTNode, *parts: Part) -> None:
        """Replace `node` and its own parentheses by parts that form an atom (a call)."""
        if any(r.node is node for r in self._replacements):
            return
        start, end = _with_parentheses(file, node)
        self._replacements.append(_Replacement(file, node, tuple(parts), start, end))

    def replace_with_operand(
        self, file: SourceFile, node: cst.CSTNode, operand: cst.BaseExpression
    ) -> None:
        """Put `operand` where `node` is, parenthesised when the place needs it."""
        if needs_parentheses(operand, file.parents.get(node)):
            self.replace(file, node, "(", operand, ")")
        else:
            self.replace(file, node, operand)

    def append_arguments(self, file: SourceFile, call: cst.Call, texts: list[str]) -> None:
        """Add `name=value` arguments at the end of a call that has arguments."""
        if texts:
            _, end = file.node_offsets(call.args[-1].value)
            self.insert(file, end, "".join(f", {text}" for text in texts))

    def delete(self, file: SourceFile, start: int, end: int) -> None:
        self._replacements.append(_Replacement(file, None, (), start, end))

    def insert(self, file: SourceFile, offset: int, text: str) -> None:
        if (file, offset, text) not in self._insertions:
            self._insertions.append((file, offset, text))

    def removes_comments(self) -> bool:
        """Whether applying the plan would delete a comment."""
        for replacement in self._top_level():
            kept = [p for p in replacement.parts if isinstance(p, cst.CSTNode)]
            text = replacement.file.text
            cursor = replacement.start
            for part in sorted(kept, key=lambda p: _with_parentheses(replacement.file, p)[0]):
                start, end = _with_parentheses(replacement.file, part)
                if "#" in text[cursor:start]:
                    return True
                cursor = max(cursor, end)
            if "#" in text[cursor : replacement.end]:
                return True
        return False

    def to_fix(self) -> Fix:
        """The text edits; raises LookupError when the fix was given up."""
        if self._impossible is not None:
            raise LookupError(self._impossible)
        files = {id(r.file): r.file for r in self._replacements}
        files.update((id(file), file) for file, _, _ in self._insertions)
        edits: list[Edit] = []
        for file in files.values():
            spans = [
                (r.start, r.end, self._render_parts(r)) for r in self._top_level() if r.file is file
            ]
            spans += [(offset, offset, text) for f, offset, text in self._insertions if f is file]
            for start, end, text in without_leftovers(file.text, spans):
                edits.append(_edit(file, start, end, text))
        edits.sort(key=lambda e: (str(e.path), e.start, e.end))
        return Fix(self.title, self.applicability, tuple(edits), tuple(self.notes))

    # -- rendering -------------------------------------------------------------------------

    def _top_level(self) -> list[_Replacement]:
        return [r for r in self._replacements if not any(_inside(r, o) for o in self._replacements)]

    def _render_parts(self, replacement: _Replacement) -> str:
        pieces = []
        parts = replacement.parts
        for index, part in enumerate(parts):
            if isinstance(part, str):
                pieces.append(part)
                continue
            # A node is copied with its own parentheses (its position omits them), unless the
            # template puts it where any expression fits: a call's argument.
            if _argument_slot(parts, index) and not isinstance(part, (cst.Tuple, cst.GeneratorExp)):
                start, end = replacement.file.node_offsets(part)
            else:
                start, end = _with_parentheses(replacement.file, part)
            pieces.append(self._render_range(replacement.file, start, end, exclude=replacement))
        return "".join(pieces)

    def _render_range(self, file: SourceFile, start: int, end: int, exclude: _Replacement) -> str:
        exact = [
            r
            for r in self._replacements
            if r is not exclude and r.file is file and (r.start, r.end) == (start, end)
        ]
        if exact:
            return self._render_parts(exact[0])
        inner = [
            r
            for r in self._replacements
            if r is not exclude and r.file is file and start <= r.start and r.end <= end
        ]
        top = [r for r in inner if not any(_inside(r, o) for o in inner)]
        pieces, cursor = [], start
        for replacement in sorted(top, key=lambda r: r.start):
            pieces.append(file.text[cursor : replacement.start])
            pieces.append(self._render_parts(replacement))
            cursor = replacement.end
        pieces.append(file.text[cursor:end])
        return "".join(pieces)


def _inside(inner: _Replacement, outer: _Replacement) -> bool:
    """Whether `inner` lies strictly within `outer` (same file)."""
    return (
        inner is not outer
        and inner.file is outer.file
        and outer.start <= inner.start
        and inner.end <= outer.end
        and (inner.start, inner.end) != (outer.start, outer.end)
    )


def _argument_slot(parts: tuple, index: int) -> bool:
    """Whether the template puts part `index` between `(`/`, `/`=` and `)`/`,`."""
    before = parts[index - 1] if index > 0 else None
    after = parts[index + 1] if index + 1 < len(parts) else None
    return (
        isinstance(before, str)
        and isinstance(after, str)
        and before.rstrip().endswith(("(", ",", "="))
        and after.lstrip().startswith((")", ","))
    )


def _with_parentheses(file: SourceFile, node: cst.CSTNode) -> tuple[int, int]:
    """The offsets of `node` including its own parentheses (libcst positions exclude them)."""
    start, end = file.node_offsets(node)
    text = file.text
    for _ in getattr(node, "lpar", ()):
        before = len(text[:start].rstrip())
        after = len(text) - len(text[end:].lstrip())
        if text[before - 1 : before] != "(" or text[after : after + 1] != ")":
            break
        start, end = before - 1, after + 1
    return start, end


def _edit(file: SourceFile, start: int, end: int, content: str) -> Edit:
    return Edit(
        Path(file.path), start, end, content, file.position_at(start), file.position_at(end)
    )


def is_literal(node: cst.BaseExpression) -> bool:
    """A constant whose text means the same anywhere (numbers, strings, True/False/None)."""
    if isinstance(node, (cst.Integer, cst.Float, cst.SimpleString, cst.ConcatenatedString)):
        return True
    if isinstance(node, cst.Name):
        return node.value in ("True", "False", "None")
    if isinstance(node, cst.UnaryOperation) and isinstance(node.operator, cst.Minus):
        return is_literal(node.expression)
    return False


def needs_parentheses(operand: cst.BaseExpression, context: cst.CSTNode | None) -> bool:
    """Whether `operand`, moved to where an atom was, must be parenthesised.

    `context` is the node the replaced expression sits in: an argument, an assignment or a
    return takes any expression; anything else (an attribute, a subscript, an operator)
    binds tighter than most operators.
    """
    if operand.lpar or isinstance(operand, _ATOMS):
        return False
    return not isinstance(context, (cst.Arg, cst.Assign, cst.AnnAssign, cst.Return, cst.Element))


def method_call(receiver: cst.BaseExpression, name: str) -> list[Part]:
    """`x.name()`, parenthesising a receiver that is not an atom (`(a + b).name()`)."""
    if needs_parentheses(receiver, None):
        return ["(", receiver, f").{name}()"]
    return [receiver, f".{name}()"]
