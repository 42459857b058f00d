"""NAN301 manual-sigmoid."""

from __future__ import annotations

from nanlint.analysis.facts import FileAnalysis, OpFact
from nanlint.analysis.kinds import Kind
from nanlint.analysis.operations import is_guard
from nanlint.analysis.rewrite import EditPlan, Part
from nanlint.analysis.spelling import spell
from nanlint.analysis.values import Origin
from nanlint.fixes import FixAvailability
from nanlint.repro.harness import FirstBreak, FixCheck, Reproduction, Scenario
from nanlint.rules.base import Invalid, RuleDoc, Valid
from nanlint.rules.hand_written import HandWrittenRule

_NEGATED_EXP = "1 / (1 + exp(-x))"


def _brier(t, p, y):
    return (p - y) ** 2


class ManualSigmoid(HandWrittenRule):
    code = "NAN301"
    fix_availability = FixAvailability.SOMETIMES
    kind = Kind.PROB_SIGMOID
    activation = "sigmoid"
    fix_title = "Use `torch.sigmoid`"

    def consequence(self, origin: Origin) -> str:
        if origin.label == _NEGATED_EXP:
            return (
                "exp(-x) overflows to inf for x <= -88.73 in float32 (-11.09 in float16), where"
                " the value survives but the gradient is NaN; torch.sigmoid is exact"
            )
        return (
            "exp(x) overflows to inf for x >= 88.73 in float32 (11.09 in float16), where the"
            " value is inf / inf = NaN and so is the gradient; torch.sigmoid is exact"
        )

    def stable(self, analysis: FileAnalysis, origin: Origin) -> bool:
        """A clamped input cannot overflow the exponential."""
        assert origin.operand is not None
        return is_guard(analysis, origin.operand)

    def replacement(
        self, plan: EditPlan, analysis: FileAnalysis, fact: OpFact, origin: Origin
    ) -> list[Part] | None:
        assert origin.operand is not None
        return [spell(plan, analysis, "torch.sigmoid", fact.scope), "(", origin.operand, ")"]

    doc = RuleDoc(
        what=(
            "Finds a sigmoid written out by hand: `1 / (1 + torch.exp(-x))` and"
            " `torch.exp(x) / (1 + torch.exp(x))`, in any spelling of exp (`x.exp()`,"
            " `torch.exp`), with the exponential inline or in a variable. A form whose input is"
            " clamped first (`torch.exp(-x.clamp(-30, 30))`) cannot overflow and is not flagged."
        ),
        why=(
            "The exponential overflows to inf in float32 once its argument reaches 88.73 (11.09"
            " in float16). `1 / (1 + exp(-x))` still returns the right value there (1 / inf ="
            " 0), but its gradient is inf / inf = NaN for every x <= -88.73, so one very"
            " negative logit poisons the whole backward pass. `exp(x) / (1 + exp(x))` is worse:"
            " from x = 88.73 the value itself is NaN. `torch.sigmoid` evaluates the same"
            " function without overflowing, at any magnitude and in any dtype."
        ),
        fix_safety=(
            "The fix replaces the division with `torch.sigmoid(x)`: the same function, so it is"
            " safe. It is offered when `x` can be written at the division: it is inline, or"
            " every name it reads still holds the same value there."
        ),
        references=("https://pytorch.org/docs/stable/generated/torch.sigmoid.html",),
    )

    invalid = (
        Invalid(
            """
            import torch


            def brier_loss(logits, target):
                probs = 1 / (1 + torch.exp(-logits))
                return ((probs - target) ** 2).mean()
            """,
            expect=("5:13",),
            fixed="""
            import torch


            def brier_loss(logits, target):
                probs = torch.sigmoid(logits)
                return ((probs - target) ** 2).mean()
            """,
        ),
        Invalid(
            """
            import torch


            def gates(x, h):
                a = 1.0 / (1.0 + (-x).exp())
                b = torch.exp(h) / (1 + torch.exp(h))
                e = torch.exp(-(x + h))
                c = 1 / (e + 1)
                return a, b, c
            """,
            expect=("5:9", "6:9", "8:9"),
            fixed="""
            import torch


            def gates(x, h):
                a = torch.sigmoid(x)
                b = torch.sigmoid(h)
                c = torch.sigmoid(x + h)
                return a, b, c
            """,
        ),
        Invalid(
            """
            import torch


            def gate(x):
                e = torch.exp(-x)
                x = x * 2  # the input changed: sigmoid(x) cannot be written below
                return 1 / (1 + e)
            """,
            expect=("7:12",),
        ),
    )

    valid = (
        Valid(
            """
            import torch


            def gate(x):
                return torch.sigmoid(x)
            """
        ),
        Valid(
            """
            import torch


            def gate(x):
                return 1 / (1 + torch.exp(-x.clamp(-30.0, 30.0)))  # cannot overflow
            """
        ),
        Valid(
            """
            import torch


            def not_a_sigmoid(x, y):
                a = 1 / (2 + torch.exp(-x))
                b = torch.exp(x) / (1 + torch.exp(y))
                c = torch.exp(x)[0] / (1 + torch.exp(x))
                return a, b, c
            """
        ),
    )

    reproduction = Reproduction(
        unstable_label="(1 / (1 + exp(-x)) - y) ** 2",
        stable_label="(sigmoid(x) - y) ** 2",
        dtypes=("float32", "float16"),
        scenarios=(
            Scenario(
                name="1 / (1 + exp(-x)) at x = -m, target y = 1",
                inputs=lambda t, m: -m,
                target=lambda t, x: t.ones_like(x),
                unstable=lambda t, x, y: _brier(t, 1 / (1 + t.exp(-x)), y),
                stable=lambda t, x, y: _brier(t, t.sigmoid(x), y),
                rows=(1.0, 10.0, 50.0, 88.72, 88.73, 100.0),
                claims=(
                    FirstBreak(
                        "gradient NaN from x = -88.73", "float32", "grad", "nonfinite", 88.73
                    ),
                    FirstBreak(
                        "float16: gradient NaN from x = -11.09",
                        "float16",
                        "grad",
                        "nonfinite",
                        11.09,
                    ),
                ),
            ),
            Scenario(
                name="exp(x) / (1 + exp(x)) at x = +m, target y = 0",
                inputs=lambda t, m: m,
                target=lambda t, x: t.zeros_like(x),
                unstable=lambda t, x, y: _brier(t, t.exp(x) / (1 + t.exp(x)), y),
                stable=lambda t, x, y: _brier(t, t.sigmoid(x), y),
                rows=(1.0, 10.0, 50.0, 88.72, 88.73, 100.0),
                claims=(
                    FirstBreak("value NaN from x = 88.73", "float32", "value", "nonfinite", 88.73),
                    FirstBreak(
                        "float16: value NaN from x = 11.09", "float16", "value", "nonfinite", 11.09
                    ),
                ),
            ),
        ),
        fix_check=FixCheck(entry="brier_loss", extreme=(90.0, 100.0)),
    )
