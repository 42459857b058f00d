"""Which rules run: `--select` / `--ignore` with codes, prefixes and ALL, as ruff does."""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from nanlint.catalog import DOCS_URL, RULE_INFOS, RuleInfo

if TYPE_CHECKING:
    from nanlint.rules.base import Rule

_SELECTOR = re.compile(r"^(ALL|NAN\d{0,3})$")


@dataclass(frozen=True)
class MetaCode:
    """A code nanlint reports itself rather than through a rule module (no analysis, no repro)."""

    code: str
    name: str
    summary: str
    default_enabled: bool = True

    @property
    def url(self) -> str:
        return DOCS_URL.format(code=self.code)


UNUSED_NOQA = "NAN001"
META_CODES: tuple[MetaCode, ...] = (
    MetaCode(UNUSED_NOQA, "unused-noqa", "A `# noqa` code that suppresses nothing"),
)
# Every code nanlint can report, in code order: the meta codes, then the rules.
CATALOG: tuple[MetaCode | RuleInfo, ...] = (*META_CODES, *RULE_INFOS)
DEFAULT_ENABLED: dict[str, bool] = {entry.code: entry.default_enabled for entry in CATALOG}


class SelectorError(ValueError):
    """A selector that names no rule."""


def validate(selector: str) -> str:
    """The selector, upper-cased, or SelectorError when it matches no rule."""
    normal = selector.strip().upper()
    if not _SELECTOR.match(normal) or not any(matches(normal, code) for code in DEFAULT_ENABLED):
        raise SelectorError(
            f"unknown rule selector `{selector}` (codes look like NAN101, prefixes like NAN1, or ALL)"
        )
    return normal


def enabled_codes(
    select: Iterable[str] | None = None,
    ignore: Iterable[str] = (),
    extend_select: Iterable[str] = (),
) -> frozenset[str]:
    """The enabled codes. The most specific matching selector decides; on a tie, ignore wins.

    Without `select`, the codes that are on by default are selected.
    """
    selects = [validate(s) for s in select] if select is not None else None
    selects_extra = [validate(s) for s in extend_select]
    ignores = [validate(s) for s in ignore]
    enabled = set()
    for code, default in DEFAULT_ENABLED.items():
        chosen = _specificity(code, (selects or []) + selects_extra)
        if selects is None and default:
            chosen = max(chosen, 0)
        if chosen >= 0 and chosen > _specificity(code, ignores):
            enabled.add(code)
    return frozenset(enabled)


def select_rules(
    select: Iterable[str] | None = None,
    ignore: Iterable[str] = (),
    extend_select: Iterable[str] = (),
) -> tuple[Rule, ...]:
    """The enabled rules (see `enabled_codes`)."""
    from nanlint.rules import ALL_RULES

    codes = enabled_codes(select, ignore, extend_select)
    return tuple(rule for rule in ALL_RULES if rule.code in codes)


def _specificity(code: str, selectors: list[str]) -> int:
    """How specific the most specific matching selector is (-1: none matches)."""
    return max((_weight(s) for s in selectors if matches(s, code)), default=-1)


def _weight(selector: str) -> int:
    return 0 if selector == "ALL" else len(selector)


def matches(selector: str, code: str) -> bool:
    """Whether a validated selector (ALL, a prefix or a code) covers `code`."""
    return selector == "ALL" or code.startswith(selector)
