"""Project-wide analysis: probabilities followed across functions, classes and files."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from nanlint.engine import everywhere, fix_files, lint_files
from nanlint.rules import ALL_RULES
from nanlint.source import SourceFile

MODEL = """\
import torch.nn as nn


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.head = nn.Sequential(nn.Linear(8, 1), nn.Sigmoid())

    def forward(self, x):
        return self.head(x)
"""


@pytest.fixture
def project(tmp_path):
    """Write files into tmp_path (dedented), return a function that lints some of them."""

    def make(files: dict[str, str]):
        for name, text in files.items():
            path = tmp_path / name
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(textwrap.dedent(text))
        return tmp_path

    return make


def check(root: Path, *names: str) -> list[str]:
    """`file:line:col CODE` of the diagnostics when linting `names` (default: every file)."""
    paths = [root / name for name in names] if names else sorted(root.rglob("*.py"))
    sources = [SourceFile.from_bytes(path, path.read_bytes()) for path in paths]
    diagnostics, errors = lint_files(sources, everywhere(ALL_RULES))
    assert not errors
    return [
        f"{Path(d.path).relative_to(root)}:{d.start.line}:{d.start.column} {d.code}"
        for d in diagnostics
    ]


def messages(root: Path, *names: str) -> list[str]:
    paths = [root / name for name in names] if names else sorted(root.rglob("*.py"))
    sources = [SourceFile.from_bytes(path, path.read_bytes()) for path in paths]
    diagnostics, _ = lint_files(sources, everywhere(ALL_RULES))
    return [d.message for d in diagnostics]


TRAIN = """\
import torch.nn as nn
{import_line}


def train(loader):
    model = {make}
    criterion = nn.BCELoss()
    for x, y in loader:
        loss = criterion(model(x), y)
"""


@pytest.mark.parametrize(
    "layout, import_line, make",
    [
        ({"pkg/__init__.py": "", "pkg/models.py": MODEL}, "from .models import Net", "Net()"),
        ({"models/unet.py": MODEL}, "from models.unet import Net", "Net()"),
        (
            {"models/__init__.py": "", "models/unet.py": MODEL},
            "import models.unet",
            "models.unet.Net()",
        ),
        ({"models.py": MODEL}, "import models", "models.Net()"),
        (
            {"models/__init__.py": "from .unet import Net\n", "models/unet.py": MODEL},
            "from models import Net",
            "Net()",
        ),
    ],
    ids=["relative", "namespace-package", "import-dotted", "import-module", "re-export"],
)
def test_imports_between_project_files(project, layout, import_line, make):
    train_dir = "pkg/" if "pkg/__init__.py" in layout else ""
    root = project(
        {**layout, f"{train_dir}train.py": TRAIN.format(import_line=import_line, make=make)}
    )
    assert check(root) == [f"{train_dir}train.py:9:26 NAN101"]


def test_src_layout(project):
    root = project(
        {
            "pyproject.toml": "[project]\nname = 'seg'\n",
            "src/seg/__init__.py": "",
            "src/seg/model.py": MODEL,
            "scripts/train.py": TRAIN.format(import_line="from seg.model import Net", make="Net()"),
        }
    )
    assert check(root, "scripts/train.py") == ["scripts/train.py:9:26 NAN101"]


def test_one_changed_file_still_sees_the_project(project):
    """What pre-commit does: only train.py is linted; the model is read from disk."""
    root = project(
        {
            "models.py": MODEL,
            "train.py": TRAIN.format(import_line="from models import Net", make="Net()"),
        }
    )
    assert check(root, "train.py") == ["train.py:9:26 NAN101"]


def test_third_party_imports_stay_unknown(project):
    root = project(
        {
            "train.py": TRAIN.format(
                import_line="from torchvision.models import resnet18 as Net", make="Net()"
            )
        }
    )
    assert check(root) == []


def test_message_names_both_ends_and_the_path(project):
    root = project(
        {
            "models.py": MODEL,
            "train.py": TRAIN.format(import_line="from models import Net", make="Net()"),
        }
    )
    (message,) = messages(root)
    assert message.startswith(
        "Sigmoid probabilities from `nn.Sigmoid, last layer of self.head`"
        f" ({root / 'models.py'}:7) via `Net.forward` reach `nn.BCELoss`: "
    )


def test_call_site_binding(project):
    root = project(
        {
            "models.py": MODEL,
            "engine.py": """\
                def train(model, criterion, loader):
                    for x, y in loader:
                        loss = criterion(model(x), y)
                        loss.backward()
            """,
            "main.py": """\
                import torch.nn as nn
                from engine import train
                from models import Net

                train(Net(), nn.BCELoss(), [])
            """,
        }
    )
    assert check(root) == ["engine.py:3:26 NAN101"]


def test_call_sites_must_agree(project):
    root = project(
        {
            "models.py": MODEL,
            "engine.py": """\
                def train(model, criterion, loader):
                    for x, y in loader:
                        loss = criterion(model(x), y)
            """,
            "main.py": """\
                import torch.nn as nn
                from engine import train
                from models import Net

                train(Net(), nn.BCELoss(), [])
                train(Net(), nn.MSELoss(), [])
            """,
        }
    )
    assert check(root) == []


def test_an_escaping_function_keeps_unknown_parameters(project):
    root = project(
        {
            "models.py": MODEL,
            "engine.py": """\
                def train(model, criterion, loader):
                    for x, y in loader:
                        loss = criterion(model(x), y)
            """,
            "main.py": """\
                import torch.nn as nn
                from engine import train
                from models import Net

                train(Net(), nn.BCELoss(), [])
                callbacks = [train]
                run_later(callbacks)
            """,
        }
    )
    assert check(root) == []


def test_factory_functions_and_wrappers(project):
    root = project(
        {
            "factory.py": """\
                import torch
                import torch.nn as nn


                def build_model(width):
                    model = nn.Sequential(nn.Linear(width, 1), nn.Sigmoid())
                    return torch.compile(model)
            """,
            "train.py": """\
                import torch.nn as nn
                import torch.nn.functional as F
                from factory import build_model

                model = nn.parallel.DistributedDataParallel(build_model(16))


                def step(x, y):
                    return F.binary_cross_entropy(model(x), y)
            """,
        }
    )
    assert check(root) == ["train.py:9:35 NAN101"]


def test_tuple_returns_across_files(project):
    root = project(
        {
            "gan.py": """\
                import torch
                import torch.nn as nn


                class Discriminator(nn.Module):
                    def __init__(self, classes=10):
                        super().__init__()
                        self.body = nn.Linear(784, 128)
                        self.validity = nn.Sequential(nn.Linear(128, 1), nn.Sigmoid())
                        self.label = nn.Sequential(nn.Linear(128, classes), nn.Softmax(dim=1))

                    def forward(self, images):
                        features = self.body(images)
                        return self.validity(features), self.label(features)
            """,
            "train.py": """\
                import torch.nn as nn
                from gan import Discriminator

                discriminator = Discriminator()
                adversarial = nn.BCELoss()
                auxiliary = nn.CrossEntropyLoss()


                def d_loss(images, real, labels):
                    validity, label = discriminator(images)
                    return adversarial(validity, real) + auxiliary(label, labels)
            """,
        }
    )
    assert check(root) == ["train.py:11:24 NAN101", "train.py:11:52 NAN103"]


def test_loss_selected_by_a_constant_config(project):
    root = project(
        {
            "config.py": """\
                import torch.nn as nn

                CONFIG = {"loss": "bce", "embedding_dim": 64}
                LOSSES = {"bce": nn.BCELoss, "mse": nn.MSELoss}
                ACTIVATION = "sigmoid"
            """,
            "model.py": """\
                import torch.nn as nn
                from config import ACTIVATION


                class Scorer(nn.Module):
                    def __init__(self):
                        super().__init__()
                        self.fc = nn.Linear(64, 1)
                        if ACTIVATION == "sigmoid":
                            self.act = getattr(nn, "Sigmoid")()
                        elif ACTIVATION == "relu":
                            self.act = nn.ReLU()
                        else:
                            self.act = nn.Identity()

                    def forward(self, x):
                        return self.act(self.fc(x))
            """,
            "train.py": """\
                from config import CONFIG, LOSSES
                from model import Scorer

                criterion = LOSSES[CONFIG["loss"]]()
                model = Scorer()


                def step(x, y):
                    return criterion(model(x), y)
            """,
        }
    )
    assert check(root) == ["train.py:9:22 NAN101"]


TRAINER_WITH_OVERRIDE = """\
    import torch
    import torch.nn as nn


    class Trainer:
        def __init__(self, model, loss_fn=nn.BCELoss()):
            self.model = model
            self.loss_fn = loss_fn

        def step(self, x, y):
            return self.loss_fn(torch.sigmoid(self.model(x)), y)


    class MSETrainer(Trainer):
        def __init__(self, model):
            super().__init__(model, loss_fn=nn.MSELoss())
"""


def test_keyword_default_and_subclass_override(project):
    root = project(
        {
            "trainer.py": TRAINER_WITH_OVERRIDE,
            "main.py": """\
                from trainer import MSETrainer, Trainer

                Trainer(model=None).step(1, 2)
                MSETrainer(None).step(1, 2)
            """,
        }
    )
    assert check(root) == ["trainer.py:11:29 NAN101"]


def test_subclass_override_alone_is_silent(project):
    root = project(
        {
            "trainer.py": TRAINER_WITH_OVERRIDE,
            "main.py": """\
                from trainer import MSETrainer

                MSETrainer(None).step(1, 2)
            """,
        }
    )
    assert check(root) == []


def test_lightning_module(project):
    root = project(
        {
            "classifier.py": """\
                import lightning.pytorch as pl
                import torch.nn as nn
                import torch.nn.functional as F


                class Classifier(pl.LightningModule):
                    def __init__(self):
                        super().__init__()
                        self.net = nn.Linear(32, 10)

                    def configure_loss(self):
                        self.loss_fn = nn.CrossEntropyLoss()

                    def forward(self, x):
                        return F.softmax(self.net(x), dim=-1)

                    def training_step(self, batch, batch_idx):
                        x, y = batch
                        loss = self.loss_fn(self(x), y)
                        self.log("train_loss", loss)
                        return loss
            """
        }
    )
    assert check(root) == ["classifier.py:19:29 NAN103"]


def test_probabilities_through_lists_and_dicts(project):
    root = project(
        {
            "evaluate.py": """\
                import torch
                import torch.nn.functional as F


                class Evaluator:
                    def __init__(self, model):
                        self.model = model
                        self.outputs = []

                    def validation_step(self, x):
                        self.outputs.append(torch.sigmoid(self.model(x)))

                    def on_validation_epoch_end(self, targets):
                        probs = torch.cat(self.outputs)
                        return F.binary_cross_entropy(probs, targets)


                def evaluate(model, loader, targets):
                    collected = []
                    for x in loader:
                        collected.append(torch.sigmoid(model(x)))
                    results = {"probs": torch.cat(collected)}
                    return F.binary_cross_entropy(results["probs"], targets)
            """
        }
    )
    assert check(root) == ["evaluate.py:15:39 NAN101", "evaluate.py:23:35 NAN101"]


def test_training_mode_branch_stays_silent(project):
    root = project(
        {
            "model.py": """\
                import torch
                import torch.nn as nn


                class Net(nn.Module):
                    def __init__(self):
                        super().__init__()
                        self.fc = nn.Linear(8, 1)

                    def forward(self, x):
                        logits = self.fc(x)
                        if self.training:
                            return logits
                        return torch.sigmoid(logits)
            """,
            "train.py": """\
                import torch.nn as nn
                from model import Net

                model = Net()
                loss = nn.BCEWithLogitsLoss()(model(x), y)
            """,
        }
    )
    assert check(root) == []


def test_cross_file_fix_is_all_or_nothing(project, tmp_path):
    root = project(
        {
            "models.py": MODEL,
            "train.py": TRAIN.format(import_line="from models import Net", make="Net()"),
            "predict.py": "from models import Net\n\n\ndef predict(x):\n    return Net()(x) > 0.5\n",
        }
    )
    paths = sorted(root.glob("*.py"))
    sources = [SourceFile.from_bytes(path, path.read_bytes()) for path in paths]
    report = fix_files(sources, everywhere(ALL_RULES), unsafe=True)
    assert sorted(Path(p).name for p in report.changed) == ["models.py", "train.py"]
    assert "nn.Sequential(nn.Linear(8, 1))" in report.changed[root / "models.py"]
    assert "criterion = nn.BCEWithLogitsLoss()" in report.changed[root / "train.py"]

    only_train = [s for s in sources if s.path.name == "train.py"]
    partial = fix_files(only_train, everywhere(ALL_RULES), unsafe=True)
    assert partial.changed == {}
    assert partial.withheld == [
        "Pass the logits to `BCEWithLogitsLoss`: it edits files that are not being linted"
    ]


def test_cross_file_fix_lists_prediction_sites_in_other_files(project):
    root = project(
        {
            "models.py": MODEL,
            "train.py": TRAIN.format(import_line="from models import Net", make="Net()"),
            "predict.py": "from models import Net\n\n\ndef predict(x):\n    return Net()(x) > 0.5\n",
        }
    )
    paths = sorted(root.glob("*.py"))
    sources = [SourceFile.from_bytes(path, path.read_bytes()) for path in paths]
    diagnostics, _ = lint_files(sources, everywhere(ALL_RULES))
    (diagnostic,) = diagnostics
    assert any(
        f"{root / 'predict.py'}:5 (`Net()(x) > 0.5`)" in note for note in diagnostic.fix.notes
    )


def _many_subclasses(activations: list[str]) -> dict[str, str]:
    """A base class whose inherited forward applies `self.act`, one subclass per activation
    (more than MAX_CONTEXTS of them), and a training step feeding each to nn.BCELoss (the
    loss of subclass i on line 7 + i)."""
    names = ", ".join(f"Net{i}" for i in range(len(activations)))
    classes = "".join(
        f"\n\nclass Net{i}(Base):\n    def __init__(self):\n        super().__init__()\n"
        f"        self.act = nn.{activation}()\n"
        for i, activation in enumerate(activations)
    )
    losses = "".join(
        f"    loss{i} = nn.BCELoss()(Net{i}()(x), y)\n" for i in range(len(activations))
    )
    return {
        "pkg/__init__.py": "",
        "pkg/models.py": "import torch.nn as nn\n\n\nclass Base(nn.Module):\n"
        "    def forward(self, x):\n        return self.act(x)\n" + classes,
        "pkg/train.py": f"import torch.nn as nn\n\nfrom pkg.models import {names}\n\n\n"
        "def step(x, y):\n" + losses,
    }


def _flagged(line: int, index: int) -> str:
    return f"pkg/train.py:{line}:{len(f'    loss{index} = nn.BCELoss()(') + 1} NAN101"


def test_a_method_inherited_by_many_classes_is_told_apart_for_the_first_ones(project):
    """Beyond MAX_CONTEXTS receiver classes, an inherited method runs once for them all: the
    modules they assign to `self.act` are joined. Modules of one class with the same
    arguments join to that module (built at several places), so all are still told; a
    different activation among them makes the join unknown (next test)."""
    from nanlint.analysis.project import MAX_CONTEXTS

    root = project(_many_subclasses(["Sigmoid"] * (MAX_CONTEXTS + 4)))
    assert check(root) == [_flagged(7 + i, i) for i in range(MAX_CONTEXTS + 4)]


def test_a_method_inherited_by_many_classes_is_never_wrong_about_one(project):
    from nanlint.analysis.project import MAX_CONTEXTS

    activations = ["Sigmoid", "Identity"] * (MAX_CONTEXTS // 2 + 2)
    root = project(_many_subclasses(activations))
    assert check(root) == [
        _flagged(7 + i, i) for i in range(MAX_CONTEXTS) if activations[i] == "Sigmoid"
    ]


def _call_chain(length: int) -> str:
    """`loss = nn.BCELoss()(f0(x), y)` where f0 calls f1 ... calls f{length-1}, a sigmoid."""
    functions = "".join(f"\n\ndef f{i}(x):\n    return f{i + 1}(x)\n" for i in range(length - 1))
    last = f"\n\ndef f{length - 1}(x):\n    return torch.sigmoid(x)\n"
    return (
        "import torch\nimport torch.nn as nn\n"
        + functions
        + last
        + "\n\ndef step(x, y):\n    return nn.BCELoss()(f0(x), y)\n"
    )


def test_a_call_chain_is_followed_to_the_depth_budget_and_no_further(project):
    from nanlint.analysis.project import MAX_CALL_DEPTH

    within = _call_chain(MAX_CALL_DEPTH - 1)
    root = project({"within.py": within, "beyond.py": _call_chain(MAX_CALL_DEPTH + 1)})
    line = within.count("\n")
    assert check(root) == [f"within.py:{line}:25 NAN101"]


def test_a_call_chain_deeper_than_python_allows_is_not_an_error(project):
    root = project({"deep.py": _call_chain(2000)})
    assert check(root) == []


ENGINE = """\
    import torch


    class Engine:
        \"\"\"Subclasses set self.model before calling this __init__.\"\"\"

        def __init__(self, config):
            self.crit = torch.nn.BCELoss()

        def train_batch(self, users, items, ratings):
            predictions = self.model(users, items)
            return self.crit(predictions.view(-1), ratings)
"""

SIGMOID_MODEL = """\
    import torch
    from engine import Engine


    class {name}(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.out = torch.nn.Linear(8, 1)
            self.logistic = torch.nn.Sigmoid()

        def forward(self, users, items):
            return self.logistic(self.out(users * items))


    class {name}Engine(Engine):
        def __init__(self, config):
            self.model = {name}()
            if config["cuda"]:
                self.model.cuda()
            super().__init__(config)
"""


def test_a_model_each_subclass_assigns_with_one_kind(project):
    """The base class reads self.model; every subclass (in files the base never imports)
    assigns a model ending in a sigmoid."""
    root = project(
        {
            "engine.py": ENGINE,
            "gmf.py": SIGMOID_MODEL.format(name="GMF"),
            "mlp.py": SIGMOID_MODEL.format(name="MLP"),
        }
    )
    assert check(root) == ["engine.py:12:26 NAN101"]
    assert "(and 1 other place)" in messages(root)[0]


def test_a_subclass_assigning_a_logits_model_silences_the_family(project):
    logits_model = SIGMOID_MODEL.format(name="Raw").replace(
        "self.logistic(self.out(users * items))", "self.out(users * items)"
    )
    root = project(
        {
            "engine.py": ENGINE,
            "gmf.py": SIGMOID_MODEL.format(name="GMF"),
            "raw.py": logits_model,
        }
    )
    assert check(root) == []
