"""Whether the argument of an exponential can overflow it: bounded, shifted, or scaled.

`exp(x - x.max(1, keepdim=True).values)`, `exp(-x.abs())` and `exp(x.clamp(max=0))` cannot
overflow: the hand-written stable log-sum-exp, softmax and softplus are written with them,
and rules about exp must not flag them. Whether an exponent is never positive is the sign
analysis's answer (`signs.never_positive`); this module adds what the rules accept when
unsure: a clamp or `where` before the exp, a subtraction of anything that is not a number (a
shift, by the maximum in the stable forms), and either of those scaled by a factor not known
to be negative (`(x - m) / tau`, `-(d ** 2) / sigma`: temperatures and bandwidths).
"""

from __future__ import annotations

import libcst as cst

from nanlint.analysis.facts import FileAnalysis
from nanlint.analysis.kinds import Kind
from nanlint.analysis.names import assigned_value
from nanlint.analysis.operations import is_guard
from nanlint.analysis.signs import never_positive, sign_of
from nanlint.analysis.values import Constant, Tensor

_DEPTH = 4  # names followed through assignments


def bounded(analysis: FileAnalysis, node: cst.CSTNode | None) -> bool:
    """exp(node) cannot overflow: the exponent is never positive (`-x.abs()`, `lo - hi` with
    hi = max(lo, ...)) or clamped, possibly scaled by a factor not known to be negative."""
    if never_positive(analysis, node, scales=True):
        return True
    core = _unscaled(analysis, node)
    return core is not None and is_guard(analysis, core)


def stable(analysis: FileAnalysis, node: cst.CSTNode | None) -> bool:
    """`bounded`, or shifted: `x - m` with m not a number (the stable forms subtract the
    maximum; what an unknown m holds is not known, and when unsure, rules stay silent)."""
    return bounded(analysis, node) or _shifted(analysis, _unscaled(analysis, node))


def _shifted(analysis: FileAnalysis, node: cst.CSTNode | None) -> bool:
    """`x - m`, `x.sub(m)`, `x -= m`: m not a number."""
    if node is None:
        return False
    value = analysis.value_of(node)
    if isinstance(value, Tensor) and value.kind is Kind.DIFFERENCE:
        return True
    return (
        isinstance(node, cst.BinaryOperation)
        and isinstance(node.operator, cst.Subtract)
        and not isinstance(analysis.value_of(node.right), Constant)
    )


def _unscaled(analysis: FileAnalysis, node: cst.CSTNode | None) -> cst.CSTNode | None:
    """The exponent without names, parentheses and positive or unknown scale factors."""
    for _ in range(_DEPTH * 2):
        node = _expression(analysis, node)
        if not isinstance(node, cst.BinaryOperation):
            return node
        if (isinstance(node.operator, cst.Divide) and _scale(analysis, node.right)) or (
            isinstance(node.operator, cst.Multiply) and _scale(analysis, node.right)
        ):
            node = node.left
        elif isinstance(node.operator, cst.Multiply) and _scale(analysis, node.left):
            node = node.right
        else:
            return node
    return node


def _scale(analysis: FileAnalysis, node: cst.CSTNode) -> bool:
    """A factor not known to be negative (a temperature, a bandwidth, a literal > 0)."""
    sign = sign_of(analysis, node)
    return sign.can_be_positive


def _expression(analysis: FileAnalysis, node: cst.CSTNode | None) -> cst.CSTNode | None:
    for _ in range(_DEPTH):
        held = assigned_value(analysis, node) if node is not None else None
        if held is None:
            return node
        node = held
    return node
