"""What a guarded probability really does, in words: the wording rules share when a clamp
or an eps keeps a log (or a loss) finite.

`log(p + 1e-8)` and `log(p.clamp(min=1e-8))` never reach -inf: the log is floored at
log(eps), and what goes wrong is saturation. Past the point where p meets the floor, a
clamp passes exactly zero gradient and an added eps lets it fade like p / eps; for a sigmoid
that point is the logit ln((1 - eps) / eps), for a softmax roughly the same logit gap. The
numbers are computed from eps when the code shows it, else the statement stays general.
"""

from __future__ import annotations

import math

from nanlint.analysis.floors import Floor

# 1 - sigmoid(z) rounds to exactly 0 from this logit in float32 (NUMERICS.md).
COMPLEMENT_ZERO_FLOAT32 = 16.64


def saturation_logit(eps: float) -> float:
    """The logit z at which sigmoid(z) = eps (negated): ln((1 - eps) / eps)."""
    return math.log((1 - eps) / eps)


def _number(value: float) -> str:
    return f"{value:.2f}"


def _floor_text(floor: Floor) -> str:
    """`log(1e-08) = -18.42`, or `log(eps)`."""
    if floor.value is None:
        return "the log of the guard's floor"
    return f"log({floor.value:g}) = {_number(math.log(floor.value))}"


def _guard(floor: Floor) -> str:
    return "clamp" if floor.how == "clamp" else "eps"


def _after(floor: Floor, point: str) -> str:
    """What the gradient does past the floor, and what that does to training."""
    if floor.how == "clamp":
        return f"{point} the clamp passes exactly zero gradient, so those examples stop learning"
    return (
        f"{point} the gradient fades like p / eps (by a factor e per unit of logit), so"
        " those examples learn ever more slowly"
    )


def _known(floor: Floor) -> float | None:
    return floor.value if floor.value is not None and 0 < floor.value < 0.5 else None


def guarded_log(floor: Floor, space: str, stable: str) -> str:
    """The consequence of a guarded log of probabilities. `space`: "sigmoid" (p =
    sigmoid(z)), "complement" (1 - sigmoid(z)) or "softmax"."""
    start = (
        f"the {_guard(floor)} keeps the log finite (it is floored at {_floor_text(floor)}),"
        " so nothing is -inf or NaN; what remains is saturation:"
    )
    eps = _known(floor)
    if space == "softmax":
        point = (
            f"for a logit gap beyond about {_number(saturation_logit(eps))}"
            if eps is not None
            else "once a class's probability drops below the floor"
        )
    elif space == "complement":
        point = (
            f"from z = {_number(saturation_logit(eps))}"
            if eps is not None
            else "once 1 - sigmoid(z) drops below the floor"
        )
        if floor.how != "clamp" and (
            eps is None or saturation_logit(eps) < COMPLEMENT_ZERO_FLOAT32
        ):
            stable = (
                f"from z = {COMPLEMENT_ZERO_FLOAT32} in float32 1 - sigmoid(z) rounds to 0 and"
                f" the gradient is exactly 0; {stable}"
            )
    else:
        point = (
            f"below z = -{_number(saturation_logit(eps))}"
            if eps is not None
            else "once sigmoid(z) drops below the floor"
        )
    return f"{start} {_after(floor, point)}; {stable}"


def clamped_loss(floor: Floor, stable: str) -> str:
    """The consequence of a binary cross-entropy of probabilities clamped to [eps, 1 - eps]."""
    if _known(floor) is not None:
        bound = _number(saturation_logit(floor.value))  # type: ignore[arg-type]
        where = (
            f"the loss is at most -log({floor.value:g}) = {_number(-math.log(floor.value))},"
            f" and a prediction held at the bound (|z| beyond {bound}) gets exactly zero gradient"
        )
    else:
        where = "the loss is bounded, and a prediction held at the bound gets exactly zero gradient"
    return (
        f"the clamp keeps the loss finite, but {where}, so confidently wrong examples stop"
        f" learning; {stable}"
    )


def clamped_gradient(floor: Floor) -> str:
    """Where the gradient of clamped probabilities is exactly zero (for a parenthesis)."""
    if _known(floor) is not None:
        gap = _number(saturation_logit(floor.value))  # type: ignore[arg-type]
        return (
            f"exactly 0 once p falls below the clamp's {floor.value:g}, a logit gap of about {gap}"
        )
    return "exactly 0 once p falls below the clamp's floor"
