"""What nanlint knows about each rule before loading its analysis.

Selecting rules, pre-filtering files by their text and replaying the cache need only this
(no libcst): a run over files that mention no rule's triggers never imports the analysis.
Each rule module declares its `code`; its other identity attributes come from here.
"""

from __future__ import annotations

from dataclasses import dataclass

DOCS_URL = "https://github.com/nanlint/nanlint/blob/main/rules/{code}.md"


@dataclass(frozen=True)
class RuleInfo:
    """A rule's identity: code, name, one-line summary, default, text triggers, and the remedy
    that ends its diagnostics' short message (see nanlint.messages)."""

    code: str
    name: str
    summary: str
    # A file is analysed for the rule only if it contains one of these substrings.
    triggers: tuple[str, ...]
    default_enabled: bool = True
    remedy: str = ""  # what to do, in a few words: "use `log_softmax`"

    @property
    def url(self) -> str:
        return DOCS_URL.format(code=self.code)


RULE_INFOS: tuple[RuleInfo, ...] = (
    RuleInfo(
        "NAN101",
        "sigmoid-into-bce-loss",
        "Sigmoid probabilities passed to BCELoss / binary_cross_entropy",
        ("binary_cross_entropy", "BCELoss"),
        remedy="use BCEWithLogitsLoss on the logits",
    ),
    RuleInfo(
        "NAN102",
        "activation-into-logits-loss",
        "Sigmoid, softmax or ReLU output passed to a loss that expects logits (BCEWithLogitsLoss, ...)",
        (
            "binary_cross_entropy_with_logits",
            "BCEWithLogitsLoss",
            "sigmoid_focal_loss",
            "multilabel_soft_margin_loss",
            "MultiLabelSoftMarginLoss",
        ),
        remedy="pass the logits, not the activation",
    ),
    RuleInfo(
        "NAN103",
        "softmax-into-cross-entropy",
        "Softmax (or sigmoid) probabilities passed as the input of CrossEntropyLoss / cross_entropy",
        ("cross_entropy", "CrossEntropyLoss"),
        remedy="pass the logits (it applies log_softmax)",
    ),
    RuleInfo(
        "NAN104",
        "probabilities-into-nll-loss",
        "Softmax probabilities (not log-probabilities) passed to NLLLoss / nll_loss",
        ("nll_loss", "NLLLoss"),
        remedy="pass `log_softmax` output",
    ),
    RuleInfo(
        "NAN105",
        "probabilities-into-kl-div",
        "Softmax probabilities (not log-probabilities) as the input of KLDivLoss / kl_div",
        ("kl_div", "KLDivLoss"),
        remedy="pass `log_softmax` output as the input",
    ),
    RuleInfo(
        "NAN106",
        "kl-div-mean-reduction",
        "KLDivLoss / kl_div with reduction='mean' (the default) instead of 'batchmean'",
        ("kl_div", "KLDivLoss"),
        remedy="use reduction='batchmean'",
    ),
    RuleInfo(
        "NAN201",
        "log-of-softmax",
        "log() of softmax probabilities instead of log_softmax",
        ("log(", "log_("),
        remedy="use `log_softmax`",
    ),
    RuleInfo(
        "NAN202",
        "log-of-sigmoid",
        "log(sigmoid(x)) or log(1 - sigmoid(x)) instead of logsigmoid",
        ("log(", "log_("),
        remedy="use `logsigmoid`",
    ),
    RuleInfo(
        "NAN203",
        "log-sum-exp",
        "log(sum(exp(x))) instead of logsumexp",
        ("log(", "log_("),
        remedy="use `logsumexp`",
    ),
    RuleInfo(
        "NAN204",
        "log-one-plus-exp",
        "log(1 + exp(x)) or log1p(exp(x)) instead of softplus",
        ("log(", "log_(", "log1p("),
        remedy="use `softplus`",
    ),
    RuleInfo(
        "NAN205",
        "log-one-plus",
        "log(1 + x) instead of log1p(x)",
        ("log(", "log_("),
        default_enabled=False,
        remedy="use `log1p`",
    ),
    RuleInfo(
        "NAN206",
        "exp-minus-one",
        "exp(x) - 1 instead of expm1(x)",
        ("exp(", "exp_("),
        default_enabled=False,
        remedy="use `expm1`",
    ),
    RuleInfo(
        "NAN301",
        "manual-sigmoid",
        "Hand-written sigmoid 1 / (1 + exp(-x)) or exp(x) / (1 + exp(x))",
        ("exp(", "exp_("),
        remedy="use `torch.sigmoid`",
    ),
    RuleInfo(
        "NAN302",
        "manual-softmax",
        "Hand-written softmax exp(x) / exp(x).sum(d, keepdim=True) without a max shift",
        ("exp(", "exp_("),
        remedy="use `torch.softmax`",
    ),
    RuleInfo(
        "NAN401",
        "probs-from-softmax",
        "Softmax probabilities passed as probs= of Categorical / OneHotCategorical / Multinomial / Relaxed*",
        ("Categorical", "Multinomial"),
        remedy="pass `logits=` instead",
    ),
    RuleInfo(
        "NAN402",
        "probs-from-sigmoid",
        "Sigmoid probabilities passed as probs= of Bernoulli / Binomial / Geometric / ContinuousBernoulli / Relaxed* / NegativeBinomial",
        ("Bernoulli", "Binomial", "Geometric"),
        remedy="pass `logits=` instead",
    ),
    RuleInfo(
        "NAN501",
        "bce-under-autocast",
        "BCELoss / binary_cross_entropy inside an autocast region or function",
        ("autocast",),
        remedy="use BCEWithLogitsLoss on the logits",
    ),
    RuleInfo(
        "NAN601",
        "sqrt-of-sum-of-squares",
        "sqrt of a sum of squares instead of torch.linalg.vector_norm",
        ("sqrt", "** 0.5", "**0.5", "pow("),
        remedy="use `torch.linalg.vector_norm`",
        default_enabled=False,
    ),
    RuleInfo(
        "NAN602",
        "where-unsafe-branch",
        "torch.where masking log / sqrt / division of an operand whose invalid values it selects away",
        ("where(",),
        remedy="make the operand safe before the operation",
    ),
)

INFO_BY_CODE: dict[str, RuleInfo] = {info.code: info for info in RULE_INFOS}
