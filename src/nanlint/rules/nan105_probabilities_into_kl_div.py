"""NAN105 probabilities-into-kl-div."""

from __future__ import annotations

from nanlint.analysis import torch_api as api
from nanlint.analysis.floors import Floor
from nanlint.analysis.kinds import Kind
from nanlint.analysis.producers import ToLogSpace
from nanlint.analysis.sinks import SinkCall
from nanlint.fixes import FixAvailability
from nanlint.repro.harness import FirstBreak, Measured, Reproduction, Scenario
from nanlint.rules.base import Invalid, RuleDoc, Valid
from nanlint.rules.into_loss import KindIntoLossRule
from nanlint.rules.saturation import clamped_gradient


def _rows(t, m):
    """Logits [-m, 0]; the target puts all its mass on class 0 (confidently wrong)."""
    return t.stack([-m, t.zeros_like(m)], dim=1)


def _first_class(t, x):
    return t.tensor([[1.0, 0.0]]).expand(x.shape[0], 2)


def _kl(t, x, y):
    return t.nn.functional.kl_div(x, y, reduction="none").sum(1)


_CONSEQUENCE = (
    "its input must be log-probabilities (only the target may be probabilities), so it"
    " computes sum(t * (log t - p)): at uniform predictions for a one-hot target that"
    " is -0.5 instead of ln 2, it can be negative, and its gradient vanishes ({}): this"
    " is not a KL divergence at any magnitude"
)


class ProbabilitiesIntoKlDiv(KindIntoLossRule):
    code = "NAN105"
    fix_availability = FixAvailability.SOMETIMES
    losses = (api.KL_DIV,)
    kinds = frozenset({Kind.PROB_SOFTMAX})
    rewrite = ToLogSpace()
    unsafe_because = "the loss changes: kl_div of probabilities was not a KL divergence"

    def consequence(self, sink: SinkCall, kind: Kind) -> str:
        return _CONSEQUENCE.format("exactly 0 from a logit gap of 103.98")

    def guarded_consequence(self, sink: SinkCall, floor: Floor) -> str | None:
        return _CONSEQUENCE.format(clamped_gradient(floor)) if floor.how == "clamp" else None

    def fix_title(self, sink: SinkCall) -> str:
        return "Pass `log_softmax` as the input of `kl_div`"

    doc = RuleDoc(
        what=(
            "Finds softmax probabilities passed as the *input* (the first argument) of"
            " `nn.KLDivLoss` or `F.kl_div`: directly, through variables, or from a model whose"
            " last layer is `nn.Softmax`. The target may be probabilities (that is the"
            " default, `log_target=False`): it is never flagged."
        ),
        why=(
            "kl_div(input, target) computes target * (log(target) - input): it expects the"
            " input in log space and takes no log itself. Given probabilities, the result is"
            " sum(t * log t) - sum(t * p), not KL(t || p): for a one-hot target and uniform"
            " predictions over two classes it is -0.5 instead of ln 2 = 0.693, it is negative"
            " whenever the prediction overlaps the target, and its gradient has the wrong"
            " shape at every magnitude, vanishing (exactly 0 from a logit gap of 103.98) on the"
            " confidently wrong examples that most need it. A distillation or VAE loss written"
            " this way trains toward the wrong objective without any error."
        ),
        fix_safety=(
            "The fix turns the softmax into `log_softmax` (keeping `dim` and `dtype`), so the"
            " loss becomes the KL divergence it was meant to be. The value changes, so the fix"
            " is unsafe. When the softmax is a model's last layer, the model then returns"
            " log-probabilities; the other places that use its output are listed."
        ),
        references=(
            "https://pytorch.org/docs/stable/generated/torch.nn.KLDivLoss.html",
            "https://pytorch.org/docs/stable/generated/torch.nn.functional.kl_div.html",
        ),
    )

    invalid = (
        Invalid(
            """
            import torch.nn.functional as F


            def distillation_loss(student_logits, teacher_logits, T=4.0):
                teacher = F.softmax(teacher_logits / T, dim=-1)
                loss = F.kl_div(F.softmax(student_logits / T, dim=-1), teacher, reduction="batchmean")
                return loss * T * T
            """,
            expect=("6:21",),
            unsafe_fixed="""
            import torch.nn.functional as F


            def distillation_loss(student_logits, teacher_logits, T=4.0):
                teacher = F.softmax(teacher_logits / T, dim=-1)
                loss = F.kl_div(F.log_softmax(student_logits / T, dim=-1), teacher, reduction="batchmean")
                return loss * T * T
            """,
        ),
        Invalid(
            """
            import torch
            import torch.nn as nn


            class Student(nn.Module):
                def __init__(self):
                    super().__init__()
                    self.net = nn.Sequential(nn.Linear(32, 10), nn.Softmax(dim=1))
                    self.kl = nn.KLDivLoss(reduction="batchmean", log_target=True)

                def forward(self, x):
                    return self.net(x)

                def loss(self, x, teacher_log_probs):
                    return self.kl(self(x), teacher_log_probs)
            """,
            expect=("15:24",),
            unsafe_fixed="""
            import torch
            import torch.nn as nn


            class Student(nn.Module):
                def __init__(self):
                    super().__init__()
                    self.net = nn.Sequential(nn.Linear(32, 10), nn.LogSoftmax(dim=1))
                    self.kl = nn.KLDivLoss(reduction="batchmean", log_target=True)

                def forward(self, x):
                    return self.net(x)

                def loss(self, x, teacher_log_probs):
                    return self.kl(self(x), teacher_log_probs)
            """,
        ),
        Invalid(
            """
            import torch


            def consistency(a, b):
                return torch.nn.functional.kl_div(a.softmax(-1), b.softmax(-1), reduction="sum")
            """,
            expect=("5:39",),
            unsafe_fixed="""
            import torch


            def consistency(a, b):
                return torch.nn.functional.kl_div(a.log_softmax(-1), b.softmax(-1), reduction="sum")
            """,
        ),
        Invalid(
            """
            import torch.nn.functional as F


            def distill_by_name(student_logits, teacher_logits, T=4.0):
                student = F.softmax(student_logits / T, dim=-1)
                teacher = F.softmax(teacher_logits / T, dim=-1)
                return F.kl_div(student, teacher, reduction="batchmean") * T * T
            """,
            expect=("7:21",),
            unsafe_fixed="""
            import torch.nn.functional as F


            def distill_by_name(student_logits, teacher_logits, T=4.0):
                teacher = F.softmax(teacher_logits / T, dim=-1)
                return F.kl_div(F.log_softmax(student_logits / T, dim=-1), teacher, reduction="batchmean") * T * T
            """,
        ),
    )

    valid = (
        Valid(
            """
            import torch.nn.functional as F


            def distillation_loss(student_logits, teacher_logits):
                # the softmax is the *target*: probabilities are right there
                return F.kl_div(
                    F.log_softmax(student_logits, dim=-1),
                    F.softmax(teacher_logits, dim=-1),
                    reduction="batchmean",
                )
            """
        ),
        Valid(
            """
            import torch.nn as nn
            import torch.nn.functional as F


            def symmetric(p_logits, q_logits):
                kl = nn.KLDivLoss(reduction="batchmean", log_target=True)
                return kl(F.log_softmax(p_logits, 1), F.log_softmax(q_logits, 1))
            """
        ),
        Valid(
            """
            import torch
            import torch.nn.functional as F


            def loss(logits, target):
                p = F.softmax(logits, dim=1)
                return F.kl_div(torch.log(p), target, reduction="batchmean")  # NAN201 covers the log
            """
        ),
    )

    reproduction = Reproduction(
        unstable_label="kl_div(softmax(x), t)",
        stable_label="kl_div(log_softmax(x), t)",
        dtypes=("float32",),
        scenarios=(
            Scenario(
                name="confidently wrong: logits [-m, 0], target all on class 0",
                inputs=_rows,
                target=_first_class,
                unstable=lambda t, x, y: _kl(t, t.softmax(x, dim=1), y),
                stable=lambda t, x, y: _kl(t, t.log_softmax(x, dim=1), y),
                rows=(0.0, 1.0, 5.0, 20.0, 103.98, 110.0),
                claims=(
                    Measured(
                        "at m = 0 the 'divergence' is -0.5 instead of ln 2",
                        "float32",
                        0.0,
                        "unstable_value",
                        -0.5,
                    ),
                    FirstBreak("value wrong from m = 0", "float32", "value", "wrong", 0.0),
                    FirstBreak("gradient wrong from m = 0", "float32", "grad", "wrong", 0.0),
                    FirstBreak("gradient exactly 0 from 103.98", "float32", "grad", "zero", 103.98),
                ),
            ),
        ),
    )
