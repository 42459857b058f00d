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
    """A rule's identity: code, name, one-line summary, default, and text triggers."""

    code: str
    name: str
    summary: str
    # A file is analysed for the rule only if it contains one of these substrings.
    triggers: tuple[str, ...]
    default_enabled: bool = True

    @property
    def url(self) -> str:
        return DOCS_URL.format(code=self.code)


RULE_INFOS: tuple[RuleInfo, ...] = (
    RuleInfo(
        "NAN101",
        "sigmoid-into-bce-loss",
        "Sigmoid probabilities passed to BCELoss / binary_cross_entropy",
        ("binary_cross_entropy", "BCELoss"),
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
    ),
    RuleInfo(
        "NAN103",
        "softmax-into-cross-entropy",
        "Softmax (or sigmoid) probabilities passed as the input of CrossEntropyLoss / cross_entropy",
        ("cross_entropy", "CrossEntropyLoss"),
    ),
    RuleInfo(
        "NAN104",
        "probabilities-into-nll-loss",
        "Softmax probabilities (not log-probabilities) passed to NLLLoss / nll_loss",
        ("nll_loss", "NLLLoss"),
    ),
    RuleInfo(
        "NAN105",
        "probabilities-into-kl-div",
        "Softmax probabilities (not log-probabilities) as the input of KLDivLoss / kl_div",
        ("kl_div", "KLDivLoss"),
    ),
    RuleInfo(
        "NAN106",
        "kl-div-mean-reduction",
        "KLDivLoss / kl_div with reduction='mean' (the default) instead of 'batchmean'",
        ("kl_div", "KLDivLoss"),
    ),
    RuleInfo(
        "NAN201",
        "log-of-softmax",
        "log() of softmax probabilities instead of log_softmax",
        ("log(", "log_("),
    ),
    RuleInfo(
        "NAN202",
        "log-of-sigmoid",
        "log(sigmoid(x)) or log(1 - sigmoid(x)) instead of logsigmoid",
        ("log(", "log_("),
    ),
    RuleInfo(
        "NAN203",
        "log-sum-exp",
        "log(sum(exp(x))) instead of logsumexp",
        ("log(", "log_("),
    ),
    RuleInfo(
        "NAN204",
        "log-one-plus-exp",
        "log(1 + exp(x)) or log1p(exp(x)) instead of softplus",
        ("log(", "log_(", "log1p("),
    ),
    RuleInfo(
        "NAN205",
        "log-one-plus",
        "log(1 + x) instead of log1p(x)",
        ("log(", "log_("),
        default_enabled=False,
    ),
    RuleInfo(
        "NAN206",
        "exp-minus-one",
        "exp(x) - 1 instead of expm1(x)",
        ("exp(", "exp_("),
        default_enabled=False,
    ),
    RuleInfo(
        "NAN301",
        "manual-sigmoid",
        "Hand-written sigmoid 1 / (1 + exp(-x)) or exp(x) / (1 + exp(x))",
        ("exp(", "exp_("),
    ),
    RuleInfo(
        "NAN302",
        "manual-softmax",
        "Hand-written softmax exp(x) / exp(x).sum(d, keepdim=True) without a max shift",
        ("exp(", "exp_("),
    ),
    RuleInfo(
        "NAN401",
        "probs-from-softmax",
        "Softmax probabilities passed as probs= of Categorical / OneHotCategorical / Multinomial / Relaxed*",
        ("Categorical", "Multinomial"),
    ),
    RuleInfo(
        "NAN402",
        "probs-from-sigmoid",
        "Sigmoid probabilities passed as probs= of Bernoulli / Binomial / Geometric / ContinuousBernoulli / Relaxed* / NegativeBinomial",
        ("Bernoulli", "Binomial", "Geometric"),
    ),
    RuleInfo(
        "NAN501",
        "bce-under-autocast",
        "BCELoss / binary_cross_entropy inside an autocast region or function",
        ("autocast",),
    ),
    RuleInfo(
        "NAN601",
        "sqrt-of-sum-of-squares",
        "sqrt of a sum of squares instead of torch.linalg.vector_norm",
        ("sqrt", "** 0.5", "**0.5", "pow("),
        default_enabled=False,
    ),
    RuleInfo(
        "NAN602",
        "where-unsafe-branch",
        "torch.where masking log / sqrt / division of an operand whose invalid values it selects away",
        ("where(",),
    ),
)

INFO_BY_CODE: dict[str, RuleInfo] = {info.code: info for info in RULE_INFOS}
