"""NAN402 probs-from-sigmoid."""

from __future__ import annotations

from nanlint.analysis import torch_api as api
from nanlint.analysis.kinds import Kind
from nanlint.analysis.sinks import SinkCall
from nanlint.fixes import FixAvailability
from nanlint.repro.harness import FirstBreak, FixCheck, Measured, Reproduction, Scenario
from nanlint.rules.base import Invalid, RuleDoc, Valid
from nanlint.rules.probs_into_distribution import ProbsIntoDistributionRule


def _log_prob(t, x, y, **parameters):
    return t.distributions.Bernoulli(**parameters, validate_args=False).log_prob(y)


class ProbsFromSigmoid(ProbsIntoDistributionRule):
    code = "NAN402"
    name = "probs-from-sigmoid"
    summary = "Sigmoid probabilities passed as probs= of Bernoulli / Binomial / Geometric / ContinuousBernoulli / Relaxed* / NegativeBinomial"
    fix_availability = FixAvailability.SOMETIMES
    triggers = ("Bernoulli", "Binomial", "Geometric")
    losses = api.BINARY_DISTRIBUTIONS
    kinds = frozenset({Kind.PROB_SIGMOID})

    def consequence(self, sink: SinkCall, kind: Kind) -> str:
        return (
            "torch.distributions clamps probs to [eps, 1 - eps] and takes logs, so log_prob is"
            " off from a logit of 12.40 in float32, floored at -15.94, and its gradient is"
            " exactly 0 from 16.64; `logits=` is exact"
        )

    doc = RuleDoc(
        what=(
            "Finds sigmoid probabilities passed as `probs` (keyword or positional) to a"
            " distribution with one probability per element: `Bernoulli`, `Binomial`,"
            " `Geometric`, `ContinuousBernoulli`, `RelaxedBernoulli`, `LogitRelaxedBernoulli` and"
            " `NegativeBinomial`, directly, through variables and from a model whose last layer"
            " is `nn.Sigmoid`."
        ),
        why=(
            "Given `probs`, these distributions clamp the probability to [eps, 1 - eps] and"
            " recover the logit as log(p) - log1p(-p). In float32, sigmoid(z) is already off by"
            " more than 0.1% in 1 - p from z = 12.40 and rounds to exactly 1.0 from 16.64: the"
            " log-likelihood of the unlikely outcome is then floored at log(eps) = -15.94 and its"
            " gradient is exactly 0 (from 5.15 in bfloat16 and 7.22 in float16), so training"
            " stops correcting exactly the confident mistakes. `logits=` computes the same"
            " distribution with softplus and is exact."
        ),
        fix_safety=(
            "The fix removes the sigmoid and passes its input as `logits=` (renaming the keyword,"
            " or adding it to a positional argument): the same distribution, so it is safe when"
            " the change is local. It is unsafe when it removes a clamp or eps guard, or the"
            " last layer of a model (the other places that use the model's output are listed)."
        ),
        references=(
            "https://pytorch.org/docs/stable/distributions.html#bernoulli",
            "https://pytorch.org/docs/stable/distributions.html#binomial",
        ),
    )

    invalid = (
        Invalid(
            """
            import torch
            from torch.distributions import Bernoulli


            def click_log_likelihood(logits, clicks):
                return Bernoulli(torch.sigmoid(logits)).log_prob(clicks)
            """,
            expect=("6:22",),
            fixed="""
            import torch
            from torch.distributions import Bernoulli


            def click_log_likelihood(logits, clicks):
                return Bernoulli(logits=logits).log_prob(clicks)
            """,
        ),
        Invalid(
            """
            import torch
            import torch.nn as nn
            from torch.distributions import Binomial, Geometric, RelaxedBernoulli


            class Head(nn.Module):
                def __init__(self):
                    super().__init__()
                    self.fc = nn.Linear(8, 1)

                def distributions(self, h, n):
                    p = self.fc(h).sigmoid().squeeze(-1)
                    return (
                        Binomial(n, probs=p),
                        Geometric(probs=p.clamp(1e-6, 1 - 1e-6)),
                        RelaxedBernoulli(torch.tensor(0.5), p),
                    )
            """,
            expect=("14:31", "15:29", "16:49"),
            unsafe_fixed="""
            import torch
            import torch.nn as nn
            from torch.distributions import Binomial, Geometric, RelaxedBernoulli


            class Head(nn.Module):
                def __init__(self):
                    super().__init__()
                    self.fc = nn.Linear(8, 1)

                def distributions(self, h, n):
                    p = self.fc(h).squeeze(-1)
                    return (
                        Binomial(n, logits=p),
                        Geometric(logits=p),
                        RelaxedBernoulli(torch.tensor(0.5), logits=p),
                    )
            """,
        ),
        Invalid(
            """
            import torch
            from torch.distributions import Bernoulli


            def sample(z):
                return Bernoulli(torch.sigmoid(z), None, False).sample()  # logits=None given
            """,
            expect=("6:22",),
        ),
    )

    valid = (
        Valid(
            """
            import torch
            from torch.distributions import Bernoulli


            def dropout_mask(logits, keep):
                a = Bernoulli(logits=logits)
                b = Bernoulli(probs=torch.full_like(logits, keep))
                c = Bernoulli(probs=torch.sigmoid(logits), logits=logits)  # raises: both given
                return a, b, c
            """
        ),
    )

    reproduction = Reproduction(
        unstable_label="Bernoulli(probs=sigmoid(z)).log_prob(0)",
        stable_label="Bernoulli(logits=z).log_prob(0)",
        dtypes=("float32", "bfloat16", "float16"),
        scenarios=(
            Scenario(
                name="logit z = +m, outcome 0 (the unlikely one)",
                inputs=lambda t, m: m,
                target=lambda t, x: t.zeros_like(x),
                unstable=lambda t, x, y: _log_prob(t, x, y, probs=t.sigmoid(x)),
                stable=lambda t, x, y: _log_prob(t, x, y, logits=x),
                rows=(1.0, 10.0, 12.4, 16.64, 30.0, 100.0),
                claims=(
                    FirstBreak("log_prob off from 12.40", "float32", "value", "wrong", 12.40),
                    Measured(
                        "log_prob floored at -15.94", "float32", 30.0, "unstable_value", -15.94
                    ),
                    FirstBreak("gradient exactly 0 from 16.64", "float32", "grad", "zero", 16.64),
                    FirstBreak(
                        "bfloat16: gradient exactly 0 from 5.15", "bfloat16", "grad", "zero", 5.15
                    ),
                    FirstBreak(
                        "float16: gradient exactly 0 from 7.22", "float16", "grad", "zero", 7.22
                    ),
                ),
            ),
        ),
        fix_check=FixCheck(entry="click_log_likelihood"),
    )
