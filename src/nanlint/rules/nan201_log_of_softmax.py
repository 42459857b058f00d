"""NAN201 log-of-softmax."""

from __future__ import annotations

from nanlint.analysis.facts import FileAnalysis
from nanlint.analysis.floors import Floor
from nanlint.analysis.kinds import Kind
from nanlint.analysis.producers import ToLogSpace
from nanlint.analysis.rewrite import EditPlan, Part
from nanlint.analysis.spelling import spell
from nanlint.analysis.values import Source
from nanlint.fixes import FixAvailability
from nanlint.repro.harness import FirstBreak, FixCheck, Reproduction, Scenario
from nanlint.rules.base import Invalid, RuleDoc, Valid
from nanlint.rules.log_of import LogCall, LogOfRule
from nanlint.rules.saturation import guarded_log

# The log_softmax spelling that matches each softmax spelling.
_TWIN = {
    "torch.softmax": "torch.log_softmax",
    "torch.special.softmax": "torch.special.log_softmax",
}
_FUNCTIONAL = "torch.nn.functional.log_softmax"


def _rows(t, m):
    """Logits [m, 0]: the second class is the unlikely one."""
    return t.stack([m, t.zeros_like(m)], dim=1)


def _second_class(t, x):
    return t.tensor([[0.0, 1.0]]).expand(x.shape[0], 2)


class LogOfSoftmax(LogOfRule):
    code = "NAN201"
    fix_availability = FixAvailability.SOMETIMES
    kinds = frozenset({Kind.PROB_SOFTMAX})
    remote_rewrite = ToLogSpace()

    def consequence(self, call: LogCall) -> str:
        return (
            "softmax underflows to 0 for a logit gap beyond 103.97 in float32, so the log is"
            " -inf, and its gradient is NaN from a gap of 88.73 (11.09 in float16); log_softmax"
            " computes the same values without leaving log space"
        )

    def guarded_consequence(self, call: LogCall, floor: Floor) -> str | None:
        return guarded_log(floor, "softmax", "log_softmax is exact and keeps the gradient")

    def fix_title(self, call: LogCall) -> str:
        return "Use `log_softmax`"

    def replacement(
        self, plan: EditPlan, analysis: FileAnalysis, call: LogCall, source: Source
    ) -> list[Part] | None:
        origin = source.origin
        options = dict(origin.options)
        dim = options.get("dim")
        if origin.api == "Tensor.softmax":
            parts: list[Part] = [origin.operand, ".log_softmax("]  # type: ignore[list-item]
            if dim is not None:
                parts.append(dim)
            if "dtype" in options:
                parts += [", dtype=" if dim is not None else "dtype=", options["dtype"]]
            return [*parts, ")"]
        name = spell(plan, analysis, _TWIN.get(origin.api, _FUNCTIONAL), call.fact.scope)
        parts = [name, "(", origin.operand]  # type: ignore[list-item]
        if origin.api == "torch.nn.Softmax2d":
            parts.append(", dim=-3")
        for option in ("dim", "dtype"):
            if option in options:
                parts += [f", {option}=", options[option]]
        return [*parts, ")"]

    def remote_replacement(
        self, plan: EditPlan, analysis: FileAnalysis, call: LogCall
    ) -> list[Part] | None:
        assert call.input is not None
        return [call.input.node]

    doc = RuleDoc(
        what=(
            "Finds the logarithm of softmax probabilities: `torch.log(F.softmax(x, 1))`,"
            " `x.softmax(-1).log()`, `torch.log(p)` where `p = F.softmax(z, dim=1)` earlier (the"
            " hand-written cross-entropy), `nll_loss(torch.log(softmax(x)))`,"
            " `kl_div(softmax(x).log(), t)`, and the guarded forms `torch.log(p + 1e-8)` and"
            " `torch.log(torch.clamp(p, min=1e-8))`. A guarded log weighted by the same"
            " probabilities, the entropy term `p * torch.log(p.clamp_min(1e-12))`, is not"
            " flagged: it is finite and off by less than eps * |log eps|, and rewriting it to"
            " `p * log_softmax(x)` would make masked (-inf) logits 0 * -inf = NaN."
        ),
        why=(
            "softmax(x)[i] = exp(x[i] - logsumexp(x)). When the gap between a logit and the"
            " largest one exceeds 103.97, that probability underflows to 0 in float32 (17.3 in"
            " float16), its log is -inf and a loss built from it is inf; the gradient is NaN from"
            " a gap of 88.73 already, where 1/p overflows. log_softmax computes x[i] -"
            " logsumexp(x) directly and is exact at any gap. An eps guard keeps the log finite"
            " but not right: `log(p + 1e-8)` is off by more than 0.1% from a gap of 14.18 and"
            " flattens the loss at -log(1e-8) = 18.42, past which its gradient fades by a factor"
            " e per unit of gap; a clamp (`p.clamp(min=1e-8)`) passes exactly zero gradient"
            " there, so confidently wrong examples stop learning; in float16, 1e-8 rounds to 0"
            " and guards nothing. Messages on guarded forms say which, with the numbers."
        ),
        fix_safety=(
            "The fix replaces the log with `log_softmax` (`F.log_softmax(x, dim=...)`, or"
            " `x.log_softmax(dim)` for the method form), carrying `dim` and `dtype`. It is safe:"
            " the values are the same, only exact. Through a variable it is offered only while"
            " the logits' name still holds the same value at the log. The guarded forms are"
            " unsafe, because removing the eps or clamp changes the value. When the softmax is a"
            " model's last layer, the fix turns it into `log_softmax` (the model then returns"
            " log-probabilities): unsafe, and the other places that use the output are listed."
        ),
        references=(
            "https://pytorch.org/docs/stable/generated/torch.nn.functional.log_softmax.html",
            "https://pytorch.org/docs/stable/generated/torch.nn.LogSoftmax.html",
        ),
    )

    invalid = (
        Invalid(
            """
            import torch
            import torch.nn.functional as F


            def loss(logits, target_onehot):
                probs = F.softmax(logits, dim=1)
                return (target_onehot * -torch.log(probs)).sum(1).mean()
            """,
            expect=("7:30",),
            fixed="""
            import torch
            import torch.nn.functional as F


            def loss(logits, target_onehot):
                return (target_onehot * -F.log_softmax(logits, dim=1)).sum(1).mean()
            """,
        ),
        Invalid(
            """
            import torch
            import torch.nn.functional as F


            def scores(x, t, y):
                a = torch.log(torch.softmax(x, 1))
                b = x.softmax(-1).log()
                c = F.nll_loss(torch.log(F.softmax(x, dim=-1, dtype=torch.float32)), y)
                d = F.kl_div(x.softmax(dim=1).log(), t, reduction="batchmean")
                return a, b, c, d
            """,
            expect=("6:9", "7:9", "8:20", "9:18"),
            fixed="""
            import torch
            import torch.nn.functional as F


            def scores(x, t, y):
                a = torch.log_softmax(x, dim=1)
                b = x.log_softmax(-1)
                c = F.nll_loss(F.log_softmax(x, dim=-1, dtype=torch.float32), y)
                d = F.kl_div(x.log_softmax(1), t, reduction="batchmean")
                return a, b, c, d
            """,
        ),
        Invalid(
            """
            import torch
            import torch.nn.functional as F


            def guarded(logits, y):
                p = F.softmax(logits, dim=-1)
                a = F.nll_loss(torch.log(p + 1e-8), y)
                b = F.nll_loss(torch.log(torch.clamp(p, min=1e-8)), y)
                return a + b
            """,
            expect=("7:20", "8:20"),
            unsafe_fixed="""
            import torch
            import torch.nn.functional as F


            def guarded(logits, y):
                p = F.softmax(logits, dim=-1)
                a = F.nll_loss(F.log_softmax(logits, dim=-1), y)
                b = F.nll_loss(F.log_softmax(logits, dim=-1), y)
                return a + b
            """,
        ),
        Invalid(
            """
            import torch
            import torch.nn as nn


            class Policy(nn.Module):
                def __init__(self):
                    super().__init__()
                    self.net = nn.Sequential(nn.Linear(8, 4), nn.Softmax(dim=-1))

                def forward(self, state):
                    return self.net(state)


            def reinforce_loss(policy: Policy, states, actions, returns):
                probs = Policy()(states)
                log_probs = torch.log(probs.gather(1, actions))
                return -(log_probs * returns).mean()
            """,
            expect=("16:17",),
            unsafe_fixed="""
            import torch
            import torch.nn as nn


            class Policy(nn.Module):
                def __init__(self):
                    super().__init__()
                    self.net = nn.Sequential(nn.Linear(8, 4), nn.LogSoftmax(dim=-1))

                def forward(self, state):
                    return self.net(state)


            def reinforce_loss(policy: Policy, states, actions, returns):
                probs = Policy()(states)
                log_probs = probs.gather(1, actions)
                return -(log_probs * returns).mean()
            """,
        ),
        Invalid(
            """
            import torch
            import torch.nn.functional as F


            class Head(torch.nn.Module):
                def forward(self, h):
                    p = F.softmax(self.proj(h), dim=-1)
                    return torch.log(p)
            """,
            expect=("8:16",),
            fixed="""
            import torch
            import torch.nn.functional as F


            class Head(torch.nn.Module):
                def forward(self, h):
                    p = F.log_softmax(self.proj(h), dim=-1)
                    return p
            """,
        ),
    )

    valid = (
        Valid(
            """
            import torch
            import torch.nn.functional as F


            def entropy(scores, mask):
                # a guarded entropy term is finite and exact to eps * |log eps|; log_softmax
                # would make the masked (-inf) positions 0 * -inf = NaN
                p = F.softmax(scores.masked_fill(~mask, float("-inf")), dim=-1)
                log_p = torch.log(p + 1e-9)
                return -(p * torch.log(p.clamp_min(1e-12))).sum(-1), -(p * log_p).sum(-1)
            """
        ),
        Valid(
            """
            import torch.nn.functional as F


            def loss(logits, y):
                return F.nll_loss(F.log_softmax(logits, dim=1), y)
            """
        ),
        Valid(
            """
            import torch
            import torch.nn.functional as F


            def entropy_bonus(logits):
                probs = F.softmax(logits, dim=-1)
                log_probs = F.log_softmax(logits, dim=-1)
                return -(probs * log_probs).sum(-1).mean()
            """
        ),
        Valid(
            """
            import torch
            import torch.nn.functional as F


            def loss(logits, y):
                p = F.softmax(logits, dim=1)
                p = model.calibrate(logits)  # re-bound: no longer a softmax
                return F.nll_loss(torch.log(p), y)
            """
        ),
        Valid(
            """
            import math
            import torch


            def temperature(p):
                return math.log(p) + torch.log(torch.tensor(2.0))
            """
        ),
    )

    reproduction = Reproduction(
        unstable_label="-(t * log(softmax(x))).sum(1)",
        stable_label="-(t * log_softmax(x)).sum(1)",
        dtypes=("float32", "bfloat16", "float16"),
        scenarios=(
            Scenario(
                name="confidently wrong: logits [m, 0], target the second class",
                inputs=_rows,
                target=_second_class,
                unstable=lambda t, x, y: -(y * t.log(t.softmax(x, dim=1))).sum(1),
                stable=lambda t, x, y: -(y * t.log_softmax(x, dim=1)).sum(1),
                rows=(1.0, 10.0, 50.0, 88.73, 101.8, 103.97, 110.0),
                claims=(
                    FirstBreak(
                        "gradient NaN from a gap of 88.73", "float32", "grad", "nonfinite", 88.73
                    ),
                    FirstBreak(
                        "loss infinite from a gap of 103.97",
                        "float32",
                        "value",
                        "nonfinite",
                        103.98,
                    ),
                    FirstBreak(
                        "float16: gradient NaN from 11.09", "float16", "grad", "nonfinite", 11.09
                    ),
                ),
            ),
            Scenario(
                name="guarded: log(softmax(x) + 1e-8), logits [m, 0], target the second class",
                inputs=_rows,
                target=_second_class,
                unstable=lambda t, x, y: -(y * t.log(t.softmax(x, dim=1) + 1e-8)).sum(1),
                stable=lambda t, x, y: -(y * t.log_softmax(x, dim=1)).sum(1),
                rows=(1.0, 10.0, 14.18, 18.42, 30.0, 110.0),
                claims=(
                    FirstBreak(
                        "eps-guarded loss off from a gap of 14.18",
                        "float32",
                        "value",
                        "wrong",
                        14.18,
                    ),
                ),
            ),
            Scenario(
                name="clamped: log(clamp(softmax(x), min=1e-8)), logits [m, 0], target the second class",
                inputs=_rows,
                target=_second_class,
                unstable=lambda t, x, y: (
                    -(y * t.log(t.clamp(t.softmax(x, dim=1), min=1e-8))).sum(1)
                ),
                stable=lambda t, x, y: -(y * t.log_softmax(x, dim=1)).sum(1),
                rows=(1.0, 10.0, 18.42, 18.43, 30.0, 110.0),
                claims=(
                    FirstBreak(
                        "clamped: loss capped, gradient exactly 0 from 18.43",
                        "float32",
                        "grad",
                        "zero",
                        18.43,
                    ),
                ),
            ),
        ),
        fix_check=FixCheck(entry="loss", extreme=(95.0, 110.0)),
    )
