"""The rule registry: every rule module's Rule subclass, in code order."""

from __future__ import annotations

from nanlint.rules.base import Rule
from nanlint.rules.nan101_sigmoid_into_bce_loss import SigmoidIntoBceLoss
from nanlint.rules.nan102_activation_into_logits_loss import ActivationIntoLogitsLoss
from nanlint.rules.nan103_softmax_into_cross_entropy import SoftmaxIntoCrossEntropy
from nanlint.rules.nan104_probabilities_into_nll_loss import ProbabilitiesIntoNllLoss
from nanlint.rules.nan105_probabilities_into_kl_div import ProbabilitiesIntoKlDiv
from nanlint.rules.nan106_kl_div_mean_reduction import KlDivMeanReduction
from nanlint.rules.nan201_log_of_softmax import LogOfSoftmax
from nanlint.rules.nan202_log_of_sigmoid import LogOfSigmoid
from nanlint.rules.nan203_log_sum_exp import LogSumExp
from nanlint.rules.nan204_log_one_plus_exp import LogOnePlusExp
from nanlint.rules.nan205_log_one_plus import LogOnePlus
from nanlint.rules.nan206_exp_minus_one import ExpMinusOne
from nanlint.rules.nan301_manual_sigmoid import ManualSigmoid
from nanlint.rules.nan302_manual_softmax import ManualSoftmax
from nanlint.rules.nan401_probs_from_softmax import ProbsFromSoftmax
from nanlint.rules.nan402_probs_from_sigmoid import ProbsFromSigmoid
from nanlint.rules.nan501_bce_under_autocast import BceUnderAutocast
from nanlint.rules.nan601_sqrt_of_sum_of_squares import SqrtOfSumOfSquares
from nanlint.rules.nan602_where_unsafe_branch import WhereUnsafeBranch

ALL_RULES: tuple[Rule, ...] = tuple(
    sorted(
        (
            SigmoidIntoBceLoss(),
            ActivationIntoLogitsLoss(),
            SoftmaxIntoCrossEntropy(),
            ProbabilitiesIntoNllLoss(),
            ProbabilitiesIntoKlDiv(),
            KlDivMeanReduction(),
            LogOfSoftmax(),
            LogOfSigmoid(),
            ManualSigmoid(),
            ManualSoftmax(),
            ProbsFromSoftmax(),
            ProbsFromSigmoid(),
            BceUnderAutocast(),
            SqrtOfSumOfSquares(),
            WhereUnsafeBranch(),
            LogSumExp(),
            LogOnePlusExp(),
            LogOnePlus(),
            ExpMinusOne(),
        ),
        key=lambda rule: rule.code,
    )
)

RULES_BY_CODE: dict[str, Rule] = {rule.code: rule for rule in ALL_RULES}


def get_rule(code: str) -> Rule | None:
    return RULES_BY_CODE.get(code.upper())
