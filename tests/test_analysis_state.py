"""Object state beyond `__init__`, and joins that lose nothing real (issue 12, capabilities 3
and 6): exact diagnostics for the spellings real code writes, and the traps that stay silent."""

from __future__ import annotations

import textwrap

import pytest

from conftest import diagnostics_of, positions

HEADER = "import torch\nimport torch.nn as nn\nimport torch.nn.functional as F\n"


def check(body: str) -> list[str]:
    """Diagnostics of HEADER + body; positions are as in the full text (body starts at line 4)."""
    return positions(diagnostics_of(HEADER + textwrap.dedent(body)))


def messages(body: str) -> list[str]:
    return [d.message for d in diagnostics_of(HEADER + textwrap.dedent(body))]


# -- 3. object state beyond __init__ ----------------------------------------------------------

NET = """\
class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.net = nn.Sequential(nn.Linear(8, 1), nn.Sigmoid())

    def forward(self, x):
        return self.net(x)


"""

STATE = [
    (
        "a model moved and put in training mode in fit",
        NET
        + textwrap.dedent(
            """\
        class Trainer:
            def __init__(self):
                self.model = Net()
                self.criterion = nn.BCELoss()

            def fit(self, loader, device):
                self.model = self.model.to(device)
                self.model = self.model.train()
                for x, y in loader:
                    loss = self.criterion(self.model(x), y)
        """
        ),
        ["NAN101 22:35"],
    ),
    (
        "a Sequential re-assigned through .to().float(), .cuda() and .eval()",
        """\
        class Trainer:
            def __init__(self, device):
                self.net = nn.Sequential(nn.Linear(8, 1), nn.Sigmoid())
                self.net = self.net.to(device).float()
                self.crit = nn.BCELoss()

            def fit(self, x, y):
                self.net = self.net.cuda()
                self.net.eval()
                return self.crit(self.net(x), y)
        """,
        ["NAN101 13:26"],
    ),
    (
        "half() and requires_grad_() on an attribute, a loss moved with .cuda()",
        """\
        class Trainer:
            def __init__(self, device):
                self.net = nn.Sequential(nn.Linear(8, 1), nn.Sigmoid()).to(device)
                self.crit = nn.BCELoss().cuda()

            def fit(self, x, y):
                self.net.requires_grad_(True)
                self.net = self.net.half()
                return self.crit(self.net(x), y)
        """,
        ["NAN101 12:26"],
    ),
    (
        "attributes assigned in _build_model, called from fit",
        """\
        class Trainer:
            def _build_model(self):
                self.model = nn.Sequential(nn.Linear(8, 1), nn.Sigmoid())
                self.loss_fn = nn.BCELoss()

            def fit(self, x, y):
                self._build_model()
                return self.loss_fn(self.model(x), y)
        """,
        ["NAN101 11:29"],
    ),
    (
        "attributes assigned in setup and configure_loss, never called here",
        """\
        class Module:
            def setup(self, stage):
                self.model = nn.Sequential(nn.Linear(8, 1), nn.Sigmoid())

            def configure_loss(self):
                self.loss_fn = nn.BCELoss()

            def training_step(self, x, y):
                return self.loss_fn(self.model(x), y)
        """,
        ["NAN101 12:29"],
    ),
    (
        "crit if crit is not None else nn.BCELoss(), no caller passing crit",
        """\
        class Model(nn.Module):
            def __init__(self, crit=None):
                super().__init__()
                self.fc = nn.Linear(8, 1)
                self.crit = crit if crit is not None else nn.BCELoss()

            def forward(self, x, y):
                return self.crit(torch.sigmoid(self.fc(x)), y)


        loss = Model()(x, y)
        """,
        ["NAN101 11:26"],
    ),
    (
        "crit or nn.BCELoss()",
        """\
        class Model(nn.Module):
            def __init__(self, dim, crit=None):
                super().__init__()
                self.fc = nn.Linear(dim, 1)
                self.crit = crit or nn.BCELoss()

            def forward(self, x, y):
                return self.crit(torch.sigmoid(self.fc(x)), y)


        loss = Model(8)(x, y)
        """,
        ["NAN101 11:26"],
    ),
    (
        "if crit is None: crit = nn.BCELoss()",
        """\
        class Model(nn.Module):
            def __init__(self, crit=None):
                super().__init__()
                self.fc = nn.Linear(8, 1)
                if crit is None:
                    crit = nn.BCELoss()
                self.crit = crit

            def forward(self, x, y):
                return self.crit(torch.sigmoid(self.fc(x)), y)


        loss = Model()(x, y)
        """,
        ["NAN101 13:26"],
    ),
    (
        "every caller passes the same loss: the None test folds",
        """\
        class Model(nn.Module):
            def __init__(self, crit=None):
                super().__init__()
                self.fc = nn.Linear(8, 1)
                self.crit = nn.MSELoss() if crit is None else crit

            def forward(self, x, y):
                return self.crit(torch.sigmoid(self.fc(x)), y)


        bce = nn.BCELoss()
        a = Model(bce)(x, y)
        b = Model(crit=bce)(x, y)
        """,
        ["NAN101 11:26"],
    ),
    (
        "a loss forwarded through super().__init__(loss=...)",
        """\
        class Base(nn.Module):
            def __init__(self, loss):
                super().__init__()
                self.loss = loss

            def compute(self, p, y):
                return self.loss(p, y)


        class Child(Base):
            def __init__(self):
                super().__init__(loss=nn.BCELoss())
                self.fc = nn.Linear(4, 1)

            def forward(self, x, y):
                return self.compute(torch.sigmoid(self.fc(x)), y)
        """,
        ["NAN101 10:26"],
    ),
    (
        "a constructor default nobody overrides",
        """\
        class Head(nn.Module):
            def __init__(self, dim, activation=nn.Sigmoid()):
                super().__init__()
                self.fc = nn.Linear(dim, 1)
                self.act = activation

            def forward(self, x):
                return self.act(self.fc(x))


        loss = nn.BCEWithLogitsLoss()(Head(8)(x), y)
        """,
        ["NAN102 14:31"],
    ),
]


STATE.append(
    (
        "a loss built in both branches of a gpu flag, one moved with .cuda()",
        NET
        + textwrap.dedent(
            """\
            class Trainer:
                def __init__(self, args):
                    self.D = Net()
                    if args.gpu_mode:
                        self.D.cuda()
                        self.BCE_loss = nn.BCELoss().cuda()
                    else:
                        self.BCE_loss = nn.BCELoss()

                def train(self, x, y):
                    return self.BCE_loss(self.D(x), y)
            """
        ),
        ["NAN101 23:30"],
    )
)

DECODERS = """\
class InnerProduct(nn.Module):
    def forward(self, z, edges, sigmoid=True):
        value = (z[edges[0]] * z[edges[1]]).sum(dim=1)
        return torch.sigmoid(value) if sigmoid else value


class AutoEncoder(nn.Module):
    def __init__(self, encoder, decoder=None):
        super().__init__()
        self.encoder = encoder
        self.decoder = InnerProduct() if decoder is None else decoder

    def recon_loss(self, z, pos, y):
        return F.binary_cross_entropy(self.decoder(z, pos, sigmoid=True), y)


"""

STATE.append(
    (
        "a library class nobody builds here: its constructor's defaults",
        DECODERS
        + textwrap.dedent(
            """\
            class VariationalAutoEncoder(AutoEncoder):
                def __init__(self, encoder, decoder=None):
                    super().__init__(encoder, decoder)
            """
        ),
        ["NAN101 17:39"],
    )
)

STATE.append(
    (
        "a library class nobody builds here: a default variant leaves the others open",
        """\
        class Loss(nn.Module):
            def __init__(self, variant="logits"):
                super().__init__()
                self.variant = variant

            def forward(self, x, y):
                if self.variant == "probs":
                    return F.binary_cross_entropy(torch.sigmoid(x), y)
                return F.binary_cross_entropy_with_logits(x, y)
        """,
        ["NAN101 11:43"],
    )
)

TWO_MODELS = """\
class A(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc = nn.Linear(8, 1)

    def forward(self, x):
        return torch.sigmoid(self.fc(x))


class B(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc = nn.Linear(8, 1)

    def forward(self, x):
        return {b_returns}


"""

STATE += [
    (
        "one of two models, each returning probabilities, moved with .cuda()",
        TWO_MODELS.format(b_returns="self.fc(x).sigmoid()")
        + textwrap.dedent(
            """\
            model = A() if cfg.small else B()
            model = model.cuda()
            loss = nn.BCELoss()(model(x), y)
            """
        ),
        ["NAN101 24:21"],
    ),
    (
        "the model each subclass assigns, read by the base class",
        TWO_MODELS.format(b_returns="self.fc(x).sigmoid()")
        + textwrap.dedent(
            """\
            class Engine:
                def __init__(self):
                    self.crit = nn.BCELoss()

                def step(self, x, y):
                    return self.crit(self.model(x), y)


            class EngineA(Engine):
                def __init__(self):
                    self.model = A()
                    super().__init__()


            class EngineB(Engine):
                def __init__(self):
                    self.model = B()
                    super().__init__()
            """
        ),
        ["NAN101 27:26"],
    ),
]


@pytest.mark.parametrize("body, expected", [s[1:] for s in STATE], ids=[s[0] for s in STATE])
def test_object_state(body, expected):
    assert check(body) == expected


STATE_TRAPS = {
    "fit replaces the model with one returning logits": NET
    + textwrap.dedent(
        """\
        class Trainer:
            def __init__(self):
                self.model = Net()
                self.criterion = nn.BCELoss()

            def fit(self, loader, device):
                self.model = self.model.to(device)
                for x, y in loader:
                    loss = self.criterion(self.model(x), y)

            def finetune(self):
                self.model = nn.Linear(8, 1)
        """
    ),
    "a method assigns the loss another kind": """\
        class Trainer:
            def __init__(self):
                self.model = nn.Sequential(nn.Linear(8, 1), nn.Sigmoid())
                self.loss_fn = nn.BCELoss()

            def use_logits(self):
                self.model = self.model[0]
                self.loss_fn = nn.BCEWithLogitsLoss()

            def fit(self, x, y):
                return self.loss_fn(self.model(x), y)
        """,
    "a caller passes its own loss": """\
        class Model(nn.Module):
            def __init__(self, crit=None):
                super().__init__()
                self.fc = nn.Linear(8, 1)
                self.crit = crit if crit is not None else nn.BCELoss()

            def forward(self, x, y):
                return self.crit(torch.sigmoid(self.fc(x)), y)


        a = Model()(x, y)
        b = Model(nn.MSELoss())(x, y)
        """,
    "a caller passes something unknown": """\
        class Model(nn.Module):
            def __init__(self, crit=None):
                super().__init__()
                self.fc = nn.Linear(8, 1)
                self.crit = crit or nn.BCELoss()

            def forward(self, x, y):
                return self.crit(torch.sigmoid(self.fc(x)), y)


        b = Model(crit=make_loss())(x, y)
        """,
    "a default overridden with another activation": """\
        class Head(nn.Module):
            def __init__(self, activation=nn.Sigmoid()):
                super().__init__()
                self.fc = nn.Linear(8, 1)
                self.act = activation

            def forward(self, x):
                return self.act(self.fc(x))


        a = Head()
        b = Head(nn.Identity())
        loss = nn.BCEWithLogitsLoss()(b(x), y)
        """,
    "a Sequential passed in is true: `or` takes it": """\
        class Model(nn.Module):
            def __init__(self, head=None):
                super().__init__()
                self.head = head or nn.Sequential(nn.Linear(8, 1), nn.Sigmoid())

            def forward(self, x):
                return self.head(x)


        loss = nn.BCEWithLogitsLoss()(Model(nn.Sequential(nn.Linear(8, 1)))(x), y)
        """,
    "apply() is not kept: it may be any object's": """\
        class Trainer:
            def __init__(self):
                self.model = nn.Sequential(nn.Linear(8, 1), nn.Sigmoid())

            def fit(self, x, y, fn):
                self.model = self.model.apply(fn)
                return nn.BCEWithLogitsLoss()(self.model(x), y)
        """,
}


STATE_TRAPS["a loss of another class in the other branch"] = NET + textwrap.dedent(
    """\
    class Trainer:
        def __init__(self, args):
            self.D = Net()
            if args.logits:
                self.loss = nn.BCEWithLogitsLoss().cuda()
            else:
                self.loss = nn.BCELoss()

        def train(self, x, y):
            return self.loss(self.D(x), y)
    """
)

STATE_TRAPS["a class in a registry: built with anything"] = DECODERS + textwrap.dedent(
    """\
    MODELS = {"gae": AutoEncoder}
    model = MODELS[config.name](encoder)
    """
)

STATE_TRAPS["one of two models, one returning logits"] = TWO_MODELS.format(
    b_returns="self.fc(x)"
) + textwrap.dedent(
    """\
    model = A() if cfg.small else B()
    loss = nn.BCELoss()(model(x), y)
    """
)


@pytest.mark.parametrize("body", STATE_TRAPS.values(), ids=list(STATE_TRAPS))
def test_object_state_traps(body):
    assert check(body) == []


# -- 6. joins that lose nothing real ----------------------------------------------------------

JOINS = [
    (
        "an early return None",
        """\
        def predict(model, x):
            if x is None:
                return None
            return torch.sigmoid(model(x))


        loss = F.binary_cross_entropy(predict(model, x), y)
        """,
        ["NAN101 10:31"],
    ),
    (
        "if/elif without else falls off the end",
        """\
        def head(z, kind):
            if kind == "binary":
                return torch.sigmoid(z)
            elif kind == "scaled":
                return torch.sigmoid(2 * z)


        loss = F.binary_cross_entropy(head(z, cfg.kind), y)
        """,
        ["NAN101 11:31"],
    ),
    (
        "a raising branch",
        """\
        def normalise(z):
            if z.dim() != 2:
                raise ValueError("expected 2-d scores")
            return torch.softmax(z, dim=1)


        loss = F.nll_loss(torch.log(normalise(z)), y)
        """,
        ["NAN201 10:19"],
    ),
    (
        "a variable that is None until a branch sets it",
        """\
        probs = None
        if ready:
            probs = torch.sigmoid(z)
        loss = F.binary_cross_entropy(probs, y)
        """,
        ["NAN101 7:31"],
    ),
    (
        "a conditional expression on a keyword flag",
        """\
        def score(v, apply_sigmoid=False):
            return torch.sigmoid(v) if apply_sigmoid else v


        a = F.binary_cross_entropy(score(v, apply_sigmoid=True), y)
        b = F.binary_cross_entropy_with_logits(score(v), y)
        """,
        ["NAN101 8:28"],
    ),
    (
        "an if statement on a positional flag",
        """\
        def score(v, apply_sigmoid):
            if apply_sigmoid:
                v = v.sigmoid()
            return v


        a = F.binary_cross_entropy(score(v, True), y)
        b = F.binary_cross_entropy_with_logits(score(v, False), y)
        """,
        ["NAN101 10:28"],
    ),
    (
        "a forward flag left at its default",
        """\
        class Head(nn.Module):
            def __init__(self):
                super().__init__()
                self.fc = nn.Linear(4, 1)

            def forward(self, x, return_probs=True):
                z = self.fc(x)
                return torch.sigmoid(z) if return_probs else z


        head = Head()
        a = F.binary_cross_entropy(head(x), y)
        b = F.binary_cross_entropy_with_logits(head(x, return_probs=False), y)
        """,
        ["NAN101 15:28"],
    ),
    (
        "a flag every caller passes alike",
        """\
        def score(v, apply_sigmoid=False):
            return torch.sigmoid(v) if apply_sigmoid else v


        a = F.binary_cross_entropy(score(v, apply_sigmoid=True), y)
        b = F.binary_cross_entropy(score(w, apply_sigmoid=True), y)
        """,
        ["NAN101 8:28", "NAN101 9:28"],
    ),
    (
        "a default object made when the caller passes None",
        """\
        def loss_of(z, y, criterion=None):
            criterion = nn.BCELoss() if criterion is None else criterion
            return criterion(torch.sigmoid(z), y)


        loss = loss_of(z, y)
        """,
        ["NAN101 6:22"],
    ),
]


JOINS.append(
    (
        "parameters built in two branches stay tensors (their constructors' arguments differ)",
        """\
        w = nn.Parameter(torch.randn(3) * 0.1) if big else nn.Parameter(torch.randn(1) * 0.1)
        loss = F.binary_cross_entropy(w.sigmoid(), y)
        """,
        ["NAN101 5:31"],
    )
)


@pytest.mark.parametrize("body, expected", [s[1:] for s in JOINS], ids=[s[0] for s in JOINS])
def test_joins(body, expected):
    assert check(body) == expected


def test_a_result_chosen_by_a_flag_is_named_and_not_fixed():
    """Taking the sigmoid out would change what the flag's other callers get."""
    body = """\
    def score(v, apply_sigmoid=False):
        return torch.sigmoid(v) if apply_sigmoid else v


    a = F.binary_cross_entropy(score(v, apply_sigmoid=True), y)
    b = F.binary_cross_entropy_with_logits(score(v), y)
    """
    (diagnostic,) = diagnostics_of(HEADER + textwrap.dedent(body))
    assert "via `score(apply_sigmoid=True)`" in diagnostic.message
    assert diagnostic.fix is None


JOIN_TRAPS = {
    "a real join of probabilities and logits": """\
        def head(z, training):
            if training:
                return z
            return torch.sigmoid(z)


        loss = F.binary_cross_entropy(head(z, mode), y)
        """,
    "if/elif of two kinds": """\
        if mode == "a":
            p = torch.sigmoid(z)
        elif mode == "b":
            p = z
        loss = F.binary_cross_entropy(p, y)
        """,
    "a conditional of two kinds on an unknown test": """\
        p = torch.sigmoid(z) if cfg.sigmoid else z
        loss = F.binary_cross_entropy(p, y)
        """,
    "a flag passed as a variable": """\
        def score(v, apply_sigmoid=False):
            return torch.sigmoid(v) if apply_sigmoid else v


        def step(v, y, flag):
            return F.binary_cross_entropy(score(v, apply_sigmoid=flag), y)
        """,
    "a flag that some caller passes as a variable": """\
        def score(v, apply_sigmoid=False):
            if apply_sigmoid:
                v = torch.sigmoid(v)
            return F.binary_cross_entropy_with_logits(v, y)


        a = score(v)
        b = score(v, apply_sigmoid=cfg.flag)
        """,
    "a flag passed through **kwargs": """\
        def score(v, apply_sigmoid=True):
            return torch.sigmoid(v) if apply_sigmoid else v


        loss = F.binary_cross_entropy(score(v, **options), y)
        """,
    "a flag choosing logits for the logits loss": """\
        def score(v, apply_sigmoid=False):
            return torch.sigmoid(v) if apply_sigmoid else v


        a = F.binary_cross_entropy_with_logits(score(v), y)
        b = (score(v, apply_sigmoid=True) > 0.5).float().mean()
        """,
}


@pytest.mark.parametrize("body", JOIN_TRAPS.values(), ids=list(JOIN_TRAPS))
def test_join_traps(body):
    assert check(body) == []
