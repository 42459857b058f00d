"""The space a tensor lives in: the question every rule asks of a value."""

from __future__ import annotations

import enum


class Kind(enum.Enum):
    """What an activation made of a tensor. Anything not listed is unknown (assumed logits)."""

    PROB_SIGMOID = "prob.sigmoid"
    PROB_SOFTMAX = "prob.softmax"
    LOGPROB = "logprob"
    NONNEG = "nonneg"

    @property
    def is_probability(self) -> bool:
        return self in (Kind.PROB_SIGMOID, Kind.PROB_SOFTMAX)

    @property
    def noun(self) -> str:
        """How messages name a value of this kind."""
        return _NOUNS[self]


_NOUNS = {
    Kind.PROB_SIGMOID: "sigmoid probabilities",
    Kind.PROB_SOFTMAX: "softmax probabilities",
    Kind.LOGPROB: "log-probabilities",
    Kind.NONNEG: "non-negative activations",
}
