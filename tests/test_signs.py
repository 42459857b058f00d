"""The sign analysis (can it be negative, zero, positive) and numbers bound by value."""

from __future__ import annotations

import textwrap

import pytest

from conftest import source_of
from nanlint.analysis.project import analyze
from nanlint.analysis.signs import sign_of

HEADER = "import torch\nimport torch.nn.functional as F\n"


def sign(body: str) -> str:
    """The sign of the argument of the last `torch.log` call, as a string of -, 0 and +."""
    analysis = analyze(source_of(HEADER + textwrap.dedent(body)))
    calls = [
        fact
        for fact in analysis.call_facts()
        if analysis.source.module.code_for_node(fact.node.func) == "torch.log"
    ]
    signs = sign_of(analysis, calls[-1].args[0].node).signs
    return "".join(symbol for value, symbol in ((-1, "-"), (0, "0"), (1, "+")) if value in signs)


SIGNS = [
    # never positive
    ("torch.log(-x.abs())", "-0"),
    ("torch.log(-(x ** 2) / 2.0)", "-0"),
    ("S = 3.0\ntorch.log(-(x ** 2) / S)", "-0"),
    ("torch.log(x - x.max(1, keepdim=True)[0])", "-0"),
    ("torch.log(x - x.amax(-1, keepdim=True).detach())", "-0"),
    ("torch.log(x - x.max(dim=1, keepdim=True).values)", "-0"),
    ("torch.log(x - torch.logsumexp(x, 1, keepdim=True))", "-0"),
    ("m = x.max(dim=1, keepdim=True).values\ntorch.log(x - m)", "-0"),
    ("m, _ = torch.max(x, dim=1, keepdim=True)\ntorch.log(x - m)", "-0"),
    ("m = x.max(1)[0]\ntorch.log(x - m[:, None])", "-0"),
    ("s = x\ns -= s.max(1, keepdim=True)[0]\ntorch.log(s)", "-0"),
    ("s = x * 2\ns = s - s.max(-1, keepdim=True)[0]\ntorch.log(s)", "-0"),
    ("hi = torch.max(lo, other)\ntorch.log(lo - hi)", "-0"),
    ("hi = torch.maximum(other, lo)\ntorch.log(lo - hi)", "-0"),
    ("torch.log(x.clamp(max=0))", "-0"),
    ("torch.log(x.clamp_max(-1.0))", "-"),
    ("torch.log(torch.clamp(x, max=-0.5))", "-"),
    ("torch.log(F.log_softmax(x, 1))", "-0"),
    ("torch.log((x - x.amax(-1, keepdim=True)) / 0.1)", "-0"),
    # positive, non-negative
    ("torch.log(torch.exp(x))", "+"),
    ("torch.log(F.softplus(x))", "+"),
    ("torch.log(torch.sigmoid(x))", "+"),
    ("torch.log(x.clamp(min=1e-6))", "+"),
    ("torch.log(torch.clamp_min(x, 1e-6))", "+"),
    ("torch.log(x.clamp(0.5, 2.0))", "+"),
    ("torch.log(x.clamp(min=0))", "0+"),
    ("torch.log(x * x + 1e-6)", "+"),
    ("torch.log(x ** 2 + 1)", "+"),
    ("torch.log(x ** 2)", "0+"),
    ("torch.log(x.pow(2).sum(-1) + 1e-8)", "+"),
    ("torch.log(torch.sigmoid(x) + x.abs())", "+"),
    ("torch.log(len(x))", "0+"),
    ("torch.log((x > 0).sum(1).float())", "0+"),
    ("torch.log(x.shape[0])", "0+"),
    ("torch.log(torch.where(c, torch.exp(x), 1.0))", "+"),
    ("torch.log(x.norm(dim=-1) + 1e-12)", "+"),
    # unknown: traps
    ("torch.log(x.clamp(max=5))", "-0+"),
    ("torch.log(x.clamp(min=-1))", "-0+"),
    ("torch.log(-d + b)", "-0+"),
    ("torch.log(a * t)", "-0+"),
    ("torch.log(x - m)", "-0+"),
    ("torch.log(x - x.max(1, keepdim=True)[1])", "-0+"),  # the indices of the maximum
    ("torch.log(x - y.max(1, keepdim=True)[0])", "-0+"),  # another tensor's maximum
    ("torch.log(x - x.max(y))", "-0"),  # the elementwise maximum bounds x too
    ("torch.log(x - x.min(1, keepdim=True)[0])", "-0+"),  # a minimum bounds from below
    ("m = x.max(1)[0]\nx = x * 2\ntorch.log(x - m)", "-0+"),  # x changed since
    ("s = x - x.max()\ns = x\ntorch.log(s)", "-0+"),
    ("torch.log(torch.exp(x) - 1)", "-0+"),
    ("torch.log(x * y)", "-0+"),
    ("torch.log(-(x ** 2) / s)", "-0+"),  # s of unknown sign
    ("torch.log(x.abs() - 1e-3)", "-0+"),
    ("s = torch.exp(x)\nfor k in range(3):\n    s = s - y\ntorch.log(s)", "-0+"),
]


@pytest.mark.parametrize("body, expected", SIGNS, ids=[s[0] for s in SIGNS])
def test_signs(body, expected):
    assert sign(body) == expected


CONSTANTS = [
    # positive by value, whatever the name
    ("EPS = 1e-8\n\ndef f(p):\n    return torch.log(p.abs() + EPS)", "+"),
    ("def f(p, gamma=1e-6):\n    return torch.log(p.abs() + gamma)", "+"),
    (
        "class L:\n    smooth = 1.0\n\n    def f(self, p):\n        return torch.log(p.abs() + self.smooth)",
        "+",
    ),
    (
        "class L:\n    def __init__(self, eps=1e-7):\n        self.eps = eps\n\n"
        "    def f(self, p):\n        return torch.log(p.abs() + self.eps)",
        "+",
    ),
    (
        "TINY = 1e-9\n\nclass L:\n    def __init__(self, tiny=TINY):\n        self.tiny = tiny\n\n"
        "    def f(self, p):\n        return torch.log(p.abs() + self.tiny)",
        "+",
    ),
    # traps: a name "eps" that holds no known positive number
    ("def f(p, eps):\n    return torch.log(p.abs() + eps)", "-0+"),
    ("def f(p, eps=-1e-3):\n    return torch.log(p.abs() + eps)", "-0+"),
    ("def f(p, eps=1e-6):\n    return torch.log(p.abs() + eps)\n\nf(x, eps=-1.0)", "-0+"),
    ("def f(p, eps=1e-6):\n    return torch.log(p.abs() + eps)\n\nf(x, eps=t)", "-0+"),
    (
        "class L:\n    def __init__(self, eps=1e-7):\n        self.eps = torch.randn(3)\n\n"
        "    def f(self, p):\n        return torch.log(p.abs() + self.eps)",
        "-0+",
    ),
    (
        "class L:\n    def __init__(self, eps=1e-7):\n        self.eps = eps\n\n"
        "    def anneal(self):\n        self.eps -= 1.0\n\n"
        "    def f(self, p):\n        return torch.log(p.abs() + self.eps)",
        "-0+",
    ),
    (
        "class L:\n    def __init__(self, config):\n        self.eps = config.eps\n\n"
        "    def f(self, p):\n        return torch.log(p.abs() + self.eps)",
        "-0+",
    ),
]


@pytest.mark.parametrize("body, expected", CONSTANTS, ids=[s[0] for s in CONSTANTS])
def test_numbers_by_value(body, expected):
    assert sign(body) == expected
