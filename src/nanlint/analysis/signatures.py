"""Binding a call's arguments to parameter names."""

from __future__ import annotations

from collections.abc import Sequence

from nanlint.analysis.facts import ArgFact


def bind(args: Sequence[ArgFact], params: Sequence[str]) -> dict[str, ArgFact]:
    """The arguments passed explicitly to each parameter.

    Positional arguments fill `params` in order until an unpacked `*args`, after which
    positions are unknown and only keywords bind. A parameter absent from the result was
    not passed (or cannot be told).
    """
    bound: dict[str, ArgFact] = {}
    position = 0
    positions_known = True
    for arg in args:
        if arg.star == "*":
            positions_known = False
        elif arg.star == "**":
            continue
        elif arg.keyword is not None:
            bound[arg.keyword] = arg
        elif positions_known and position < len(params):
            bound[params[position]] = arg
            position += 1
        else:
            position += 1
    return bound


# torch reductions also take NumPy's keyword names: `x.sum(axis=1, keepdims=True)`.
NUMPY_KEYWORDS = {"axis": "dim", "keepdims": "keepdim"}


def bind_torch(args: Sequence[ArgFact], params: Sequence[str]) -> dict[str, ArgFact]:
    """`bind` for a torch function or method: NumPy's keyword names bind as torch's."""
    bound = bind(args, params)
    for alias, name in NUMPY_KEYWORDS.items():
        if alias in bound and alias not in params and name in params:
            bound.setdefault(name, bound.pop(alias))
    return bound


def has_unpacking(args: Sequence[ArgFact]) -> bool:
    return any(arg.star for arg in args)
