"""Which rules run: `--select` / `--ignore` with codes, prefixes and ALL, as ruff does."""

from __future__ import annotations

import re
from collections.abc import Iterable

from nanlint.rules import ALL_RULES
from nanlint.rules.base import Rule

_SELECTOR = re.compile(r"^(ALL|NAN\d{0,3})$")


class SelectorError(ValueError):
    """A selector that names no rule."""


def validate(selector: str) -> str:
    """The selector, upper-cased, or SelectorError when it matches no rule."""
    normal = selector.strip().upper()
    if not _SELECTOR.match(normal) or not any(_matches(normal, rule) for rule in ALL_RULES):
        raise SelectorError(
            f"unknown rule selector `{selector}` (codes look like NAN101, prefixes like NAN1, or ALL)"
        )
    return normal


def select_rules(
    select: Iterable[str] | None = None,
    ignore: Iterable[str] = (),
    extend_select: Iterable[str] = (),
) -> tuple[Rule, ...]:
    """The enabled rules. The most specific matching selector decides; on a tie, ignore wins.

    Without `select`, the rules that are on by default are selected.
    """
    selects = [validate(s) for s in select] if select is not None else None
    selects_extra = [validate(s) for s in extend_select]
    ignores = [validate(s) for s in ignore]
    enabled = []
    for rule in ALL_RULES:
        chosen = _specificity(rule, (selects or []) + selects_extra)
        if selects is None and rule.default_enabled:
            chosen = max(chosen, 0)
        dropped = _specificity(rule, ignores)
        if chosen >= 0 and chosen > dropped:
            enabled.append(rule)
    return tuple(enabled)


def _specificity(rule: Rule, selectors: list[str]) -> int:
    """How specific the most specific matching selector is (-1: none matches)."""
    return max((_weight(s) for s in selectors if _matches(s, rule)), default=-1)


def _weight(selector: str) -> int:
    return 0 if selector == "ALL" else len(selector)


def _matches(selector: str, rule: Rule) -> bool:
    return selector == "ALL" or rule.code.startswith(selector)
