"""Sums and ratios of exponentials, however they are assembled.

A log-sum-exp is written out in more ways than `log(exp(x).sum(d))`: a mean instead of a
sum (`exp(s).mean(1)`), terms added one by one (`exp(a) + exp(b)`, `pos + neg.sum(1)`), a
mask or weight before the sum (`(exp(s) * mask).sum(1)`), an eps after it, a term taken
back out (`row + col - diag`), and the InfoNCE ratio `exp(pos) / exp(sims).sum(1)` whose log
is `pos - logsumexp(sims)`. Each keeps the overflow of exp (inf from 88.73 in float32), so
each gets a kind the log-sum-exp rule knows: `sum.exp` or `ratio.exp`.

A sum accumulated in a loop (`den = 0; for k ...: den = den + exp(sim[:, k])`) is not a value
the interpreter can carry past the loop; `accumulated` recognises it where it is read.

The origin of an assembled value lists its exponents as `term` options (the rule asks of
each whether it can overflow); a form that has an exact library rewrite says so by its
label (`EXP_PAIR`, `EXP_RATIO`), everything else carries an opaque step and is reported
without a fix.
"""

from __future__ import annotations

from typing import Any

import libcst as cst

from nanlint.analysis.constants import is_eps
from nanlint.analysis.facts import ArgFact, FileAnalysis
from nanlint.analysis.kinds import Kind
from nanlint.analysis.signs import ZERO, sign_of
from nanlint.analysis.values import Origin, Removal, Step, StepRole, Tensor, Value, produced

EXP_PAIR = "exp(a) + exp(b)"
EXP_RATIO = "exp(a) / exp(b).sum(d)"
SUMS = "exp(...) + exp(...)"
_RATIOS = "exp(...) / exp(...)"
_EXPONENTIAL = frozenset({Kind.EXP, Kind.SUM_EXP})


def terms(origin: Origin) -> list[cst.CSTNode | None]:
    """The exponents of the exponentials an origin's value is made of."""
    listed = [node for name, node in origin.options if name == "term"]
    return listed or [origin.operand]


def added(
    left: ArgFact,
    right: ArgFact,
    node: cst.CSTNode,
    file: Any,
    scope: Any,
    analysis: FileAnalysis | None,
) -> Value | None:
    """`exp(a) + exp(b)`, `pos + neg.sum(1)`: a sum; `exp(s).sum(1) + 1e-8`: a guarded one."""
    for one, other in ((left, right), (right, left)):
        value = one.value
        if _exponential(value, Kind.SUM_EXP) and is_eps(other, analysis):
            return value.with_step(Step("eps", node, StepRole.GUARD, one.node))  # type: ignore[union-attr]
    if not (_exponential(left.value) and _exponential(right.value)):
        return None
    exponents = [term for arg in (left, right) for term in _terms_of(arg.value)]  # type: ignore[arg-type]
    options = tuple(("term", term) for term in exponents)
    pair = all(_plain_exp(arg.value) for arg in (left, right))
    return produced(
        Kind.SUM_EXP,
        EXP_PAIR if pair else SUMS,
        node,
        exponents[0] if pair else None,
        file,
        scope,
        options,
        Removal.NONE,
    )


def subtracted(left: ArgFact, right: ArgFact, node: cst.CSTNode) -> Value | None:
    """`row_sum + col_sum - diag`: a sum of exponentials with a term taken back out."""
    if _exponential(left.value, Kind.SUM_EXP) and _exponential(right.value):
        return left.value.with_step(Step("minus", node, StepRole.OPAQUE, left.node))  # type: ignore[union-attr]
    return None


def scaled(one: ArgFact, node: cst.CSTNode) -> Value | None:
    """`exp(s) * mask`, `exp(s) / 2`: still exponentials (they overflow alike), with no
    exact library rewrite once summed."""
    if _exponential(one.value, Kind.EXP):
        return one.value.with_step(Step("scale", node, StepRole.OPAQUE, one.node))  # type: ignore[union-attr]
    return None


def ratio(
    numerator: ArgFact, denominator: ArgFact, node: cst.CSTNode, file: Any, scope: Any
) -> Value | None:
    """`exp(pos) / exp(sims).sum(1)`, `E.diag() / E.sum(1)`: the ratio whose log is
    `pos - logsumexp(sims, 1)` (an InfoNCE or contrastive loss)."""
    top, bottom = numerator.value, denominator.value
    if not (_exponential(top, Kind.EXP) and _exponential(bottom)):
        return None
    exponents = _terms_of(top) + _terms_of(bottom)  # type: ignore[arg-type]
    simple = _plain_exp(top) and _single_sum(bottom)
    options = (
        *(("term", term) for term in exponents),
        ("numerator", numerator.node),
        ("denominator", denominator.node),
    )
    return produced(
        Kind.EXP_RATIO,
        EXP_RATIO if simple else _RATIOS,
        node,
        _terms_of(top)[0] if simple else None,  # type: ignore[arg-type]
        file,
        scope,
        options,
        Removal.NONE,
    )


def reduced(value: Tensor, operation: str, node: cst.CSTNode, operand: cst.CSTNode) -> Value:
    """`exp(x).sum(d)`, `exp(x).mean(d)`: sums of exponentials (a mean is a scaled sum)."""
    if value.kind is Kind.EXP:
        return value.transform(Kind.SUM_EXP, Step(operation, node, StepRole.TRANSFORM, operand))
    return value.with_step(Step(operation, node, StepRole.OPAQUE, operand))  # a sum again


def accumulated(analysis: FileAnalysis, node: cst.CSTNode) -> Tensor | None:
    """The exponentials a name sums when every definition reaching `node` starts it at zero
    (`0`, `torch.zeros(...)`) or adds exponentials to it (`den = den + exp(s)`, `den +=
    exp(s)`), at least one of them adding; None otherwise."""
    definitions = analysis.reads.get(node) if isinstance(node, cst.Name) else None
    if not definitions:
        return None
    added: list[Tensor] = []
    for definition in definitions:
        term = _accumulation(analysis, definition)
        if term is None:
            if not _starts_at_zero(analysis, definition):
                return None
            continue
        value = analysis.value_of(term)
        if not _exponential(value):
            return None
        added.append(value)  # type: ignore[arg-type]
    if not added:
        return None
    return Tensor(Kind.SUM_EXP, tuple(dict.fromkeys(s for v in added for s in v.sources)))


def _accumulation(analysis: FileAnalysis, target: cst.CSTNode) -> cst.BaseExpression | None:
    """What `den = den + term` or `den += term` adds to the name it defines."""
    parents = analysis.source.parents
    parent = parents.get(target)
    if not isinstance(target, cst.Name):
        return None
    if isinstance(parent, cst.AugAssign) and isinstance(parent.operator, cst.AddAssign):
        return parent.value
    statement = parents.get(parent) if isinstance(parent, cst.AssignTarget) else None
    if not isinstance(statement, cst.Assign) or len(statement.targets) != 1:
        return None
    value = statement.value
    if not isinstance(value, cst.BinaryOperation) or not isinstance(value.operator, cst.Add):
        return None
    for own, term in ((value.left, value.right), (value.right, value.left)):
        if isinstance(own, cst.Name) and own.value == target.value:
            return term
    return None


def _starts_at_zero(analysis: FileAnalysis, target: cst.CSTNode) -> bool:
    parents = analysis.source.parents
    parent = parents.get(target)
    statement = parents.get(parent) if isinstance(parent, cst.AssignTarget) else None
    if not isinstance(statement, cst.Assign) or len(statement.targets) != 1:
        return False
    return sign_of(analysis, statement.value) == ZERO


def _exponential(value: Value, kind: Kind | None = None) -> bool:
    return isinstance(value, Tensor) and (
        value.kind is kind if kind is not None else value.kind in _EXPONENTIAL
    )


def _terms_of(value: Tensor) -> list[cst.CSTNode | None]:
    return [term for source in value.sources for term in terms(source.origin)]


def _plain_exp(value: Value) -> bool:
    """`exp(a)` itself: one exponential, nothing applied since."""
    return (
        isinstance(value, Tensor)
        and value.kind is Kind.EXP
        and len(value.sources) == 1
        and not value.sources[0].steps
        and value.sources[0].origin.kind is Kind.EXP
        and value.sources[0].origin.operand is not None
    )


def _single_sum(value: Value) -> bool:
    """`exp(b).sum(d)`: one exponential summed once."""
    if not isinstance(value, Tensor) or value.kind is not Kind.SUM_EXP or len(value.sources) != 1:
        return False
    source = value.sources[0]
    return (
        source.origin.kind is Kind.EXP
        and source.origin.operand is not None
        and [step.op for step in source.steps] == ["sum"]
    )
