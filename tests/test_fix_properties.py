"""Properties of the fix engine, on random edit sets and random programs (Hypothesis)."""

from __future__ import annotations

import ast
from pathlib import Path

from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from conftest import source_of
from nanlint.analysis.rewrite import EditPlan
from nanlint.engine import lint_and_fix
from nanlint.fixes import Applicability, Edit, Fix, apply_edits, select_compatible
from nanlint.parsing import parse_module
from nanlint.rules import ALL_RULES
from nanlint.rules.base import Finding, Rule
from nanlint.source import Position

P = Path("example.py")
ENGINE = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])

# -- select_compatible and apply_edits ---------------------------------------------------------


@st.composite
def texts_and_fixes(draw) -> tuple[str, list[Fix]]:
    """A text and fixes over it, drawn from a small pool of edits so that fixes share some."""
    text = draw(st.text(alphabet="ab \n", max_size=24))
    offsets = st.integers(0, len(text))

    @st.composite
    def edits(draw) -> Edit:
        start = draw(offsets)
        end = draw(st.integers(start, min(len(text), start + 5)))
        content = draw(st.sampled_from(["", "X", "YY", "Z\n"]))
        return Edit(P, start, end, content, Position(1, start + 1), Position(1, end + 1))

    pool = draw(st.lists(edits(), min_size=1, max_size=8))
    fixes = draw(
        st.lists(
            st.lists(st.sampled_from(pool), min_size=1, max_size=3).map(
                lambda chosen: Fix("t", Applicability.SAFE, tuple(chosen))
            ),
            max_size=6,
        )
    )
    return text, fixes


def conflict(a: Edit, b: Edit) -> bool:
    """The specification: two edits of one fix set conflict unless they are identical or
    their ranges are apart; an insertion conflicts only with a range strictly around it."""
    if (a.start, a.end) == (b.start, b.end):
        return a.content != b.content
    if a.start == a.end or b.start == b.end:
        return b.start < a.start < b.end or a.start < b.start < a.end
    return a.start < b.end and b.start < a.end


def reference_apply(text: str, edits: list[Edit]) -> str:
    """Build the result left to right; an insertion goes before a range starting there."""
    out, cursor = [], 0
    for start, end, content in sorted({(e.start, e.end, e.content) for e in edits}):
        assert start >= cursor, "overlapping edits reached the reference"
        out += [text[cursor:start], content]
        cursor = end
    return "".join([*out, text[cursor:]])


@settings(max_examples=400)
@given(texts_and_fixes())
def test_selected_fixes_never_conflict_and_apply_exactly(case):
    text, fixes = case
    chosen = select_compatible(fixes)
    remaining = iter(fixes)
    assert all(any(fix is other for other in remaining) for fix in chosen), "not in order"
    edits = [edit for fix in chosen for edit in fix.edits]
    assert not any(conflict(a, b) for a in edits for b in edits)
    assert apply_edits(text, edits) == reference_apply(text, edits)
    assert select_compatible(chosen) == chosen


@settings(max_examples=400)
@given(texts_and_fixes())
def test_a_fix_is_left_out_only_when_it_conflicts(case):
    _, fixes = case
    chosen = select_compatible(fixes)
    taken = [edit for fix in chosen for edit in fix.edits]
    for fix in fixes:
        if not any(fix is other for other in chosen):
            clashes = [(a, b) for a in fix.edits for b in [*taken, *fix.edits] if conflict(a, b)]
            assert clashes, f"{fix} was left out without a conflict"


# -- the fix loop on random programs -------------------------------------------------------------

OPERANDS = ["z", "a + b", "z[0]", "model(x)", "(z)", "-z", "z.float()", "z if c else w", "f(*z)"]
STATEMENTS = [
    "loss = F.binary_cross_entropy(torch.sigmoid({x}), y)",
    "loss = F.binary_cross_entropy(torch.sigmoid({x}).view(-1), y, reduction='sum')",
    "p = torch.sigmoid({x})\nloss = F.binary_cross_entropy(p, y)",
    "loss = F.binary_cross_entropy(torch.sigmoid(torch.sigmoid({x})), y)",
    "loss = nn.BCELoss()(torch.sigmoid({x}), y)",
    "criterion = nn.BCELoss(weight=w)\nloss = criterion(torch.sigmoid({x}), y)",
    "loss = F.binary_cross_entropy_with_logits(torch.sigmoid({x}), y)",
    "loss = F.cross_entropy(F.softmax({x}, dim=1), y)",
    "loss = nn.CrossEntropyLoss()(torch.softmax({x}, -1), y)",
    "losses = [F.cross_entropy(F.softmax(a, 1), t) for a, t in zip({x}, y)]",
    "loss = F.binary_cross_entropy(torch.sigmoid(  # logits\n    {x}), y)",
    "loss = F.binary_cross_entropy(\n    torch.sigmoid({x}),\n    y,\n)",
    "h = torch.relu({x})",
]
WRAPPERS = ["{body}", "def step(z, y):\n{indented}\n    return loss", "if ready:\n{indented}"]


@st.composite
def programs(draw) -> str:
    indent = draw(st.sampled_from(["    ", "\t"]))
    blocks = []
    for _ in range(draw(st.integers(1, 4))):
        body = draw(st.sampled_from(STATEMENTS)).format(x=draw(st.sampled_from(OPERANDS)))
        indented = "\n".join(indent + line for line in body.split("\n"))
        wrapper = draw(st.sampled_from(WRAPPERS)).replace("    return", indent + "return")
        blocks.append(wrapper.format(body=body, indented=indented))
    separator = draw(st.sampled_from(["\n\n", "\n\x0c\n", "\n# note\n"]))
    code = "import torch\nimport torch.nn as nn\nimport torch.nn.functional as F\n\n"
    code += separator.join(blocks) + "\n"
    return code.replace("\n", draw(st.sampled_from(["\n", "\r\n"])))


def assert_parses(text: str) -> None:
    ast.parse(text)
    parse_module(text)


@ENGINE
@given(programs(), st.booleans())
def test_fixing_random_programs_gives_code_that_parses_and_is_a_fixed_point(code, unsafe):
    report = lint_and_fix(source_of(code), ALL_RULES, unsafe)
    assert not report.errors
    assert_parses(report.source.text)
    again = lint_and_fix(report.source, ALL_RULES, unsafe)
    assert again.fixed_text is None
    assert not [d for d in again.diagnostics if d.fix is not None and d.fix.applies(unsafe)]
    if "\r\n" in code:
        assert report.source.text.count("\n") == report.source.text.count("\r\n")


class RandomEdits(Rule):
    """Proposes the drawn edits, mapped onto whatever the text is in each round."""

    code = "NAN999"
    name = "random-edits"
    summary = "test only"
    triggers = ("",)

    def __init__(self, specs: list[tuple[float, int, str]]):
        self.specs = specs

    def check(self, analysis):
        source = analysis.source
        for where, length, content in self.specs:
            start = round(where * len(source.text))
            plan = EditPlan(f"insert {content!r}")
            plan.delete(source, start, min(len(source.text), start + length))
            plan.insert(source, start, content)
            yield Finding(source.module, "random", fix=plan)


FRAGMENTS = ["", "(", ")", ":", "x", " ", "\n", "\t", "1 +", "#", "'", "pass", "\\", "if"]


@ENGINE
@given(
    programs(),
    st.lists(st.tuples(st.floats(0, 1), st.integers(0, 6), st.sampled_from(FRAGMENTS)), max_size=5),
)
@example(  # deletes the final newline: libcst ends such a module past its last line
    "import torch\nimport torch.nn.functional as F\n\nloss = F.binary_cross_entropy(torch.sigmoid(z), y)\n",
    [(0.9921875, 1, "")],
)
def test_the_fix_loop_never_produces_code_that_does_not_parse(code, specs):
    report = lint_and_fix(source_of(code), [RandomEdits(specs)], unsafe=True)
    assert not report.errors
    assert_parses(report.source.text)
