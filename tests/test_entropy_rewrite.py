"""Entropy terms: `p * log(p.clamp_min(eps))` is left alone (the log_softmax rewrite would
turn a masked, -inf logit into 0 * -inf = NaN); `p * log(p)` is fixed, and the fix is run
against the original on adversarial inputs."""

from __future__ import annotations

import pytest

from conftest import diagnostics_of, fixed, positions

torch = pytest.importorskip("torch")

GUARDED = """\
import torch
import torch.nn.functional as F


def entropy(logits):
    p = F.softmax(logits, dim=-1)
    return -(p * torch.log(p.clamp_min(1e-12))).sum(-1)


def entropy_by_name(logits):
    p = F.softmax(logits, dim=-1)
    log_p = torch.log(p + 1e-10)
    return -(p * log_p).sum(-1)


def rewritten(logits):
    return -(F.softmax(logits, dim=-1) * F.log_softmax(logits, dim=-1)).sum(-1)
"""

UNGUARDED = """\
import torch
import torch.nn.functional as F


def entropy(logits):
    p = F.softmax(logits, dim=-1)
    return -(p * torch.log(p)).sum(-1)
"""

UNGUARDED_FIXED = """\
import torch
import torch.nn.functional as F


def entropy(logits):
    p = F.softmax(logits, dim=-1)
    return -(p * F.log_softmax(logits, dim=-1)).sum(-1)
"""


def _functions(code: str) -> dict:
    scope: dict = {}
    exec(compile(code, "<example>", "exec"), scope)
    return scope


def _inputs():
    masked = torch.tensor([[2.0, float("-inf"), 0.5], [float("-inf"), 1.0, 1.0]])
    zeros = torch.zeros(2, 3)
    huge = torch.tensor([[3.0e4, -3.0e4, 0.0], [-2.0e4, 2.0e4, 1.0]])  # gaps within float16
    return {"masked": masked, "zeros": zeros, "huge": huge}


def _run(function, logits, dtype):
    x = logits.to(dtype).clone().requires_grad_(True)
    value = function(x)
    value.sum().backward()
    return torch.isfinite(value).all().item(), torch.isfinite(x.grad).all().item()


def test_guarded_entropy_is_not_flagged_and_not_rewritten():
    assert positions(diagnostics_of(GUARDED), "NAN201") == []
    assert fixed(GUARDED) == GUARDED


@pytest.mark.parametrize("dtype", [torch.float32, torch.bfloat16])
def test_guarded_entropy_is_finite_where_the_rewrite_is_nan(dtype):
    functions = _functions(GUARDED)
    for name, logits in _inputs().items():
        for function in ("entropy", "entropy_by_name"):
            assert _run(functions[function], logits, dtype) == (True, True), (name, function)
    assert _run(functions["rewritten"], _inputs()["masked"], dtype) == (False, False)


def test_in_float16_such_small_guards_round_to_zero_and_guard_nothing():
    assert torch.tensor(1e-10, dtype=torch.float16).item() == 0.0
    functions = _functions(GUARDED)
    for function in ("entropy", "entropy_by_name", "rewritten"):
        assert _run(functions[function], _inputs()["masked"], torch.float16) == (False, False)


def test_unguarded_entropy_is_fixed():
    assert positions(diagnostics_of(UNGUARDED), "NAN201") == ["NAN201 7:18"]
    assert fixed(UNGUARDED) == UNGUARDED_FIXED


@pytest.mark.parametrize("dtype", [torch.float32, torch.float16, torch.bfloat16])
def test_fixed_entropy_is_finite_wherever_the_original_is(dtype):
    before, after = _functions(UNGUARDED)["entropy"], _functions(UNGUARDED_FIXED)["entropy"]
    for name, logits in _inputs().items():
        old, new = _run(before, logits, dtype), _run(after, logits, dtype)
        assert all(n or not o for o, n in zip(old, new)), name  # never worse
        if name == "huge":
            assert old == (False, False) and new == (True, True)  # p underflows: 0 * -inf
        if name == "masked":
            assert old == new == (False, False)  # both 0 * -inf: the fix does not hide it
