"""An eps guard (`log(p + eps)`) is recognised by the number the name holds, not its name."""

from __future__ import annotations

import textwrap

import pytest

from conftest import diagnostics_of, positions

HEADER = "import torch\nimport torch.nn.functional as F\n"


def check(body: str) -> list[str]:
    return positions(diagnostics_of(HEADER + textwrap.dedent(body)))


GUARDS = [
    # small positive numbers, however they are bound: the guarded log of a probability
    ("EPS = 1e-8\ntorch.log(torch.sigmoid(z) + EPS)\n", ["NAN202 4:1"]),
    ("def f(z, gamma=1e-6):\n    return torch.log(torch.sigmoid(z) + gamma)\n", ["NAN202 4:12"]),
    (
        "def f(z, tiny=1e-6):\n    return torch.log(torch.sigmoid(z) + tiny)\n\nf(x, tiny=1e-9)\n",
        ["NAN202 4:12"],
    ),
    (
        """\
        class Loss:
            smooth = 1e-7

            def __call__(self, z):
                return torch.log(F.softmax(z, -1) + self.smooth)
        """,
        ["NAN201 7:16"],
    ),
    (
        """\
        class Loss:
            def __init__(self, gamma=1e-6):
                self.gamma = gamma

            def __call__(self, z):
                return torch.log(F.softmax(z, -1) + self.gamma)
        """,
        ["NAN201 8:16"],
    ),
    # a value from outside the code: the name decides
    ("def f(z, eps):\n    return torch.log(torch.sigmoid(z) + eps)\n", ["NAN202 4:12"]),
    ("def f(z, cfg):\n    return torch.log(torch.sigmoid(z) + cfg.eps)\n", ["NAN202 4:12"]),
    # traps: a name "eps" that holds a big number, a tensor, or is set to one by a caller
    ("def f(z, eps=1.0):\n    return torch.log(torch.sigmoid(z) + eps)\n", []),
    (
        "def f(z, eps=1e-6):\n    return torch.log(torch.sigmoid(z) + eps)\n\nf(x, eps=0.5)\n",
        [],
    ),
    (
        "def f(z):\n    eps = torch.rand_like(z)\n    return torch.log(torch.sigmoid(z) + eps)\n",
        [],
    ),
    (
        """\
        class Loss:
            def __init__(self):
                self.eps = torch.ones(1)

            def __call__(self, z):
                return torch.log(F.softmax(z, -1) + self.eps)
        """,
        [],
    ),
    ("def f(z, cfg):\n    return torch.log(torch.sigmoid(z) + cfg.smooth)\n", []),
]


@pytest.mark.parametrize("body, expected", GUARDS, ids=[g[0] for g in GUARDS])
def test_eps_guard_by_value(body, expected):
    assert check(body) == expected
