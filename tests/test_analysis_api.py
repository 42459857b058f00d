"""Torch API coverage and containers (issue 12, capabilities 2 and 4): the spellings real code
uses are followed to their consumer, with exact diagnostics, and near-misses stay silent."""

from __future__ import annotations

import textwrap

import pytest

from conftest import diagnostics_of, fixed, positions

HEADER = "import torch\nimport torch.nn as nn\nimport torch.nn.functional as F\n"


def _code(body: str) -> str:
    return HEADER + textwrap.dedent(body).lstrip()


FOUND = [  # (name, body after HEADER, expected diagnostics)
    # capability 2: selections, joins, powers, producers, namespaces, runners
    (
        "one_hot_sum",
        """
    def focal(z, y):
        p = F.softmax(z, dim=-1)
        pt = (F.one_hot(y, 10).float() * p).sum(-1)
        return -torch.log(pt).mean()
    """,
        ["NAN201 7:13"],
    ),
    (
        "one_hot_torch_sum",
        """
    def focal(z, y):
        p = torch.sigmoid(z)
        mask = torch.zeros_like(p).scatter_(1, y.view(-1, 1), 1)
        return -torch.log(torch.sum(p * mask, dim=1))
    """,
        ["NAN202 7:13"],
    ),
    (
        "one_hot_zero_then_scatter",
        """
    def focal(z, y):
        p = z.softmax(1)
        onehot = torch.FloatTensor(p.size())
        onehot.zero_()
        onehot.scatter_(1, y.view(-1, 1), 1.0)
        return -(onehot * p).sum(1).log()
    """,
        ["NAN201 9:13"],
    ),
    (
        "eye_rows_numpy_keywords",
        """
    def focal(z, y):
        p = torch.softmax(z, -1)
        return -torch.log((torch.eye(10)[y] * p).sum(axis=-1, keepdims=True))
    """,
        ["NAN201 6:13"],
    ),
    (
        "gather",
        """
    def nll(z, y):
        return -torch.log(F.softmax(z, 1).gather(1, y[:, None]))
    """,
        ["NAN201 5:13"],
    ),
    (
        "cat_complement_into_bce",
        """
    def focal(z, y):
        p = torch.sigmoid(z)
        if z.size(1) == 1:
            p = torch.cat([1 - p, p], axis=1)
        return F.binary_cross_entropy(p, y)
    """,
        ["NAN101 8:35"],
    ),
    (
        "stack_complement_log",
        """
    def nll(z, y):
        p = torch.sigmoid(z)
        return F.nll_loss(torch.log(torch.stack([1 - p, p], dim=1)), y)
    """,
        ["NAN202 6:23"],
    ),
    (
        "power",
        """
    def sharpened(z, t):
        return torch.log(F.softmax(z, -1) ** t)
    """,
        ["NAN201 5:12"],
    ),
    (
        "gumbel_soft",
        """
    def loss(z, y):
        return F.cross_entropy(F.gumbel_softmax(z, tau=0.5), y)
    """,
        ["NAN103 5:28"],
    ),
    (
        "gumbel_hard_log",
        """
    def loss(z):
        return torch.log(F.gumbel_softmax(logits=z, hard=True))
    """,
        ["NAN201 5:12"],
    ),
    (
        "pyro_bernoulli",
        """
    import pyro.distributions as dist
    def model(z):
        return dist.Bernoulli(probs=torch.sigmoid(z))
    """,
        ["NAN402 6:33"],
    ),
    (
        "pyro_categorical",
        """
    import pyro
    def model(z):
        return pyro.distributions.Categorical(probs=F.softmax(z, -1))
    """,
        ["NAN401 6:49"],
    ),
    (
        "data_parallel",
        """
    net = nn.Sequential(nn.Linear(8, 1), nn.Sigmoid())
    def loss(x, y, gpus):
        return F.binary_cross_entropy_with_logits(nn.parallel.data_parallel(net, x, gpus), y)
    """,
        ["NAN102 6:47"],
    ),
    (
        "checkpoint",
        """
    from torch.utils.checkpoint import checkpoint
    class Head(nn.Module):
        def forward(self, x):
            return torch.sigmoid(x)
    def loss(x, y):
        return F.binary_cross_entropy_with_logits(checkpoint(Head(), x, use_reentrant=False), y)
    """,
        ["NAN102 9:47"],
    ),
    (
        "manual_softmax_numpy_keywords",
        """
    def probs(x):
        e = torch.exp(x)
        return e / e.sum(axis=1, keepdims=True)
    """,
        ["NAN302 6:12"],
    ),
    # capability 4: containers and module structure
    (
        "extend",
        """
    layers = [nn.Linear(3, 4)]
    layers.extend([nn.ReLU(), nn.Linear(4, 1), nn.Sigmoid()])
    net = nn.Sequential(*layers)
    def loss(x, y):
        return F.binary_cross_entropy_with_logits(net(x), y)
    """,
        ["NAN102 8:47"],
    ),
    (
        "iadd_and_plus",
        """
    layers = [nn.Linear(3, 4)]
    layers += [nn.Linear(4, 1)]
    net = nn.Sequential(*(layers + [nn.Sigmoid()]))
    def loss(x, y):
        return F.binary_cross_entropy_with_logits(net(x), y)
    """,
        ["NAN102 8:47"],
    ),
    (
        "append_after_loop",
        """
    def build(n):
        layers = []
        for _ in range(n):
            layers.append(nn.Linear(4, 4))
            layers.append(nn.ReLU())
        layers.append(nn.Linear(4, 1))
        layers.append(nn.Sigmoid())
        return nn.Sequential(*layers)
    def loss(x, y):
        return F.binary_cross_entropy_with_logits(build(3)(x), y)
    """,
        ["NAN102 13:47"],
    ),
    (
        "comprehension_then_sigmoid",
        """
    net = nn.Sequential(*[nn.Linear(4, 4) for _ in range(3)], nn.Sigmoid())
    def loss(x, y):
        return F.binary_cross_entropy_with_logits(net(x), y)
    """,
        ["NAN102 6:47"],
    ),
    (
        "nested_sequential",
        """
    head = nn.Sequential(nn.Linear(4, 1), nn.Sigmoid())
    net = nn.Sequential(nn.Linear(3, 4), nn.ReLU(), head)
    def loss(x, y):
        return F.binary_cross_entropy_with_logits(net(x), y)
    """,
        ["NAN102 7:47"],
    ),
    (
        "module_list_loop",
        """
    class Net(nn.Module):
        def __init__(self):
            super().__init__()
            self.layers = nn.ModuleList([nn.Linear(3, 4), nn.Linear(4, 1), nn.Sigmoid()])
        def forward(self, x):
            for layer in self.layers:
                x = layer(x)
            return x
    def loss(x, y):
        return F.binary_cross_entropy_with_logits(Net()(x), y)
    """,
        ["NAN102 13:47"],
    ),
    (
        "reversed_slice_loop",
        """
    class Net(nn.Module):
        def __init__(self):
            super().__init__()
            self.items = [nn.Sigmoid(), nn.Linear(3, 1)]
        def forward(self, x):
            for layer in self.items[::-1]:
                x = layer(x)
            return x
    def loss(x, y):
        return F.binary_cross_entropy_with_logits(Net()(x), y)
    """,
        ["NAN102 13:47"],
    ),
    (
        "module_dict_agreeing",
        """
    class Net(nn.Module):
        def __init__(self):
            super().__init__()
            self.heads = nn.ModuleDict({"a": nn.Sigmoid(), "b": nn.Sequential(nn.Linear(3, 1), nn.Sigmoid())})
        def forward(self, x, name):
            return self.heads[name](x)
    def loss(x, y):
        return F.binary_cross_entropy_with_logits(Net()(x, "a"), y)
    """,
        ["NAN102 11:47"],
    ),
    (
        "add_module",
        """
    class Net(nn.Module):
        def __init__(self):
            super().__init__()
            self.net = nn.Sequential()
            self.net.add_module("fc", nn.Linear(3, 1))
            self.net.add_module("act", nn.Sigmoid())
        def forward(self, x):
            return self.net(x)
    def loss(x, y):
        return F.binary_cross_entropy_with_logits(Net()(x), y)
    """,
        ["NAN102 13:47"],
    ),
    (
        "dict_update",
        """
    def loss(z, y):
        out = {}
        out.update(p=torch.sigmoid(z))
        return F.binary_cross_entropy_with_logits(out["p"], y)
    """,
        ["NAN102 7:47"],
    ),
    (
        "masked_write",
        """
    def loss(y, mask, t):
        y[mask] = torch.sigmoid(y[mask])
        return F.binary_cross_entropy_with_logits(y[mask], t[mask])
    """,
        ["NAN102 6:47"],
    ),
    (
        "sliced_write",
        """
    def loss(y):
        y[..., :4] = y[..., :4].sigmoid()
        return -torch.log(y[..., :4])
    """,
        ["NAN202 6:13"],
    ),
    (
        "masked_write_on_both_branches",
        """
    def loss(y, mask, t, flag):
        if flag:
            y[mask] = torch.sigmoid(y[mask])
        else:
            y[mask] = y[mask].sigmoid()
        return F.binary_cross_entropy_with_logits(y[mask], t)
    """,
        ["NAN102 9:47"],
    ),
    (
        "namespace_parameter",
        """
    def lse(x, F=torch):
        return F.log(F.exp(x).sum(1))
    """,
        ["NAN203 5:12"],
    ),
    (
        "namespace_parameter_xp",
        """
    def log_p(z, xp=torch):
        return xp.log(xp.sigmoid(z))
    """,
        ["NAN202 5:12"],
    ),
    (
        "bmm_with_one_hot",
        """
    def nll(z, y):
        p = F.softmax(z, dim=-1)
        onehot = F.one_hot(y, 10).float()
        return -torch.log(torch.bmm(p.unsqueeze(1), onehot.unsqueeze(-1)))
    """,
        ["NAN201 7:13"],
    ),
    (
        "matmul_operator_with_one_hot",
        """
    def nll(z, y):
        return -torch.log(F.softmax(z, dim=-1) @ F.one_hot(y, 10).float().T)
    """,
        ["NAN201 5:13"],
    ),
    (
        "matmul_method_one_hot_first",
        """
    def nll(z, y):
        return -torch.log(F.one_hot(y, 10).float().matmul(torch.sigmoid(z).t()))
    """,
        ["NAN202 5:13"],
    ),
]

SILENT = [
    (
        "one_hot_sum_over_batch",
        """
    def f(z, y):
        p = F.softmax(z, dim=-1)
        return torch.log((F.one_hot(y, 10) * p).sum(0))
    """,
    ),
    (
        "weights_not_one_hot",
        """
    def f(z, w):
        p = F.softmax(z, dim=-1)
        return torch.log((w * p).sum(-1))
    """,
    ),
    (
        "one_hot_of_log_probs",
        """
    def f(z, y):
        return -(F.one_hot(y, 10) * F.log_softmax(z, dim=-1)).sum(-1)
    """,
    ),
    (
        "sum_of_probabilities",
        """
    def f(z):
        return torch.log(F.softmax(z, dim=-1).sum(-1))
    """,
    ),
    (
        "scatter_of_non_one",
        """
    def f(z, y, w):
        p = torch.softmax(z, 1)
        mask = torch.zeros_like(p).scatter_(1, y, w)
        return torch.log((p * mask).sum(1))
    """,
    ),
    (
        "gumbel_sample_as_probs",
        """
    def sample(z):
        return torch.distributions.Categorical(probs=F.gumbel_softmax(z, tau=0.5))
    """,
    ),
    (
        "negated_power",
        """
    def f(z, t):
        return torch.log(F.softmax(z, -1) ** (-t))
    """,
    ),
    (
        "negative_power",
        """
    def f(z):
        return F.binary_cross_entropy(torch.sigmoid(z) ** -1.0, z)
    """,
    ),
    (
        "cat_of_logits_and_probs",
        """
    def f(z, y):
        return F.binary_cross_entropy(torch.cat([z, torch.sigmoid(z)], 1), y)
    """,
    ),
    (
        "loop_last_layer_linear",
        """
    def build(n):
        layers = [nn.Sigmoid()]
        for _ in range(n):
            layers.append(nn.Linear(4, 4))
        return nn.Sequential(*layers)
    def loss(x, y):
        return F.binary_cross_entropy_with_logits(build(3)(x), y)
    """,
    ),
    (
        "loop_ending_with_sigmoid_may_not_run",
        """
    def build(n):
        layers = []
        for _ in range(n):
            layers.append(nn.Linear(4, 4))
            layers.append(nn.Sigmoid())
        return nn.Sequential(*layers)
    def loss(x, y):
        return F.binary_cross_entropy_with_logits(build(3)(x), y)
    """,
    ),
    (
        "comprehension_last",
        """
    net = nn.Sequential(nn.Sigmoid(), *[nn.Linear(4, 4) for _ in range(3)])
    def loss(x, y):
        return F.binary_cross_entropy_with_logits(net(x), y)
    """,
    ),
    (
        "module_list_loop_with_break",
        """
    class Net(nn.Module):
        def __init__(self):
            super().__init__()
            self.layers = nn.ModuleList([nn.Linear(3, 4), nn.Linear(4, 1), nn.Sigmoid()])
        def forward(self, x):
            for layer in self.layers:
                x = layer(x)
                if x.shape[-1] == 1:
                    break
            return x
    def loss(x, y):
        return F.binary_cross_entropy_with_logits(Net()(x), y)
    """,
    ),
    (
        "module_list_loop_with_continue",
        """
    class Net(nn.Module):
        def __init__(self):
            super().__init__()
            self.layers = nn.ModuleList([nn.Linear(3, 4), nn.Linear(4, 1), nn.Sigmoid()])
        def forward(self, x):
            for layer in self.layers:
                if isinstance(layer, nn.Sigmoid):
                    continue
                x = layer(x)
            return x
    def loss(x, y):
        return F.binary_cross_entropy_with_logits(Net()(x), y)
    """,
    ),
    (
        "module_list_loop_last_linear",
        """
    class Net(nn.Module):
        def __init__(self):
            super().__init__()
            self.layers = nn.ModuleList([nn.Sigmoid(), nn.Linear(4, 1)])
        def forward(self, x):
            for layer in self.layers:
                x = layer(x)
            return x
    def loss(x, y):
        return F.binary_cross_entropy_with_logits(Net()(x), y)
    """,
    ),
    (
        "module_dict_disagreeing",
        """
    class Net(nn.Module):
        def __init__(self):
            super().__init__()
            self.heads = nn.ModuleDict({"a": nn.Sigmoid(), "b": nn.Linear(3, 1)})
        def forward(self, x, name):
            return self.heads[name](x)
    def loss(x, y):
        return F.binary_cross_entropy_with_logits(Net()(x, "a"), y)
    """,
    ),
    (
        "add_module_after_sigmoid",
        """
    class Net(nn.Module):
        def __init__(self):
            super().__init__()
            self.net = nn.Sequential(nn.Linear(3, 1), nn.Sigmoid())
            self.net.add_module("out", nn.Linear(1, 1))
        def forward(self, x):
            return self.net(x)
    def loss(x, y):
        return F.binary_cross_entropy_with_logits(Net()(x), y)
    """,
    ),
    (
        "add_module_in_another_method",
        """
    class Net(nn.Module):
        def __init__(self):
            super().__init__()
            self.net = nn.Sequential(nn.Linear(3, 1), nn.Sigmoid())
        def extend(self):
            self.net.append(nn.Linear(1, 1))
        def forward(self, x):
            return self.net(x)
    def loss(x, y):
        return F.binary_cross_entropy_with_logits(Net()(x), y)
    """,
    ),
    (
        "dict_update_overwrites",
        """
    def loss(z, y):
        out = {"p": torch.sigmoid(z)}
        out.update({"p": z})
        return F.binary_cross_entropy_with_logits(out["p"], y)
    """,
    ),
    (
        "appended_list_then_other_item",
        """
    def loss(zs, z, y):
        outs = []
        for q in zs:
            outs.append(torch.sigmoid(q))
        outs.append(z)
        return F.binary_cross_entropy(torch.cat(outs), y)
    """,
    ),
    (
        "masked_write_read_whole",
        """
    def loss(y, mask, t):
        y[mask] = torch.sigmoid(y[mask])
        return F.binary_cross_entropy_with_logits(y, t)
    """,
    ),
    (
        "sliced_write_other_slice_read",
        """
    def loss(y, t):
        y[..., :4] = y[..., :4].sigmoid()
        return F.binary_cross_entropy_with_logits(y[..., 4:], t)
    """,
    ),
    (
        "masked_write_mask_rebound",
        """
    def loss(y, mask, t):
        y[mask] = torch.sigmoid(y[mask])
        mask = ~mask
        return F.binary_cross_entropy_with_logits(y[mask], t)
    """,
    ),
    (
        "masked_write_tensor_rebound",
        """
    def loss(y, mask, t, z):
        y[mask] = torch.sigmoid(y[mask])
        y = z
        return F.binary_cross_entropy_with_logits(y[mask], t)
    """,
    ),
    (
        "masked_write_on_one_branch",
        """
    def loss(y, mask, t, flag):
        if flag:
            y[mask] = torch.sigmoid(y[mask])
        return F.binary_cross_entropy_with_logits(y[mask], t)
    """,
    ),
    (
        "masked_write_overwritten",
        """
    def loss(y, mask, t, z, other):
        y[mask] = torch.sigmoid(y[mask])
        y[other] = z
        return F.binary_cross_entropy_with_logits(y[mask], t)
    """,
    ),
    (
        "masked_write_changed_in_place",
        """
    def loss(y, mask, t):
        y[mask] = torch.sigmoid(y[mask])
        y[mask].logit_()
        return F.binary_cross_entropy_with_logits(y[mask], t)
    """,
    ),
    (
        "namespace_parameter_passed_numpy",
        """
    import numpy as np
    def lse(x, F=torch):
        return F.log(F.exp(x).sum(1))
    lse(np.ones(3), np)
    """,
    ),
    (
        "namespace_parameter_numpy_default",
        """
    import numpy as np
    def lse(x, F=np):
        return F.log(F.exp(x).sum(1))
    """,
    ),
    (
        "matmul_along_the_wrong_dimension",
        """
    def nll(z, y):
        return -torch.log(F.softmax(z, dim=-1) @ F.one_hot(y, 10).float())
    """,
    ),
    (
        "bmm_after_an_unsqueeze_of_unknown_rank",
        """
    def nll(z, y):
        p = F.softmax(z, dim=-1)
        return -torch.log(torch.bmm(p.unsqueeze(1), F.one_hot(y, 10).unsqueeze(2)))
    """,
    ),
]


@pytest.mark.parametrize("name, body, expected", FOUND, ids=[case[0] for case in FOUND])
def test_found(name, body, expected):
    assert positions(diagnostics_of(_code(body))) == expected


@pytest.mark.parametrize("name, body", SILENT, ids=[case[0] for case in SILENT])
def test_silent(name, body):
    assert positions(diagnostics_of(_code(body))) == []


def _case(name: str) -> str:
    return _code(next(case[1] for case in FOUND if case[0] == name))


@pytest.mark.parametrize(
    "name, passed",
    [
        ("one_hot_sum", "selected by a one-hot mask"),
        ("cat_complement_into_bce", "joined into one tensor"),
        ("power", "raised to a power"),
    ],
)
def test_no_fix_through_a_selection_join_or_power_and_the_message_says_so(name, passed):
    (diagnostic,) = diagnostics_of(_case(name))
    assert f", {passed} (no rewrite sees through it)" in diagnostic.message
    assert diagnostic.fix is None


@pytest.mark.parametrize(
    "name",
    [
        "gumbel_soft",
        "gumbel_hard_log",
        "module_list_loop",
        "module_dict_agreeing",
        "add_module",
        "masked_write",
        "namespace_parameter",
        "namespace_parameter_xp",
    ],
)
def test_no_edit_at_a_call_that_runs_more_than_the_activation(name):
    (diagnostic,) = diagnostics_of(_case(name))
    assert diagnostic.fix is None


@pytest.mark.parametrize(
    "name, before, after",
    [
        (
            "data_parallel",
            "nn.Sequential(nn.Linear(8, 1), nn.Sigmoid())",
            "nn.Sequential(nn.Linear(8, 1))",
        ),
        (
            "nested_sequential",
            "nn.Sequential(nn.Linear(4, 1), nn.Sigmoid())",
            "nn.Sequential(nn.Linear(4, 1))",
        ),
        ("comprehension_then_sigmoid", ", nn.Sigmoid())", ")"),
        ("checkpoint", "return torch.sigmoid(x)", "return x"),
        ("pyro_bernoulli", "probs=torch.sigmoid(z)", "logits=z"),
        (
            "gather",
            "torch.log(F.softmax(z, 1).gather(1, y[:, None]))",
            "F.log_softmax(z, 1).gather(1, y[:, None])",
        ),
        (  # the exponentials only the softmax read go with it
            "manual_softmax_numpy_keywords",
            "e = torch.exp(x)\n    return e / e.sum(axis=1, keepdims=True)",
            "return torch.softmax(x, dim=1)",
        ),
    ],
)
def test_fixes_through_runners_nested_layers_and_namespaces(name, before, after):
    code = _case(name)
    assert before in code
    assert fixed(code, unsafe=True) == code.replace(before, after)
