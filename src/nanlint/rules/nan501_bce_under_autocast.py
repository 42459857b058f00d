"""NAN501 bce-under-autocast."""

from __future__ import annotations

from collections.abc import Iterator

from nanlint.analysis import torch_api as api
from nanlint.analysis.facts import FileAnalysis
from nanlint.analysis.regions import autocast_region
from nanlint.analysis.rewrite import EditPlan
from nanlint.analysis.sinks import SinkCall, sink_calls
from nanlint.fixes import Applicability, FixAvailability
from nanlint.repro.harness import FirstBreak, Measured, Reproduction, Scenario
from nanlint.rules.base import Finding, Invalid, RelatedNode, Rule, RuleDoc, Valid


def _under_cpu_autocast(t, loss):
    with t.autocast("cpu", dtype=t.bfloat16):
        return loss()


def _bce(t, x, y):
    return t.nn.functional.binary_cross_entropy(t.sigmoid(x), y, reduction="none")


def _bce_with_logits(t, x, y):
    return t.nn.functional.binary_cross_entropy_with_logits(x, y, reduction="none")


def _line(file, node) -> int:
    return file.position_at(file.node_offsets(node)[0]).line


class BceUnderAutocast(Rule):
    code = "NAN501"
    name = "bce-under-autocast"
    summary = "BCELoss / binary_cross_entropy inside an autocast region or function"
    fix_availability = FixAvailability.DISPLAY_ONLY
    triggers = ("autocast",)

    def check(self, analysis: FileAnalysis) -> Iterator[Finding]:
        for sink in sink_calls(analysis, (api.BCE,)):
            region = autocast_region(analysis, sink.fact)
            if region is None:
                continue
            file = analysis.source
            text = " ".join(file.node_text(region.opener).split())
            via = "".join(f", called on line {_line(file, call)}" for call in region.calls)
            message = (
                f"`{sink.loss_label}` runs in an autocast region (`{text}`, line"
                f" {_line(file, region.opener)}{via}):"
                " PyTorch raises on it under CUDA autocast, and under CPU bfloat16 autocast it"
                " receives rounded probabilities, so the loss is off from a logit of 4.61 and"
                " pinned at 100 with a zero gradient from 6.24; BCEWithLogitsLoss on the logits"
                " is safe under autocast"
            )
            related = [RelatedNode(file, region.opener, "autocast region opened here")]
            related += [RelatedNode(file, call, "called here, inside it") for call in region.calls]
            yield Finding(sink.fact.node, message, related, self._suggestion(sink))

    def _suggestion(self, sink: SinkCall) -> EditPlan:
        loss = (
            "BCEWithLogitsLoss" if sink.module is not None else "binary_cross_entropy_with_logits"
        )
        plan = EditPlan(
            f"Compute the loss with `{loss}` on the logits (NAN101 rewrites it when the sigmoid"
            " that produced the input is known)"
        )
        plan.downgrade(Applicability.DISPLAY_ONLY)
        return plan

    doc = RuleDoc(
        what=(
            "Finds `nn.BCELoss` and `F.binary_cross_entropy` calls that run under autocast:"
            " inside `with torch.autocast(...)`, `torch.amp.autocast(...)`,"
            " `torch.cuda.amp.autocast()` or `torch.cpu.amp.autocast()`, in a function decorated"
            " with one of them, or in a function or method that such a region calls (calls are"
            " followed within the file). A region opened with `enabled=False` does not count."
        ),
        why=(
            "Binary cross-entropy on probabilities is not safe to autocast: PyTorch refuses"
            " `binary_cross_entropy` inside a CUDA autocast region with a RuntimeError (the AMP"
            " documentation asks for `binary_cross_entropy_with_logits` instead), so the training"
            " step crashes as soon as mixed precision is switched on. On CPU there is no error"
            " and it is worse: the probabilities reach it in bfloat16 (the layers before it ran"
            " in bfloat16), sigmoid(z) rounds to exactly 1.0 from a logit of 6.24, and the loss"
            " of a confidently wrong prediction is"
            " pinned at 100 with a gradient of exactly zero; below that it is already off by"
            " more than 1.5% from a logit of 4.61 (5.545 instead of 6.002 at 6). The CUDA"
            " error cannot be reproduced here (no GPU): the reproduction below runs the CPU"
            " bfloat16 case."
        ),
        fix_safety=(
            "No automatic fix: swapping the loss is right only together with removing the"
            " sigmoid that produced its input, so the suggestion (use `BCEWithLogitsLoss` on the"
            " logits) is display-only. When the sigmoid is known, NAN101 offers exactly that"
            " rewrite, safe when it is local."
        ),
        references=(
            "https://pytorch.org/docs/stable/amp.html#prefer-binary-cross-entropy-with-logits-over-binary-cross-entropy",
            "https://pytorch.org/docs/stable/amp.html#cpu-ops-that-can-autocast-to-bfloat16",
        ),
    )

    invalid = (
        Invalid(
            """
            import torch
            import torch.nn.functional as F


            def train_step(model, x, y):
                with torch.autocast(device_type="cuda", dtype=torch.float16):
                    probs = torch.sigmoid(model(x))
                    loss = F.binary_cross_entropy(probs, y)
                return loss
            """,
            expect=("8:16",),
        ),
        Invalid(
            """
            import torch
            import torch.nn as nn
            from torch.cuda.amp import autocast


            class Detector(nn.Module):
                def __init__(self):
                    super().__init__()
                    self.head = nn.Linear(16, 1)
                    self.criterion = nn.BCELoss()

                def compute_loss(self, scores, targets):
                    return self.criterion(scores, targets)

                def training_step(self, x, y):
                    with autocast():
                        scores = self.head(x).sigmoid()
                        return self.compute_loss(scores, y)


            @torch.autocast("cpu", dtype=torch.bfloat16)
            def evaluate(p, y):
                return nn.functional.binary_cross_entropy(p, y)
            """,
            expect=("13:16", "23:12"),
        ),
    )

    valid = (
        Valid(
            """
            import torch
            import torch.nn.functional as F


            def train_step(model, x, y, scaler):
                with torch.autocast("cuda"):
                    logits = model(x)
                    loss = F.binary_cross_entropy_with_logits(logits, y)
                with torch.autocast("cuda", enabled=False):
                    bce = F.binary_cross_entropy(torch.sigmoid(logits.float()), y)
                probs = torch.sigmoid(logits.float())
                return loss, bce, F.binary_cross_entropy(probs, y)
            """
        ),
        Valid(
            """
            import torch
            import torch.nn as nn


            class Model(nn.Module):
                def loss(self, p, y):
                    return nn.BCELoss()(p, y)

                def step(self, x, y):
                    with torch.autocast("cuda"):
                        with torch.cuda.amp.autocast(False):
                            return self.loss(self(x), y)

                def validate(self, x, y):
                    with torch.no_grad():
                        return self.loss(self(x), y)
            """
        ),
    )

    reproduction = Reproduction(
        unstable_label="autocast: BCELoss(sigmoid(z), y)",
        stable_label="autocast: BCEWithLogitsLoss(z, y)",
        dtypes=("float32", "bfloat16"),
        scenarios=(
            Scenario(
                name="CPU autocast (bfloat16), confidently wrong: z = +m, y = 0",
                inputs=lambda t, m: m,
                target=lambda t, x: t.zeros_like(x),
                unstable=lambda t, x, y: _under_cpu_autocast(t, lambda: _bce(t, x, y)),
                stable=lambda t, x, y: _under_cpu_autocast(t, lambda: _bce_with_logits(t, x, y)),
                rows=(1.0, 4.61, 6.0, 6.24, 16.64, 30.0),
                claims=(
                    FirstBreak(
                        "bfloat16: loss off by more than 1.5% from 4.61",
                        "bfloat16",
                        "value",
                        "wrong",
                        4.61,
                    ),
                    Measured(
                        "bfloat16: loss 5.545 at z = 6 (true 6.002)",
                        "bfloat16",
                        6.0,
                        "unstable_value",
                        5.545,
                    ),
                    FirstBreak(
                        "bfloat16: loss pinned at 100 from 6.24",
                        "bfloat16",
                        "value",
                        "equals:100",
                        6.24,
                    ),
                    FirstBreak(
                        "bfloat16: gradient exactly 0 from 6.24", "bfloat16", "grad", "zero", 6.24
                    ),
                    FirstBreak(
                        "float32 inputs: gradient exactly 0 from 16.64",
                        "float32",
                        "grad",
                        "zero",
                        16.64,
                    ),
                ),
            ),
        ),
    )
