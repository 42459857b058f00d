"""bench/guard_overhead.py's logic: medians, ratios and the verdict (no timing asserted)."""

from __future__ import annotations

import sys

import torch

from conftest import ROOT

sys.path.insert(0, str(ROOT / "bench"))

import guard_overhead as bench


def test_medians_ratios_and_the_verdict():
    times = {
        "mlp": {"plain": [1.0, 3.0, 2.0], "guard": [2.4, 2.5, 9.0], "detect_anomaly": [6.0] * 3},
        "cnn": {"plain": [4.0], "guard": [5.6], "detect_anomaly": [9.0]},
    }
    rows = bench.summarise(times, steps=100)
    assert [(r["workload"], r["variant"], r["ratio"], r["verdict"]) for r in rows] == [
        ("mlp", "plain", 1.0, ""),
        ("mlp", "guard", 1.25, "PASS"),
        ("mlp", "detect_anomaly", 3.0, ""),
        ("cnn", "plain", 1.0, ""),
        ("cnn", "guard", 1.4, "FAIL"),
        ("cnn", "detect_anomaly", 2.25, ""),
    ]
    assert rows[1]["ms_per_step"] == 25.0
    text = bench.report(rows, steps=100, repeats=3)
    assert "100 steps x 3 repeats (medians)" in text.splitlines()[0]
    assert text.splitlines()[3].split() == [
        "mlp",
        "guard",
        "25.000",
        "1.250x",
        "<=",
        "1.3x",
        "PASS",
    ]


def test_the_workloads_are_real_models():
    generator = torch.Generator().manual_seed(0)
    for workload in bench.WORKLOADS:
        inputs, labels = workload.batch(generator)
        assert workload.model()(inputs).shape == (len(labels), 10)
    assert list(bench.VARIANTS) == ["plain", "empty_mode", "guard", "detect_anomaly"]
