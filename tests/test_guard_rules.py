"""The runtime guard's rules: each sink in its spellings, found with both ends; and the traps.

Each snippet runs under the guard from a file of its own, with `torch`, `nn`, `F`, `D`
(torch.distributions), logits `z` (4 x 3, some beyond float32's sigmoid saturation), binary
targets `y` and class labels `labels` in scope. Findings are compared as (code, sink line,
producer line) over the snippet's own lines.
"""

from __future__ import annotations

import subprocess
import sys
import textwrap

import pytest
import torch
import torch.nn.functional as F
from torch import nn

import nanlint


def scope() -> dict:
    return {
        "torch": torch,
        "nn": nn,
        "F": F,
        "D": torch.distributions,
        "z": torch.tensor([[30.0, -30.0, 0.5], [2.0, -1.0, 0.0], [-20.0, 5.0, 1.0], [0.0] * 3]),
        "y": torch.tensor([[0.0, 1.0, 1.0], [1.0, 0.0, 0.0], [1.0, 0.0, 1.0], [0.0, 1.0, 0.0]]),
        "labels": torch.tensor([1, 0, 2, 1]),
    }


def run_snippet(tmp_path, code: str, **options):
    """The guard that ran `code` (written to snippet.py), recording its findings."""
    path = tmp_path / "snippet.py"
    path.write_text(textwrap.dedent(code).lstrip("\n"))
    compiled = compile(path.read_text(), str(path), "exec")
    options.setdefault("on_finding", "record")
    with nanlint.guard(**options) as guard:
        exec(compiled, scope())
    return guard


def found(tmp_path, code: str, **options) -> list[tuple]:
    guard = run_snippet(tmp_path, code, **options)
    return [(f.code, f.sink.line, f.producer.line if f.producer else None) for f in guard.findings]


FOUND = {
    "NAN101 functional": (
        """
        p = torch.sigmoid(z)
        loss = F.binary_cross_entropy(p, y)
        """,
        [("NAN101", 2, 1)],
    ),
    "NAN101 module, method, through a model": (
        """
        model = nn.Sequential(nn.Linear(3, 3), nn.Sigmoid())
        criterion = nn.BCELoss()
        out = model(z)
        loss = criterion(out, y)
        loss = criterion(z.sigmoid(), y)
        loss = criterion(torch.special.expit(z), y)
        loss = criterion(F.sigmoid(z), y)
        """,
        [("NAN101", 4, 3), ("NAN101", 5, 5), ("NAN101", 6, 6), ("NAN101", 7, 7)],
    ),
    "NAN101 through views, indexing, dtype, clamp and cat": (
        """
        p = torch.sigmoid(z)
        q = p.view(-1)[:6].float().to(torch.float32).clamp(1e-7, 1 - 1e-7)
        F.binary_cross_entropy(q, y.view(-1)[:6])
        F.binary_cross_entropy(torch.cat([p, torch.sigmoid(-z)]), torch.cat([y, y]))
        F.binary_cross_entropy(p.T.detach().contiguous(), y.T)
        """,
        [("NAN101", 3, 1), ("NAN101", 4, 1), ("NAN101", 5, 1)],
    ),
    "NAN102 every activation and logits loss": (
        """
        F.binary_cross_entropy_with_logits(torch.sigmoid(z), y)
        nn.BCEWithLogitsLoss()(nn.ReLU()(z), y)
        F.multilabel_soft_margin_loss(z.softmax(dim=1), y)
        nn.MultiLabelSoftMarginLoss()(F.softplus(z), y)
        """,
        [("NAN102", 1, 1), ("NAN102", 2, 2), ("NAN102", 3, 3), ("NAN102", 4, 4)],
    ),
    "NAN103 softmax and sigmoid into cross_entropy": (
        """
        probabilities = nn.Softmax(dim=1)(z)
        F.cross_entropy(probabilities, labels)
        nn.CrossEntropyLoss()(torch.sigmoid(z), labels)
        """,
        [("NAN103", 2, 1), ("NAN103", 3, 3)],
    ),
    "NAN104 softmax into nll_loss": (
        """
        F.nll_loss(F.softmax(z, dim=1), labels)
        nn.NLLLoss()(torch.softmax(z, 1), labels)
        """,
        [("NAN104", 1, 1), ("NAN104", 2, 2)],
    ),
    "NAN105 probabilities as kl_div input": (
        """
        teacher = F.softmax(z.flip(0), dim=1)
        F.kl_div(F.softmax(z, dim=1), teacher, reduction="batchmean")
        nn.KLDivLoss(reduction="batchmean")(z.softmax(1), teacher)
        """,
        [("NAN105", 2, 2), ("NAN105", 3, 3)],
    ),
    "NAN201 log of softmax, guarded or not": (
        """
        p = F.softmax(z, dim=1)
        torch.log(p)
        p.log()
        torch.log(p + 1e-8)
        torch.log(p.clamp(min=1e-7))
        torch.log(p[:, 0])
        """,
        [("NAN201", 2, 1), ("NAN201", 3, 1), ("NAN201", 4, 1), ("NAN201", 5, 1), ("NAN201", 6, 1)],
    ),
    "NAN202 log of sigmoid and of its complement": (
        """
        p = torch.sigmoid(z)
        torch.log(p)
        torch.log(1 - p)
        (1 - p + 1e-6).log()
        -(y * torch.log(p) + (1 - y) * torch.log(1 - p)).mean()
        """,
        [("NAN202", 2, 1), ("NAN202", 3, 1), ("NAN202", 4, 1), ("NAN202", 5, 1), ("NAN202", 5, 1)],
    ),
    "NAN401 softmax probs of categorical distributions": (
        """
        p = F.softmax(z, dim=-1)
        D.Categorical(probs=p)
        D.Categorical(p)
        D.OneHotCategorical(probs=p)
        """,
        [("NAN401", 2, 1), ("NAN401", 3, 1), ("NAN401", 4, 1)],
    ),
    "NAN402 sigmoid probs of binary distributions": (
        """
        p = torch.sigmoid(z)
        D.Bernoulli(probs=p)
        D.Binomial(10, probs=p)
        D.RelaxedBernoulli(torch.tensor(0.5), probs=p)
        """,
        [("NAN402", 2, 1), ("NAN402", 3, 1), ("NAN402", 4, 1)],
    ),
    "NAN501 binary_cross_entropy under autocast": (
        """
        p = torch.sigmoid(z)
        with torch.autocast("cpu", dtype=torch.bfloat16):
            nn.BCELoss()(y, y)
            F.binary_cross_entropy(p, y)
        F.binary_cross_entropy(y, y)
        """,
        [("NAN501", 3, None), ("NAN101", 4, 1), ("NAN501", 4, 1)],
    ),
}

SILENT = {
    "sigmoid for metrics": """
        p = torch.sigmoid(z)
        accuracy = ((p > 0.5).float() == y).float().mean()
        loss = F.binary_cross_entropy_with_logits(z, y)
        """,
    "soft targets": """
        F.binary_cross_entropy_with_logits(z, torch.sigmoid(z.flip(0)))
        F.cross_entropy(z, F.softmax(z.flip(0), dim=1))
        F.kl_div(F.log_softmax(z, dim=1), F.softmax(z.flip(0), dim=1), reduction="batchmean")
        """,
    "log_softmax into nll_loss": """
        F.nll_loss(F.log_softmax(z, dim=1), labels)
        nn.NLLLoss()(nn.LogSoftmax(dim=1)(z), labels)
        F.cross_entropy(F.log_softmax(z, dim=1), labels)
        """,
    "logits into the fused losses and distributions": """
        F.binary_cross_entropy_with_logits(z, y)
        nn.CrossEntropyLoss()(z, labels)
        D.Categorical(logits=z)
        D.Bernoulli(logits=z)
        """,
    "a tagged name re-bound to logits": """
        p = torch.sigmoid(z)
        p = z
        F.binary_cross_entropy_with_logits(p, y)
        """,
    "operations that change the kind": """
        p = torch.sigmoid(z)
        torch.log(p * 0.5 + 0.25)
        torch.log(p + 0.5)
        torch.log(1 - F.softmax(z, dim=1))
        F.binary_cross_entropy_with_logits(torch.logit(p), y)
        q = torch.sigmoid(z)
        q.mul_(2).sub_(1)
        F.binary_cross_entropy_with_logits(q, y)
        F.binary_cross_entropy_with_logits(torch.cat([p, z]), torch.cat([y, y]))
        """,
}


@pytest.mark.parametrize("case", FOUND, ids=list(FOUND))
def test_each_sink_is_found_with_both_ends(tmp_path, case):
    code, expected = FOUND[case]
    assert found(tmp_path, code) == expected


@pytest.mark.parametrize("case", SILENT, ids=list(SILENT))
def test_traps_stay_silent(tmp_path, case):
    assert found(tmp_path, SILENT[case]) == []


def test_the_sink_and_the_producer_have_line_and_column(tmp_path):
    guard = run_snippet(
        tmp_path,
        """
        def loss_of(logits, target):
            return F.binary_cross_entropy(logits, target)
        probabilities = torch.sigmoid(z)
        loss = loss_of(probabilities, y)
        """,
    )
    (finding,) = guard.findings
    path = str(tmp_path / "snippet.py")
    assert (finding.sink.path, finding.sink.line, finding.sink.column) == (path, 2, 12)
    assert finding.sink.function == "loss_of"
    assert (finding.producer.line, finding.producer.column) == (3, 17)
    assert finding.producer.function == "<module>"


def test_a_distribution_is_named_as_called(tmp_path):
    guard = run_snippet(tmp_path, "D.RelaxedBernoulli(torch.tensor(0.5), probs=torch.sigmoid(z))")
    assert "reach `RelaxedBernoulli`," in guard.findings[0].message


def test_a_module_spelling_is_named_in_the_message(tmp_path):
    guard = run_snippet(
        tmp_path,
        """
        model = nn.Sequential(nn.Linear(3, 3), nn.Softmax(dim=1))
        loss = nn.CrossEntropyLoss()(model(z), labels)
        """,
    )
    (finding,) = guard.findings
    assert finding.message.startswith(
        "Softmax probabilities from `nn.Softmax` (line 2) reach `nn.CrossEntropyLoss`,"
    )


def test_select_and_ignore(tmp_path):
    code = """
        p = torch.sigmoid(z)
        F.binary_cross_entropy(p, y)
        torch.log(p)
        """
    assert found(tmp_path, code, select=["NAN2"]) == [("NAN202", 3, 1)]
    assert found(tmp_path, code, ignore="NAN101") == [("NAN202", 3, 1)]
    assert found(tmp_path, code, select=["NAN101", "NAN501"]) == [("NAN101", 2, 1)]


def test_importing_nanlint_or_its_guard_package_does_not_import_torch():
    code = (
        "import sys, nanlint, nanlint.guard\n"
        "assert callable(nanlint.guard) and nanlint.guard is sys.modules['nanlint.guard']\n"
        "print(sorted(m for m in ('torch', 'libcst') if m in sys.modules))\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout == "[]\n"
