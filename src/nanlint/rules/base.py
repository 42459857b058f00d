"""What a rule is: metadata, reference text, examples, the check, the fix, the reproduction.

A rule module holds everything about its rule. Its examples are run by the test suite
(Fixit-style): every `Valid` must produce no diagnostic of the rule, every `Invalid` exactly
the listed positions and, when given, exactly the fixed code.
"""

from __future__ import annotations

import textwrap
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, ClassVar

import libcst as cst

from nanlint.analysis.rewrite import EditPlan
from nanlint.fixes import FixAvailability

if TYPE_CHECKING:
    from nanlint.analysis.facts import FileAnalysis
    from nanlint.repro.harness import Reproduction
    from nanlint.source import SourceFile

DOCS_URL = "https://github.com/nanlint/nanlint/blob/main/rules/{code}.md"


def code_block(text: str) -> str:
    """Dedent an example written inline in a rule module."""
    return textwrap.dedent(text).strip("\n") + "\n"


@dataclass(frozen=True)
class Valid:
    """Code the rule must not flag."""

    code: str

    def __post_init__(self) -> None:
        object.__setattr__(self, "code", code_block(self.code))


@dataclass(frozen=True)
class Invalid:
    """Code the rule flags at `expect` ("line:column", 1-based), and what its fixes produce.

    `fixed` is the code after `--fix` (safe fixes only; None when no safe fix applies) and
    `unsafe_fixed` after `--fix --unsafe-fixes` (None when no fix applies at all).
    """

    code: str
    expect: tuple[str, ...]
    fixed: str | None = None
    unsafe_fixed: str | None = None

    def __post_init__(self) -> None:
        object.__setattr__(self, "code", code_block(self.code))
        for name in ("fixed", "unsafe_fixed"):
            value = getattr(self, name)
            if value is not None:
                object.__setattr__(self, name, code_block(value))


@dataclass(frozen=True)
class RuleDoc:
    """The reference text's prose sections; examples come from the rule's first Invalid."""

    what: str
    why: str
    fix_safety: str
    references: tuple[str, ...]


@dataclass(frozen=True)
class RelatedNode:
    file: SourceFile
    node: cst.CSTNode
    message: str


@dataclass
class Finding:
    """A diagnostic before positions are resolved."""

    node: cst.CSTNode
    message: str
    related: list[RelatedNode] = field(default_factory=list)
    fix: EditPlan | None = None
    consumer: cst.CSTNode | None = None  # the call consuming `node`: a noqa on its lines applies


class Rule:
    """Base of every rule; subclasses fill in the class attributes and `check`."""

    code: ClassVar[str]
    name: ClassVar[str]
    summary: ClassVar[str]  # one line, for `nanlint rule --all` and the rule table
    fix_availability: ClassVar[FixAvailability]
    default_enabled: ClassVar[bool] = True
    # A file is analysed for this rule only if it contains one of these substrings.
    triggers: ClassVar[tuple[str, ...]]
    doc: ClassVar[RuleDoc]
    valid: ClassVar[tuple[Valid, ...]]
    invalid: ClassVar[tuple[Invalid, ...]]
    reproduction: ClassVar[Reproduction]

    def check(self, analysis: FileAnalysis) -> Iterator[Finding]:
        raise NotImplementedError

    @property
    def url(self) -> str:
        return DOCS_URL.format(code=self.code)
