"""Scenarios that several rules' reproductions share."""

from __future__ import annotations

from nanlint.repro.harness import Fn, LastBreak, Scenario

# m from 0 to 2e-4 in steps of 1e-8: the region where float32 rounds 1 + x.
NEAR_ZERO_SWEEP = (0.0, 2e-4, 1e-8)


def near_zero(unstable: Fn, stable: Fn) -> Scenario:
    """x = m just above 0, for a form that rounds 1 + x (or exp(x)) to float32 first.

    Floats near 1 are 1.19e-7 apart, so such a form loses the digits of x below that: it is
    off by more than 0.1% up to x = 5.9e-5 and exactly 0 below 6e-8. Precision relative to
    x is the point, so the scenario has no absolute tolerance. The target is 1.
    """
    return Scenario(
        name="x = m near 0",
        inputs=lambda t, m: m,
        target=lambda t, x: t.ones_like(x),
        unstable=unstable,
        stable=stable,
        rows=(1e-8, 5e-8, 1e-6, 1e-5, 5.88e-5, 1e-4, 2e-4),
        claims=(
            LastBreak(
                "off by more than 0.1% up to 5.9e-5",
                "float32",
                "value",
                "wrong",
                5.9e-5,
                tolerance=1e-6,
            ),
            LastBreak("exactly 0 below 6e-8", "float32", "value", "zero", 6e-8, tolerance=1e-8),
        ),
        absolute_tolerance=False,
    )
