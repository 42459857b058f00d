"""NAN204 log-one-plus-exp."""

from __future__ import annotations

from nanlint.analysis.exponents import bounded
from nanlint.analysis.facts import FileAnalysis
from nanlint.analysis.kinds import Kind
from nanlint.analysis.rewrite import EditPlan, Part
from nanlint.analysis.spelling import spell
from nanlint.analysis.values import Source
from nanlint.fixes import FixAvailability
from nanlint.repro.harness import FirstBreak, FixCheck, Reproduction, Scenario
from nanlint.rules.base import Invalid, RuleDoc, Valid
from nanlint.rules.log_of import LogCall, LogOfRule

SOFTPLUS = "torch.nn.functional.softplus"

# log(1 + exp(x)) and log1p(exp(x)): the kind each operation is wrong on.
_KINDS = {"log": frozenset({Kind.ONE_PLUS_EXP}), "log1p": frozenset({Kind.EXP})}


class LogOnePlusExp(LogOfRule):
    code = "NAN204"
    fix_availability = FixAvailability.SOMETIMES
    operations = ("log", "log1p")
    kinds = frozenset().union(*_KINDS.values())
    transforms = frozenset({"add_one"})

    def kinds_at(self, operation: str) -> frozenset[Kind]:
        return _KINDS.get(operation, frozenset())

    def exempt(self, analysis: FileAnalysis, source: Source) -> bool:
        """`log1p(exp(-|x|))`, the stable softplus written by hand, cannot overflow."""
        return bounded(analysis, source.origin.operand)

    def consequence(self, call: LogCall) -> str:
        form = "log1p(exp(x))" if call.operation.name == "log1p" else "log(1 + exp(x))"
        return (
            f"{form} is inf with a NaN gradient from x = 88.73 in float32 (11.09 in float16),"
            " where exp overflows although the true value is about x; softplus(x) computes the"
            " same function exactly"
        )

    def fix_title(self, call: LogCall) -> str:
        return "Use `softplus`"

    def replacement(
        self, plan: EditPlan, analysis: FileAnalysis, call: LogCall, source: Source
    ) -> list[Part] | None:
        operand = source.origin.operand
        assert operand is not None
        return [spell(plan, analysis, SOFTPLUS, call.fact.scope), "(", operand, ")"]

    doc = RuleDoc(
        what=(
            "Finds log(1 + exp(x)) written out: `torch.log(1 + torch.exp(x))`,"
            " `torch.log(torch.exp(x) + 1)`, the method chain `x.exp().add(1).log()` and"
            " `torch.log1p(torch.exp(x))`, directly or through variables. The stable form"
            " written by hand, `log1p(exp(-|x|))` (plus `relu(x)`), is not flagged, nor is any exponent"
            " that cannot be positive (`lo - hi` with `hi = torch.max(lo, other)`, `-(x ** 2) / s`,"
            " a value clamped with `max=0`)."
        ),
        why=(
            "log(1 + exp(x)) is the softplus function, the building block of logistic and"
            " margin losses. Written out, exp(x) overflows to inf from x = 88.73 in float32"
            " (11.09 in float16), so the result is inf where the true value is about x, and"
            " the gradient is NaN from the same point. `log1p` does not help: it is exp that"
            " overflows. `F.softplus(x)` returns x itself above a threshold and log1p(exp(x))"
            " below it, and is exact at any magnitude."
        ),
        fix_safety=(
            "The fix replaces the expression with `F.softplus(x)` (default beta=1 and"
            " threshold=20, where softplus(x) and x agree to float32 precision). It is safe: the"
            " values are the same, only exact. Through a variable it is offered only while the"
            " names it copies still hold the same values at the log."
        ),
        references=(
            "https://pytorch.org/docs/stable/generated/torch.nn.functional.softplus.html",
            "https://pytorch.org/docs/stable/generated/torch.nn.Softplus.html",
        ),
    )

    invalid = (
        Invalid(
            """
            import torch
            import torch.nn.functional as F


            def loss(margin, target):
                return torch.log(1 + torch.exp(-target * margin))
            """,
            expect=("6:12",),
            fixed="""
            import torch
            import torch.nn.functional as F


            def loss(margin, target):
                return F.softplus(-target * margin)
            """,
        ),
        Invalid(
            """
            import torch


            def terms(x, pos, neg):
                a = torch.log(torch.exp(x) + 1)
                b = x.exp().add(1).log()
                c = torch.log1p(torch.exp(neg - pos))
                gap = torch.exp(pos - neg)
                d = (1 + gap).log()
                return a, b, c, d
            """,
            expect=("5:9", "6:9", "7:9", "9:9"),
            fixed="""
            import torch


            def terms(x, pos, neg):
                a = torch.nn.functional.softplus(x)
                b = torch.nn.functional.softplus(x)
                c = torch.nn.functional.softplus(neg - pos)
                d = torch.nn.functional.softplus(pos - neg)
                return a, b, c, d
            """,
        ),
        Invalid(
            """
            import torch


            def bpr(pos, neg):
                e = torch.exp(neg - pos)
                pos = pos.detach()
                return torch.log(1 + e).mean(), torch.log(1 + torch.exp(neg).squeeze(-1))
            """,
            expect=("7:12", "7:37"),
        ),
    )

    valid = (
        Valid(
            """
            import torch
            import torch.nn.functional as F


            def loss(logits, y):
                return (torch.relu(logits) - logits * y + torch.log1p(torch.exp(-logits.abs()))).mean()
            """
        ),
        Valid(
            """
            import torch


            def log_add_exp(lo, other, x, scale):
                hi = torch.max(lo, other)
                a = hi + torch.log1p(torch.exp(lo - hi))  # the exponent is never positive
                b = torch.log(1 + torch.exp(-(x ** 2) / scale))
                c = torch.log1p(torch.exp(x.clamp(max=0.0)))
                return a, b, c
            """
        ),
        Valid(
            """
            import torch


            def not_softplus(x):
                a = torch.log(2 + torch.exp(x))
                b = torch.log1p(torch.exp(x).sum())  # log(1 + sum): not an elementwise softplus
                c = torch.log(1 + x)
                d = torch.log1p(torch.exp(x) + 1)  # log(2 + exp(x))
                return a, b, c, d
            """
        ),
    )

    reproduction = Reproduction(
        unstable_label="log(1 + exp(x))",
        stable_label="softplus(x)",
        dtypes=("float32", "float16"),
        scenarios=(
            Scenario(
                name="confidently wrong: margin m, target -1",
                inputs=lambda t, m: m,
                target=lambda t, x: -t.ones_like(x),
                unstable=lambda t, x, y: t.log(1 + t.exp(-y * x)),
                stable=lambda t, x, y: t.nn.functional.softplus(-y * x),
                rows=(0.0, 1.0, 11.09, 20.0, 88.72, 88.73, 100.0),
                claims=(
                    FirstBreak("inf from 88.73", "float32", "value", "nonfinite", 88.73),
                    FirstBreak("gradient NaN from 88.73", "float32", "grad", "nonfinite", 88.73),
                    FirstBreak("float16: inf from 11.09", "float16", "value", "nonfinite", 11.09),
                ),
            ),
            Scenario(
                name="log1p(exp(x)), x = m",
                inputs=lambda t, m: m,
                target=lambda t, x: t.zeros_like(x),
                unstable=lambda t, x, y: t.log1p(t.exp(x)),
                stable=lambda t, x, y: t.nn.functional.softplus(x),
                rows=(0.0, 1.0, 11.09, 20.0, 88.73, 100.0),
                claims=(
                    FirstBreak("log1p: inf from 88.73", "float32", "value", "nonfinite", 88.73),
                ),
            ),
        ),
        fix_check=FixCheck(entry="loss", extreme=(90.0, 100.0)),
    )
