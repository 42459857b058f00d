"""Short messages: what reaches what, and the remedy, in one line (nanlint.messages)."""

from __future__ import annotations

import pytest

from conftest import diagnostics_of
from nanlint.messages import SHORT_LENGTH, short_message
from nanlint.rules import ALL_RULES


def test_positions_and_the_path_through_the_code_are_left_to_the_full_message():
    full = (
        "Sigmoid probabilities from `nn.Sigmoid (self.act)` (line 12) via `Net.forward`,"
        " `Net.__call__` reach `nn.BCELoss`: BCELoss clamps log() at -100, so (16.6) ..."
    )
    assert short_message("NAN101", full) == (
        "Sigmoid probabilities from `nn.Sigmoid (self.act)` reach `nn.BCELoss`:"
        " use BCEWithLogitsLoss on the logits"
    )


def test_a_parenthesis_with_code_in_it_goes_and_a_colon_inside_one_does_not_split():
    full = (
        "`nn.BCELoss` runs in an autocast region (`autocast()`, line 16: called on line 18):"
        " PyTorch raises on it under CUDA autocast"
    )
    assert short_message("NAN501", full) == (
        "`nn.BCELoss` runs in an autocast region: use BCEWithLogitsLoss on the logits"
    )


def test_the_producer_goes_when_the_line_would_be_too_long():
    full = (
        "Softmax probabilities from `nn.Softmax, last layer of self.classifier_head` (line 8)"
        " via `Classifier.forward` reach `nn.CrossEntropyLoss`: it applies log_softmax itself"
    )
    assert short_message("NAN103", full) == (
        "Softmax probabilities reach `nn.CrossEntropyLoss`: pass the logits (it applies"
        " log_softmax)"
    )


def test_codes_without_a_remedy_keep_their_message():
    assert short_message("NAN001", "Unused `noqa` directive (unused: `NAN102`)") == (
        "Unused `noqa` directive (unused: `NAN102`)"
    )
    assert short_message(None, "IOError: Permission denied") == "IOError: Permission denied"


@pytest.mark.parametrize("rule", ALL_RULES, ids=[r.code for r in ALL_RULES])
def test_every_rule_example_has_a_short_one_line_message_with_its_remedy(rule):
    for example in rule.invalid:
        for diagnostic in diagnostics_of(example.code, (rule,)):
            short = diagnostic.short
            assert "\n" not in short and len(short) <= SHORT_LENGTH, short
            assert short.endswith(": " + rule_remedy(rule.code)), short
            assert "(line " not in short and " via `" not in short, short


def rule_remedy(code: str) -> str:
    from nanlint.catalog import INFO_BY_CODE

    return INFO_BY_CODE[code].remedy


@pytest.mark.parametrize(
    ("label", "title"),
    [
        (
            "nn.Softmax, last layer of self.net",
            "Remove `nn.Softmax` (last layer of `self.net`) and pass logits",
        ),
        (
            "nn.Sigmoid, layer 2 of model",
            "Remove `nn.Sigmoid` (layer 2 of `model`) and pass logits",
        ),
        ("nn.Softmax (self.softmax)", "Remove `nn.Softmax` (`self.softmax`) and pass logits"),
        ("nn.Softmax (the module)", "Remove `nn.Softmax` (the module) and pass logits"),
        ("F.softmax", "Remove `F.softmax` and pass logits"),
    ],
)
def test_removal_fix_titles_read_naturally(label, title):
    from nanlint.rules.into_loss import removal_title

    assert removal_title(label) == title
