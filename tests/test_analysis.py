"""The value-kind analysis through every spelling and depth, with exact diagnostics."""

from __future__ import annotations

import textwrap

import pytest

from conftest import diagnostics_of, positions

HEADER = "import torch\nimport torch.nn as nn\nimport torch.nn.functional as F\n"


def check(body: str) -> list[str]:
    """Diagnostics of HEADER + body; positions are as in the full text (body starts at line 4)."""
    return positions(diagnostics_of(HEADER + textwrap.dedent(body)))


SPELLINGS = [
    # (body, expected)
    ("F.binary_cross_entropy(torch.sigmoid(z), y)\n", ["NAN101 4:24"]),
    ("F.binary_cross_entropy(F.sigmoid(z), y)\n", ["NAN101 4:24"]),
    ("F.binary_cross_entropy(torch.nn.functional.sigmoid(z), y)\n", ["NAN101 4:24"]),
    ("F.binary_cross_entropy(z.sigmoid(), y)\n", ["NAN101 4:24"]),
    ("F.binary_cross_entropy(torch.special.expit(z), y)\n", ["NAN101 4:24"]),
    ("F.binary_cross_entropy(nn.Sigmoid()(z), y)\n", ["NAN101 4:24"]),
    ("F.binary_cross_entropy(F.hardsigmoid(z), y)\n", ["NAN101 4:24"]),
    ("torch.nn.functional.binary_cross_entropy(torch.sigmoid(z), y)\n", ["NAN101 4:42"]),
    ("nn.BCELoss()(torch.sigmoid(z), y)\n", ["NAN101 4:14"]),
    ("torch.nn.modules.loss.BCELoss()(torch.sigmoid(z), y)\n", ["NAN101 4:33"]),
    ("nn.BCELoss(weight=w, reduction='sum')(input=torch.sigmoid(z), target=y)\n", ["NAN101 4:45"]),
    ("F.binary_cross_entropy(target=y, input=torch.sigmoid(z))\n", ["NAN101 4:40"]),
    ("F.binary_cross_entropy_with_logits(torch.sigmoid(z), y)\n", ["NAN102 4:36"]),
    ("F.binary_cross_entropy_with_logits(torch.relu(z), y)\n", ["NAN102 4:36"]),
    ("F.binary_cross_entropy_with_logits(F.relu6(z), y)\n", ["NAN102 4:36"]),
    ("F.binary_cross_entropy_with_logits(z.relu(), y)\n", ["NAN102 4:36"]),
    ("F.binary_cross_entropy_with_logits(nn.ReLU()(z), y)\n", ["NAN102 4:36"]),
    ("F.binary_cross_entropy_with_logits(torch.softmax(z, -1), y)\n", ["NAN102 4:36"]),
    ("torch.binary_cross_entropy_with_logits(torch.sigmoid(z), y)\n", ["NAN102 4:40"]),
    ("nn.BCEWithLogitsLoss(pos_weight=pw)(torch.sigmoid(z), y)\n", ["NAN102 4:37"]),
    ("nn.MultiLabelSoftMarginLoss()(torch.sigmoid(z), y)\n", ["NAN102 4:31"]),
    ("F.cross_entropy(F.softmax(z, dim=1), y)\n", ["NAN103 4:17"]),
    ("F.cross_entropy(torch.softmax(z, 1), y)\n", ["NAN103 4:17"]),
    ("F.cross_entropy(z.softmax(-1), y)\n", ["NAN103 4:17"]),
    ("F.cross_entropy(torch.special.softmax(z, 1), y)\n", ["NAN103 4:17"]),
    ("F.cross_entropy(nn.Softmax(dim=1)(z), y)\n", ["NAN103 4:17"]),
    ("F.cross_entropy(nn.Softmax2d()(z), y)\n", ["NAN103 4:17"]),
    ("nn.CrossEntropyLoss(label_smoothing=0.1)(torch.sigmoid(z), y)\n", ["NAN103 4:42"]),
]


@pytest.mark.parametrize("body, expected", SPELLINGS, ids=[s[0].strip() for s in SPELLINGS])
def test_every_spelling(body, expected):
    assert check(body) == expected


def test_aliased_and_from_imports():
    code = textwrap.dedent(
        """\
        import torch.nn.functional as Fn
        from torch import sigmoid
        from torch.nn import BCELoss as L
        from torch.nn.functional import binary_cross_entropy as bce, softmax
        from torch import nn as tnn

        a = Fn.binary_cross_entropy(sigmoid(z), y)
        b = L()(sigmoid(z), y)
        c = bce(sigmoid(z), y)
        d = tnn.CrossEntropyLoss()(softmax(z, 1), y)
        e = getattr(tnn, "BCELoss")()(sigmoid(z), y)
        """
    )
    assert positions(diagnostics_of(code)) == [
        "NAN101 7:29",
        "NAN101 8:9",
        "NAN101 9:9",
        "NAN103 10:28",
        "NAN101 11:31",
    ]


def test_star_import_of_torch_nn():
    code = "from torch.nn import *\nfrom torch import sigmoid\nBCELoss()(sigmoid(z), y)\n"
    assert positions(diagnostics_of(code)) == ["NAN101 3:11"]


SHAPE_OPS = [
    ("p[:, 0]", True),
    ("p[..., 1:]", True),
    ("p.view(-1)", True),
    ("p.reshape(-1, 1)", True),
    ("p.squeeze(1)", True),
    ("p.unsqueeze(-1)", True),
    ("p.flatten()", True),
    ("torch.flatten(p, 1)", True),
    ("p.permute(1, 0)", True),
    ("p.transpose(0, 1)", True),
    ("p.T", True),
    ("p.contiguous()", True),
    ("p.float()", True),
    ("p.double()", True),
    ("p.to(device)", True),
    ("p.type(torch.float32)", True),
    ("p.detach()", True),
    ("torch.clamp(p, 1e-7, 1 - 1e-7)", True),
    ("p.clamp(min=1e-7, max=1 - 1e-7)", True),
    ("torch.clip(p, 1e-7, 1 - 1e-7)", True),
    ("torch.cat([p, p])", True),
    ("p * 2", False),
    ("p + 0", False),
    ("1 - p", False),
    ("p.mean(1)", False),
    ("p.sum(-1)", False),
    ("torch.where(mask, p, q)", False),
    ("p ** 2", False),
]


@pytest.mark.parametrize("expression, kept", SHAPE_OPS, ids=[s[0] for s in SHAPE_OPS])
def test_shape_dtype_ops_and_clamp_keep_the_kind_arithmetic_does_not(expression, kept):
    body = f"p = torch.sigmoid(z)\nloss = F.binary_cross_entropy({expression}, y)\n"
    assert check(body) == (["NAN101 5:31"] if kept else [])


def test_variables_in_statement_order():
    body = """\
    p = torch.sigmoid(z)
    a = F.binary_cross_entropy(p, y)
    p = model(x)
    b = F.binary_cross_entropy(p, y)
    p = torch.sigmoid(z)
    c = F.binary_cross_entropy(p, y)
    """
    assert check(body) == ["NAN101 5:28", "NAN101 9:28"]


def test_flagged_only_when_every_reaching_definition_has_the_kind():
    body = """\
    def one(z, y, flag):
        if flag:
            p = torch.sigmoid(z)
        else:
            p = z.sigmoid()
        return F.binary_cross_entropy(p, y)


    def two(z, y, flag):
        p = torch.sigmoid(z)
        if flag:
            p = calibrate(p)
        return F.binary_cross_entropy(p, y)


    def three(z, y, loader):
        p = torch.sigmoid(z)
        for batch in loader:
            loss = F.binary_cross_entropy(p, y)
            p = batch
        return loss


    def four(z, y):
        try:
            p = torch.sigmoid(z)
        except RuntimeError:
            p = z
        return F.binary_cross_entropy(p, y)
    """
    assert check(body) == ["NAN101 9:35"]


def test_early_return_branch_does_not_reach_the_loss():
    body = """\
    def f(z, y, skip):
        p = z
        if skip:
            return None
        p = torch.sigmoid(z)
        return F.binary_cross_entropy(p, y)
    """
    assert check(body) == ["NAN101 9:35"]


def test_module_objects_on_self():
    body = """\
    class Net(nn.Module):
        def __init__(self):
            super().__init__()
            self.fc = nn.Linear(8, 1)
            self.act = nn.Sigmoid()
            self.head = nn.Sequential(nn.Linear(8, 8), nn.ReLU(), nn.Linear(8, 1), nn.Sigmoid())
            self.criterion = nn.BCELoss(weight=torch.ones(1))
            self.logits_loss = nn.BCEWithLogitsLoss()

        def step_a(self, x, y):
            return self.criterion(self.act(self.fc(x)), y)

        def step_b(self, x, y):
            return self.logits_loss(self.head(x), y)

        def step_c(self, x, y):
            return self.logits_loss(self.head[2](self.head[1](self.head[0](x))), y)

        def step_d(self, x, y):
            return self.logits_loss(self.head[:-1](x), y)
    """
    assert check(body) == ["NAN101 14:31", "NAN102 17:33"]


def test_forward_summary_reaches_every_call_form():
    body = """\
    class Net(nn.Module):
        def __init__(self):
            super().__init__()
            self.fc = nn.Linear(8, 1)
            self.loss_fn = nn.BCELoss()

        def forward(self, x):
            return torch.sigmoid(self.fc(x))

        def training_step(self, batch):
            x, y = batch
            a = self.loss_fn(self(x), y)
            b = self.loss_fn(self.forward(x), y)
            return a + b


    def train(x, y):
        model = Net()
        c = F.binary_cross_entropy(model(x), y)
        d = F.binary_cross_entropy(model.forward(x), y)
        model = nn.DataParallel(model)
        e = F.binary_cross_entropy(model(x), y)
        return c, d, e
    """
    assert check(body) == [
        "NAN101 15:26",
        "NAN101 16:26",
        "NAN101 22:32",
        "NAN101 23:32",
        "NAN101 25:32",
    ]


def test_helper_methods_and_tuple_returns():
    body = """\
    class Discriminator(nn.Module):
        def __init__(self):
            super().__init__()
            self.body = nn.Linear(64, 64)
            self.validity = nn.Linear(64, 1)
            self.classes = nn.Linear(64, 10)

        def probabilities(self, h):
            return torch.softmax(self.classes(h), dim=1)

        def forward(self, x):
            h = self.body(x)
            return torch.sigmoid(self.validity(h)), self.probabilities(h)


    def losses(d, x, real, labels):
        validity, label_probs = Discriminator()(x)
        out = Discriminator()(x)
        return (
            nn.BCELoss()(validity, real),
            nn.CrossEntropyLoss()(label_probs, labels),
            F.cross_entropy(out[1], labels),
            F.binary_cross_entropy(out[0], real),
        )
    """
    assert check(body) == ["NAN101 23:22", "NAN103 24:31", "NAN103 25:25", "NAN101 26:32"]


def test_inheritance_and_super():
    body = """\
    class Base(nn.Module):
        def __init__(self):
            super().__init__()
            self.head = nn.Sequential(nn.Linear(4, 1), nn.Sigmoid())

        def forward(self, x):
            return self.head(x)


    class Child(Base):
        def forward(self, x):
            return super().forward(x)


    loss = nn.BCELoss()(Child()(x), y)
    """
    assert check(body) == ["NAN101 18:21"]


def test_module_level_training_script():
    body = """\
    model = nn.Sequential(nn.Linear(4, 16), nn.ReLU(), nn.Linear(16, 1), nn.Sigmoid()).to("cuda")
    criterion = nn.BCELoss()
    for x, y in loader:
        out = model(x)
        loss = criterion(out, y)
    """
    assert check(body) == ["NAN101 8:22"]


def test_layers_built_in_a_list():
    body = """\
    layers = [nn.Linear(4, 16), nn.ReLU()]
    layers.append(nn.Linear(16, 1))
    layers.append(nn.Sigmoid())
    model = nn.Sequential(*layers)
    loss = nn.BCELoss()(model(x), y)
    """
    assert check(body) == ["NAN101 8:21"]


TRAPS = {
    "sigmoid only for metrics while the loss gets logits": """\
        logits = model(x)
        loss = F.binary_cross_entropy_with_logits(logits, y)
        accuracy = ((torch.sigmoid(logits) > 0.5) == y).float().mean()
        """,
    "softmax as a soft target of cross_entropy": """\
        loss = F.cross_entropy(student_logits, F.softmax(teacher_logits / 2.0, dim=1))
        """,
    "cross_entropy of log_softmax": """\
        loss = F.cross_entropy(F.log_softmax(z, dim=1), y)
        loss2 = nn.CrossEntropyLoss()(nn.LogSoftmax(dim=1)(z), y)
        """,
    "attention softmax": """\
        weights = torch.softmax(q @ k.transpose(-2, -1), dim=-1)
        context = weights @ v
        loss = F.cross_entropy(head(context), y)
        """,
    "log_softmax used correctly": """\
        loss = F.nll_loss(F.log_softmax(z, dim=1), y)
        """,
    "a variable re-bound before the loss": """\
        p = torch.sigmoid(z)
        p = z
        loss = F.binary_cross_entropy_with_logits(p, y)
        """,
    "Sequential changed after construction": """\
        head = nn.Sequential(nn.Linear(4, 1), nn.Sigmoid())
        head.append(nn.Linear(1, 1))
        loss = nn.BCEWithLogitsLoss()(head(x), y)
        """,
    "an attribute replaced from outside the class": """\
        class Net(nn.Module):
            def __init__(self):
                super().__init__()
                self.head = nn.Sequential(nn.Linear(4, 1), nn.Sigmoid())

            def forward(self, x):
                return self.head(x)

        model = Net()
        model.head = nn.Linear(4, 1)
        loss = nn.BCEWithLogitsLoss()(model(x), y)
        """,
    "a method overridden in a subclass": """\
        class Base(nn.Module):
            def forward(self, x):
                return torch.sigmoid(x)

        class Logits(Base):
            def forward(self, x):
                return x

        def step(model: Base, x, y):
            return nn.BCEWithLogitsLoss()(Base.forward(model, x) if False else model(x), y)
        """,
    "a comprehension variable shadowing a probability": """\
        p = torch.sigmoid(z)
        losses = [F.binary_cross_entropy_with_logits(p, y) for p in logits_list]
        """,
    "an unknown decorator": """\
        @my_decorator
        def predict(x):
            return torch.sigmoid(x)

        loss = F.binary_cross_entropy_with_logits(predict(x), y)
        """,
    "a generator": """\
        def outputs(xs):
            for x in xs:
                yield torch.sigmoid(x)

        loss = F.binary_cross_entropy_with_logits(outputs(xs), y)
        """,
    "numpy and math are not torch": """\
        import numpy as np
        import math
        loss = F.binary_cross_entropy_with_logits(np.exp(z), y)
        loss2 = F.binary_cross_entropy_with_logits(scipy.special.expit(z), y)
        """,
    "a logger's log method": """\
        p = torch.sigmoid(z)
        self.log("p", p)
        wandb.log({"p": p})
        loss = F.binary_cross_entropy_with_logits(z, y)
        """,
}


@pytest.mark.parametrize("body", TRAPS.values(), ids=list(TRAPS))
def test_traps_stay_silent(body):
    assert check(body) == []


def test_closures_see_their_enclosing_function():
    body = """\
    def outer(z, y):
        p = torch.sigmoid(z)

        def inner():
            return F.binary_cross_entropy(p, y)

        return inner()
    """
    assert check(body) == ["NAN101 8:39"]


def test_recursion_does_not_loop():
    body = """\
    def f(x, n):
        if n == 0:
            return torch.sigmoid(x)
        return f(x, n - 1)

    loss = F.binary_cross_entropy_with_logits(f(x, 3), y)
    """
    assert check(body) == []
