"""NAN302 manual-softmax."""

from __future__ import annotations

from nanlint.analysis.exponents import stable
from nanlint.analysis.facts import FileAnalysis, OpFact
from nanlint.analysis.kinds import Kind
from nanlint.analysis.rewrite import EditPlan, Part
from nanlint.analysis.spelling import spell
from nanlint.analysis.values import Origin
from nanlint.fixes import FixAvailability
from nanlint.repro.harness import FirstBreak, FixCheck, Reproduction, Scenario
from nanlint.rules.base import Invalid, RuleDoc, Valid
from nanlint.rules.hand_written import HandWrittenRule


def _rows(t, m):
    """Logits [m, 0]."""
    return t.stack([m, t.zeros_like(m)], dim=1)


def _scores(t, x):
    return t.tensor([[0.0, 1.0]]).expand(x.shape[0], 2)


def _expected(t, weights, scores):
    return (weights * scores).sum(dim=1)


class ManualSoftmax(HandWrittenRule):
    code = "NAN302"
    fix_availability = FixAvailability.SOMETIMES
    kind = Kind.PROB_SOFTMAX
    activation = "softmax"
    fix_title = "Use `torch.softmax`"

    def consequence(self, origin: Origin) -> str:
        return (
            "without subtracting the maximum first, exp(x) overflows to inf once a logit"
            " reaches 88.73 in float32 (11.09 in float16), and the value and its gradient are"
            " inf / inf = NaN; torch.softmax shifts by the maximum and is exact"
        )

    def stable(self, analysis: FileAnalysis, origin: Origin) -> bool:
        """`exp(x - x.max(d, keepdim=True)[0]) / ...` (any shift) or a clamped input."""
        return stable(analysis, origin.operand)

    def replacement(
        self, plan: EditPlan, analysis: FileAnalysis, fact: OpFact, origin: Origin
    ) -> list[Part] | None:
        assert origin.operand is not None
        parts: list[Part] = [
            spell(plan, analysis, "torch.softmax", fact.scope),
            "(",
            origin.operand,
        ]
        for name, node in origin.options:
            parts += [f", {name}=", node]
        return [*parts, ")"]

    doc = RuleDoc(
        what=(
            "Finds a softmax written out by hand, `torch.exp(x) / torch.exp(x).sum(d,"
            " keepdim=True)` in any spelling (`x.exp()`, `torch.sum(..., dim=d, keepdim=True)`,"
            " the exponential in a variable), when the logits are not shifted first. The stable"
            " hand-written form that subtracts the maximum (`x - x.max(d, keepdim=True)[0]`,"
            " `x.amax(...)`, `torch.max(...).values`, a `logsumexp`, any difference) or clamps"
            " the logits is never flagged, nor is an exponent that cannot be positive (a Gaussian"
            " kernel `exp(-(d ** 2) / s)`, `-x.abs()`), nor a sum without `keepdim=True` (it"
            " broadcasts differently, so it is not a softmax)."
        ),
        why=(
            "exp(x) overflows to inf in float32 once a logit reaches 88.73 (11.09 in float16)."
            " From there the hand-written softmax computes inf / inf = NaN for the value and the"
            " gradient, and the NaN spreads through everything downstream. Logits of that size"
            " are ordinary in attention scores and in late training. `torch.softmax`"
            " subtracts the row maximum before exponentiating, which changes nothing"
            " mathematically and keeps every exponential at most 1."
        ),
        fix_safety=(
            "The fix replaces the division with `torch.softmax(x, dim=d)` (carrying `dtype` when"
            " the sum had one): the same function, so it is safe. It is offered when `x` can be"
            " written at the division: it is inline, or every name it reads still holds the same"
            " value there."
        ),
        references=(
            "https://pytorch.org/docs/stable/generated/torch.softmax.html",
            "https://pytorch.org/docs/stable/generated/torch.nn.functional.softmax.html",
        ),
    )

    invalid = (
        Invalid(
            """
            import torch


            def expected_score(logits, scores):
                weights = torch.exp(logits) / torch.exp(logits).sum(dim=1, keepdim=True)
                return (weights * scores).sum(dim=1)
            """,
            expect=("5:15",),
            fixed="""
            import torch


            def expected_score(logits, scores):
                weights = torch.softmax(logits, dim=1)
                return (weights * scores).sum(dim=1)
            """,
        ),
        Invalid(
            """
            import torch


            def attend(q, k, v, scale):
                scores = q @ k.transpose(-2, -1) / scale
                e = scores.exp()
                weights = e / e.sum(-1, keepdim=True)
                pooled = torch.exp(v) / torch.sum(torch.exp(v), dim=0, keepdim=True, dtype=torch.double)
                return weights @ v, pooled
            """,
            expect=("7:15", "8:14"),
            fixed="""
            import torch


            def attend(q, k, v, scale):
                scores = q @ k.transpose(-2, -1) / scale
                weights = torch.softmax(scores, dim=-1)
                pooled = torch.softmax(v, dim=0, dtype=torch.double)
                return weights @ v, pooled
            """,
        ),
    )

    valid = (
        Valid(
            """
            import torch


            def stable_softmaxes(x):
                z = x - x.max(dim=1, keepdim=True)[0]
                a = torch.exp(z) / torch.exp(z).sum(dim=1, keepdim=True)
                e = torch.exp(x - x.amax(-1, keepdim=True))
                b = e / e.sum(-1, keepdim=True)
                y = x.sub(torch.logsumexp(x, dim=-1, keepdim=True))
                c = y.exp() / y.exp().sum(-1, keepdim=True)
                x -= torch.max(x, dim=-1, keepdim=True).values
                d = x.exp() / x.exp().sum(-1, keepdim=True)
                return a, b, c, d
            """
        ),
        Valid(
            """
            import torch


            def not_softmaxes(x, y):
                e = torch.exp(x)
                a = e / e.sum(1)  # no keepdim: broadcasts over the wrong dimension
                b = e / torch.exp(y).sum(1, keepdim=True)
                c = e[:, :5] / e.sum(1, keepdim=True)
                d = torch.exp(x.clamp(max=50.0)) / torch.exp(x.clamp(max=50.0)).sum(1, keepdim=True)
                return a, b, c, d
            """
        ),
        Valid(
            """
            import torch


            def kernel_weights(x, centers, bandwidth):
                d = torch.cdist(x, centers)
                k = torch.exp(-(d ** 2) / (2 * bandwidth ** 2))  # a Gaussian kernel: at most 1
                return k / k.sum(1, keepdim=True)
            """
        ),
    )

    reproduction = Reproduction(
        unstable_label="(exp(x) / exp(x).sum(1, keepdim=True) * s).sum(1)",
        stable_label="(softmax(x, 1) * s).sum(1)",
        dtypes=("float32", "float16"),
        scenarios=(
            Scenario(
                name="logits [m, 0], scores [0, 1]",
                inputs=_rows,
                target=_scores,
                unstable=lambda t, x, y: _expected(
                    t, t.exp(x) / t.exp(x).sum(dim=1, keepdim=True), y
                ),
                stable=lambda t, x, y: _expected(t, t.softmax(x, dim=1), y),
                rows=(1.0, 10.0, 50.0, 88.72, 88.73, 100.0),
                claims=(
                    FirstBreak("value NaN from 88.73", "float32", "value", "nonfinite", 88.73),
                    FirstBreak("gradient NaN from 88.73", "float32", "grad", "nonfinite", 88.73),
                    FirstBreak(
                        "float16: value NaN from 11.09", "float16", "value", "nonfinite", 11.09
                    ),
                ),
            ),
        ),
        fix_check=FixCheck(entry="expected_score", extreme=(90.0, 100.0)),
    )
