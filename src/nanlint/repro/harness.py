"""Runs a rule's reproduction: the unstable and the stable form against a float64 reference.

A scenario turns a sweep of input magnitudes m into inputs (a logit of m, or rows [m, 0, ...]),
evaluates both forms in each dtype with autograd, and compares value and gradient with the
stable form evaluated in float64 on the same (rounded) inputs. "Wrong" follows
../shared/NUMERICS.md: not finite, a relative error above the dtype's tolerance, or a zero
gradient where the true one is representable and not zero. A rule is confirmed when its
unstable form is wrong somewhere, its stable form is right everywhere, and every measured
claim (the breaking points its messages quote) holds.

torch is imported only here, when a reproduction runs.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

Fn = Callable[..., Any]

# Relative tolerance of a "right" result, per dtype (float32: NUMERICS.md's 1e-3).
TOLERANCE = {"float32": 1e-3, "bfloat16": 2.0**-6, "float16": 2.0**-9}


class TorchMissing(RuntimeError):
    """torch is not installed; reproductions need `pip install 'nanlint[repro]'`."""


def import_torch():
    try:
        import warnings

        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            import torch
    except ImportError as error:
        raise TorchMissing("torch is not installed") from error
    return torch


# -- claims -------------------------------------------------------------------------------


@dataclass(frozen=True)
class FirstBreak:
    """The unstable form's `quantity` first meets `condition` at magnitude `at` (± tolerance)."""

    text: str
    dtype: str
    quantity: str  # "value" or "grad"
    condition: str  # "wrong", "nonfinite", "zero", or "equals:<number>"
    at: float
    tolerance: float = 0.011  # a step of the default sweep, plus rounding

    @property
    def measures(self) -> str:
        """ "value" or "grad": the quantity the claim is about."""
        return self.quantity

    def position(self, evidence: Evidence) -> float | None:
        """The magnitude the claim points at, as measured (None: the condition never holds)."""
        return evidence.first(self.quantity, self.condition)

    def check(self, evidence: Evidence) -> tuple[bool, str]:
        return _near(self.position(evidence), self.at, self.tolerance)


@dataclass(frozen=True)
class LastBreak(FirstBreak):
    """The unstable form's `quantity` last meets `condition` at magnitude `at` (± tolerance).

    For forms that are wrong only near zero (log(1 + x), exp(x) - 1): the largest broken m.
    """

    def position(self, evidence: Evidence) -> float | None:
        return evidence.last(self.quantity, self.condition)


def _near(measured: float | None, at: float, tolerance: float) -> tuple[bool, str]:
    if measured is None:
        return False, "never"
    text = f"{measured:.2f}" if tolerance >= 0.01 else f"{measured:.3g}"
    return abs(measured - at) <= tolerance, text


def _measures(series: str) -> str:
    """ "unstable_grad" -> "grad"."""
    return series.rsplit("_", 1)[1]


@dataclass(frozen=True)
class Measured:
    """A quantity (e.g. "unstable_value") at magnitude `m` equals `expected` (relative rtol)."""

    text: str
    dtype: str
    m: float
    quantity: str
    expected: float
    rtol: float = 0.01

    @property
    def measures(self) -> str:
        return _measures(self.quantity)

    def position(self, evidence: Evidence) -> float:
        return self.m

    def check(self, evidence: Evidence) -> tuple[bool, str]:
        got = evidence.at(self.m, self.quantity)
        return _close(got, self.expected, self.rtol), f"{got:.4g}"


@dataclass(frozen=True)
class Ratio:
    """`numerator / denominator` at magnitude `m` equals `expected` (relative rtol)."""

    text: str
    dtype: str
    m: float
    numerator: str
    denominator: str
    expected: float
    rtol: float = 0.05

    @property
    def measures(self) -> str:
        return _measures(self.numerator)

    def position(self, evidence: Evidence) -> float:
        return self.m

    def check(self, evidence: Evidence) -> tuple[bool, str]:
        top, bottom = evidence.at(self.m, self.numerator), evidence.at(self.m, self.denominator)
        ratio = top / bottom if bottom else float("inf")
        return _close(ratio, self.expected, self.rtol), f"{ratio:.4g}"


Claim = Any  # FirstBreak | LastBreak | Measured | Ratio


def _close(got: float, expected: float, rtol: float) -> bool:
    return abs(got - expected) <= rtol * abs(expected)


# -- scenarios and reproductions -----------------------------------------------------------


@dataclass(frozen=True)
class Scenario:
    """One input regime: how m becomes inputs and targets, and the two forms' losses."""

    name: str
    inputs: Fn  # (torch, m: float64 tensor (N,)) -> x: float64 tensor (N,) or (N, C)
    target: Fn  # (torch, x) -> y, any dtype
    unstable: Fn  # (torch, x, y) -> per-row values (N,)
    stable: Fn  # (torch, x, y) -> per-row values (N,)
    rows: tuple[float, ...]  # magnitudes printed in the evidence table
    claims: tuple[Claim, ...] = ()
    target_dtype: bool = True  # cast the target to the input's dtype
    # Errors within a few ulps of 1 are right (a loss near 0 cannot be more exact); set False
    # where relative precision near zero is the very point (log1p, expm1).
    absolute_tolerance: bool = True


@dataclass(frozen=True)
class FixCheck:
    """Run the rule's first invalid example and its safe fix on the same inputs.

    `entry` is a function the example defines; it is called as entry(x, y) with the inputs
    of the first scenario. They must agree at `moderate` magnitudes, and at `extreme` the
    fixed code must match the reference while the original does not.
    """

    entry: str
    moderate: tuple[float, ...] = (0.5, 1.0, 2.0, 4.0)
    extreme: tuple[float, ...] = (30.0, 95.0)


@dataclass(frozen=True)
class Reproduction:
    unstable_label: str
    stable_label: str
    scenarios: tuple[Scenario, ...]
    dtypes: tuple[str, ...] = ("float32", "bfloat16")
    sweep: tuple[float, float, float] = (0.0, 120.0, 0.01)
    fix_check: FixCheck | None = None


# -- evidence -------------------------------------------------------------------------------


@dataclass
class Evidence:
    """Values and gradients over the sweep for one scenario and dtype (python lists)."""

    scenario: Scenario
    dtype: str
    m: list[float]
    series: dict[str, list[float]]  # unstable_value, unstable_grad, stable_..., reference_...
    wrong: dict[str, list[bool]]  # unstable_value, unstable_grad, stable_value, stable_grad

    def index(self, m: float) -> int:
        return min(range(len(self.m)), key=lambda i: abs(self.m[i] - m))

    def at(self, m: float, quantity: str) -> float:
        return self.series[quantity][self.index(m)]

    def first(self, quantity: str, condition: str) -> float | None:
        return next((m for m, hit in zip(self.m, self._hits(quantity, condition)) if hit), None)

    def last(self, quantity: str, condition: str) -> float | None:
        hits = self._hits(quantity, condition)
        return next((m for m, hit in zip(reversed(self.m), reversed(hits)) if hit), None)

    def _hits(self, quantity: str, condition: str) -> list[bool]:
        values = self.series[f"unstable_{quantity}"]
        if condition == "wrong":
            hits = self.wrong[f"unstable_{quantity}"]
        elif condition == "nonfinite":
            hits = [not _finite(v) for v in values]
        elif condition == "zero":
            hits = [v == 0.0 for v in values]
        elif condition.startswith("equals:"):
            target = float(condition.split(":", 1)[1])
            hits = [v == target for v in values]
        else:
            raise ValueError(condition)
        return hits

    def any_wrong(self, form: str) -> bool:
        return any(self.wrong[f"{form}_value"]) or any(self.wrong[f"{form}_grad"])

    def first_wrong(self, form: str) -> float | None:
        flags = [a or b for a, b in zip(self.wrong[f"{form}_value"], self.wrong[f"{form}_grad"])]
        return next((m for m, flag in zip(self.m, flags) if flag), None)


@dataclass
class ClaimResult:
    claim: Claim
    ok: bool
    measured: str


@dataclass
class FixResult:
    ok: bool
    lines: list[str] = field(default_factory=list)


@dataclass
class Result:
    """The outcome of one rule's reproduction."""

    code: str
    reproduction: Reproduction
    evidence: list[Evidence]
    claims: list[ClaimResult]
    fix: FixResult | None

    @property
    def unstable_breaks(self) -> bool:
        return any(e.any_wrong("unstable") for e in self.evidence)

    @property
    def stable_holds(self) -> bool:
        return not any(e.any_wrong("stable") for e in self.evidence)

    @property
    def confirmed(self) -> bool:
        return (
            self.unstable_breaks
            and self.stable_holds
            and all(c.ok for c in self.claims)
            and (self.fix is None or self.fix.ok)
        )


def run(
    code: str, reproduction: Reproduction, fixed_example: tuple[str, str] | None = None
) -> Result:
    """Evaluate every scenario in every dtype; check the claims and, if given, the fix.

    `fixed_example` is (original code, fixed code) of the rule's first invalid example.
    """
    torch = import_torch()
    evidence = [
        evaluate(torch, scenario, dtype, reproduction.sweep)
        for scenario in reproduction.scenarios
        for dtype in reproduction.dtypes
    ]
    claims = []
    for scenario in reproduction.scenarios:
        for claim in scenario.claims:
            match = next(e for e in evidence if e.scenario is scenario and e.dtype == claim.dtype)
            ok, measured = claim.check(match)
            claims.append(ClaimResult(claim, ok, measured))
    fix = None
    if reproduction.fix_check is not None and fixed_example is not None:
        fix = check_fix(torch, reproduction, *fixed_example)
    return Result(code, reproduction, evidence, claims, fix)


def evaluate(torch, scenario: Scenario, dtype: str, sweep: tuple[float, float, float]) -> Evidence:
    start, stop, step = sweep
    count = round((stop - start) / step) + 1
    m = torch.linspace(start, stop, count, dtype=torch.float64)
    values = _forms(torch, scenario, m, getattr(torch, dtype))
    tolerance = TOLERANCE[dtype]
    info = torch.finfo(getattr(torch, dtype))
    # A value computed from inputs of size m carries a few ulps of max(1, m) of rounding; a
    # gradient (bounded by about 1 for these losses) a few ulps of 1.
    if scenario.absolute_tolerance:
        absolute = {"value": 4 * info.eps * m.abs().clamp(min=1.0), "grad": 8 * info.eps}
    else:
        absolute = {"value": info.tiny, "grad": info.tiny}
    wrong = {}
    for form in ("unstable", "stable"):
        for quantity in ("value", "grad"):
            wrong[f"{form}_{quantity}"] = _wrong(
                torch,
                values[f"{form}_{quantity}"],
                values[f"reference_{quantity}"],
                tolerance,
                absolute[quantity],
                dtype,
            )
    return Evidence(
        scenario,
        dtype,
        m.tolist(),
        {key: tensor.tolist() for key, tensor in values.items()},
        {key: tensor.tolist() for key, tensor in wrong.items()},
    )


def _forms(torch, scenario: Scenario, m, dtype) -> dict:
    """Value and gradient (w.r.t. the first input element) of each form, as float64."""
    x64 = scenario.inputs(torch, m).to(torch.float64)
    rounded = x64.to(dtype).to(torch.float64)
    results = {}
    for form, fn, form_dtype in (
        ("unstable", scenario.unstable, dtype),
        ("stable", scenario.stable, dtype),
        ("reference", scenario.stable, torch.float64),
    ):
        x = rounded.to(form_dtype).detach().requires_grad_(True)
        y = scenario.target(torch, x.detach())
        if scenario.target_dtype and torch.is_floating_point(y):
            y = y.to(form_dtype)
        value = fn(torch, x, y)
        (grad,) = torch.autograd.grad(value.sum(), x)
        first_grad = grad if grad.dim() == 1 else grad[:, 0]
        results[f"{form}_value"] = value.detach().to(torch.float64)
        results[f"{form}_grad"] = first_grad.detach().to(torch.float64)
    return results


def _wrong(torch, got, reference, tolerance: float, absolute, dtype: str):
    """NUMERICS.md's "wrong": not finite, a zero where the truth is not, or off."""
    representable = reference.to(getattr(torch, dtype)).to(torch.float64)
    nonfinite = ~torch.isfinite(got)
    lost = (got == 0) & (representable.abs() > absolute)
    off = (got - reference).abs() > tolerance * reference.abs() + absolute
    return nonfinite | lost | off


def check_fix(torch, reproduction: Reproduction, original: str, fixed: str) -> FixResult:
    """Execute the example before and after its fix on the first scenario's inputs."""
    check = reproduction.fix_check
    assert check is not None
    scenario = reproduction.scenarios[0]
    before, after = _load(original, check.entry), _load(fixed, check.entry)
    # As in the sweep: without absolute tolerance, a tiny value must be right relatively.
    absolute = 1e-6 if scenario.absolute_tolerance else 0.0
    lines = []
    ok = True
    for regime, magnitudes in (("moderate", check.moderate), ("extreme", check.extreme)):
        m = torch.tensor(magnitudes, dtype=torch.float64)
        x = scenario.inputs(torch, m).to(torch.float32)
        y = scenario.target(torch, x)
        if scenario.target_dtype and torch.is_floating_point(y):
            y = y.to(torch.float32)
        reference = _value_and_grad(
            torch,
            lambda a, b: scenario.stable(torch, a, b),
            x.double(),
            y.double() if torch.is_floating_point(y) else y,
        )
        original_out = _value_and_grad(torch, before, x, y)
        fixed_out = _value_and_grad(torch, after, x, y)
        for i, magnitude in enumerate(magnitudes):
            ref_value, ref_grad = reference[0][i], reference[1][i]
            orig_ok = _agrees(original_out, i, ref_value, ref_grad, absolute)
            fixed_ok = _agrees(fixed_out, i, ref_value, ref_grad, absolute)
            if regime == "moderate":
                same = abs(original_out[0][i] - fixed_out[0][i]) <= 1e-4 * max(
                    1.0, abs(fixed_out[0][i])
                )
                good = same and fixed_ok
                verdict = "agree" if good else "DISAGREE"
            else:
                good = fixed_ok and not orig_ok
                verdict = "fixed right, original wrong" if good else "NOT SHOWN"
            ok = ok and good
            lines.append(
                f"m={magnitude:g}: original {original_out[0][i]:.6g} (grad {original_out[1][i]:.6g}),"
                f" fixed {fixed_out[0][i]:.6g} (grad {fixed_out[1][i]:.6g}),"
                f" reference {ref_value:.6g} (grad {ref_grad:.6g}): {verdict}"
            )
    return FixResult(ok, lines)


def _load(code: str, entry: str) -> Fn:
    namespace: dict[str, Any] = {"__name__": "nanlint_fix_check"}
    exec(compile(code, f"<{entry}>", "exec"), namespace)  # test-time only: the rule's own example
    return namespace[entry]


def _value_and_grad(torch, fn: Fn, x, y) -> tuple[list[float], list[float]]:
    values = []
    grads = []
    for i in range(x.shape[0]):
        xi = x[i : i + 1].detach().requires_grad_(True)
        yi = y[i : i + 1]
        value = fn(xi, yi).sum()
        (grad,) = torch.autograd.grad(value, xi)
        values.append(float(value.detach()))
        grads.append(float(grad.reshape(-1)[0]))
    return values, grads


def _agrees(
    out: tuple[list[float], list[float]],
    i: int,
    ref_value: float,
    ref_grad: float,
    absolute: float,
) -> bool:
    value, grad = out[0][i], out[1][i]
    return (
        _finite(value)
        and _finite(grad)
        and abs(value - ref_value) <= 1e-3 * abs(ref_value) + absolute
        and abs(grad - ref_grad) <= 1e-3 * abs(ref_grad) + absolute
    )


def _finite(value: float) -> bool:
    return value == value and value not in (float("inf"), float("-inf"))
