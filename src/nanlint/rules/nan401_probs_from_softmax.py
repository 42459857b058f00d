"""NAN401 probs-from-softmax."""

from __future__ import annotations

from nanlint.analysis import torch_api as api
from nanlint.analysis.facts import FileAnalysis
from nanlint.analysis.kinds import Kind
from nanlint.analysis.rewrite import EditPlan
from nanlint.analysis.sinks import SinkCall
from nanlint.analysis.values import Source, Tensor
from nanlint.fixes import Applicability, FixAvailability
from nanlint.repro.harness import FirstBreak, FixCheck, Measured, Reproduction, Scenario
from nanlint.rules.base import Invalid, RuleDoc, Valid
from nanlint.rules.probs_into_distribution import ProbsIntoDistributionRule


def _rows(t, m):
    """Logits [m, 0]; the action taken is the unlikely second one."""
    return t.stack([m, t.zeros_like(m)], dim=1)


def _second(t, x):
    return t.ones(x.shape[0], dtype=t.long)


def _log_prob(t, x, y, **parameters):
    return t.distributions.Categorical(**parameters, validate_args=False).log_prob(y)


class ProbsFromSoftmax(ProbsIntoDistributionRule):
    code = "NAN401"
    fix_availability = FixAvailability.SOMETIMES
    losses = api.CATEGORICAL_DISTRIBUTIONS
    kinds = frozenset({Kind.PROB_SOFTMAX})

    def consequence(self, sink: SinkCall, kind: Kind) -> str:
        return (
            "torch.distributions clamps probs at float32's eps, so log_prob is floored at -15.94"
            " from a logit gap of 15.96 and its gradient is exactly 0 from 15.95 (6.94 in"
            " float16); `logits=` computes log_softmax exactly"
        )

    def plan_loss_side(
        self, analysis: FileAnalysis, sink: SinkCall, plan: EditPlan
    ) -> list[SinkCall] | None:
        arg = sink.input
        assert arg is not None and isinstance(arg.value, Tensor)
        if not all(_over_last_dim(analysis, source) for source in arg.value.sources):
            plan.downgrade(
                Applicability.UNSAFE,
                f"`{sink.loss_label}` normalises `logits=` over the last dimension: the same as"
                " the softmax only if its `dim` is the last one",
            )
        return super().plan_loss_side(analysis, sink, plan)

    doc = RuleDoc(
        what=(
            "Finds softmax probabilities passed as `probs` (keyword or positional) to a"
            " distribution over classes: `Categorical`, `OneHotCategorical`,"
            " `OneHotCategoricalStraightThrough`, `Multinomial`, `RelaxedOneHotCategorical` and"
            " `ExpRelaxedCategorical`, directly, through variables and from a model whose last"
            " layer is `nn.Softmax`."
        ),
        why=(
            "Given `probs`, a distribution recovers log-probabilities by clamping the"
            " probabilities to [eps, 1 - eps] and taking their log. In float32 that floors"
            " `log_prob` at log(eps) = -15.94: for a logit gap of 15.96 or more the log-likelihood"
            " of an unlikely action or class is wrong, and its gradient is exactly 0 from 15.95"
            " (4.86 in bfloat16, 6.94 in float16), so a policy gradient or a likelihood loss stops"
            " learning from exactly the examples it gets most wrong. `logits=` keeps everything in"
            " log space (log_softmax) and is exact. In float16, `probs=` can even raise a"
            " ValueError from the simplex check when the softmax does not sum to 1 closely enough."
        ),
        fix_safety=(
            "The fix removes the softmax and passes its input as `logits=` (renaming the keyword,"
            " or adding it to a positional argument). The distribution is the same, so the fix"
            " is safe when the softmax is over the last dimension (`dim=-1`), which is the one"
            " the distribution normalises `logits` over; with another `dim`, or a reshaped"
            " output in between, it is unsafe. As for every producer rewrite, it is unsafe when"
            " it removes a clamp or eps guard, or the last layer of a model (the other places"
            " that use the model's output are listed)."
        ),
        references=(
            "https://pytorch.org/docs/stable/distributions.html#categorical",
            "https://pytorch.org/docs/stable/distributions.html#multinomial",
        ),
    )

    invalid = (
        Invalid(
            """
            import torch.nn.functional as F
            from torch.distributions import Categorical


            def action_log_prob(logits, actions):
                dist = Categorical(probs=F.softmax(logits, dim=-1))
                return dist.log_prob(actions)
            """,
            expect=("6:30",),
            fixed="""
            from torch.distributions import Categorical


            def action_log_prob(logits, actions):
                dist = Categorical(logits=logits)
                return dist.log_prob(actions)
            """,
        ),
        Invalid(
            """
            import torch
            import torch.distributions as D


            def sample(scores, counts):
                probs = torch.softmax(scores, -1)
                a = D.OneHotCategorical(probs).sample()
                b = D.Multinomial(10, probs=probs).sample()
                c = D.relaxed_categorical.RelaxedOneHotCategorical(0.5, probs).rsample()
                return a, b, c, probs.max(-1)
            """,
            expect=("7:29", "8:33", "9:61"),
            fixed="""
            import torch
            import torch.distributions as D


            def sample(scores, counts):
                probs = torch.softmax(scores, -1)
                a = D.OneHotCategorical(logits=scores).sample()
                b = D.Multinomial(10, logits=scores).sample()
                c = D.relaxed_categorical.RelaxedOneHotCategorical(0.5, logits=scores).rsample()
                return a, b, c, probs.max(-1)
            """,
        ),
        Invalid(
            """
            import torch
            from torch.distributions import Categorical


            def entropy(x):
                return Categorical(probs=x.softmax(dim=1)).entropy()
            """,
            expect=("6:30",),
            unsafe_fixed="""
            import torch
            from torch.distributions import Categorical


            def entropy(x):
                return Categorical(logits=x).entropy()
            """,
        ),
    )

    valid = (
        Valid(
            """
            import torch
            from torch.distributions import Categorical


            def policy(logits):
                return Categorical(logits=logits)
            """
        ),
        Valid(
            """
            import torch
            from torch.distributions import Categorical


            def empirical(counts, probs_from_data):
                a = Categorical(probs=counts / counts.sum(-1, keepdim=True))
                b = Categorical(probs=probs_from_data)
                return a, b
            """
        ),
    )

    reproduction = Reproduction(
        unstable_label="Categorical(probs=softmax(x)).log_prob(a)",
        stable_label="Categorical(logits=x).log_prob(a)",
        dtypes=("float32", "bfloat16", "float16"),
        scenarios=(
            Scenario(
                name="logits [m, 0], log-likelihood of the unlikely action",
                inputs=_rows,
                target=_second,
                unstable=lambda t, x, y: _log_prob(t, x, y, probs=t.softmax(x, dim=-1)),
                stable=lambda t, x, y: _log_prob(t, x, y, logits=x),
                rows=(1.0, 10.0, 15.95, 15.96, 30.0, 100.0),
                claims=(
                    FirstBreak(
                        "log_prob wrong from a gap of 15.96", "float32", "value", "wrong", 15.96
                    ),
                    Measured(
                        "log_prob floored at -15.94", "float32", 30.0, "unstable_value", -15.94
                    ),
                    FirstBreak("gradient exactly 0 from 15.95", "float32", "grad", "zero", 15.95),
                    FirstBreak(
                        "bfloat16: gradient exactly 0 from 4.86", "bfloat16", "grad", "zero", 4.86
                    ),
                    FirstBreak(
                        "float16: gradient exactly 0 from 6.94", "float16", "grad", "zero", 6.94
                    ),
                ),
            ),
        ),
        fix_check=FixCheck(entry="action_log_prob"),
    )


def _over_last_dim(analysis: FileAnalysis, source: Source) -> bool:
    """Whether a softmax runs over the last dimension, which stays last up to the consumer."""
    dim = source.origin.option("dim")
    return (
        dim is not None
        and source.origin.file.node_text(dim) == "-1"
        and all(step.op in api.SAME_LAYOUT_METHODS for step in source.steps)
    )
