"""NAN202 log-of-sigmoid."""

from __future__ import annotations

from nanlint.analysis.facts import FileAnalysis
from nanlint.analysis.floors import Floor
from nanlint.analysis.kinds import Kind
from nanlint.analysis.producers import Remove
from nanlint.analysis.rewrite import EditPlan, Part
from nanlint.analysis.spelling import spell
from nanlint.analysis.values import Source, StepRole
from nanlint.fixes import FixAvailability
from nanlint.repro.harness import FirstBreak, FixCheck, Reproduction, Scenario
from nanlint.rules.base import Invalid, RuleDoc, Valid
from nanlint.rules.log_of import LogCall, LogOfRule, negated
from nanlint.rules.saturation import guarded_log

LOGSIGMOID = "torch.nn.functional.logsigmoid"


def _hand_bce(t, x, y):
    p = t.sigmoid(x)
    return -(y * t.log(p) + (1 - y) * t.log(1 - p))


def _stable_bce(t, x, y):
    return -(y * t.nn.functional.logsigmoid(x) + (1 - y) * t.nn.functional.logsigmoid(-x))


class LogOfSigmoid(LogOfRule):
    code = "NAN202"
    fix_availability = FixAvailability.SOMETIMES
    kinds = frozenset({Kind.PROB_SIGMOID, Kind.SIGMOID_COMPLEMENT})
    transforms = frozenset({"complement"})
    remote_rewrite = Remove()

    def consequence(self, call: LogCall) -> str:
        if call.value.kind is Kind.SIGMOID_COMPLEMENT:
            return (
                "1 - sigmoid(z) loses all precision as z grows: off by more than 0.1% from"
                " z = 12.40 and exactly 0 from 16.64 in float32, where the log is -inf and its"
                " gradient NaN; logsigmoid(-z) is exact"
            )
        return (
            "sigmoid(z) underflows to 0 from z = -88.73 in float32, where the log is -inf and"
            " its gradient NaN; logsigmoid(z) is exact"
        )

    def guarded_consequence(self, call: LogCall, floor: Floor) -> str | None:
        if call.value.kind is Kind.SIGMOID_COMPLEMENT:
            return guarded_log(floor, "complement", "logsigmoid(-z) is exact")
        return guarded_log(floor, "sigmoid", "logsigmoid(z) is exact")

    def fix_title(self, call: LogCall) -> str:
        if call.value.kind is Kind.SIGMOID_COMPLEMENT:
            return "Use `logsigmoid(-z)`"
        return "Use `logsigmoid`"

    def replacement(
        self, plan: EditPlan, analysis: FileAnalysis, call: LogCall, source: Source
    ) -> list[Part] | None:
        operand = source.origin.operand
        assert operand is not None
        argument: list[Part] = negated(operand) if _complement(source) else [operand]
        return [spell(plan, analysis, LOGSIGMOID, call.fact.scope), "(", *argument, ")"]

    def remote_replacement(
        self, plan: EditPlan, analysis: FileAnalysis, call: LogCall
    ) -> list[Part] | None:
        assert call.input is not None
        source = call.value.sources[0]
        step = next((s for s in source.steps if s.op == "complement"), None)
        argument: list[Part] = [call.input.node]
        if step is not None:
            if step.node is not call.input.node or step.operand is None:
                return None
            argument = negated(step.operand)
        return [spell(plan, analysis, LOGSIGMOID, call.fact.scope), "(", *argument, ")"]

    doc = RuleDoc(
        what=(
            "Finds `log(sigmoid(z))` and `log(1 - sigmoid(z))`, directly, through variables and"
            " through a model whose `nn.Sequential` ends in `nn.Sigmoid()`: the building blocks"
            " of a hand-written binary cross-entropy"
            " `-(y * torch.log(h) + (1 - y) * torch.log(1 - h)).mean()`. A guarded log weighted"
            " by the same probability (the binary entropy `p * torch.log(p + 1e-7)`) is finite"
            " and not flagged."
        ),
        why=(
            "In float32, sigmoid(z) rounds to exactly 1.0 from z = 16.64, so 1 - sigmoid(z) is 0"
            " and its log is -inf (it is already off by more than 0.1% from z = 12.40); for"
            " negative z, sigmoid(z) underflows to 0 from z = -88.73. A hand-written BCE then"
            " produces NaN even on confidently *right* examples, because 0 * log(0) is NaN:"
            " with y = 1 and z >= 16.64 the term (1 - y) * log(1 - p) is 0 * -inf. In bfloat16"
            " this starts at 6.25 and in float16 at 8.32. `F.logsigmoid(z)` and"
            " `F.logsigmoid(-z)` compute log(sigmoid(z)) and log(1 - sigmoid(z)) exactly."
        ),
        fix_safety=(
            "The fix replaces `log(sigmoid(z))` with `F.logsigmoid(z)` and `log(1 - sigmoid(z))`"
            " with `F.logsigmoid(-z)`: safe, the values are the same. Through a variable it is"
            " offered while the logits' name still holds the same value at the log. Eps-guarded"
            " forms are unsafe (the eps changes the value). When the sigmoid is a model's last"
            " layer, the fix removes it from the model and applies logsigmoid at the logs: unsafe,"
            " because the model then returns logits; the other places that use its output are"
            " listed."
        ),
        references=(
            "https://pytorch.org/docs/stable/generated/torch.nn.functional.logsigmoid.html",
            "https://pytorch.org/docs/stable/generated/torch.nn.BCEWithLogitsLoss.html",
        ),
    )

    invalid = (
        Invalid(
            """
            import torch
            import torch.nn.functional as F


            def loss(logits, target):
                p = torch.sigmoid(logits)
                return -(target * torch.log(p) + (1 - target) * torch.log(1 - p)).mean()
            """,
            expect=("7:23", "7:53"),
            fixed="""
            import torch
            import torch.nn.functional as F


            def loss(logits, target):
                p = torch.sigmoid(logits)
                return -(target * F.logsigmoid(logits) + (1 - target) * F.logsigmoid(-logits)).mean()
            """,
        ),
        Invalid(
            """
            import torch
            import torch.nn as nn

            model = nn.Sequential(nn.Linear(16, 1), nn.Sigmoid())


            def train_step(x, y):
                h = model(x)
                return -(y * torch.log(h) + (1 - y) * torch.log(1 - h)).mean()
            """,
            expect=("9:18", "9:43"),
            unsafe_fixed="""
            import torch
            import torch.nn as nn

            model = nn.Sequential(nn.Linear(16, 1))


            def train_step(x, y):
                h = model(x)
                return -(y * nn.functional.logsigmoid(h) + (1 - y) * nn.functional.logsigmoid(-h)).mean()
            """,
        ),
        Invalid(
            """
            import torch


            def log_odds_terms(z):
                return torch.log(z.sigmoid()), torch.log(1 - torch.special.expit(z + 1))
            """,
            expect=("5:12", "5:36"),
            fixed="""
            import torch


            def log_odds_terms(z):
                return torch.nn.functional.logsigmoid(z), torch.nn.functional.logsigmoid(-(z + 1))
            """,
        ),
    )

    valid = (
        Valid(
            """
            import torch


            def binary_entropy(z, eps=1e-7):
                # guarded terms weighted by their own probability: finite, nothing to fix
                p = torch.sigmoid(z)
                return -(p * torch.log(p + 1e-7) + (1 - p) * torch.log((1 - p).clamp(min=1e-7)))


            @torch.no_grad()
            def matching_cost(logits, alpha=0.25):
                # guarded logs where nothing is differentiated: finite costs, no saturation
                prob = logits.sigmoid()
                positive = alpha * (1 - prob) ** 2 * -(prob + 1e-8).log()
                negative = (1 - alpha) * prob ** 2 * -(1 - prob + 1e-8).log()
                return positive - negative
            """
        ),
        Valid(
            """
            import torch
            import torch.nn.functional as F


            def loss(logits, y):
                return -(y * F.logsigmoid(logits) + (1 - y) * F.logsigmoid(-logits)).mean()
            """
        ),
        Valid(
            """
            import torch


            def odds(z):
                p = torch.sigmoid(z)
                return torch.log(2 * p)  # not a plain log(p)
            """
        ),
    )

    reproduction = Reproduction(
        unstable_label="-(y * log(sigmoid(z)) + (1 - y) * log(1 - sigmoid(z)))",
        stable_label="-(y * logsigmoid(z) + (1 - y) * logsigmoid(-z))",
        dtypes=("float32", "bfloat16", "float16"),
        scenarios=(
            Scenario(
                name="confidently right: logit z = +m, target y = 1",
                inputs=lambda t, m: m,
                target=lambda t, x: t.ones_like(x),
                unstable=_hand_bce,
                stable=_stable_bce,
                rows=(1.0, 10.0, 16.64, 20.0, 88.73, 100.0),
                claims=(
                    FirstBreak(
                        "NaN on a confidently right example from 16.64",
                        "float32",
                        "value",
                        "nonfinite",
                        16.64,
                    ),
                    FirstBreak("bfloat16: NaN from 6.24", "bfloat16", "value", "nonfinite", 6.24),
                    FirstBreak("float16: NaN from 8.32", "float16", "value", "nonfinite", 8.32),
                ),
            ),
            Scenario(
                name="log(1 - sigmoid(z)): logit z = +m, target y = 0",
                inputs=lambda t, m: m,
                target=lambda t, x: t.zeros_like(x),
                unstable=_hand_bce,
                stable=_stable_bce,
                rows=(1.0, 10.0, 12.4, 16.64, 50.0),
                claims=(
                    FirstBreak(
                        "off by more than 0.1% from 12.40", "float32", "value", "wrong", 12.40
                    ),
                    FirstBreak("-log(0) = inf from 16.64", "float32", "value", "nonfinite", 16.64),
                ),
            ),
            Scenario(
                name="log(sigmoid(z)): logit z = -m, target y = 1",
                inputs=lambda t, m: -m,
                target=lambda t, x: t.ones_like(x),
                unstable=_hand_bce,
                stable=_stable_bce,
                rows=(1.0, 50.0, 88.73, 100.0),
                claims=(
                    FirstBreak("inf from 88.73", "float32", "value", "nonfinite", 88.73),
                    FirstBreak("gradient NaN from 88.73", "float32", "grad", "nonfinite", 88.73),
                ),
            ),
        ),
        fix_check=FixCheck(entry="loss"),
    )


def _complement(source: Source) -> bool:
    return any(step.role is StepRole.TRANSFORM and step.op == "complement" for step in source.steps)
