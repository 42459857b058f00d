"""NAN101 sigmoid-into-bce-loss."""

from __future__ import annotations

from nanlint.analysis import torch_api as api
from nanlint.analysis.facts import FileAnalysis
from nanlint.analysis.floors import Floor
from nanlint.analysis.kinds import Kind
from nanlint.analysis.rewrite import EditPlan, is_literal
from nanlint.analysis.sinks import SinkCall, module_calls
from nanlint.analysis.spelling import names_directly, spell
from nanlint.fixes import FixAvailability
from nanlint.repro.harness import FirstBreak, FixCheck, Reproduction, Scenario
from nanlint.rules.base import Invalid, RuleDoc, Valid
from nanlint.rules.into_loss import KindIntoLossRule
from nanlint.rules.saturation import clamped_loss

WITH_LOGITS_FUNCTION = "torch.nn.functional.binary_cross_entropy_with_logits"
WITH_LOGITS_MODULE = "torch.nn.BCEWithLogitsLoss"


class SigmoidIntoBceLoss(KindIntoLossRule):
    code = "NAN101"
    fix_availability = FixAvailability.SOMETIMES
    losses = (api.BCE,)
    kinds = frozenset({Kind.PROB_SIGMOID})

    def consequence(self, sink: SinkCall, kind: Kind) -> str:
        return (
            "BCELoss clamps log() at -100, so a confidently wrong logit beyond 16.6 gives a loss"
            " stuck at 100 and a gradient of exactly zero in float32 (6.2 in bfloat16)"
        )

    def guarded_consequence(self, sink: SinkCall, floor: Floor) -> str | None:
        if floor.how != "clamp":
            return None  # p + eps guards log(p) only: log(1 - p) still meets the -100 clamp
        return clamped_loss(floor, "the logits form is exact and keeps the gradient")

    def fix_title(self, sink: SinkCall) -> str:
        if sink.module is None:
            return "Pass the logits to `binary_cross_entropy_with_logits`"
        return "Pass the logits to `BCEWithLogitsLoss`"

    def plan_loss_side(
        self, analysis: FileAnalysis, sink: SinkCall, plan: EditPlan
    ) -> list[SinkCall] | None:
        file = analysis.source
        call = sink.fact.node
        if sink.module is None:
            if not names_directly(analysis, call.func, api.BCE.functions):
                return None  # chosen by a lookup: swapping it would bypass the choice
            plan.replace(
                file, call.func, spell(plan, analysis, WITH_LOGITS_FUNCTION, sink.fact.scope)
            )
            return []
        ctor = sink.module.ctor
        if (
            ctor is None
            or ctor not in analysis.calls
            or not names_directly(analysis, ctor.func, (api.BCE.module,))
        ):
            return None  # built elsewhere, or chosen by a lookup (`LOSSES[config["loss"]]()`)
        if not analysis.module_uses.get(ctor):
            others = [
                self.sink_of(analysis, fact.node) for fact in module_calls(analysis, sink.module)
            ]
            if all(others):
                scope = analysis.calls[ctor].scope
                plan.replace(file, ctor.func, spell(plan, analysis, WITH_LOGITS_MODULE, scope))
                return others  # type: ignore[return-value]
        # The loss object is shared with other inputs: rewrite this one call.
        arguments = sink.module.arguments
        if not all(is_literal(node) for _, node, _ in arguments):
            return None
        plan.replace(file, call.func, spell(plan, analysis, WITH_LOGITS_FUNCTION, sink.fact.scope))
        plan.append_arguments(
            file, call, [f"{name}={file.module.code_for_node(node)}" for name, node, _ in arguments]
        )
        return []

    doc = RuleDoc(
        what=(
            "Finds sigmoid probabilities passed as the input of `nn.BCELoss` or"
            " `F.binary_cross_entropy`: directly, through variables, through a model whose"
            " `forward` (or `nn.Sequential`) ends in a sigmoid, and through loss objects stored"
            " on `self`."
        ),
        why=(
            "Sigmoid maps a logit to (0, 1) with an exponential and BCELoss maps it back with a"
            " log. In float32, sigmoid(z) rounds to exactly 1.0 from z = 16.64 (6.24 in bfloat16,"
            " 8.32 in float16), so log(1 - p) is log(0). BCELoss clamps it at -100: for a"
            " confidently wrong prediction the loss is stuck at 100 and its gradient is exactly"
            " zero, so the example that most needs correcting teaches the model nothing. The"
            " value is already off by more than 0.1% from z = 12.40. `BCEWithLogitsLoss`"
            " computes the same loss from the logits with the log-sum-exp trick and stays exact"
            " at any magnitude. Under CUDA autocast, PyTorch refuses BCELoss altogether."
        ),
        fix_safety=(
            "The fix passes the logits and swaps the loss for its `with_logits` form, keeping"
            " `weight=` and `reduction=`. It is safe when the change is local: the sigmoid is"
            " removed where its output only feeds the loss, or the logits' variable is passed"
            " while the probabilities stay available for metrics. A shared loss object is"
            " swapped only when every call of it receives sigmoid outputs; otherwise the one"
            " call is rewritten to the functional form. The fix is unsafe when it removes a"
            " `clamp`/eps guard (the loss changes where the guard was active) or the last"
            " sigmoid of a model (what the model returns at inference changes: the fix lists"
            " the other places that now receive logits)."
        ),
        references=(
            "https://pytorch.org/docs/stable/generated/torch.nn.BCEWithLogitsLoss.html",
            "https://pytorch.org/docs/stable/generated/torch.nn.BCELoss.html",
            "https://pytorch.org/docs/stable/amp.html#prefer-binary-cross-entropy-with-logits-over-binary-cross-entropy",
        ),
    )

    invalid = (
        Invalid(
            """
            import torch
            import torch.nn.functional as F


            def loss(logits, target):
                return F.binary_cross_entropy(torch.sigmoid(logits), target, reduction="mean")
            """,
            expect=("6:35",),
            fixed="""
            import torch
            import torch.nn.functional as F


            def loss(logits, target):
                return F.binary_cross_entropy_with_logits(logits, target, reduction="mean")
            """,
        ),
        Invalid(
            """
            import torch
            import torch.nn as nn


            class Classifier(nn.Module):
                def __init__(self):
                    super().__init__()
                    self.fc = nn.Linear(16, 1)
                    self.criterion = nn.BCELoss(reduction="sum")

                def training_step(self, x, y):
                    logits = self.fc(x)
                    probs = torch.sigmoid(logits)
                    loss = self.criterion(probs, y)
                    accuracy = ((probs > 0.5) == y).float().mean()
                    return loss, accuracy
            """,
            expect=("14:31",),
            fixed="""
            import torch
            import torch.nn as nn


            class Classifier(nn.Module):
                def __init__(self):
                    super().__init__()
                    self.fc = nn.Linear(16, 1)
                    self.criterion = nn.BCEWithLogitsLoss(reduction="sum")

                def training_step(self, x, y):
                    logits = self.fc(x)
                    probs = torch.sigmoid(logits)
                    loss = self.criterion(logits, y)
                    accuracy = ((probs > 0.5) == y).float().mean()
                    return loss, accuracy
            """,
        ),
        Invalid(
            """
            from torch.nn import BCELoss

            criterion = BCELoss()


            def step(model, x, y):
                out = model(x).sigmoid()
                return criterion(out.squeeze(1), y)
            """,
            expect=("8:22",),
            fixed="""
            from torch.nn import BCEWithLogitsLoss

            criterion = BCEWithLogitsLoss()


            def step(model, x, y):
                out = model(x)
                return criterion(out.squeeze(1), y)
            """,
        ),
        Invalid(
            """
            import torch
            import torch.nn.functional as F


            def loss(z, y):
                p = torch.sigmoid(z).clamp(1e-7, 1 - 1e-7)
                return F.binary_cross_entropy(p, y)
            """,
            expect=("7:35",),
            fixed=None,
            unsafe_fixed="""
            import torch
            import torch.nn.functional as F


            def loss(z, y):
                p = z
                return F.binary_cross_entropy_with_logits(p, y)
            """,
        ),
        Invalid(
            """
            import torch.nn as nn

            model = nn.Sequential(nn.Linear(8, 1), nn.Sigmoid())
            criterion = nn.BCELoss()


            def train_step(x, y):
                return criterion(model(x), y)


            def predict(x):
                return model(x) > 0.5
            """,
            expect=("8:22",),
            fixed=None,
            unsafe_fixed="""
            import torch.nn as nn

            model = nn.Sequential(nn.Linear(8, 1))
            criterion = nn.BCEWithLogitsLoss()


            def train_step(x, y):
                return criterion(model(x), y)


            def predict(x):
                return model(x) > 0.5
            """,
        ),
        Invalid(
            """
            import torch
            from torch.nn import functional as Fn
            from torch.nn import BCELoss as L


            class Net(torch.nn.Module):
                def __init__(self):
                    super().__init__()
                    self.act = torch.nn.Sigmoid()
                    self.fc = torch.nn.Linear(4, 1)

                def forward(self, x):
                    return self.act(self.fc(x))


            def evaluate(x, y):
                net = Net()
                a = Fn.binary_cross_entropy(torch.special.expit(x), y)
                b = L(weight=None)(net(x), y)
                c = L()(net.forward(x).view(-1), y)
                return a, b, c
            """,
            expect=("18:33", "19:24", "20:13"),
            fixed="""
            import torch
            from torch.nn import functional as Fn
            from torch.nn import BCELoss as L


            class Net(torch.nn.Module):
                def __init__(self):
                    super().__init__()
                    self.act = torch.nn.Sigmoid()
                    self.fc = torch.nn.Linear(4, 1)

                def forward(self, x):
                    return self.act(self.fc(x))


            def evaluate(x, y):
                net = Net()
                a = Fn.binary_cross_entropy_with_logits(x, y)
                b = L(weight=None)(net(x), y)
                c = L()(net.forward(x).view(-1), y)
                return a, b, c
            """,
            unsafe_fixed="""
            import torch
            from torch.nn import functional as Fn


            class Net(torch.nn.Module):
                def __init__(self):
                    super().__init__()
                    self.act = torch.nn.Sigmoid()
                    self.fc = torch.nn.Linear(4, 1)

                def forward(self, x):
                    return self.fc(x)


            def evaluate(x, y):
                net = Net()
                a = Fn.binary_cross_entropy_with_logits(x, y)
                b = torch.nn.BCEWithLogitsLoss(weight=None)(net(x), y)
                c = torch.nn.BCEWithLogitsLoss()(net.forward(x).view(-1), y)
                return a, b, c
            """,
        ),
    )

    valid = (
        Valid(
            """
            import torch
            import torch.nn as nn

            criterion = nn.BCEWithLogitsLoss()


            def step(model, x, y):
                logits = model(x)
                loss = criterion(logits, y)
                preds = torch.sigmoid(logits) > 0.5  # metrics only
                return loss, preds
            """
        ),
        Valid(
            """
            import torch
            import torch.nn.functional as F


            def step(model, x, y):
                p = torch.sigmoid(model(x))
                p = model.calibrated(x)  # re-bound before the loss
                return F.binary_cross_entropy(p, y)
            """
        ),
        Valid(
            """
            import torch
            import torch.nn.functional as F


            def distill(student_probs, teacher_logits):
                # the sigmoid is the *target*: soft labels, not the input
                return F.binary_cross_entropy(student_probs, torch.sigmoid(teacher_logits))
            """
        ),
        Valid(
            """
            import torch
            import torch.nn as nn


            class Net(nn.Module):
                def __init__(self):
                    super().__init__()
                    self.net = nn.Sequential(nn.Linear(4, 1), nn.Sigmoid())

                def forward(self, x):
                    return self.net[0](x)  # skips the final Sigmoid


            def step(x, y):
                return nn.BCELoss()(Net()(x), y)
            """
        ),
        Valid(
            """
            import torch
            import torch.nn.functional as F


            def step(model, x, y, calibrate):
                p = torch.sigmoid(model(x))
                if calibrate:
                    p = model.calibration(p)
                return F.binary_cross_entropy(p, y)  # not sigmoid on every path
            """
        ),
    )

    reproduction = Reproduction(
        unstable_label="BCELoss(sigmoid(z), y)",
        stable_label="BCEWithLogitsLoss(z, y)",
        dtypes=("float32", "bfloat16", "float16"),
        scenarios=(
            Scenario(
                name="confidently wrong: logit z = +m, target y = 0",
                inputs=lambda t, m: m,
                target=lambda t, x: t.zeros_like(x),
                unstable=lambda t, x, y: t.nn.functional.binary_cross_entropy(
                    t.sigmoid(x), y, reduction="none"
                ),
                stable=lambda t, x, y: t.nn.functional.binary_cross_entropy_with_logits(
                    x, y, reduction="none"
                ),
                rows=(1.0, 8.0, 12.4, 16.64, 20.0, 50.0, 90.0),
                claims=(
                    FirstBreak(
                        "value off by more than 0.1% from 12.40", "float32", "value", "wrong", 12.40
                    ),
                    FirstBreak(
                        "loss pinned at 100 from 16.64", "float32", "value", "equals:100", 16.64
                    ),
                    FirstBreak("gradient exactly 0 from 16.64", "float32", "grad", "zero", 16.64),
                    FirstBreak(
                        "bfloat16: gradient exactly 0 from 6.24", "bfloat16", "grad", "zero", 6.24
                    ),
                    FirstBreak(
                        "float16: gradient NaN from 8.32", "float16", "grad", "nonfinite", 8.32
                    ),
                ),
            ),
            Scenario(
                name="confidently wrong: logit z = -m, target y = 1",
                inputs=lambda t, m: -m,
                target=lambda t, x: t.ones_like(x),
                unstable=lambda t, x, y: t.nn.functional.binary_cross_entropy(
                    t.sigmoid(x), y, reduction="none"
                ),
                stable=lambda t, x, y: t.nn.functional.binary_cross_entropy_with_logits(
                    x, y, reduction="none"
                ),
                rows=(1.0, 20.0, 27.64, 50.0, 88.73, 95.0),
                claims=(
                    FirstBreak("gradient shrinks from 27.64", "float32", "grad", "wrong", 27.64),
                ),
            ),
        ),
        fix_check=FixCheck(entry="loss"),
    )
