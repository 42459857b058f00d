"""The space a tensor lives in: the question every rule asks of a value."""

from __future__ import annotations

import enum


class Kind(enum.Enum):
    """What an operation made of a tensor. Anything not listed is unknown (assumed logits)."""

    PROB_SIGMOID = "prob.sigmoid"
    PROB_SOFTMAX = "prob.softmax"
    SIGMOID_COMPLEMENT = "prob.sigmoid.complement"  # 1 - sigmoid(z)
    LOGPROB = "logprob"
    NONNEG = "nonneg"
    EXP = "exp"  # exp(x)
    SUM_EXP = "sum.exp"  # exp(x).sum(d), exp(x).mean(d), exp(a) + exp(b)
    EXP_RATIO = "ratio.exp"  # exp(a) / exp(b).sum(d): the InfoNCE ratio
    ONE_PLUS_EXP = "one-plus.exp"  # 1 + exp(x)
    ONE_PLUS = "one-plus"  # 1 + x, x anything else
    SQUARE = "square"  # x ** 2, x * x
    SUM_SQUARE = "sum.square"  # (x ** 2).sum(d)
    DIFFERENCE = "difference"  # x - y, y a tensor (a max-shifted exponent is one)

    @property
    def is_probability(self) -> bool:
        return self in (Kind.PROB_SIGMOID, Kind.PROB_SOFTMAX)

    @property
    def noun(self) -> str:
        """How messages name a value of this kind."""
        return _NOUNS[self]


# The kinds of values in linear probability space: `+ eps` guards them (the kind stays) and
# `log` takes them to log space. Shared by the static arithmetic and the runtime guard.
LINEAR_PROBABILITIES = frozenset({Kind.PROB_SIGMOID, Kind.PROB_SOFTMAX, Kind.SIGMOID_COMPLEMENT})
# What `1 - x` makes of a kind.
COMPLEMENTS = {Kind.PROB_SIGMOID: Kind.SIGMOID_COMPLEMENT}
# The largest constant read as an eps guard (`p + 1e-8`).
EPS_LIMIT = 1e-3

_NOUNS = {
    Kind.PROB_SIGMOID: "sigmoid probabilities",
    Kind.PROB_SOFTMAX: "softmax probabilities",
    Kind.SIGMOID_COMPLEMENT: "complements of sigmoid probabilities (1 - p)",
    Kind.LOGPROB: "log-probabilities",
    Kind.NONNEG: "non-negative activations",
    Kind.EXP: "exponentials",
    Kind.SUM_EXP: "sums of exponentials",
    Kind.EXP_RATIO: "ratios of exponentials",
    Kind.ONE_PLUS_EXP: "values 1 + exp(x)",
    Kind.ONE_PLUS: "values 1 + x",
    Kind.SQUARE: "squares",
    Kind.SUM_SQUARE: "sums of squares",
    Kind.DIFFERENCE: "differences",
}
