"""The numbers guarded-log messages state, checked by running torch."""

from __future__ import annotations

import math

import pytest

from nanlint.analysis.floors import Floor
from nanlint.rules.saturation import (
    clamped_gradient,
    clamped_loss,
    guarded_log,
    saturation_logit,
)

torch = pytest.importorskip("torch")


def _grad(f, z: float) -> tuple[float, float]:
    x = torch.tensor(z, requires_grad=True)
    y = f(x)
    y.backward()
    return y.item(), x.grad.item()


@pytest.mark.parametrize("eps", [1e-8, 1e-6, 1e-4])
def test_clamped_log_of_sigmoid_stops_past_the_stated_logit(eps):
    point = saturation_logit(eps)
    value, grad = _grad(lambda z: torch.log(torch.sigmoid(z).clamp(min=eps)), -point - 0.01)
    assert value == pytest.approx(math.log(eps), rel=1e-6) and grad == 0.0
    _, grad = _grad(lambda z: torch.log(torch.sigmoid(z).clamp(min=eps)), -point + 0.01)
    assert grad > 0.9


def test_eps_log_of_sigmoid_is_finite_and_fades_by_e():
    eps = 1e-8
    point = saturation_logit(eps)

    def f(z):
        return torch.log(torch.sigmoid(z) + eps)

    value, far = _grad(f, -point - 10)
    _, nearer = _grad(f, -point - 9)
    assert value == pytest.approx(math.log(eps), rel=1e-4)
    assert far > 0 and nearer / far == pytest.approx(math.e, rel=1e-3)
    assert math.isfinite(_grad(f, -200.0)[0])


def test_clamped_softmax_gap_and_nll():
    eps = 1e-8
    gap = saturation_logit(eps)

    def log_p(g):
        return torch.log(torch.softmax(torch.stack([g, torch.zeros(())]), 0)[1].clamp(min=eps))

    assert _grad(log_p, gap + 0.01)[1] == 0.0
    assert _grad(log_p, gap - 0.01)[1] != 0.0


def test_clamped_bce_bound_and_gradient():
    eps = 1e-5

    def loss(z):
        p = torch.clamp(torch.sigmoid(z), eps, 1 - eps)
        return torch.nn.BCELoss()(p, torch.ones(()))

    value, grad = _grad(loss, -saturation_logit(eps) - 0.01)
    assert value == pytest.approx(-math.log(eps), rel=1e-4) and grad == 0.0
    assert _grad(loss, -saturation_logit(eps) + 0.01)[1] != 0.0


def test_wording_with_and_without_the_number():
    assert guarded_log(Floor("clamp", 1e-6), "sigmoid", "logsigmoid(z) is exact") == (
        "the clamp keeps the log finite (it is floored at log(1e-06) = -13.82), so nothing is"
        " -inf or NaN; what remains is saturation: below z = -13.82 the clamp passes exactly"
        " zero gradient, so those examples stop learning; logsigmoid(z) is exact"
    )
    assert guarded_log(Floor("eps", None), "softmax", "log_softmax is exact") == (
        "the eps keeps the log finite (it is floored at the log of the guard's floor), so"
        " nothing is -inf or NaN; what remains is saturation: once a class's probability drops"
        " below the floor the gradient fades like p / eps (by a factor e per unit of logit),"
        " so those examples learn ever more slowly; log_softmax is exact"
    )
    assert clamped_loss(Floor("clamp", 1e-5), "use logits") == (
        "the clamp keeps the loss finite, but the loss is at most -log(1e-05) = 11.51, and a"
        " prediction held at the bound (|z| beyond 11.51) gets exactly zero gradient, so"
        " confidently wrong examples stop learning; use logits"
    )
    assert (
        clamped_gradient(Floor("clamp", None)) == "exactly 0 once p falls below the clamp's floor"
    )


GUARDED = """\
import torch
import torch.nn as nn
import torch.nn.functional as F


def losses(z, logits, y, t):
    p = torch.sigmoid(z)
    q = F.softmax(logits, dim=-1)
    a = torch.log(p.clamp(min=1e-6))
    b = torch.log(q + 1e-8)
    c = nn.BCELoss()(torch.clamp(p, 1e-5, 1 - 1e-5), y)
    d = F.nll_loss(q.clamp(min=1e-8), t)
    e = torch.log(p)
    return a, b, c, d, e
"""


def test_guarded_messages_say_what_happens():
    from conftest import diagnostics_of

    found = {
        f"{d.code} {d.start.line}:{d.start.column}": d.message for d in diagnostics_of(GUARDED)
    }
    assert found == {
        "NAN202 9:9": "`log` of sigmoid probabilities from `torch.sigmoid` (line 7): "
        + guarded_log(Floor("clamp", 1e-6), "sigmoid", "logsigmoid(z) is exact"),
        "NAN201 10:9": "`log` of softmax probabilities from `F.softmax` (line 8): "
        + guarded_log(Floor("eps", 1e-8), "softmax", "log_softmax is exact and keeps the gradient"),
        "NAN101 11:22": "Sigmoid probabilities from `torch.sigmoid` (line 7) reach `nn.BCELoss`: "
        + clamped_loss(Floor("clamp", 1e-5), "the logits form is exact and keeps the gradient"),
        "NAN104 12:20": "Softmax probabilities from `F.softmax` (line 8) reach `F.nll_loss`: it"
        " expects log-probabilities and returns -input[target], so on probabilities the 'loss'"
        " is -p (bounded in [-1, 0]) and its gradient vanishes (exactly 0 once p falls below"
        " the clamp's 1e-08, a logit gap of about 18.42): this is not cross-entropy at any"
        " magnitude",
        "NAN202 13:9": "`log` of sigmoid probabilities from `torch.sigmoid` (line 7): sigmoid(z)"
        " underflows to 0 from z = -88.73 in float32, where the log is -inf and its gradient"
        " NaN; logsigmoid(z) is exact",
    }


NO_GRADIENT = """\
import torch
import torch.nn.functional as F


def evaluate(z, y):
    p = torch.sigmoid(z)
    with torch.no_grad():
        guarded = F.binary_cross_entropy(torch.clamp(p, 1e-5, 1 - 1e-5), y)
        cost = -torch.log(p + 1e-8)
        raw = torch.log(p)
    return guarded, cost, raw
"""


def test_guarded_values_without_gradient_are_silent():
    from conftest import diagnostics_of, positions

    # finite, and nothing is differentiated; the unguarded log can still be -inf
    assert positions(diagnostics_of(NO_GRADIENT)) == ["NAN202 10:15"]
