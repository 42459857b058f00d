"""Core facts the catalog's later rules rely on: differences, strict hand-written activations,
`with` contexts, assigned values, guards, distribution names."""

from __future__ import annotations

import textwrap

import libcst as cst
import pytest

from conftest import source_of
from nanlint.analysis import torch_api as api
from nanlint.analysis.kinds import Kind
from nanlint.analysis.names import assigned_values, writable_at
from nanlint.analysis.operations import is_guard
from nanlint.analysis.project import analyze
from nanlint.analysis.values import External, Tensor

HEADER = "import torch\nimport torch.nn.functional as F\n"


def _analysis(body: str):
    return analyze(source_of(HEADER + textwrap.dedent(body)))


def _kind_of(body: str, expression: str):
    """The kind of the last occurrence of `expression` in the analysed body (None: unknown)."""
    analysis = _analysis(body)
    matches = [
        value
        for node, value in analysis.values.items()
        if isinstance(node, cst.BaseExpression) and analysis.source.node_text(node) == expression
    ]
    assert matches, expression
    value = matches[-1]
    return value.kind if isinstance(value, Tensor) else None


KINDS = [
    ("y = x - x.max(dim=1, keepdim=True)[0]", "y", Kind.DIFFERENCE),
    ("y = x - torch.max(x, 1, keepdim=True).values", "y", Kind.DIFFERENCE),
    ("y = x.sub(torch.logsumexp(x, 1, keepdim=True))", "y", Kind.DIFFERENCE),
    ("y = torch.subtract(x, m)", "y", Kind.DIFFERENCE),
    ("x -= x.amax(-1, keepdim=True)\ny = x", "y", Kind.DIFFERENCE),
    ("y = x - 1", "y", None),
    ("y = 1 - x", "y", None),
    ("x += m\ny = x", "y", None),
    ("y = 1 / (1 + torch.exp(-x))", "y", Kind.PROB_SIGMOID),
    ("e = torch.exp(x)\ny = e / (e + 1)", "y", Kind.PROB_SIGMOID),
    ("y = 1 / (1 + torch.exp(-x)[0])", "y", None),
    ("y = torch.exp(x)[0] / (1 + torch.exp(x))", "y", None),
    ("y = torch.exp(x) / torch.exp(x).sum(1, keepdim=True)", "y", Kind.PROB_SOFTMAX),
    ("y = torch.exp(x) / torch.sum(torch.exp(x), dim=1, keepdim=True)", "y", Kind.PROB_SOFTMAX),
    # not softmaxes (no keepdim, a slice, a clamp), but ratios of exponentials all the same
    ("y = torch.exp(x) / torch.exp(x).sum(1)", "y", Kind.EXP_RATIO),
    ("y = torch.exp(x) / torch.exp(x).sum()", "y", Kind.EXP_RATIO),
    ("y = torch.exp(x) / torch.exp(x)[:, :3].sum(1, keepdim=True)", "y", Kind.EXP_RATIO),
    ("y = torch.exp(x) / torch.exp(x).sum(1, keepdim=True).clamp(min=1e-6)", "y", Kind.EXP_RATIO),
    ("y = torch.exp(a) / torch.exp(b).sum(1)", "y", Kind.EXP_RATIO),
    ("y = torch.exp(a) / (torch.exp(a) + torch.exp(b).sum(1))", "y", Kind.EXP_RATIO),
    ("y = torch.exp(a) / b", "y", Kind.EXP),  # a scaled exponential
    ("y = torch.exp(a) / b.sum(1)", "y", Kind.EXP),
    ("y = a / torch.exp(b).sum(1)", "y", None),
    ("y = torch.exp(a) * mask", "y", Kind.EXP),
    ("y = torch.exp(a).mean(1)", "y", Kind.SUM_EXP),
    ("y = torch.exp(a) + torch.exp(b)", "y", Kind.SUM_EXP),
    ("y = torch.exp(a).sum(1) + torch.exp(b)", "y", Kind.SUM_EXP),
    ("y = torch.exp(a).sum(1) + 1e-8", "y", Kind.SUM_EXP),
    ("y = torch.exp(a).sum(1) + 1.0", "y", Kind.ONE_PLUS),  # not an eps: 1 + x
    ("y = torch.exp(a) + b", "y", None),
    ("y = torch.exp(a).sum(1) - torch.exp(b)", "y", Kind.SUM_EXP),
    ("y = torch.exp(a).sum(1) - b", "y", Kind.DIFFERENCE),
]


@pytest.mark.parametrize("body, name, kind", KINDS, ids=[k[0] for k in KINDS])
def test_kinds_of_differences_and_hand_written_activations(body, name, kind):
    assert _kind_of(body + f"\nprint({name})\n", name) == kind


def test_hand_written_softmax_carries_dim_and_dtype():
    analysis = _analysis("y = torch.exp(x) / torch.exp(x).sum(-1, keepdim=True, dtype=d)\n")
    (fact,) = [f for f in analysis.operations.values() if f.operator == "/"]
    assert isinstance(fact.result, Tensor)
    origin = fact.result.sources[0].origin
    options = {name: analysis.source.node_text(node) for name, node in origin.options}
    assert options == {"dim": "-1", "dtype": "d"}
    assert analysis.source.node_text(origin.operand) == "x"


def test_calls_know_their_with_items_innermost_last():
    analysis = _analysis(
        """\
        with torch.autocast("cuda"):
            with open(path) as handle, torch.no_grad():
                loss = F.binary_cross_entropy(p, y)
        """
    )
    (fact,) = [
        f for f in analysis.calls.values() if analysis.source.node_text(f.node).startswith("F.")
    ]
    assert [c.value for c in fact.contexts] == [
        External("torch.autocast"),
        External("builtins.open"),
        External("torch.no_grad"),
    ]
    assert [analysis.source.node_text(c.item) for c in fact.contexts] == [
        'torch.autocast("cuda")',
        "open(path)",
        "torch.no_grad()",
    ]


def _name(analysis, text: str, occurrence: int = -1) -> cst.Name:
    names = [n for n in analysis.reads if n.value == text]
    return sorted(names, key=analysis.source.node_offsets)[occurrence]


def test_assigned_values_of_a_name():
    analysis = _analysis(
        """\
        def f(x, flag):
            if flag:
                mask = x > 0
            else:
                mask: bool = x >= 1
            print(mask)
            for item in x:
                print(item)
            print(x)
        """
    )
    values = assigned_values(analysis, _name(analysis, "mask"))
    assert sorted(analysis.source.node_text(v) for v in values) == ["x > 0", "x >= 1"]
    assert assigned_values(analysis, _name(analysis, "item")) is None  # a loop target
    assert assigned_values(analysis, _name(analysis, "x")) is None  # a parameter


GUARDS = [
    ("y = x.clamp(min=1e-6)", True),
    ("y = torch.clip(x, 0.1, 1.0)", True),
    ("y = torch.where(x > 0, x, torch.ones_like(x))", True),
    ("y = x.abs()", False),
    ("y = x", False),
]


@pytest.mark.parametrize("body, guarded", GUARDS, ids=[g[0] for g in GUARDS])
def test_guards_directly_and_through_a_name(body, guarded):
    analysis = _analysis(body + "\nprint(y)\n")
    assert is_guard(analysis, _name(analysis, "y")) is guarded


def test_writable_at_moves_inner_nodes_and_copies_stable_ones():
    analysis = _analysis(
        """\
        def f(x, z):
            e = torch.exp(-x)
            a = 1 / (1 + e)
            x = z
            b = 1 / (1 + e)
        """
    )
    first, second = (f for f in analysis.operations.values() if f.operator == "/")
    operand = first.result.sources[0].origin.operand
    assert writable_at(analysis, ["torch.sigmoid(", operand, ")"], first.node, first.env)
    assert not writable_at(analysis, [operand], second.node, second.env)  # x was re-bound


def test_distribution_names_are_canonical():
    assert api.canonical("torch.distributions.categorical.Categorical") == (
        "torch.distributions.Categorical"
    )
    assert api.canonical("torch.distributions.Bernoulli") == "torch.distributions.Bernoulli"


def _regions(body: str) -> dict[int, str | None]:
    """Line of every BCE call -> the text of the autocast opener it runs under (None: none)."""
    from nanlint.analysis.regions import autocast_region

    analysis = _analysis(body)
    found = {}
    for fact in analysis.calls.values():
        if analysis.source.node_text(fact.node.func) != "F.binary_cross_entropy":
            continue
        line = analysis.source.node_span(fact.node).start.line
        region = autocast_region(analysis, fact)
        found[line] = None if region is None else analysis.source.node_text(region.opener)
    return found


def test_autocast_regions_by_with_decorator_and_callers():
    body = """\
    from torch.cuda.amp import autocast as cuda_autocast


    def loss(p, y):
        return F.binary_cross_entropy(p, y)


    def helper(p, y):
        return loss(p, y)


    def step(p, y):
        with torch.amp.autocast("cuda"):
            a = helper(p, y)
        with torch.autocast("cuda"), torch.autocast("cuda", None, False):
            b = F.binary_cross_entropy(p, y)
        with cuda_autocast(False):
            c = F.binary_cross_entropy(p, y)
        with torch.cpu.amp.autocast():
            d = F.binary_cross_entropy(p, y)
        return a, b, c, d


    @torch.autocast("cpu", dtype=torch.bfloat16)
    def decorated(p, y):
        return F.binary_cross_entropy(p, y)


    @torch.autocast("cpu", enabled=False)
    def disabled(p, y):
        with torch.no_grad():
            return F.binary_cross_entropy(p, y)
    """
    assert _regions(body) == {
        7: 'torch.amp.autocast("cuda")',
        18: None,
        20: None,
        22: "torch.cpu.amp.autocast()",
        28: 'torch.autocast("cpu", dtype=torch.bfloat16)',
        34: None,
    }


def test_autocast_region_records_the_calls_into_it():
    from nanlint.analysis.regions import autocast_region

    analysis = _analysis(
        """\
        def inner(p, y):
            return F.binary_cross_entropy(p, y)

        def outer(p, y):
            return inner(p, y)

        with torch.autocast("cuda"):
            outer(p, y)
        """
    )
    (fact,) = [f for f in analysis.calls.values() if "binary" in analysis.source.node_text(f.node)]
    region = autocast_region(analysis, fact)
    assert [analysis.source.node_text(call) for call in region.calls] == [
        "outer(p, y)",
        "inner(p, y)",
    ]


def test_without_grad_by_with_or_decorator_only():
    from nanlint.analysis.gradients import in_no_grad_region

    analysis = _analysis(
        """\
        def helper(x):
            return torch.log(x)

        @torch.no_grad()
        def evaluate(x):
            return helper(x), torch.log(x)

        def train(x):
            with torch.inference_mode():
                a = torch.log(x)
            return a, torch.log(x)
        """
    )
    logs = sorted(
        (
            f
            for f in analysis.calls.values()
            if analysis.source.node_text(f.node.func) == "torch.log"
        ),
        key=lambda f: analysis.source.node_offsets(f.node),
    )
    assert [in_no_grad_region(analysis, f.node) for f in logs] == [False, True, True, False]
