"""Every rule's embedded examples, run as tests (valid, invalid positions, exact fixes)."""

from __future__ import annotations

import pytest

from conftest import diagnostics_of, fixed, positions
from nanlint.rules import ALL_RULES

VALID = [(rule, i, example) for rule in ALL_RULES for i, example in enumerate(rule.valid)]
INVALID = [(rule, i, example) for rule in ALL_RULES for i, example in enumerate(rule.invalid)]


def _id(case) -> str:
    rule, index, _ = case
    return f"{rule.code}-{index}"


@pytest.mark.parametrize("case", VALID, ids=[_id(c) for c in VALID])
def test_valid_example_is_not_flagged(case):
    rule, _, example = case
    assert positions(diagnostics_of(example.code), rule.code) == []


@pytest.mark.parametrize("case", INVALID, ids=[_id(c) for c in INVALID])
def test_invalid_example_is_flagged_exactly(case):
    rule, _, example = case
    expected = [f"{rule.code} {position}" for position in example.expect]
    assert positions(diagnostics_of(example.code), rule.code) == expected


@pytest.mark.parametrize("case", INVALID, ids=[_id(c) for c in INVALID])
def test_safe_fix_output(case):
    rule, _, example = case
    expected = example.fixed if example.fixed is not None else example.code
    assert fixed(example.code, [rule]) == expected


@pytest.mark.parametrize("case", INVALID, ids=[_id(c) for c in INVALID])
def test_unsafe_fix_output(case):
    rule, _, example = case
    expected = example.unsafe_fixed or example.fixed or example.code
    assert fixed(example.code, [rule], unsafe=True) == expected


@pytest.mark.parametrize("case", INVALID, ids=[_id(c) for c in INVALID])
def test_fixing_twice_equals_fixing_once(case):
    rule, _, example = case
    once = fixed(example.code, [rule], unsafe=True)
    assert fixed(once, [rule], unsafe=True) == once


@pytest.mark.parametrize("rule", ALL_RULES, ids=[r.code for r in ALL_RULES])
def test_rule_has_examples_and_docs(rule):
    assert rule.valid and rule.invalid
    assert rule.doc.what and rule.doc.why and rule.doc.fix_safety and rule.doc.references
