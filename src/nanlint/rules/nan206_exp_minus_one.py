"""NAN206 exp-minus-one (off by default)."""

from __future__ import annotations

from collections.abc import Iterator

from nanlint.analysis.arithmetic import is_number
from nanlint.analysis.facts import FileAnalysis, OpFact
from nanlint.analysis.kinds import Kind
from nanlint.analysis.local import replace_consumer
from nanlint.analysis.rewrite import EditPlan, Part, method_call
from nanlint.analysis.spelling import spell
from nanlint.analysis.values import Source, Tensor
from nanlint.fixes import FixAvailability
from nanlint.repro.harness import FixCheck, Reproduction
from nanlint.repro.scenarios import NEAR_ZERO_SWEEP, near_zero
from nanlint.rules.base import Finding, Invalid, Rule, RuleDoc, Valid
from nanlint.rules.into_loss import describe, related_origins


class ExpMinusOne(Rule):
    code = "NAN206"
    name = "exp-minus-one"
    summary = "exp(x) - 1 instead of expm1(x)"
    fix_availability = FixAvailability.SOMETIMES
    default_enabled = False
    triggers = ("exp(", "exp_(")

    def check(self, analysis: FileAnalysis) -> Iterator[Finding]:
        for fact in analysis.operations.values():
            value = fact.left.value
            if not (
                fact.operator == "-"
                and is_number(fact.right, 1)
                and isinstance(value, Tensor)
                and value.kind is Kind.EXP
            ):
                continue
            message = (
                f"1 subtracted from {describe(analysis, value)}: exp(x) is rounded to a float"
                " near 1 first, which loses the digits of x below 1.19e-7, so the difference"
                " can be off by more than 0.1% for |x| up to 5.9e-5 and is exactly 0 below"
                " 6e-8; expm1(x) is exact"
            )
            yield Finding(fact.node, message, related_origins(value), self._fix(analysis, fact))

    def _fix(self, analysis: FileAnalysis, fact: OpFact) -> EditPlan | None:
        def build(plan: EditPlan, source: Source) -> list[Part]:
            operand = source.origin.operand
            assert operand is not None
            if source.origin.api.startswith("Tensor."):
                return method_call(operand, "expm1")
            return [spell(plan, analysis, "torch.expm1", fact.scope), "(", operand, ")"]

        value = fact.left.value
        assert isinstance(value, Tensor)
        return replace_consumer(
            analysis,
            fact.node,
            fact.env,
            fact.scope,
            value,
            "Use `expm1`",
            frozenset(),
            build,
            atom=True,
        )

    doc = RuleDoc(
        what=(
            "Finds `torch.exp(x) - 1` and `x.exp() - 1`, directly or through a variable holding"
            " the exponential (`ratio = torch.exp(log_ratio)` ... `ratio - 1`). Off by default:"
            " most code subtracts 1 from exponentials far from 1, where it is exact; enable it"
            " with `--select NAN206` for code where x can be tiny (log-ratios, small rates)."
        ),
        why=(
            "exp(x) is rounded to float32 before 1 is subtracted, and floats near 1 are 1.19e-7"
            " apart: the digits of x below that are lost. For |x| up to 5.9e-5 the result can"
            " be off by more than 0.1%, and below 6e-8 it is exactly 0. The absolute error stays"
            " below 6e-8 and the gradient is unaffected, which is why the rule is off by"
            " default. `torch.expm1(x)` computes exp(x) - 1 without forming exp(x) and is exact"
            " at any magnitude."
        ),
        fix_safety=(
            "The fix replaces the subtraction with `torch.expm1(x)` (`x.expm1()` for the method"
            " form). It is safe: the values are the same, only exact. Through a variable it is"
            " offered only while the names it copies still hold the same values at the"
            " subtraction."
        ),
        references=(
            "https://pytorch.org/docs/stable/generated/torch.expm1.html",
            "https://pytorch.org/docs/stable/generated/torch.special.expm1.html",
        ),
    )

    invalid = (
        Invalid(
            """
            import torch


            def relative_change(log_ratio, scale):
                return scale * (torch.exp(log_ratio) - 1)
            """,
            expect=("5:21",),
            fixed="""
            import torch


            def relative_change(log_ratio, scale):
                return scale * torch.expm1(log_ratio)
            """,
        ),
        Invalid(
            """
            import torch


            def ppo_stats(new_log_probs, old_log_probs, alpha, x):
                log_ratio = new_log_probs - old_log_probs
                ratio = log_ratio.exp()
                clip_fraction = ((ratio - 1.0).abs() > 0.2).float().mean()
                approx_kl = ((ratio - 1) - log_ratio).mean()
                elu = alpha * ((x * 0.5).exp() - 1)
                return ratio, clip_fraction, approx_kl, elu
            """,
            expect=("7:23", "8:19", "9:20"),
            fixed="""
            import torch


            def ppo_stats(new_log_probs, old_log_probs, alpha, x):
                log_ratio = new_log_probs - old_log_probs
                ratio = log_ratio.exp()
                clip_fraction = (log_ratio.expm1().abs() > 0.2).float().mean()
                approx_kl = (log_ratio.expm1() - log_ratio).mean()
                elu = alpha * (x * 0.5).expm1()
                return ratio, clip_fraction, approx_kl, elu
            """,
        ),
        Invalid(
            """
            import torch


            def unfixable(x, y, z):
                e = torch.exp(x)
                x = x * 2  # e no longer holds exp(x)
                return e - 1, torch.exp(y).view(-1) - 1, z.exp_() - 1  # exp_ updates z
            """,
            expect=("7:12", "7:19", "7:46"),
        ),
    )

    valid = (
        Valid(
            """
            import math
            import torch


            def fine(x, n):
                a = torch.expm1(x)
                b = torch.exp(x) - 2
                c = torch.exp(x - 1)
                d = math.exp(n) - 1  # Python floats
                e = torch.exp(x).sum() - 1
                return a, b, c, d, e
            """
        ),
    )

    reproduction = Reproduction(
        unstable_label="exp(x) - 1",
        stable_label="expm1(x)",
        dtypes=("float32",),
        sweep=NEAR_ZERO_SWEEP,
        scenarios=(
            near_zero(
                unstable=lambda t, x, y: y * (t.exp(x) - 1),
                stable=lambda t, x, y: y * t.expm1(x),
            ),
        ),
        fix_check=FixCheck(entry="relative_change", extreme=(1e-6, 1e-5)),
    )
