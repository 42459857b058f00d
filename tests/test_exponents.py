"""What the core knows about an exponent: bounded (never positive, clamped) or shifted."""

from __future__ import annotations

import textwrap

import libcst as cst
import pytest

from conftest import source_of
from nanlint.analysis.exponents import bounded, stable
from nanlint.analysis.names import assigned_value
from nanlint.analysis.project import analyze


def exponent(body: str):
    """The analysis of `import torch` + body, and the argument of its last torch.exp call."""
    analysis = analyze(source_of("import torch\n" + textwrap.dedent(body)))
    calls = [
        fact
        for fact in analysis.call_facts()
        if analysis.source.module.code_for_node(fact.node.func) == "torch.exp"
    ]
    return analysis, calls[-1].args[0].node


STABLE = [
    ("torch.exp(x - x.max(1, keepdim=True).values)", True),
    ("torch.exp(x - m)", True),  # what m holds is unknown: silent
    ("m = x.amax(-1, keepdim=True)\ns = x - m\ntorch.exp(s)", True),
    ("torch.exp((x - x.amax(-1, keepdim=True)) / tau)", True),
    ("torch.exp(x.sub(torch.logsumexp(x, -1, keepdim=True)))", True),
    ("torch.exp(x - 1)", False),
    ("torch.exp(x - (-2.0))", False),
    ("torch.exp(x)", False),
    ("torch.exp(x + m)", False),
    ("torch.exp(-d + b)", False),
    ("torch.exp(a * t)", False),
    ("s = x - m\ns = x\ntorch.exp(s)", False),
]


@pytest.mark.parametrize("body, expected", STABLE, ids=[s[0] for s in STABLE])
def test_stable(body, expected):
    analysis, node = exponent(body)
    assert stable(analysis, node) is expected


BOUNDED = [
    ("torch.exp(-torch.abs(x))", True),
    ("torch.exp(-x.abs())", True),
    ("torch.exp(-abs(x))", True),
    ("torch.exp(-(x ** 2))", True),
    ("torch.exp(-torch.relu(x))", True),
    ("a = -x.abs()\ntorch.exp(a)", True),
    ("torch.exp(-(x ** 2) / (2 * sigma ** 2))", True),  # a Gaussian kernel, any bandwidth
    ("torch.exp(-gamma * d.pow(2))", True),
    ("torch.exp(-target * margin)", False),  # two unknowns: a logistic margin can overflow
    ("torch.exp(-x * y / tau)", False),
    ("torch.exp(-e / 0.1)", False),  # a literal scale says nothing of e
    ("torch.exp(-x.abs() * w)", True),
    ("torch.exp(-gamma * d ** 2)", True),
    ("torch.exp(x.clamp(max=10.0))", True),
    ("torch.exp(torch.clamp(x, -50, 50))", True),
    ("torch.exp(-x)", False),
    ("torch.exp(x.abs())", False),
    ("torch.exp(-(x - y))", False),
    ("torch.exp(-x.mean())", False),
    ("torch.exp(x - m)", False),  # a shift by an unknown m: not provably bounded
    ("torch.exp(-x.abs() * -2.0)", False),  # a negative factor flips the sign
]


@pytest.mark.parametrize("body, expected", BOUNDED, ids=[s[0] for s in BOUNDED])
def test_bounded(body, expected):
    analysis, node = exponent(body)
    assert bounded(analysis, node) is expected


def test_assigned_value_follows_one_plain_assignment():
    analysis = analyze(
        source_of(
            "a = x + 1\nb: int = a\nc, d = b, b\nprint(a, b, c)\nif f:\n    a = 2\nprint(a)\n"
        )
    )
    reads = [node for node in analysis.reads if isinstance(node, cst.Name)]
    text = {
        node: analysis.source.module.code_for_node(value)
        for node in reads
        if (value := assigned_value(analysis, node)) is not None
    }
    by_line = sorted(
        (analysis.source.node_span(node).start.line, node.value, value)
        for node, value in text.items()
    )
    # `c` comes from an unpacking and the last `a` from two assignments: neither is followed.
    assert by_line == [
        (2, "a", "x + 1"),
        (3, "b", "a"),
        (3, "b", "a"),
        (4, "a", "x + 1"),
        (4, "b", "a"),
    ]
