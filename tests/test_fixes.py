"""The fix engine: compatible edit sets, the re-parse guard, the fixed-point loop."""

from __future__ import annotations

from pathlib import Path

import libcst as cst

from conftest import diagnostics_of, fixed, source_of
from nanlint.analysis.rewrite import EditPlan
from nanlint.engine import lint_and_fix
from nanlint.fixes import Applicability, Edit, Fix, apply_edits, select_compatible
from nanlint.rules import get_rule
from nanlint.rules.base import Finding, Rule
from nanlint.source import Position

P = Path("f.py")


def edit(start: int, end: int, content: str) -> Edit:
    return Edit(P, start, end, content, Position(1, start + 1), Position(1, end + 1))


def fix(*edits: Edit) -> Fix:
    return Fix("t", Applicability.SAFE, tuple(edits))


def test_overlapping_fixes_wait_for_the_next_round():
    first, second, third = fix(edit(0, 5, "a")), fix(edit(3, 8, "b")), fix(edit(8, 9, "c"))
    assert select_compatible([first, second, third]) == [first, third]


def test_identical_edits_are_shared_and_applied_once():
    shared = edit(0, 0, "import torch\n")
    one, two = fix(shared, edit(5, 6, "x")), fix(shared, edit(7, 8, "y"))
    assert select_compatible([one, two]) == [one, two]
    text = "0123456789"
    assert apply_edits(text, [*one.edits, *two.edits]) == "import torch\n01234x6y89"


def test_a_fix_is_all_or_nothing():
    blocker = fix(edit(4, 6, "z"))
    both = fix(edit(0, 1, "a"), edit(5, 6, "b"))
    assert select_compatible([blocker, both]) == [blocker]


class _BreakingRule(Rule):
    """A rule whose fix would not parse, to exercise the guard."""

    code = "NAN999"
    name = "breaking"
    summary = "test only"
    triggers = ("x",)

    def check(self, analysis):
        statement = analysis.source.module.body[0]
        plan = EditPlan("break it")
        plan.replace(analysis.source, statement, "x = (")
        yield Finding(statement, "broken", fix=plan)


def test_a_fix_that_does_not_parse_is_withheld():
    code = "x = 1\n"
    report = lint_and_fix(source_of(code), [_BreakingRule()], unsafe=True)
    assert report.source.text == code
    assert report.fixed_text is None
    assert report.withheld == ["break it: the fixed code would not parse, so it was not written"]


def test_fixes_run_to_a_fixed_point():
    code = (
        "import torch\nimport torch.nn.functional as F\n\n\ndef f(a, b, y):\n"
        "    one = F.binary_cross_entropy(torch.sigmoid(a), y)\n"
        "    two = F.binary_cross_entropy(torch.sigmoid(torch.sigmoid(b)), y)\n"
        "    return one + two\n"
    )
    result = fixed(code, [get_rule("NAN101")])
    assert "F.binary_cross_entropy_with_logits(a, y)" in result
    assert "F.binary_cross_entropy_with_logits(torch.sigmoid(b), y)" in result


def test_import_is_added_when_nothing_reaches_the_name():
    code = (
        '"""Doc."""\nfrom torch.nn.functional import binary_cross_entropy\nfrom torch import sigmoid\n\n'
        "loss = binary_cross_entropy(sigmoid(z), y)\n"
    )
    assert fixed(code, [get_rule("NAN101")]) == (
        '"""Doc."""\nfrom torch.nn.functional import binary_cross_entropy_with_logits\n'
        "\nloss = binary_cross_entropy_with_logits(z, y)\n"
    )  # the added name joins the import; the names the fix stopped reading leave


def test_parenthesises_a_moved_operand_when_needed():
    code = (
        "import torch\nimport torch.nn.functional as F\n\n"
        "loss = F.binary_cross_entropy(torch.sigmoid(a + b).view(-1), y)\n"
    )
    assert fixed(code, [get_rule("NAN101")]).splitlines()[-1] == (
        "loss = F.binary_cross_entropy_with_logits((a + b).view(-1), y)"
    )


def test_comments_inside_a_removed_call_make_the_fix_unsafe():
    code = (
        "import torch\nimport torch.nn.functional as F\n\n"
        "loss = F.binary_cross_entropy(torch.sigmoid(  # scores\n    z), y)\n"
    )
    assert fixed(code, [get_rule("NAN101")]) == code
    assert "F.binary_cross_entropy_with_logits(z, y)" in fixed(
        code, [get_rule("NAN101")], unsafe=True
    )


def test_rewrites_one_call_of_a_shared_loss_object_with_its_literal_arguments():
    code = (
        "import torch\nimport torch.nn as nn\nimport torch.nn.functional as F\n\n"
        "criterion = nn.BCELoss(reduction='sum')\n\n\n"
        "def step(z, p, y):\n"
        "    a = criterion(torch.sigmoid(z), y)\n"
        "    b = criterion(p, y)\n"
        "    return a + b\n"
    )
    result = fixed(code, [get_rule("NAN101")])
    assert "criterion = nn.BCELoss(reduction='sum')" in result
    assert "a = F.binary_cross_entropy_with_logits(z, y, reduction='sum')" in result
    assert "b = criterion(p, y)" in result


def test_no_fix_for_a_shared_loss_object_built_from_a_variable():
    code = (
        "import torch\nimport torch.nn as nn\n\n"
        "criterion = nn.BCELoss(weight=class_weights)\n\n\n"
        "def step(z, p, y):\n"
        "    return criterion(torch.sigmoid(z), y) + criterion(p, y)\n"
    )
    assert fixed(code, [get_rule("NAN101")], unsafe=True) == code


def test_a_loss_object_passed_elsewhere_is_not_swapped():
    code = (
        "import torch\nimport torch.nn as nn\n\n"
        "criterion = nn.BCELoss()\nregister(criterion)\n\n\n"
        "def step(z, y):\n"
        "    return criterion(torch.sigmoid(z), y)\n"
    )
    result = fixed(code, [get_rule("NAN101")])
    assert "criterion = nn.BCELoss()" in result
    assert "return nn.functional.binary_cross_entropy_with_logits(z, y)" in result


def test_libcst_module_is_not_mutated_by_planning():
    source = source_of("x = 1\n")
    module = source.module
    plan = EditPlan("t")
    plan.replace(source, module.body[0], "y = 2")
    plan.to_fix()
    assert isinstance(source.module.body[0], cst.SimpleStatementLine)
    assert source.module.code == "x = 1\n"


def test_functional_fix_carries_weight_and_reduction():
    code = (
        "import torch\nimport torch.nn.functional as F\n\n"
        "loss = F.binary_cross_entropy(torch.sigmoid(z), y, weight=w, reduction='sum')\n"
    )
    assert fixed(code, [get_rule("NAN101")]).splitlines()[-1] == (
        "loss = F.binary_cross_entropy_with_logits(z, y, weight=w, reduction='sum')"
    )


def test_replace_atom_takes_the_nodes_own_parentheses():
    source = source_of("y = ((a - 1)).sum() + (b - 1) * ( # keep\n c - 1)\n")
    operations = {
        source.node_text(node): node for node in _nodes(source.module, cst.BinaryOperation)
    }
    plan = EditPlan("atoms")
    for text in ("a - 1", "b - 1", "c - 1"):
        plan.replace_atom(source, operations[text], "f(", operations[text].left, ")")
    edited = apply_edits(source.text, list(plan.to_fix().edits))
    # a comment inside the parentheses keeps them
    assert edited == "y = f(a).sum() + f(b) * ( # keep\n f(c))\n"


def _nodes(module: cst.Module, kind: type) -> list:
    found: list = []

    class Collect(cst.CSTVisitor):
        def on_visit(self, node: cst.CSTNode) -> bool:
            if isinstance(node, kind):
                found.append(node)
            return True

    module.visit(Collect())
    return found


def test_a_copied_node_keeps_its_own_parentheses():
    code = (
        "import torch\n\ny = torch.log((a + b).softmax(-1))\nz = torch.log((a + b).exp().sum(1))\n"
    )
    rules = [get_rule("NAN201"), get_rule("NAN203")]
    assert (
        fixed(code, rules)
        == "import torch\n\ny = (a + b).log_softmax(-1)\nz = (a + b).logsumexp(1)\n"
    )


def test_a_fix_whose_own_edits_overlap_is_never_applied():
    torn, fine = fix(edit(0, 5, "a"), edit(3, 8, "b")), fix(edit(8, 9, "c"))
    assert select_compatible([torn, fine]) == [fine]


def test_a_fix_whose_torch_name_cannot_be_spelled_is_given_up_not_an_error():
    """`torch` imported only under a condition: the diagnostic stays, without a fix."""
    code = (
        "from utils import is_torch_available\n"
        "\n"
        "if is_torch_available():\n"
        "    import torch\n"
        "\n"
        "\n"
        "def magnitude(x):\n"
        "    return torch.sqrt(x.pow(2).sum(-1))\n"
    )
    (diagnostic,) = diagnostics_of(code)
    assert (diagnostic.code, diagnostic.start.line, diagnostic.start.column) == ("NAN601", 8, 12)
    assert diagnostic.fix is None
    assert fixed(code, unsafe=True) == code
