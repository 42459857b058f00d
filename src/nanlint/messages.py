"""A diagnostic's short message: one line saying what reaches what, and what to do.

Rules write one full message, `<what reaches what, with positions>: <why, with the measured
numbers>`. The short message keeps the first part without its positions (`(line 6)`,
`(models.py:8)`) and its path through the code (`via `Net.forward``), then adds the rule's
remedy from the catalog: `Sigmoid probabilities from `torch.sigmoid` reach
`F.binary_cross_entropy`: use BCEWithLogitsLoss on the logits`. When that is still longer
than SHORT_LENGTH, the producer (`from `...``) goes too. Messages of codes without a remedy
(NAN001, a file that cannot be read) are short already and are kept whole.
"""

from __future__ import annotations

import re

from nanlint.catalog import INFO_BY_CODE

SHORT_LENGTH = 120
_PRODUCER = re.compile(r" from `[^`]*`")
_PATH = re.compile(r" via `[^`]*`(?:, `[^`]*`)*")


def short_message(code: str | None, message: str) -> str:
    info = INFO_BY_CODE.get(code or "")
    if info is None or not info.remedy:
        return message
    what = _PATH.sub("", _without_parentheses(head(message)))
    short = f"{what}: {info.remedy}"
    if len(short) > SHORT_LENGTH:
        short = f"{_PRODUCER.sub('', what)}: {info.remedy}"
    return short


def head(message: str) -> str:
    """The message up to its first `: ` outside code spans and parentheses."""
    depth, code = 0, False
    for index, char in enumerate(message):
        if char == "`":
            code = not code
        elif code:
            continue
        elif char == "(":
            depth += 1
        elif char == ")":
            depth -= 1
        elif depth == 0 and message.startswith(": ", index):
            return message[:index]
    return message


def _without_parentheses(text: str) -> str:
    """`text` without its ` (...)` groups outside code spans (`nn.Softmax (self.softmax)` in
    backticks stays)."""
    kept: list[str] = []
    depth, code = 0, False
    for index, char in enumerate(text):
        if char == "`" and depth == 0:
            code = not code
        if not code and char == "(" and (depth or text[index - 1 : index] == " "):
            if depth == 0 and kept and kept[-1] == " ":
                kept.pop()
            depth += 1
            continue
        if depth:
            depth -= char == ")"
            continue
        kept.append(char)
    return "".join(kept)
