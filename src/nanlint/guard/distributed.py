"""The findings of every rank of a distributed run, merged for rank 0 to print once.

A process launched by torchrun (or any launcher that sets RANK and WORLD_SIZE) runs its own
guard. At exit the ranks exchange their findings over torch.distributed when the program left
its process group initialised (over gloo: the default group when it is gloo, else a new gloo
group), or else through files in a directory of the temporary directory named by the launch
(TORCHELASTIC_RUN_ID, the restart count, MASTER_ADDR and MASTER_PORT). Files reach only the
ranks of one machine: there, local rank 0 waits for the other local ranks (at most
NANLINT_GATHER_TIMEOUT seconds, 60 by default) and prints; a file older than rank 0's own
start is left over from an earlier launch of the same name, and is removed unread.
"""

from __future__ import annotations

import contextlib
import json
import os
import sys
import tempfile
import time
from dataclasses import asdict, dataclass, replace
from pathlib import Path

from nanlint.guard.evidence import severity
from nanlint.guard.findings import Location, RuntimeFinding

_POLL_SECONDS = 0.05
_CLOCK_SLACK_SECONDS = 2.0  # file times are coarser than time.time() on some file systems


@dataclass(frozen=True)
class Launch:
    """This process's place in a distributed launch, read from the launcher's environment."""

    rank: int
    world_size: int
    local_rank: int
    local_world_size: int

    @classmethod
    def from_environment(cls) -> Launch | None:
        """The launch, or None when this process is not one rank of several."""
        try:
            rank, world_size = int(os.environ["RANK"]), int(os.environ["WORLD_SIZE"])
        except (KeyError, ValueError):
            return None
        if world_size < 2:
            return None
        local_rank = int(os.environ.get("LOCAL_RANK", rank))
        local_world_size = int(os.environ.get("LOCAL_WORLD_SIZE", world_size))
        return cls(rank, world_size, local_rank, local_world_size)


def gather(
    findings: list[RuntimeFinding], launch: Launch, started: float
) -> list[RuntimeFinding] | None:
    """On the rank that prints, the findings of every rank merged; None on the other ranks.

    `started` is when this rank's program started (`time.time()`)."""
    mine = [replace(finding, ranks=finding.ranks or (launch.rank,)) for finding in findings]
    if _process_group_alive():
        try:
            return _over_process_group(mine, launch)
        except RuntimeError as error:  # a peer is gone: say so and report what this rank saw
            print(f"nanlint run: could not gather the ranks' findings: {error}", file=sys.stderr)
            return mine
    return _over_files(mine, launch, started)


def merge(findings: list[RuntimeFinding]) -> list[RuntimeFinding]:
    """One finding per (code, sink, producer): counts added, ranks joined, the worst evidence."""
    merged: dict[tuple, RuntimeFinding] = {}
    for finding in findings:
        seen = merged.get(finding.key)
        if seen is None:
            merged[finding.key] = finding
        else:
            merged[finding.key] = replace(
                seen,
                observed=max(seen.observed, finding.observed, key=severity),
                count=seen.count + finding.count,
                ranks=tuple(sorted({*seen.ranks, *finding.ranks})),
                test=seen.test or finding.test,
            )
    return list(merged.values())


def to_json(findings: list[RuntimeFinding]) -> str:
    return json.dumps([asdict(finding) for finding in findings])


def from_json(text: str) -> list[RuntimeFinding]:
    findings = []
    for item in json.loads(text):
        producer = item.pop("producer")
        findings.append(
            RuntimeFinding(
                **{
                    **item,
                    "sink": Location(**item["sink"]),
                    "producer": None if producer is None else Location(**producer),
                    "ranks": tuple(item["ranks"]),
                }
            )
        )
    return findings


def _process_group_alive() -> bool:
    if "torch.distributed" not in sys.modules:
        return False
    import torch.distributed as dist

    return dist.is_available() and dist.is_initialized()


def _over_process_group(mine, launch: Launch) -> list[RuntimeFinding] | None:
    """Rank 0 gathers every rank's findings over gloo (a new gloo group when the program's
    backend is another, e.g. nccl: all ranks create it, as they all reach this point)."""
    import torch.distributed as dist

    group = None if dist.get_backend() == "gloo" else dist.new_group(backend="gloo")
    gathered = [None] * launch.world_size if launch.rank == 0 else None
    dist.gather_object(to_json(mine), gathered, dst=0, group=group)
    if gathered is None:
        return None
    return merge([finding for text in gathered for finding in from_json(text)])


def _over_files(mine, launch: Launch, started: float) -> list[RuntimeFinding] | None:
    directory = exchange_directory()
    directory.mkdir(parents=True, exist_ok=True)
    if launch.local_rank != 0:
        written = directory / f"rank-{launch.rank}.json"
        partial = written.with_suffix(".partial")
        partial.write_text(to_json(mine))
        partial.replace(written)
        return None
    others = _wait_for_files(directory, launch.local_world_size - 1, started)
    findings = list(mine)
    for path in others:
        findings.extend(from_json(path.read_text()))
        path.unlink()
    missing = launch.local_world_size - 1 - len(others)
    if missing:
        print(
            f"nanlint run: {missing} local rank(s) did not report their findings in time",
            file=sys.stderr,
        )
    _remove_if_empty(directory)
    return merge(findings)


def exchange_directory() -> Path:
    """The directory where the ranks of this launch leave their findings."""
    parts = [
        os.environ.get(name, "")
        for name in (
            "TORCHELASTIC_RUN_ID",
            "TORCHELASTIC_RESTART_COUNT",
            "MASTER_ADDR",
            "MASTER_PORT",
        )
    ]
    name = "-".join(part.replace(os.sep, "_") for part in parts if part) or "default"
    return Path(tempfile.gettempdir()) / f"nanlint-run-{name}"


def _wait_for_files(directory: Path, expected: int, started: float) -> list[Path]:
    deadline = time.monotonic() + float(os.environ.get("NANLINT_GATHER_TIMEOUT", "60"))
    while True:
        found = []
        for path in sorted(directory.glob("rank-*.json")):
            with contextlib.suppress(OSError):
                if path.stat().st_mtime < started - _CLOCK_SLACK_SECONDS:
                    path.unlink()  # left by an earlier launch of the same name
                else:
                    found.append(path)
        if len(found) >= expected or time.monotonic() > deadline:
            return found
        time.sleep(_POLL_SECONDS)


def _remove_if_empty(directory: Path) -> None:
    with contextlib.suppress(OSError):
        directory.rmdir()
