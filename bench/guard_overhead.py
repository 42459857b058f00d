"""What the runtime guard costs on a real CPU training loop, next to detect_anomaly.

A small MLP and a small CNN train on random data (forward, loss, backward, Adam step) for
`--steps` steps, in four variants: plain, under a TorchFunctionMode that does nothing (the
floor of any mode-based guard: each torch call goes through Python), under
`nanlint.guard()`, and under `torch.autograd.detect_anomaly()`. The variants alternate `--repeats` times; the median time
of each is compared with the plain one. Target: the guard at most 1.3x the plain step time.

    python bench/guard_overhead.py                 # 300 steps, 5 repeats
    python bench/guard_overhead.py --steps 50 --repeats 1   # smoke run
"""

from __future__ import annotations

import argparse
import contextlib
import datetime
import platform
import statistics
import time
from collections.abc import Callable
from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import nn
from torch.overrides import TorchFunctionMode

import nanlint

TARGET = 1.3


class EmptyMode(TorchFunctionMode):
    """The floor: what any TorchFunctionMode costs, doing nothing but the call itself."""

    def __torch_function__(self, func, types, args=(), kwargs=None):
        return func(*args, **(kwargs or {}))


VARIANTS: dict[str, Callable[[], contextlib.AbstractContextManager]] = {
    "plain": contextlib.nullcontext,
    "empty_mode": EmptyMode,
    "guard": lambda: nanlint.guard(on_finding="record"),
    "detect_anomaly": lambda: torch.autograd.detect_anomaly(check_nan=True),
}


@dataclass(frozen=True)
class Workload:
    name: str
    model: Callable[[], nn.Module]
    batch: Callable[[torch.Generator], tuple[torch.Tensor, torch.Tensor]]


def _mlp() -> nn.Module:
    return nn.Sequential(
        nn.Linear(64, 256), nn.ReLU(), nn.Linear(256, 256), nn.ReLU(), nn.Linear(256, 10)
    )


def _cnn() -> nn.Module:
    return nn.Sequential(
        nn.Conv2d(1, 16, 3, padding=1),
        nn.ReLU(),
        nn.MaxPool2d(2),
        nn.Conv2d(16, 32, 3, padding=1),
        nn.ReLU(),
        nn.MaxPool2d(2),
        nn.Flatten(),
        nn.Linear(32 * 7 * 7, 10),
    )


WORKLOADS = (
    Workload(
        "mlp 64-256-256-10, batch 128",
        _mlp,
        lambda g: (torch.randn(128, 64, generator=g), torch.randint(0, 10, (128,), generator=g)),
    ),
    Workload(
        "cnn 2 conv + linear, 28x28, batch 32",
        _cnn,
        lambda g: (
            torch.randn(32, 1, 28, 28, generator=g),
            torch.randint(0, 10, (32,), generator=g),
        ),
    ),
)


def train_seconds(workload: Workload, variant: str, steps: int) -> float:
    """Wall time of `steps` training steps (after one warm-up step) under `variant`."""
    torch.manual_seed(0)
    model = workload.model()
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
    generator = torch.Generator().manual_seed(0)
    batches = [workload.batch(generator) for _ in range(8)]

    def step(i: int) -> None:
        inputs, labels = batches[i % len(batches)]
        optimizer.zero_grad()
        F.cross_entropy(model(inputs), labels).backward()
        optimizer.step()

    with VARIANTS[variant]():
        step(0)
        start = time.perf_counter()
        for i in range(steps):
            step(i)
        return time.perf_counter() - start


def measure(steps: int, repeats: int) -> dict[str, dict[str, list[float]]]:
    """Seconds per run, by workload and variant; the variants alternate within a repeat."""
    times: dict[str, dict[str, list[float]]] = {}
    for workload in WORKLOADS:
        runs = times.setdefault(workload.name, {variant: [] for variant in VARIANTS})
        for _ in range(repeats):
            for variant in VARIANTS:
                runs[variant].append(train_seconds(workload, variant, steps))
    return times


def summarise(times: dict[str, dict[str, list[float]]], steps: int) -> list[dict]:
    """Median milliseconds per step and the ratio to plain, with the guard's verdict."""
    rows = []
    for workload, runs in times.items():
        medians = {variant: statistics.median(values) for variant, values in runs.items()}
        plain = medians["plain"]
        for variant, seconds in medians.items():
            ratio = seconds / plain
            verdict = ("PASS" if ratio <= TARGET else "FAIL") if variant == "guard" else ""
            rows.append(
                {
                    "workload": workload,
                    "variant": variant,
                    "ms_per_step": 1000 * seconds / steps,
                    "ratio": ratio,
                    "verdict": verdict,
                }
            )
    return rows


def report(rows: list[dict], steps: int, repeats: int) -> str:
    header = (
        f"guard overhead, {datetime.date.today()}, {platform.machine()}"
        f" {platform.processor() or platform.system()}, torch {torch.__version__},"
        f" {torch.get_num_threads()} thread(s), {steps} steps x {repeats} repeats (medians)"
    )
    lines = [header, f"{'workload':40} {'variant':15} {'ms/step':>8} {'ratio':>6}  target"]
    for row in rows:
        target = f"<= {TARGET}x {row['verdict']}" if row["verdict"] else ""
        lines.append(
            f"{row['workload']:40} {row['variant']:15} {row['ms_per_step']:8.3f}"
            f" {row['ratio']:6.3f}x  {target}"
        )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=300)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--threads", type=int, default=1, help="torch intra-op threads")
    args = parser.parse_args(argv)
    torch.set_num_threads(args.threads)
    rows = summarise(measure(args.steps, args.repeats), args.steps)
    print(report(rows, args.steps, args.repeats))
    return 0 if all(row["verdict"] != "FAIL" for row in rows) else 1


if __name__ == "__main__":
    raise SystemExit(main())
