"""Tags: what the guard knows of a tensor (its kind and where user code produced it).

The table holds tensors only weakly and never touches them (no attribute is set). It is
keyed by identity: a `weakref.WeakKeyDictionary` would compare two tensors with `==`,
which is elementwise, and hash them through `Tensor.__hash__`, a Python-level call; this is
the same structure as torch.utils.weak.WeakIdKeyDictionary, at the cost of one dict lookup.
"""

from __future__ import annotations

import weakref
from dataclasses import dataclass, replace

import torch

from nanlint.analysis.kinds import Kind
from nanlint.guard.frames import Site


@dataclass(frozen=True)
class Tag:
    kind: Kind
    producer: str  # "sigmoid", "softmax": as messages name the operation
    site: Site | None  # where user code produced it
    guard: str | None = None  # "clamp" / "eps": a guard step applied since
    logit_magnitude: torch.Tensor | None = None  # max |input| of the producer (0-d, ours)

    def guarded(self, step: str) -> Tag:
        return self if self.guard else replace(self, guard=step)


class TagTable:
    """Tag by tensor identity; an entry goes when its tensor is freed."""

    def __init__(self) -> None:
        self.entries: dict[int, tuple[weakref.ref, Tag]] = {}

    def __len__(self) -> int:
        return len(self.entries)

    def get(self, value: object) -> Tag | None:
        entry = self.entries.get(id(value))
        return entry[1] if entry is not None else None

    def set(self, tensor: torch.Tensor, tag: Tag) -> None:
        key = id(tensor)
        entry = self.entries.get(key)
        if entry is not None:
            self.entries[key] = (entry[0], tag)
            return
        entries = self.entries

        def forget(ref: weakref.ref, key: int = key) -> None:
            current = entries.get(key)
            if current is not None and current[0] is ref:
                del entries[key]

        self.entries[key] = (weakref.ref(tensor, forget), tag)

    def discard(self, value: object) -> None:
        self.entries.pop(id(value), None)
