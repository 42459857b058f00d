"""Source files: encodings, BOMs, newlines and form feeds survive linting and fixing."""

from __future__ import annotations

import codecs
from pathlib import Path

import pytest

from nanlint.engine import lint_and_fix
from nanlint.rules import ALL_RULES
from nanlint.source import DecodeError, SourceFile

BAD = "import torch\nimport torch.nn.functional as F\nloss = F.binary_cross_entropy(torch.sigmoid(z), y)\n"
GOOD = "import torch\nimport torch.nn.functional as F\nloss = F.binary_cross_entropy_with_logits(z, y)\n"


def fix_bytes(data: bytes) -> bytes:
    source = SourceFile.from_bytes(Path("f.py"), data)
    report = lint_and_fix(source, ALL_RULES, unsafe=False)
    return source.encode(report.source.text)


def test_crlf_is_kept():
    assert fix_bytes(BAD.replace("\n", "\r\n").encode()) == GOOD.replace("\n", "\r\n").encode()


def test_mixed_newlines_are_kept():
    mixed = BAD.replace("\n", "\r\n", 1)
    assert fix_bytes(mixed.encode()) == GOOD.replace("\n", "\r\n", 1).encode()


def test_bom_is_kept():
    assert fix_bytes(codecs.BOM_UTF8 + BAD.encode()) == codecs.BOM_UTF8 + GOOD.encode()


def test_latin1_with_a_coding_cookie_is_fixed_in_its_encoding():
    header = "# -*- coding: latin-1 -*-\n# Modèle\n"
    data = (header + BAD).encode("latin-1")
    assert fix_bytes(data) == (header + GOOD).encode("latin-1")


def test_form_feeds_do_not_shift_positions():
    text = "import torch\n\x0cimport torch.nn.functional as F\n\x0closs = F.binary_cross_entropy(torch.sigmoid(z), y)\n"
    expected = text.replace(
        "binary_cross_entropy(torch.sigmoid(z), y)", "binary_cross_entropy_with_logits(z, y)"
    )
    assert fix_bytes(text.encode()) == expected.encode()


def test_tabs_and_non_ascii_before_the_fix():
    text = "import torch\nimport torch.nn.functional as F\nif True:\n\tétiquette = 1; loss = F.binary_cross_entropy(torch.sigmoid(z), y)\n"
    expected = text.replace(
        "binary_cross_entropy(torch.sigmoid(z), y)", "binary_cross_entropy_with_logits(z, y)"
    )
    assert fix_bytes(text.encode()) == expected.encode()


def test_not_utf8_without_a_cookie_is_a_decode_error():
    with pytest.raises(DecodeError):
        SourceFile.from_bytes(Path("f.py"), "x = 'é'\n".encode("latin-1"))
