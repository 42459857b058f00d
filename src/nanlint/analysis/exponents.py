"""What is known about the argument of an exponential: shifted, or never positive.

`exp(x - x.max(1, keepdim=True).values)` and `exp(-x.abs())` cannot overflow: the
hand-written stable log-sum-exp and softplus are written with them, and rules about exp
must not flag them. Both look through a variable holding the argument.
"""

from __future__ import annotations

import libcst as cst

from nanlint.analysis.facts import FileAnalysis
from nanlint.analysis.kinds import Kind
from nanlint.analysis.names import assigned_value
from nanlint.analysis.operations import match
from nanlint.analysis.values import Constant, Tensor

# Kinds whose values are never negative.
_NONNEGATIVE = frozenset(
    {
        Kind.NONNEG,
        Kind.EXP,
        Kind.SUM_EXP,
        Kind.ONE_PLUS_EXP,
        Kind.SQUARE,
        Kind.SUM_SQUARE,
        Kind.PROB_SIGMOID,
        Kind.PROB_SOFTMAX,
        Kind.SIGMOID_COMPLEMENT,
    }
)
_DEPTH = 4  # names followed through assignments


def shifted(analysis: FileAnalysis, node: cst.CSTNode | None) -> bool:
    """`x - m` with m not a number: a shifted exponent (by the maximum, in the stable forms).

    Any such shift counts: what m holds is not known, and when unsure, rules stay silent.
    """
    node = _expression(analysis, node)
    return (
        isinstance(node, cst.BinaryOperation)
        and isinstance(node.operator, cst.Subtract)
        and not isinstance(analysis.value_of(node.right), Constant)
    )


def nonpositive(analysis: FileAnalysis, node: cst.CSTNode | None) -> bool:
    """`-|x|`, `-x.abs()`, `-(x ** 2)`, `-relu(x)`: minus something never negative."""
    node = _expression(analysis, node)
    if not isinstance(node, cst.UnaryOperation) or not isinstance(node.operator, cst.Minus):
        return False
    inner = node.expression
    value = analysis.value_of(inner)
    if isinstance(value, Tensor) and value.kind in _NONNEGATIVE:
        return True
    fact = analysis.calls.get(inner) if isinstance(inner, cst.Call) else None
    operation = match(fact.callee, fact.args) if fact is not None else None
    return operation is not None and operation.name == "abs"


def _expression(analysis: FileAnalysis, node: cst.CSTNode | None) -> cst.CSTNode | None:
    for _ in range(_DEPTH):
        held = assigned_value(analysis, node) if node is not None else None
        if held is None:
            return node
        node = held
    return node
