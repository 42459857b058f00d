"""What a fix leaves unused is removed, and only that (analysis/leftovers.py)."""

from __future__ import annotations

import pytest

from nanlint.analysis.leftovers import without_leftovers


def _edited(text: str, old: str, new: str) -> str:
    """Apply the edit `old` -> `new` (its first occurrence) and what it leaves behind."""
    start = text.index(old)
    edits = without_leftovers(text, [(start, start + len(old), new)])
    pieces, cursor = [], 0
    for begin, end, content in sorted(edits):
        pieces += [text[cursor:begin], content]
        cursor = end
    return "".join(pieces) + text[cursor:]


CASES = {
    "an activation only the loss read, and its import": (
        "from torch import sigmoid\nimport torch.nn.functional as F\n\n\n"
        "def loss(z, y):\n    p = sigmoid(z)\n    return F.binary_cross_entropy(p, y)\n",
        "F.binary_cross_entropy(p, y)",
        "F.binary_cross_entropy_with_logits(z, y)",
        "import torch.nn.functional as F\n\n\n"
        "def loss(z, y):\n    return F.binary_cross_entropy_with_logits(z, y)\n",
    ),
    "a chain of definitions, one import name of two": (
        "from torch import exp, log\n\n\ndef f(x):\n    e = exp(x)\n    s = e.sum(-1)\n"
        "    return log(s)\n",
        "log(s)",
        "x.logsumexp(-1)",
        "\n\ndef f(x):\n    return x.logsumexp(-1)\n",
    ),
    "the same name read in another function is another variable": (
        "import torch\n\n\ndef a(z):\n    p = torch.sigmoid(z)\n    return p\n\n\n"
        "def b(z):\n    p = torch.sigmoid(z)\n    return p.log()\n",
        "p.log()",
        "torch.nn.functional.logsigmoid(z)",
        "import torch\n\n\ndef a(z):\n    p = torch.sigmoid(z)\n    return p\n\n\n"
        "def b(z):\n    return torch.nn.functional.logsigmoid(z)\n",
    ),
}

KEPT = {
    "a call that may do more than compute": (
        "import torch\n\n\ndef f(model, z):\n    p = model(z)\n    return p.log()\n",
        "p.log()",
        "z",
    ),
    "a line with a comment": (
        "import torch\n\n\ndef f(z):\n    p = torch.sigmoid(z)  # probabilities\n"
        "    return p.log()\n",
        "p.log()",
        "z",
    ),
    "a name exported by __all__": (
        '__all__ = ["sigmoid"]\nfrom torch import sigmoid\n\n\ndef f(z):\n    return sigmoid(z)\n',
        "sigmoid(z)",
        "z",
    ),
    "the only statement of its block": (
        "import torch\n\n\ndef f(z, c):\n    if c:\n        p = torch.sigmoid(z)\n"
        "    return p.log()\n",
        "p.log()",
        "z",
    ),
    "a name still read at module level": (
        "import torch\n\np = torch.sigmoid(torch.zeros(1))\nq = p.log()\nprint(p)\n",
        "p.log()",
        "torch.zeros(1)",
    ),
    "a relative import and a global declaration": (
        "from . import helpers\nimport torch\n\n\ndef f(z):\n    global p\n"
        "    p = torch.sigmoid(z)\n    return p.log()\n",
        "p.log()",
        "z",
    ),
}


@pytest.mark.parametrize("case", CASES.values(), ids=CASES.keys())
def test_removed(case):
    text, old, new, expected = case
    assert _edited(text, old, new) == expected


@pytest.mark.parametrize("case", KEPT.values(), ids=KEPT.keys())
def test_kept(case):
    text, old, new = case
    assert _edited(text, old, new) == text.replace(old, new, 1)
