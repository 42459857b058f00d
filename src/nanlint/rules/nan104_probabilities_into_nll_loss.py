"""NAN104 probabilities-into-nll-loss."""

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
    """Logits [m, 0]; the target is class 0 (confidently right)."""
    return t.stack([m, t.zeros_like(m)], dim=1)


def _nll(t, x, y):
    return t.nn.functional.nll_loss(x, y, reduction="none")


_CONSEQUENCE = (
    "it expects log-probabilities and returns -input[target], so on probabilities the"
    " 'loss' is -p (bounded in [-1, 0]) and its gradient vanishes ({}): this is not"
    " cross-entropy at any magnitude"
)


class ProbabilitiesIntoNllLoss(KindIntoLossRule):
    code = "NAN104"
    fix_availability = FixAvailability.SOMETIMES
    losses = (api.NLL,)
    kinds = frozenset({Kind.PROB_SOFTMAX})
    rewrite = ToLogSpace()
    unsafe_because = "the loss changes: NLLLoss of probabilities was not a cross-entropy"

    def consequence(self, sink: SinkCall, kind: Kind) -> str:
        return _CONSEQUENCE.format("exactly 0 from a logit gap of 103.98")

    def guarded_consequence(self, sink: SinkCall, floor: Floor) -> str | None:
        return _CONSEQUENCE.format(clamped_gradient(floor)) if floor.how == "clamp" else None

    def fix_title(self, sink: SinkCall) -> str:
        return "Use `log_softmax` before `nll_loss` (or `cross_entropy` on the logits)"

    doc = RuleDoc(
        what=(
            "Finds softmax probabilities passed as the input of `nn.NLLLoss` or `F.nll_loss`,"
            " directly, through variables, or from a model whose last layer is `nn.Softmax`."
        ),
        why=(
            "NLLLoss does not take a log: it returns -input[target] and expects log-probabilities"
            " (`log_softmax`). Given probabilities, the loss is -p_target, bounded in [-1, 0]: a"
            " confidently wrong prediction costs at most 0 instead of growing without bound, the"
            " gradient is p(1 - p)-shaped and vanishes for confident predictions (exactly 0 from"
            " a logit gap of 103.98), and the optimiser pushes the wrong quantity. It is wrong at"
            " every magnitude, not only at extremes."
        ),
        fix_safety=(
            "The fix turns the softmax into `log_softmax` (keeping `dim` and `dtype`), so the"
            " loss becomes the cross-entropy it was meant to be. The loss value changes, so the"
            " fix is unsafe. When the softmax is a model's last layer, the model then returns"
            " log-probabilities; the other places that use its output are listed."
        ),
        references=(
            "https://pytorch.org/docs/stable/generated/torch.nn.NLLLoss.html",
            "https://pytorch.org/docs/stable/generated/torch.nn.functional.log_softmax.html",
        ),
    )

    invalid = (
        Invalid(
            """
            import torch.nn.functional as F


            def loss(logits, labels):
                return F.nll_loss(F.softmax(logits, dim=1), labels)
            """,
            expect=("5:23",),
            unsafe_fixed="""
            import torch.nn.functional as F


            def loss(logits, labels):
                return F.nll_loss(F.log_softmax(logits, dim=1), labels)
            """,
        ),
        Invalid(
            """
            import torch.nn as nn


            class Tagger(nn.Module):
                def __init__(self, vocab, tags):
                    super().__init__()
                    self.embed = nn.Embedding(vocab, 64)
                    self.out = nn.Sequential(nn.Linear(64, tags), nn.Softmax(dim=-1))
                    self.criterion = nn.NLLLoss(ignore_index=0)

                def forward(self, tokens):
                    return self.out(self.embed(tokens))

                def training_step(self, tokens, tags):
                    scores = self(tokens)
                    return self.criterion(scores.view(-1, scores.size(-1)), tags.view(-1))
            """,
            expect=("16:31",),
            unsafe_fixed="""
            import torch.nn as nn


            class Tagger(nn.Module):
                def __init__(self, vocab, tags):
                    super().__init__()
                    self.embed = nn.Embedding(vocab, 64)
                    self.out = nn.Sequential(nn.Linear(64, tags), nn.LogSoftmax(dim=-1))
                    self.criterion = nn.NLLLoss(ignore_index=0)

                def forward(self, tokens):
                    return self.out(self.embed(tokens))

                def training_step(self, tokens, tags):
                    scores = self(tokens)
                    return self.criterion(scores.view(-1, scores.size(-1)), tags.view(-1))
            """,
        ),
    )

    valid = (
        Valid(
            """
            import torch.nn.functional as F


            def loss(logits, labels):
                return F.nll_loss(F.log_softmax(logits, dim=1), labels)
            """
        ),
        Valid(
            """
            import torch
            import torch.nn.functional as F


            def loss(logits, labels):
                probs = F.softmax(logits, dim=1)
                return F.nll_loss(torch.log(probs), labels)  # log-probabilities (NAN201 covers the log)
            """
        ),
    )

    reproduction = Reproduction(
        unstable_label="nll_loss(softmax(x), y)",
        stable_label="nll_loss(log_softmax(x), y)",
        dtypes=("float32",),
        scenarios=(
            Scenario(
                name="confidently wrong: logits [-m, 0], target class 0",
                inputs=lambda t, m: _rows(t, -m),
                target=lambda t, x: t.zeros(x.shape[0], dtype=t.long),
                unstable=lambda t, x, y: _nll(t, t.softmax(x, dim=1), y),
                stable=lambda t, x, y: _nll(t, t.log_softmax(x, dim=1), y),
                rows=(0.0, 1.0, 5.0, 20.0, 104.0),
                claims=(
                    Measured(
                        "at m = 0 the 'loss' is -p = -0.5 instead of ln 2",
                        "float32",
                        0.0,
                        "unstable_value",
                        -0.5,
                    ),
                    FirstBreak("gradient exactly 0 from 103.98", "float32", "grad", "zero", 103.98),
                ),
            ),
        ),
    )
