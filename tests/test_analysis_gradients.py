"""The shared "can a gradient flow here" analysis: the argument of `probe(...)` in each body."""

from __future__ import annotations

import textwrap

import libcst as cst
import pytest

from conftest import source_of
from nanlint.analysis.gradients import carries_no_gradient
from nanlint.analysis.project import analyze

HEADER = "import math\nimport torch\nimport torch.nn as nn\nimport torch.nn.functional as F\n"


def _probed(body: str) -> bool:
    analysis = analyze(source_of(HEADER + textwrap.dedent(body)))
    probes = [
        call
        for call in analysis.calls
        if isinstance(call.func, cst.Name) and call.func.value == "probe"
    ]
    assert len(probes) == 1
    return carries_no_gradient(analysis, probes[0].args[0].value)


NO_GRADIENT = {
    "factories and their arithmetic": """
        def f(n: int):
            t = torch.arange(n).float() / n
            probe(torch.sqrt((t ** 2).sum() + torch.linspace(0, 1, 5).mean()))
        """,
    "a comparison counted and cast": """
        def f(scores, t):
            keep = (scores > t).sum(-1).float()
            probe(keep)
        """,
    "indices of a maximum and integer casts": """
        def f(x):
            probe(x.max(dim=1)[1].to(torch.long) + x.argmin(-1))
        """,
    "detached and its data": """
        def f(x):
            y = x.detach()
            probe(y * x.data)
        """,
    "bucketized codes": """
        def f(x, edges):
            probe(torch.bucketize(x, edges).float())
        """,
    "a norm of noise for sampling": """
        def sample(shape):
            z = torch.randn(shape)
            probe(z.pow(2).sum(-1))
        """,
    "inside a no_grad block, used after it": """
        def f(x):
            with torch.no_grad():
                s = (x ** 2).sum(-1)
            probe(s)
        """,
    "a function decorated with inference_mode": """
        @torch.inference_mode()
        def f(x):
            probe(x)
        """,
    "the backward of an autograd Function": """
        class Clip(torch.autograd.Function):
            @staticmethod
            def backward(ctx, grad):
                probe(grad)
        """,
    "a filter bank built in __init__ from its arguments": """
        class Mel(nn.Module):
            def __init__(self, n_fft, sr=16000):
                super().__init__()
                self.freqs = torch.arange(n_fft // 2 + 1) * sr / n_fft
                self.register_buffer("window", torch.hann_window(n_fft))

            def forward(self, x):
                probe(self.freqs ** 2 + self.window)
        """,
    "hyperparameters with numeric defaults or annotations": """
        def f(x, temperature=0.5, n: int = 3):
            probe(temperature * n * math.pi)
        """,
    "a kernel from arange, scaled in place by numbers": """
        def kernel(orig: int, new: int, width: int = 6, rolloff: float = 0.99):
            base = min(orig, new)
            base *= rolloff
            t = torch.arange(0, -new, -1)[:, None] / new + torch.arange(-width, width)[None]
            t *= base
            t = t.clamp_(-width, width)
            probe(t.sin() / t)
        """,
    "a constant matrix written with constants": """
        def f(n: int):
            c = torch.zeros(n, n)
            c[0, 1] = 1.0
            c.fill_diagonal_(2.0)
            probe(c.pow(2).sum(-1))
        """,
    "a range loop counter": """
        def f(x):
            for i in range(4):
                probe(i * 2.0)
        """,
    "numpy results": """
        import numpy as np

        def f(x):
            probe(np.sqrt(x))
        """,
}

MAYBE_GRADIENT = {
    "a function parameter": """
        def f(x):
            probe((x ** 2).sum())
        """,
    "a factory that asks for gradients": """
        def f(n):
            probe(torch.zeros(n, requires_grad=True))
        """,
    "a factory times a parameter": """
        def f(x, n):
            probe(torch.arange(n) * x)
        """,
    "a module's output": """
        class Net(nn.Module):
            def __init__(self):
                super().__init__()
                self.proj = nn.Linear(4, 4)

            def forward(self, x):
                probe(self.proj(torch.ones(4)))
        """,
    "a parameter stored in __init__": """
        class Net(nn.Module):
            def __init__(self, n):
                super().__init__()
                self.scale = nn.Parameter(torch.ones(n))

            def forward(self, x):
                probe(self.scale * 2)
        """,
    "a tensor passed to __init__ and kept as is": """
        class Tied(nn.Module):
            def __init__(self, weight):
                super().__init__()
                self.weight = weight

            def forward(self, x):
                probe(self.weight ** 2)
        """,
    "an attribute written outside the class": """
        class Net(nn.Module):
            def __init__(self):
                super().__init__()
                self.w = torch.zeros(3)

        def build(x):
            net = Net()
            net.w = x

        def use(net):
            probe(net.w)
        """,
    "enable_grad inside no_grad": """
        def f(x):
            with torch.no_grad():
                with torch.enable_grad():
                    probe(x)
        """,
    "a tensor parameter scaled in place": """
        def f(x, n: int):
            t = torch.arange(n).float()
            t *= x
            probe(t)
        """,
    "a constant matrix written with a parameter": """
        def corr(w, n: int):
            c = torch.diag_embed(torch.ones(n))
            c[..., 0, 1] = w
            probe(c.pow(2).sum(-1))
        """,
    "a constant updated in place from a parameter": """
        def f(w, n: int):
            acc = torch.zeros(n)
            acc.add_(w)
            probe(acc)
        """,
    "a maximum's values": """
        def f(x):
            probe(x.max(dim=1)[0])
        """,
    "a nested function under a no_grad block is called later": """
        def f(x):
            with torch.no_grad():
                def g(y):
                    probe(y)
            return g
        """,
    "the forward of an ordinary module": """
        class Net(nn.Module):
            def forward(self, x):
                probe(x)
        """,
}


@pytest.mark.parametrize("body", NO_GRADIENT.values(), ids=NO_GRADIENT.keys())
def test_no_gradient(body):
    assert _probed(body) is True


@pytest.mark.parametrize("body", MAYBE_GRADIENT.values(), ids=MAYBE_GRADIENT.keys())
def test_maybe_gradient(body):
    assert _probed(body) is False
