"""The guard on real training: results unchanged, tensors not kept alive, what it measures,
how findings are counted and surfaced, and the environments (no_grad, DataLoader workers,
torch.compile)."""

from __future__ import annotations

import gc
import subprocess
import sys
import textwrap
import warnings
import weakref

import pytest
import torch
import torch.nn.functional as F
from test_guard_rules import run_snippet
from torch import nn

import nanlint
from nanlint.guard import GuardError, GuardWarning


class SigmoidMlp(nn.Module):
    """A classifier with the NAN101 bug: sigmoid outputs into BCELoss."""

    def __init__(self):
        super().__init__()
        self.net = nn.Sequential(nn.Linear(8, 16), nn.ReLU(), nn.Linear(16, 1), nn.Sigmoid())

    def forward(self, x):
        return self.net(x)


class SoftmaxCnn(nn.Module):
    """A CNN with the NAN201 bug: log of softmax into nll_loss."""

    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(1, 4, 3, padding=1)
        self.head = nn.Linear(4 * 4 * 4, 3)

    def forward(self, x):
        x = F.max_pool2d(F.relu(self.conv(x)), 2)
        return torch.log(F.softmax(self.head(x.flatten(1)), dim=1))


def _train(model_class, inputs, loss_of, steps=3):
    torch.manual_seed(0)
    model = model_class()
    losses = []
    for _ in range(steps):
        model.zero_grad()
        loss = loss_of(model(inputs))
        loss.backward()
        with torch.no_grad():
            for parameter in model.parameters():
                parameter -= 0.5 * parameter.grad
        losses.append(loss.detach())
    return model, losses


@pytest.mark.parametrize(
    ("model_class", "inputs", "loss_of", "code"),
    [
        (
            SigmoidMlp,
            torch.randn(16, 8) * 20,
            lambda out: nn.BCELoss()(out, torch.ones(16, 1)),
            "NAN101",
        ),
        (
            SoftmaxCnn,
            torch.randn(6, 1, 8, 8),
            lambda out: F.nll_loss(out, torch.arange(6) % 3),
            "NAN201",
        ),
    ],
    ids=["mlp", "cnn"],
)
def test_training_is_bitwise_identical_under_the_guard(model_class, inputs, loss_of, code):
    plain_model, plain_losses = _train(model_class, inputs, loss_of)
    with nanlint.guard(on_finding="record") as guard:
        guarded_model, guarded_losses = _train(model_class, inputs, loss_of)
    assert [finding.code for finding in guard.findings] == [code]
    assert guard.findings[0].count == 3
    assert all(map(torch.equal, plain_losses, guarded_losses))
    for plain, guarded in zip(plain_model.parameters(), guarded_model.parameters()):
        assert torch.equal(plain, guarded)
        assert torch.equal(plain.grad, guarded.grad)


def test_a_tagged_tensor_is_freed():
    with nanlint.guard(on_finding="record") as guard:
        probabilities = torch.sigmoid(torch.randn(4, requires_grad=True))
        assert guard.tags.get(probabilities) is not None
        freed = weakref.ref(probabilities)
        del probabilities
        gc.collect()
        assert freed() is None
        assert len(guard.tags) == 0


def test_what_the_batch_showed(tmp_path):
    guard = run_snippet(
        tmp_path,
        """
        logits = torch.tensor([[30.0, -200.0, 0.0]])
        F.binary_cross_entropy(torch.sigmoid(logits), torch.tensor([[0.0, 1.0, 1.0]]))
        torch.log(F.softmax(logits, dim=1))
        """,
    )
    bce, log = guard.findings
    assert bce.observed == {
        "dtype": "float32",
        "numel": 3,
        "grad": False,
        "saturated": 2,
        "max_abs_logit": 200.0,
        "bce_clamped": 2,
        "hit_bce_clamp": True,
    }
    assert "seen on 3 float32 values: 2 exactly 0 or 1, 2 terms at BCE's -100 clamp" in (
        bce.message
    )
    assert (log.observed["saturated"], log.observed["log_infs"]) == (2, 1)


def test_findings_are_counted_once_per_sink_and_producer(tmp_path):
    guard = run_snippet(
        tmp_path,
        """
        for step in range(3):
            p = torch.sigmoid(z * step)
            F.binary_cross_entropy(p, y)
            F.binary_cross_entropy(p, y)
        """,
    )
    assert [(f.code, f.sink.line, f.producer.line, f.count) for f in guard.findings] == [
        ("NAN101", 3, 2, 3),
        ("NAN101", 4, 2, 3),
    ]
    # the worst batch is kept: z * 2 saturates the most
    assert guard.findings[0].observed["max_abs_logit"] == 60.0


def test_each_distribution_constructed_counts_once(tmp_path):
    guard = run_snippet(
        tmp_path,
        """
        p = F.softmax(z, dim=-1)
        for _ in range(3):
            D.Categorical(probs=p).log_prob(labels)
        """,
    )
    assert [(f.code, f.count) for f in guard.findings] == [("NAN401", 3)]


def test_under_no_grad_a_finding_says_no_gradient_flowed(tmp_path):
    guard = run_snippet(
        tmp_path,
        """
        logits = z.clone().requires_grad_()
        with torch.no_grad():
            F.cross_entropy(F.softmax(logits, dim=1), labels)
        """,
    )
    (finding,) = guard.findings
    assert finding.observed["grad"] is False
    assert "(no gradient flows here: only the value is wrong)" in finding.message
    guard = run_snippet(
        tmp_path,
        """
        logits = z.clone().requires_grad_()
        for grad in (False, True):
            with torch.set_grad_enabled(grad):
                p = torch.sigmoid(logits)
            F.binary_cross_entropy(p, y)
        """,
    )
    assert guard.findings[0].observed["grad"] is True
    assert "no gradient" not in guard.findings[0].message


def test_on_finding_warn_points_at_the_sink(tmp_path):
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        run_snippet(
            tmp_path,
            "for _ in range(2):\n    F.nll_loss(F.softmax(z, dim=1), labels)\n",
            on_finding="warn",
        )
    found = [w for w in caught if issubclass(w.category, GuardWarning)]
    assert [(w.filename, w.lineno) for w in found] == [(str(tmp_path / "snippet.py"), 2)]
    assert str(found[0].message).startswith("NAN104 Softmax probabilities from `softmax`")


def test_on_finding_raise_stops_at_the_sink(tmp_path):
    with pytest.raises(GuardError) as raised:
        run_snippet(
            tmp_path,
            "p = torch.sigmoid(z)\nloss = F.binary_cross_entropy(p, y)\nreached = True\n",
            on_finding="raise",
        )
    assert raised.value.finding.code == "NAN101"
    assert str(raised.value).startswith(f"NAN101 {tmp_path / 'snippet.py'}:2:8: Sigmoid")


def test_the_decorator_form():
    @nanlint.guard(on_finding="record")
    def step(logits, target):
        return F.binary_cross_entropy(torch.sigmoid(logits), target)

    step(torch.zeros(2), torch.ones(2))
    step(torch.zeros(2), torch.ones(2))
    (finding,) = step.guard.findings
    assert (finding.code, finding.count, finding.sink.function) == (
        "NAN101",
        2,
        "test_the_decorator_form.<locals>.step",
    )


def test_an_unknown_on_finding_is_refused():
    with pytest.raises(ValueError, match="on_finding must be one of"):
        nanlint.guard(on_finding="ignore")


class _SoftLabels(torch.utils.data.Dataset):
    """Items computed with torch in the worker (a NAN201 there is not the guard's)."""

    def __len__(self):
        return 8

    def __getitem__(self, index):
        features = torch.full((4,), float(index))
        return features, torch.log(torch.softmax(features, dim=0))[:1].exp()


def test_dataloader_workers_run_outside_the_guard():
    with nanlint.guard(on_finding="record") as guard:
        _SoftLabels()[0]
    assert [finding.code for finding in guard.findings] == ["NAN201"]  # in this process
    loader = torch.utils.data.DataLoader(
        _SoftLabels(), batch_size=4, num_workers=2, multiprocessing_context="fork"
    )
    head = nn.Linear(4, 1)
    with pytest.raises(GuardError) as raised, nanlint.guard(on_finding="raise"):
        for features, target in loader:  # a worker's NAN201 would be raised from here
            nn.BCELoss()(torch.sigmoid(head(features)), target)
    assert raised.value.finding.code == "NAN101"


_COMPILED = textwrap.dedent(
    """
    import torch, torch.nn.functional as F, warnings
    import nanlint

    def loss_of(logits, target):
        return F.binary_cross_entropy(torch.sigmoid(logits), target)

    compiled = torch.compile(loss_of, backend="eager")
    logits, target = torch.full((4,), 30.0), torch.zeros(4)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        with nanlint.guard(on_finding="record") as guard:
            loss = compiled(logits, target)
    print([(f.code, f.sink.line, f.producer.line) for f in guard.findings])
    print(loss.item() == loss_of(logits, target).item())
    print([str(w.message) for w in caught if "nanlint" in str(w.message)])
    """
)


def test_torch_compile_runs_eagerly_under_the_guard(tmp_path):
    script = tmp_path / "compiled.py"
    script.write_text(_COMPILED)
    done = subprocess.run(
        [sys.executable, str(script)], capture_output=True, text=True, check=True, timeout=600
    )
    findings, same, notes = done.stdout.splitlines()[-3:]
    assert findings == "[('NAN101', 6, 6)]"
    assert same == "True"
    assert notes == repr([nanlint.guard.session.EAGER_NOTE])


def test_tensors_without_data_are_reported_without_counts(tmp_path):
    guard = run_snippet(
        tmp_path,
        """
        logits = torch.zeros(4, 3, device="meta")
        F.nll_loss(F.softmax(logits, dim=1), torch.zeros(4, dtype=torch.long, device="meta"))
        """,
    )
    (finding,) = guard.findings
    assert finding.code == "NAN104"
    assert finding.observed == {"dtype": "float32", "numel": 12, "grad": False}
