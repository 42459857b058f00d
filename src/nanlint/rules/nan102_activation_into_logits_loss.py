"""NAN102 activation-into-logits-loss."""

from __future__ import annotations

from nanlint.analysis import torch_api as api
from nanlint.analysis.kinds import Kind
from nanlint.analysis.sinks import SinkCall
from nanlint.analysis.values import Tensor
from nanlint.fixes import FixAvailability
from nanlint.repro.harness import FirstBreak, Measured, Ratio, Reproduction, Scenario
from nanlint.rules.base import Invalid, RuleDoc, Valid
from nanlint.rules.into_loss import KindIntoLossRule, removal_title


def _bce_with_logits(t, x, y):
    return t.nn.functional.binary_cross_entropy_with_logits(x, y, reduction="none")


class ActivationIntoLogitsLoss(KindIntoLossRule):
    code = "NAN102"
    fix_availability = FixAvailability.SOMETIMES
    losses = (api.BCE_WITH_LOGITS, api.SIGMOID_FOCAL, api.MULTILABEL_SOFT_MARGIN)
    kinds = frozenset({Kind.PROB_SIGMOID, Kind.PROB_SOFTMAX, Kind.NONNEG})
    unsafe_because = "removing the activation changes the loss (it was computed on squashed values)"

    def consequence(self, sink: SinkCall, kind: Kind) -> str:
        if kind is Kind.NONNEG:
            return (
                "it applies a sigmoid itself and expects logits of both signs: after a ReLU no"
                " prediction can fall below 0.5, and every negative pre-activation gets exactly"
                " zero gradient"
            )
        return (
            "it applies a sigmoid itself, so the double sigmoid squeezes every prediction into"
            " [0.5, 0.731]: a confidently wrong logit costs at most ln 2 = 0.693 and its"
            " gradient is 300x too small at |z| = 5 (44,000x at 10)"
        )

    def fix_title(self, sink: SinkCall) -> str:
        arg = sink.input
        assert arg is not None and isinstance(arg.value, Tensor)
        return removal_title(arg.value.origins[0].label)

    doc = RuleDoc(
        what=(
            "Finds the output of a sigmoid, softmax or ReLU passed as the input of a loss that"
            " applies the sigmoid itself: `nn.BCEWithLogitsLoss`,"
            " `F.binary_cross_entropy_with_logits`, torchvision's `sigmoid_focal_loss` and"
            " `MultiLabelSoftMarginLoss`, through variables, model outputs and `nn.Sequential`"
            " layers."
        ),
        why=(
            "These losses compute sigmoid(input) internally. Given sigmoid probabilities they"
            " compute sigmoid(sigmoid(z)): every prediction lies in [0.5, 0.731], a confidently"
            " right example can never bring its loss below 0.313 (ln 2 for the negative class),"
            " a confidently wrong one never costs more than ln 2 = 0.693 however wrong it is, and"
            " the gradient through the two sigmoids is 300x smaller than it should be at"
            " |z| = 5 and 44,000x at |z| = 10. Training still runs, which is why this bug survives:"
            " in a 300-step demo the double sigmoid reached 93.8% accuracy where the logits"
            " reached 99.6%. After a ReLU, the logits can never be negative, so nothing is ever"
            " predicted below 0.5 and negative pre-activations get no gradient at all."
        ),
        fix_safety=(
            "The fix removes the activation so that the loss receives the logits. That changes"
            " the loss value (it was wrong before), so the fix is always unsafe; when the"
            " activation is the last layer of a model, what the model returns changes too and"
            " the fix lists the other places that now receive logits."
        ),
        references=(
            "https://pytorch.org/docs/stable/generated/torch.nn.BCEWithLogitsLoss.html",
            "https://pytorch.org/vision/stable/generated/torchvision.ops.sigmoid_focal_loss.html",
            "https://pytorch.org/docs/stable/generated/torch.nn.MultiLabelSoftMarginLoss.html",
        ),
    )

    invalid = (
        Invalid(
            """
            import torch
            import torch.nn as nn

            criterion = nn.BCEWithLogitsLoss(pos_weight=torch.tensor([3.0]))


            def loss(logits, target):
                return criterion(torch.sigmoid(logits), target)
            """,
            expect=("8:22",),
            unsafe_fixed="""
            import torch
            import torch.nn as nn

            criterion = nn.BCEWithLogitsLoss(pos_weight=torch.tensor([3.0]))


            def loss(logits, target):
                return criterion(logits, target)
            """,
        ),
        Invalid(
            """
            import torch.nn as nn
            import torch.nn.functional as F


            class Scorer(nn.Module):
                def __init__(self):
                    super().__init__()
                    self.layers = nn.Sequential(nn.Linear(32, 16), nn.ReLU(), nn.Linear(16, 1), nn.ReLU())

                def forward(self, x):
                    return self.layers(x)


            model = Scorer()


            def train_step(x, y):
                return F.binary_cross_entropy_with_logits(model(x), y)
            """,
            expect=("18:47",),
            unsafe_fixed="""
            import torch.nn as nn
            import torch.nn.functional as F


            class Scorer(nn.Module):
                def __init__(self):
                    super().__init__()
                    self.layers = nn.Sequential(nn.Linear(32, 16), nn.ReLU(), nn.Linear(16, 1))

                def forward(self, x):
                    return self.layers(x)


            model = Scorer()


            def train_step(x, y):
                return F.binary_cross_entropy_with_logits(model(x), y)
            """,
        ),
        Invalid(
            """
            import torch
            from torchvision.ops import sigmoid_focal_loss


            def detection_loss(class_logits, targets):
                return sigmoid_focal_loss(class_logits.softmax(-1), targets, reduction="mean")
            """,
            expect=("6:31",),
            unsafe_fixed="""
            import torch
            from torchvision.ops import sigmoid_focal_loss


            def detection_loss(class_logits, targets):
                return sigmoid_focal_loss(class_logits, targets, reduction="mean")
            """,
        ),
        Invalid(
            """
            import torch
            import torch.nn.functional as F


            def tagging_loss(logits, labels):
                probs = torch.sigmoid(logits)
                loss = F.multilabel_soft_margin_loss(probs, labels)
                return loss, probs
            """,
            expect=("7:42",),
            unsafe_fixed="""
            import torch
            import torch.nn.functional as F


            def tagging_loss(logits, labels):
                probs = torch.sigmoid(logits)
                loss = F.multilabel_soft_margin_loss(logits, labels)
                return loss, probs
            """,
        ),
    )

    valid = (
        Valid(
            """
            import torch
            import torch.nn as nn
            import torch.nn.functional as F


            class Net(nn.Module):
                def __init__(self):
                    super().__init__()
                    self.net = nn.Sequential(nn.Linear(4, 1), nn.Sigmoid())

                def forward(self, x):
                    return self.net(x)  # probabilities at inference

                def training_step(self, x, y):
                    logits = self.net[0](x)  # training skips the final Sigmoid
                    return F.binary_cross_entropy_with_logits(logits, y)
            """
        ),
        Valid(
            """
            import torch
            import torch.nn as nn


            class Net(nn.Module):
                def __init__(self):
                    super().__init__()
                    self.fc = nn.Linear(4, 1)

                def forward(self, x):
                    logits = self.fc(x)
                    if self.training:
                        return logits
                    return torch.sigmoid(logits)


            def step(model: Net, x, y):
                return nn.BCEWithLogitsLoss()(Net()(x), y)  # logits on the training path
            """
        ),
        Valid(
            """
            import torch
            import torch.nn.functional as F


            def step(logits, teacher_logits):
                loss = F.binary_cross_entropy_with_logits(logits, torch.sigmoid(teacher_logits))
                accuracy = (torch.sigmoid(logits) > 0.5).float().mean()
                return loss, accuracy
            """
        ),
    )

    reproduction = Reproduction(
        unstable_label="BCEWithLogitsLoss(sigmoid(z), y)",
        stable_label="BCEWithLogitsLoss(z, y)",
        dtypes=("float32",),
        scenarios=(
            Scenario(
                name="confidently wrong: logit z = -m, target y = 1",
                inputs=lambda t, m: -m,
                target=lambda t, x: t.ones_like(x),
                unstable=lambda t, x, y: _bce_with_logits(t, t.sigmoid(x), y),
                stable=_bce_with_logits,
                rows=(0.0, 1.0, 5.0, 10.0, 20.0, 100.0),
                claims=(
                    Measured(
                        "the loss cannot exceed ln 2 = 0.693",
                        "float32",
                        100.0,
                        "unstable_value",
                        0.6931,
                    ),
                    Ratio(
                        "gradient 300x too small at |z| = 5",
                        "float32",
                        5.0,
                        "stable_grad",
                        "unstable_grad",
                        300.0,
                    ),
                    Ratio(
                        "gradient 44,000x too small at |z| = 10",
                        "float32",
                        10.0,
                        "stable_grad",
                        "unstable_grad",
                        44000.0,
                    ),
                ),
            ),
            Scenario(
                name="confidently right: logit z = +m, target y = 1",
                inputs=lambda t, m: m,
                target=lambda t, x: t.ones_like(x),
                unstable=lambda t, x, y: _bce_with_logits(t, t.sigmoid(x), y),
                stable=_bce_with_logits,
                rows=(0.0, 1.0, 5.0, 10.0, 100.0),
                claims=(Measured("loss floor 0.313", "float32", 100.0, "unstable_value", 0.3133),),
            ),
            Scenario(
                name="ReLU before the loss: logit z = -m, target y = 1",
                inputs=lambda t, m: -m,
                target=lambda t, x: t.ones_like(x),
                unstable=lambda t, x, y: _bce_with_logits(t, t.relu(x), y),
                stable=_bce_with_logits,
                rows=(0.0, 1.0, 5.0, 100.0),
                claims=(
                    FirstBreak("gradient exactly 0 for z <= 0", "float32", "grad", "zero", 0.0),
                ),
            ),
        ),
    )
