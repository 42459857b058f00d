"""NAN106 kl-div-mean-reduction."""

from __future__ import annotations

import warnings
from collections.abc import Iterator

import libcst as cst

from nanlint.analysis import torch_api as api
from nanlint.analysis.facts import FileAnalysis
from nanlint.analysis.rewrite import EditPlan
from nanlint.analysis.sinks import LossSetup, Reduction, loss_setups
from nanlint.fixes import Applicability, FixAvailability
from nanlint.repro.harness import FirstBreak, Ratio, Reproduction, Scenario
from nanlint.rules.base import Finding, Invalid, Rule, RuleDoc, Valid

_CLASSES = 10


def _rows(t, m):
    """Logits [m, 0, ..., 0] over 10 classes."""
    return t.nn.functional.pad(m[:, None], (0, _CLASSES - 1))


def _second_class(t, x):
    return t.nn.functional.one_hot(t.ones(x.shape[0], dtype=t.long), _CLASSES).to(x.dtype)


def _kl_per_row(reduction):
    """kl_div(log_softmax(x), y) with `reduction`, each row a batch of its own."""

    def loss(t, x, y):
        def one(a, b):
            return t.nn.functional.kl_div(a.log_softmax(-1), b, reduction=reduction)

        with warnings.catch_warnings():  # torch warns about 'mean' on every call
            warnings.simplefilter("ignore")
            return t.vmap(one)(x.unsqueeze(1), y.unsqueeze(1))

    return loss


class KlDivMeanReduction(Rule):
    code = "NAN106"
    fix_availability = FixAvailability.SOMETIMES

    def check(self, analysis: FileAnalysis) -> Iterator[Finding]:
        for setup in loss_setups(analysis, (api.KL_DIV,)):
            reduction = setup.reduction()
            if reduction is None or reduction.value != "mean":
                continue
            node = reduction.arg.node if reduction.arg is not None else setup.fact.node
            message = (
                f"`{setup.label}` with reduction='mean'{_how(reduction)}: it divides the summed"
                " divergence by every element (batch size x the size of each distribution), so"
                " the loss and its gradient are that size times smaller than the KL divergence"
                " (10x with 10 classes); reduction='batchmean' gives the KL divergence"
            )
            yield Finding(node, message, fix=_fix(analysis, setup, reduction))

    doc = RuleDoc(
        what=(
            "Finds `nn.KLDivLoss(...)` constructors and `F.kl_div(...)` calls whose reduction"
            " is 'mean', given explicitly or by default (PyTorch's default is 'mean'), or chosen"
            " by the deprecated `size_average=` / `reduce=` arguments. The module form is"
            " reported at its constructor. A reduction held in a variable is not flagged."
        ),
        why=(
            "reduction='mean' averages over every element of the input, the batch *and* the"
            " classes, while the KL divergence of a batch is the sum over classes averaged over"
            " the batch, which is what 'batchmean' computes. With 'mean' the loss and its"
            " gradient are C times smaller (C the size of each distribution: 10x with 10"
            " classes, 30000x over a vocabulary), so a distillation or VAE term is silently"
            " down-weighted, and it changes with the number of classes. PyTorch's documentation"
            " and its runtime warning say so: 'mean' does not return the true KL divergence."
        ),
        fix_safety=(
            "The fix sets reduction='batchmean' (replacing an explicit 'mean', or adding the"
            " argument where the default applied), keeping `log_target` and the other"
            " arguments. The loss value changes by a factor, so a learning rate or loss weight"
            " tuned for the old value may need retuning: the fix is unsafe. Calls using"
            " `size_average=` / `reduce=` are reported without a fix."
        ),
        references=(
            "https://pytorch.org/docs/stable/generated/torch.nn.KLDivLoss.html",
            "https://pytorch.org/docs/stable/generated/torch.nn.functional.kl_div.html",
        ),
    )

    invalid = (
        Invalid(
            """
            import torch.nn.functional as F


            def distillation_loss(student_logits, teacher_logits):
                log_p = F.log_softmax(student_logits, dim=-1)
                q = F.softmax(teacher_logits, dim=-1)
                return F.kl_div(log_p, q, reduction="mean")
            """,
            expect=("7:41",),
            unsafe_fixed="""
            import torch.nn.functional as F


            def distillation_loss(student_logits, teacher_logits):
                log_p = F.log_softmax(student_logits, dim=-1)
                q = F.softmax(teacher_logits, dim=-1)
                return F.kl_div(log_p, q, reduction="batchmean")
            """,
        ),
        Invalid(
            """
            import torch.nn as nn
            from torch.nn.functional import kl_div


            class Distiller(nn.Module):
                def __init__(self):
                    super().__init__()
                    self.kl = nn.KLDivLoss()
                    self.kl_log = nn.KLDivLoss(log_target=True)

                def forward(self, log_p, q, log_q):
                    both = self.kl(log_p, q) + self.kl_log(log_p, log_q)
                    return both + kl_div(log_p, q, None, None, 'mean')
            """,
            expect=("8:19", "9:23", "13:52"),
            unsafe_fixed="""
            import torch.nn as nn
            from torch.nn.functional import kl_div


            class Distiller(nn.Module):
                def __init__(self):
                    super().__init__()
                    self.kl = nn.KLDivLoss(reduction="batchmean")
                    self.kl_log = nn.KLDivLoss(log_target=True, reduction="batchmean")

                def forward(self, log_p, q, log_q):
                    both = self.kl(log_p, q) + self.kl_log(log_p, log_q)
                    return both + kl_div(log_p, q, None, None, 'batchmean')
            """,
        ),
        Invalid(
            """
            import torch
            import torch.nn.functional as F

            MEAN = "mean"


            def legacy(log_p, q):
                a = torch.nn.KLDivLoss(size_average=True)(log_p, q)
                b = F.kl_div(log_p, q, reduction=MEAN)
                return a + b
            """,
            expect=("8:9", "9:38"),
        ),
        Invalid(
            """
            import torch.nn as nn

            criterion = nn.KLDivLoss(  # soft targets
            )
            """,
            expect=("3:13",),
            unsafe_fixed="""
            import torch.nn as nn

            criterion = nn.KLDivLoss(reduction="batchmean"  # soft targets
            )
            """,
        ),
    )

    valid = (
        Valid(
            """
            import torch.nn as nn
            import torch.nn.functional as F


            def losses(log_p, q, reduction, options):
                a = F.kl_div(log_p, q, reduction="batchmean")
                b = nn.KLDivLoss(reduction="none")(log_p, q).sum(-1).mean()
                c = nn.KLDivLoss(reduction="sum", log_target=True)(log_p, q)
                d = F.kl_div(log_p, q, reduction=reduction)  # unknown: not flagged
                e = nn.KLDivLoss(size_average=False)(log_p, q)  # legacy 'sum'
                f = F.kl_div(log_p, q, **options)
                g = F.cross_entropy(log_p, q)  # 'mean' is right for other losses
                return a, b, c, d, e, f, g
            """
        ),
    )

    reproduction = Reproduction(
        unstable_label="kl_div(log_softmax(x), t, reduction='mean')",
        stable_label="kl_div(log_softmax(x), t, reduction='batchmean')",
        dtypes=("float32",),
        sweep=(0.0, 20.0, 0.01),
        scenarios=(
            Scenario(
                name="10 classes, logits [m, 0, ..., 0], target the second class",
                inputs=_rows,
                target=_second_class,
                unstable=_kl_per_row("mean"),
                stable=_kl_per_row("batchmean"),
                rows=(0.0, 1.0, 5.0, 20.0),
                claims=(
                    FirstBreak("value wrong from m = 0", "float32", "value", "wrong", 0.0),
                    Ratio(
                        "value 10x too small with 10 classes",
                        "float32",
                        1.0,
                        "unstable_value",
                        "reference_value",
                        0.1,
                    ),
                    Ratio(
                        "gradient 10x too small with 10 classes",
                        "float32",
                        1.0,
                        "unstable_grad",
                        "reference_grad",
                        0.1,
                    ),
                ),
            ),
        ),
    )


def _how(reduction: Reduction) -> str:
    if reduction.legacy:
        return " (chosen by size_average/reduce)"
    return "" if reduction.arg is not None else " (the default)"


def _fix(analysis: FileAnalysis, setup: LossSetup, reduction: Reduction) -> EditPlan | None:
    """Set reduction='batchmean': replace a literal 'mean', or add the argument."""
    if reduction.legacy:
        return None
    plan = EditPlan("Use reduction='batchmean'")
    plan.downgrade(
        Applicability.UNSAFE,
        "the loss grows by the size of each distribution: retune a learning rate or loss weight",
    )
    file = analysis.source
    call = setup.fact.node
    if reduction.arg is None:
        argument = 'reduction="batchmean"'
        if call.args:
            plan.append_arguments(file, call, [argument])
        else:  # right after the opening parenthesis, keeping what is inside
            plan.insert(file, file.text.index("(", file.node_offsets(call.func)[1]) + 1, argument)
        return plan
    node = reduction.arg.node
    if not isinstance(node, cst.SimpleString):
        return None
    plan.replace(file, node, f"{node.prefix}{node.quote}batchmean{node.quote}")
    return plan
