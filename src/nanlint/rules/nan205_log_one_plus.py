"""NAN205 log-one-plus (off by default)."""

from __future__ import annotations

from nanlint.analysis.facts import FileAnalysis
from nanlint.analysis.kinds import Kind
from nanlint.analysis.rewrite import EditPlan, Part, method_call
from nanlint.analysis.spelling import spell
from nanlint.analysis.values import Source
from nanlint.fixes import FixAvailability
from nanlint.repro.harness import FixCheck, Reproduction
from nanlint.repro.scenarios import NEAR_ZERO_SWEEP, near_zero
from nanlint.rules.base import Invalid, RuleDoc, Valid
from nanlint.rules.log_of import LogCall, LogOfRule


class LogOnePlus(LogOfRule):
    code = "NAN205"
    fix_availability = FixAvailability.SOMETIMES
    kinds = frozenset({Kind.ONE_PLUS})

    def consequence(self, call: LogCall) -> str:
        return (
            "1 + x rounds away the digits of x below float32's spacing at 1 (1.19e-7), so the"
            " result can be off by more than 0.1% for x up to 5.9e-5 and is exactly 0 below"
            " 6e-8; log1p(x) is exact"
        )

    def fix_title(self, call: LogCall) -> str:
        return "Use `log1p`"

    def replacement(
        self, plan: EditPlan, analysis: FileAnalysis, call: LogCall, source: Source
    ) -> list[Part] | None:
        operand = source.origin.operand
        assert operand is not None
        if call.operation.method:
            return method_call(operand, "log1p")
        return [spell(plan, analysis, "torch.log1p", call.fact.scope), "(", operand, ")"]

    doc = RuleDoc(
        what=(
            "Finds `torch.log(1 + x)`, `torch.log(x + 1)`, `(1 + x).log()` and"
            " `x.add(1).log()`, directly or through a variable. Off by default: most code takes"
            " log(1 + x) of values far from 0, where it is exact; enable it with `--select"
            " NAN205` for code where x can be tiny (rates, variances, probability ratios)."
        ),
        why=(
            "1 + x is rounded to float32 before the log sees it: every digit of x below the"
            " spacing of floats at 1 (1.19e-7) is lost. For x up to 5.9e-5 the result can be off"
            " by more than 0.1%, and below 6e-8 it is exactly 0, so a small rate or variance"
            " vanishes. The absolute error stays below 6e-8 and the gradient is unaffected,"
            " which is why the rule is off by default. `torch.log1p(x)` computes log(1 + x)"
            " without forming 1 + x and is exact at any magnitude."
        ),
        fix_safety=(
            "The fix replaces the expression with `torch.log1p(x)` (`x.log1p()` for the method"
            " form). It is safe: the values are the same, only exact. Through a variable it is"
            " offered only while the names it copies still hold the same values at the log."
        ),
        references=(
            "https://pytorch.org/docs/stable/generated/torch.log1p.html",
            "https://pytorch.org/docs/stable/generated/torch.log.html",
        ),
    )

    invalid = (
        Invalid(
            """
            import torch


            def nb_rate_term(mu, theta):
                return theta * torch.log(1 + mu / theta)
            """,
            expect=("5:20",),
            fixed="""
            import torch


            def nb_rate_term(mu, theta):
                return theta * torch.log1p(mu / theta)
            """,
        ),
        Invalid(
            """
            from torch import log


            def terms(x, rate, variance):
                a = log(x + 1)
                b = (1 + rate * 0.5).log()
                c = variance.add(1).log()
                shrink = 1 + variance
                return a, b, c, log(shrink)
            """,
            expect=("5:9", "6:9", "7:9", "9:21"),
            fixed="""
            from torch import log, log1p


            def terms(x, rate, variance):
                a = log1p(x)
                b = (rate * 0.5).log1p()
                c = variance.log1p()
                return a, b, c, log1p(variance)
            """,
        ),
    )

    valid = (
        Valid(
            """
            import math
            import torch


            def fine(x, n):
                a = torch.log1p(x)
                b = torch.log(2 + x)
                c = math.log(1 + n)  # Python floats
                d = torch.log(1 + torch.exp(x))  # softplus: NAN204
                return a, b, c, d
            """
        ),
    )

    reproduction = Reproduction(
        unstable_label="log(1 + x)",
        stable_label="log1p(x)",
        dtypes=("float32",),
        sweep=NEAR_ZERO_SWEEP,
        scenarios=(
            near_zero(
                unstable=lambda t, x, y: y * t.log(1 + x / y),
                stable=lambda t, x, y: y * t.log1p(x / y),
            ),
        ),
        fix_check=FixCheck(entry="nb_rate_term", extreme=(1e-6, 1e-5)),
    )
