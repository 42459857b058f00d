"""Loss setups (functional calls and module constructors) and the reduction they apply."""

from __future__ import annotations

import pytest

from conftest import source_of
from nanlint.analysis import torch_api as api
from nanlint.analysis.project import analyze
from nanlint.analysis.sinks import loss_setups

HEADER = "import torch.nn as nn\nimport torch.nn.functional as F\n"

REDUCTIONS = [
    ("F.kl_div(a, b)", ("F.kl_div", "mean", False, False)),
    ("nn.KLDivLoss()", ("nn.KLDivLoss", "mean", False, False)),
    ("nn.KLDivLoss(reduction='sum', log_target=True)", ("nn.KLDivLoss", "sum", True, False)),
    ("F.kl_div(a, b, None, None, 'none')", ("F.kl_div", "none", True, False)),
    ("nn.KLDivLoss(size_average=False)", ("nn.KLDivLoss", "sum", False, True)),
    ("nn.KLDivLoss(reduce=False, reduction='batchmean')", ("nn.KLDivLoss", "none", False, True)),
    ("nn.KLDivLoss(size_average=True, reduce=None)", ("nn.KLDivLoss", "mean", False, True)),
    ("F.kl_div(a, b, reduction=r)", None),
    ("F.kl_div(a, b, **options)", None),
    ("nn.KLDivLoss(size_average=flag)", None),
]


@pytest.mark.parametrize("call, expected", REDUCTIONS, ids=[r[0] for r in REDUCTIONS])
def test_reduction_of_a_loss_setup(call, expected):
    analysis = analyze(source_of(HEADER + f"loss = {call}\n"))
    (setup,) = loss_setups(analysis, [api.KL_DIV])
    reduction = setup.reduction()
    if expected is None:
        assert reduction is None
    else:
        assert (
            setup.label,
            reduction.value,
            reduction.arg is not None,
            reduction.legacy,
        ) == expected


def test_setups_are_constructors_and_functional_calls_not_module_calls():
    code = HEADER + "kl = nn.KLDivLoss()\nx = kl(a, b)\ny = F.kl_div(a, b)\nz = F.nll_loss(a, b)\n"
    analysis = analyze(source_of(code))
    setups = list(loss_setups(analysis, [api.KL_DIV]))
    assert [(s.label, s.module, s.fact.node.func.attr.value) for s in setups] == [
        ("nn.KLDivLoss", True, "KLDivLoss"),
        ("F.kl_div", False, "kl_div"),
    ]
