"""--fix cannot hurt: atomic writes that keep the mode and owner, a write that fails or races
leaves the file alone, a fix that would not parse is withheld (and says so), and fixing is
idempotent. (Encodings, BOMs and newlines: test_bad_input.py, exact bytes.)"""

from __future__ import annotations

import errno
import json
import os
import re
import shutil
import sys
from pathlib import Path

import pytest

from conftest import BCE_BAD, BCE_FIXED, BCE_MESSAGE, ROOT, nanlint
from nanlint import runner
from nanlint.analysis.rewrite import EditPlan
from nanlint.rules import get_rule

UNFIXABLE = f"model.py:4:31: {BCE_MESSAGE.replace(' [*]', '')}"


def fix(*args: str):
    return nanlint("check", "--fix", "--output-format", "concise", *args)


@pytest.fixture
def model(inside) -> Path:
    path = inside / "model.py"
    path.write_text(BCE_BAD)
    return path


@pytest.mark.skipif(sys.platform == "win32", reason="POSIX modes")
@pytest.mark.parametrize("mode", [0o755, 0o640, 0o600])
def test_a_fix_keeps_the_mode_and_leaves_no_temporary_file(model, mode):
    model.chmod(mode)
    assert fix().exit_code == 0
    assert model.read_text() == BCE_FIXED
    assert model.stat().st_mode & 0o7777 == mode
    assert os.listdir(model.parent) == ["model.py"]


@pytest.mark.skipif(not hasattr(os, "geteuid") or os.geteuid() != 0, reason="needs root")
def test_a_fix_keeps_the_owner(model):
    os.chown(model, 12345, 23456)
    assert fix().exit_code == 0
    assert (model.stat().st_uid, model.stat().st_gid) == (12345, 23456)


def test_a_failed_write_leaves_the_file_and_no_temporary(model, monkeypatch):
    (model.parent / "good.py").write_text(BCE_BAD)
    replace = os.replace

    def full_disk(source, target):
        if Path(target).name == "model.py":
            raise OSError(errno.ENOSPC, "No space left on device")
        replace(source, target)

    monkeypatch.setattr(os, "replace", full_disk)
    result = fix()
    assert result.exit_code == 1
    assert result.stdout.splitlines() == [
        "model.py:1:1: IOError: fixes not written, No space left on device",
        f"model.py:4:31: {BCE_MESSAGE}",
        "Found 3 errors (1 fixed, 2 remaining).",
        "[*] 1 fixable with the `--fix` option.",
    ]
    assert model.read_text() == BCE_BAD
    assert (model.parent / "good.py").read_text() == BCE_FIXED
    assert sorted(os.listdir(model.parent)) == ["good.py", "model.py"]


def test_nothing_is_written_when_a_file_was_edited_during_the_run(model, monkeypatch):
    """A fix may span files, so one file saved meanwhile (by an editor) stops every write."""
    (model.parent / "good.py").write_text(BCE_BAD)
    fix_files = runner.fix_files
    edited = BCE_BAD + "# saved by an editor meanwhile\n"

    def fix_while_an_editor_saves(*args, **kwargs):
        report = fix_files(*args, **kwargs)
        model.write_text(edited)
        return report

    monkeypatch.setattr(runner, "fix_files", fix_while_an_editor_saves)
    result = fix()
    assert result.exit_code == 1
    assert result.stdout.splitlines() == [
        "good.py:1:1: IOError: fixes not written, model.py changed while nanlint was running",
        f"good.py:4:31: {BCE_MESSAGE}",
        "model.py:1:1: IOError: fixes not written, the file changed while nanlint was running",
        f"model.py:4:31: {BCE_MESSAGE}",
        "Found 4 errors.",
        "[*] 2 fixable with the `--fix` option.",
    ]
    assert model.read_text() == edited
    assert (model.parent / "good.py").read_text() == BCE_BAD


@pytest.fixture
def breaking_nan101(monkeypatch):
    """NAN101 with a fix that replaces the sigmoid call by `(`, which does not parse."""
    rule = type(get_rule("NAN101"))
    check = rule.check

    def breaking(self, analysis):
        for finding in check(self, analysis):
            finding.fix = EditPlan("Break the call")
            finding.fix.replace(analysis.source, finding.node, "(")
            yield finding

    monkeypatch.setattr(rule, "check", breaking)


def test_a_fix_that_would_not_parse_is_withheld_and_the_diagnostic_says_so(model, breaking_nan101):
    result = fix()
    assert result.exit_code == 1
    assert result.stdout.splitlines() == [UNFIXABLE, "Found 1 error."]
    assert result.stderr == (
        "warning: Break the call: the fixed code would not parse, so it was not written\n"
    )
    assert model.read_text() == BCE_BAD
    (item,) = json.loads(nanlint("check", "--fix", "--output-format", "json").stdout)
    assert item["fix"]["applicability"] == "display-only"
    assert item["fix"]["message"] == (
        "Break the call (withheld: the fixed code would not parse, so it was not written)"
    )
    full = nanlint("check", "--fix").stdout.splitlines()
    assert full[7] == (
        "   = help: Break the call (withheld: the fixed code would not parse, so it was not"
        " written) (suggestion only, never applied)"
    )


def test_a_withheld_fix_does_not_block_the_others(model, breaking_nan101, monkeypatch):
    """The broken NAN101 fix overlaps nothing here, so the NAN103 fix still applies."""
    model.write_text(
        BCE_BAD + "ce = F.cross_entropy(F.softmax(z, dim=1), y)\n",
    )
    result = nanlint("check", "--fix", "--unsafe-fixes", "--output-format", "concise")
    assert result.stdout.splitlines() == [
        UNFIXABLE,
        "Found 2 errors (1 fixed, 1 remaining).",
    ]
    assert model.read_text() == BCE_BAD + "ce = F.cross_entropy(z, y)\n"


CHAINED = (
    "import torch\nimport torch.nn.functional as F\n\n\ndef f(a, b, y):\n"
    "    one = F.binary_cross_entropy(torch.sigmoid(a), y)\n"
    "    two = F.binary_cross_entropy(torch.sigmoid(torch.sigmoid(b)), y)\n"
    "    return one + two\n"
)


@pytest.fixture
def corpus(inside) -> Path:
    """Every fixture file, and a file whose fixes chain, copied into the test directory."""
    shutil.copytree(ROOT / "fixtures", inside / "fixtures")
    (inside / "chained.py").write_text(CHAINED)
    return inside


def snapshot(root: Path) -> dict[str, bytes]:
    return {str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*.py"))}


@pytest.mark.parametrize("flags", [(), ("--unsafe-fixes",)], ids=["safe", "unsafe"])
def test_fixing_twice_equals_fixing_once(corpus, flags):
    original = snapshot(corpus)
    first = fix(*flags)
    once = snapshot(corpus)
    assert once != original
    assert re.search(r"^Found \d+ errors \([1-9]\d* fixed, \d+ remaining\)\.$", first.stdout, re.M)
    second = fix(*flags)
    assert snapshot(corpus) == once
    assert "fixed" not in second.stdout


def fixable(flags: tuple[str, ...]) -> list[str]:
    """The codes of the diagnostics that `check --fix` with `flags` would fix."""
    applicable = {"safe", "unsafe"} if flags else {"safe"}
    return [
        item["code"]
        for item in json.loads(nanlint("check", "--output-format", "json", *flags).stdout)
        if item["fix"] is not None and item["fix"]["applicability"] in applicable
    ]


@pytest.mark.parametrize("flags", [(), ("--unsafe-fixes",)], ids=["safe", "unsafe"])
def test_after_fixing_no_fixable_diagnostic_remains(corpus, flags):
    assert len(fixable(flags)) >= 3
    fix(*flags)
    assert fixable(flags) == []
