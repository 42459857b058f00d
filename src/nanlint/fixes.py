"""Fixes: text edits with an applicability, and applying them without corrupting a file."""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from pathlib import Path

from nanlint.source import Position


class Applicability(enum.Enum):
    """How sure a fix is, in ruff's terms: safe fixes keep the mathematics."""

    SAFE = "safe"
    UNSAFE = "unsafe"
    DISPLAY_ONLY = "display-only"

    def at_least(self, other: Applicability) -> Applicability:
        """The less certain of the two."""
        order = [Applicability.SAFE, Applicability.UNSAFE, Applicability.DISPLAY_ONLY]
        return max(self, other, key=order.index)


class FixAvailability(enum.Enum):
    """Whether a rule can offer a fix (shown by `nanlint rule --all`)."""

    ALWAYS = "always"
    SOMETIMES = "sometimes"
    DISPLAY_ONLY = "display-only"  # always a suggestion, never applied
    NONE = "none"


@dataclass(frozen=True)
class Edit:
    """Replace the text between two offsets of one file."""

    path: Path
    start: int
    end: int
    content: str
    start_position: Position
    end_position: Position


@dataclass(frozen=True)
class Fix:
    title: str
    applicability: Applicability
    edits: tuple[Edit, ...]
    notes: tuple[str, ...] = field(default=())

    def applies(self, unsafe: bool) -> bool:
        if self.applicability is Applicability.SAFE:
            return True
        return unsafe and self.applicability is Applicability.UNSAFE

    @property
    def paths(self) -> frozenset[Path]:
        return frozenset(edit.path for edit in self.edits)


def select_compatible(fixes: list[Fix]) -> list[Fix]:
    """The fixes (in order) whose edits can be applied together.

    A fix is all or nothing: it is taken only when its edits agree with each other and none
    overlaps an edit already taken, except an identical edit (two fixes adding the same
    import, or the same swap of a shared loss object). What is left is applied in the next
    round of the fix loop; a fix whose own edits overlap is never applied.
    """
    taken: list[Fix] = []
    accepted: dict[tuple[Path, int, int], str] = {}
    for fix in fixes:
        own: dict[tuple[Path, int, int], str] = {}
        for edit in fix.edits:
            if not (_compatible(edit, accepted) and _compatible(edit, own)):
                break
            own[(edit.path, edit.start, edit.end)] = edit.content
        else:
            taken.append(fix)
            accepted.update(own)
    return taken


def _compatible(edit: Edit, accepted: dict[tuple[Path, int, int], str]) -> bool:
    for (path, start, end), content in accepted.items():
        if path != edit.path:
            continue
        if (start, end) == (edit.start, edit.end):
            if content != edit.content:
                return False
            continue
        if _overlap(start, end, edit.start, edit.end):
            return False
    return True


def _overlap(start_a: int, end_a: int, start_b: int, end_b: int) -> bool:
    if start_a == end_a or start_b == end_b:
        # Insertions conflict only with an edit strictly around them.
        return start_a < start_b < end_a or start_b < start_a < end_b
    return start_a < end_b and start_b < end_a


def apply_edits(text: str, edits: list[Edit]) -> str:
    """Apply non-overlapping edits of one file (identical duplicates count once)."""
    unique = sorted({(edit.start, edit.end, edit.content) for edit in edits}, reverse=True)
    for start, end, content in unique:
        text = text[:start] + content + text[end:]
    return text
