"""NAN103 softmax-into-cross-entropy."""

from __future__ import annotations

from nanlint.analysis import torch_api as api
from nanlint.analysis.kinds import Kind
from nanlint.analysis.sinks import SinkCall
from nanlint.analysis.values import Tensor
from nanlint.fixes import FixAvailability
from nanlint.repro.harness import Measured, Ratio, Reproduction, Scenario
from nanlint.rules.base import Invalid, RuleDoc, Valid
from nanlint.rules.into_loss import KindIntoLossRule, removal_title

CLASSES = 10


def _rows(t, m, sign):
    """Logits [sign * m, 0, ..., 0] over CLASSES classes; the target is class 0."""
    rows = t.zeros(m.shape[0], CLASSES, dtype=t.float64)
    rows[:, 0] = sign * m
    return rows


def _cross_entropy(t, x, y):
    return t.nn.functional.cross_entropy(x, y, reduction="none")


def _class_zero(t, x):
    return t.zeros(x.shape[0], dtype=t.long)


class SoftmaxIntoCrossEntropy(KindIntoLossRule):
    code = "NAN103"
    fix_availability = FixAvailability.SOMETIMES
    losses = (api.CROSS_ENTROPY,)
    kinds = frozenset({Kind.PROB_SOFTMAX, Kind.PROB_SIGMOID})
    unsafe_because = "removing the softmax changes the loss (it was computed on probabilities)"

    def consequence(self, sink: SinkCall, kind: Kind) -> str:
        if kind is Kind.PROB_SIGMOID:
            return (
                "it expects unnormalised logits: squashed into (0, 1) the logit gaps stay below"
                " 1, so the loss can never approach 0 and its gradients vanish"
            )
        return (
            "it applies log_softmax itself, so the double softmax cannot bring the loss below"
            " log(1 + (C-1)/e) (1.46 with 10 classes) and its gradient is 10x too small at"
            " initialisation"
        )

    def fix_title(self, sink: SinkCall) -> str:
        arg = sink.input
        assert arg is not None and isinstance(arg.value, Tensor)
        return removal_title(arg.value.origins[0].label)

    doc = RuleDoc(
        what=(
            "Finds softmax (or sigmoid) probabilities passed as the *input* of"
            " `nn.CrossEntropyLoss` or `F.cross_entropy`, including a model whose `forward` ends"
            " in `nn.Softmax`. Probabilities used as the *target* (soft labels, distillation) are"
            " fine and not flagged, nor is `cross_entropy(log_softmax(z), y)`, which equals"
            " `cross_entropy(z, y)`."
        ),
        why=(
            "CrossEntropyLoss applies log_softmax to its input. Given probabilities, it computes"
            " a softmax of a softmax: the inputs lie in (0, 1), so the largest achievable logit"
            " gap is 1 and the loss of even a perfect prediction stays above log(1 + (C-1)/e):"
            " 0.313 for 2 classes, 1.461 for 10, 5.91 for 1000, and a confidently wrong one costs"
            " at most 2.40 (10 classes) however wrong it is. Gradients are 10x too small at"
            " initialisation (10 classes) and vanish where they matter most: for a confidently"
            " wrong logit gap of 10 the gradient is about 200,000x too small. In a 300-step demo"
            " the double softmax stalled at loss 1.77 and 91.5% accuracy where the logits reached"
            " 0.33 and 95.8%."
        ),
        fix_safety=(
            "The fix removes the softmax so that the loss receives the logits. This changes the"
            " loss, so the fix is always unsafe. When the softmax ends a model's `forward`, what"
            " the model returns changes as well: predictions that read probabilities from it now"
            " receive logits (argmax is unaffected; thresholds are not), and the fix lists them."
        ),
        references=(
            "https://pytorch.org/docs/stable/generated/torch.nn.CrossEntropyLoss.html",
            "https://pytorch.org/docs/stable/generated/torch.nn.functional.cross_entropy.html",
        ),
    )

    invalid = (
        Invalid(
            """
            import torch.nn.functional as F


            def loss(logits, labels):
                return F.cross_entropy(F.softmax(logits, dim=1), labels)
            """,
            expect=("5:28",),
            unsafe_fixed="""
            import torch.nn.functional as F


            def loss(logits, labels):
                return F.cross_entropy(logits, labels)
            """,
        ),
        Invalid(
            """
            import torch.nn as nn


            class Classifier(nn.Module):
                def __init__(self, classes=10):
                    super().__init__()
                    self.fc = nn.Linear(128, classes)
                    self.softmax = nn.Softmax(dim=1)

                def forward(self, x):
                    return self.softmax(self.fc(x))


            model = Classifier()
            criterion = nn.CrossEntropyLoss(label_smoothing=0.1)
            for x, y in loader:
                loss = criterion(model(x), y)
                loss.backward()
            """,
            expect=("17:22",),
            unsafe_fixed="""
            import torch.nn as nn


            class Classifier(nn.Module):
                def __init__(self, classes=10):
                    super().__init__()
                    self.fc = nn.Linear(128, classes)
                    self.softmax = nn.Softmax(dim=1)

                def forward(self, x):
                    return self.fc(x)


            model = Classifier()
            criterion = nn.CrossEntropyLoss(label_smoothing=0.1)
            for x, y in loader:
                loss = criterion(model(x), y)
                loss.backward()
            """,
        ),
    )

    valid = (
        Valid(
            """
            import torch.nn.functional as F


            def loss(logits, labels):
                return F.cross_entropy(F.log_softmax(logits, dim=1), labels)  # same as logits
            """
        ),
        Valid(
            """
            import torch.nn.functional as F


            def distillation(student_logits, teacher_logits, temperature=4.0):
                soft_targets = F.softmax(teacher_logits / temperature, dim=1)
                return F.cross_entropy(student_logits / temperature, soft_targets)
            """
        ),
        Valid(
            """
            import torch
            import torch.nn as nn
            import torch.nn.functional as F


            class Attention(nn.Module):
                def __init__(self, dim, classes):
                    super().__init__()
                    self.qkv = nn.Linear(dim, 3 * dim)
                    self.head = nn.Linear(dim, classes)

                def forward(self, x, labels):
                    q, k, v = self.qkv(x).chunk(3, dim=-1)
                    weights = torch.softmax(q @ k.transpose(-2, -1) / q.shape[-1] ** 0.5, dim=-1)
                    logits = self.head((weights @ v).mean(1))
                    return F.cross_entropy(logits, labels)
            """
        ),
        Valid(
            """
            import torch.nn.functional as F


            def loss(model, x, labels):
                out = F.softmax(model(x), dim=1)
                out = model(x)  # re-bound to the logits before the loss
                return F.cross_entropy(out, labels)
            """
        ),
    )

    reproduction = Reproduction(
        unstable_label="CrossEntropyLoss(softmax(x), y)",
        stable_label="CrossEntropyLoss(x, y)",
        dtypes=("float32",),
        scenarios=(
            Scenario(
                name=f"confidently right: logits [m, 0, ..., 0] over {CLASSES} classes, target class 0",
                inputs=lambda t, m: _rows(t, m, 1.0),
                target=_class_zero,
                unstable=lambda t, x, y: _cross_entropy(t, t.softmax(x, dim=1), y),
                stable=_cross_entropy,
                rows=(0.0, 2.0, 5.0, 10.0, 20.0, 100.0),
                claims=(
                    Measured(
                        "loss floor log(1 + 9/e) = 1.461 with 10 classes",
                        "float32",
                        100.0,
                        "unstable_value",
                        1.4611,
                    ),
                    Ratio(
                        "gradient 10x too small at initialisation",
                        "float32",
                        0.0,
                        "stable_grad",
                        "unstable_grad",
                        10.0,
                    ),
                ),
            ),
            Scenario(
                name=f"confidently wrong: logits [-m, 0, ..., 0] over {CLASSES} classes, target class 0",
                inputs=lambda t, m: _rows(t, m, -1.0),
                target=_class_zero,
                unstable=lambda t, x, y: _cross_entropy(t, t.softmax(x, dim=1), y),
                stable=_cross_entropy,
                rows=(0.0, 2.0, 5.0, 10.0, 20.0, 100.0),
                claims=(
                    Measured(
                        "the loss cannot exceed log(1 + 9 e^(1/9)) = 2.40 with 10 classes",
                        "float32",
                        100.0,
                        "unstable_value",
                        2.4030,
                    ),
                    Ratio(
                        "gradient 200,000x too small at a wrong logit gap of 10",
                        "float32",
                        10.0,
                        "stable_grad",
                        "unstable_grad",
                        196000.0,
                    ),
                ),
            ),
        ),
    )
