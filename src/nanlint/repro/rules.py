"""Running a rule's reproduction, with its fix executed on the rule's own example."""

from __future__ import annotations

from pathlib import Path

from nanlint.engine import lint_and_fix
from nanlint.repro import harness
from nanlint.rules.base import Rule
from nanlint.source import SourceFile


def reproduce(rule: Rule) -> harness.Result:
    """Raises harness.TorchMissing when torch is not installed."""
    example = None
    if rule.reproduction.fix_check is not None:
        original = rule.invalid[0].code
        report = lint_and_fix(
            SourceFile(Path(f"{rule.code}_example.py"), original), [rule], unsafe=False
        )
        example = (original, report.source.text)
    return harness.run(rule.code, rule.reproduction, example)


def torch_version() -> str:
    return harness.import_torch().__version__
