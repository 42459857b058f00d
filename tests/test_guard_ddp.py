"""The findings of a distributed run: merged across ranks and printed once, by rank 0.

Unit tests of merging and of the file exchange run in this process; the end-to-end tests launch
fixtures/runtime/ddp/train.py on two CPU processes over gloo, once with torchrun (the program
destroys its process group: the ranks meet through files) and once with the launcher's
environment set by hand and the group left alive (the ranks meet over gloo).
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
import time
from dataclasses import replace

import pytest

from conftest import ROOT
from nanlint.guard.distributed import Launch, exchange_directory, from_json, gather, merge, to_json
from nanlint.guard.findings import Location, RuntimeFinding

DDP = ROOT / "fixtures" / "runtime" / "ddp"
SINK = Location("/p/train.py", 25, 16, "main")
PRODUCER = Location("/p/train.py", 25, 26, "main")


def _finding(code="NAN101", count=1, ranks=(), producer=PRODUCER, observed=None):
    return RuntimeFinding(
        code, "message", SINK, producer, observed or {"saturated": count}, count, ranks
    )


def test_merge_adds_counts_joins_ranks_and_keeps_the_worst_evidence():
    merged = merge(
        [
            _finding(count=2, ranks=(0,)),
            _finding("NAN105", ranks=(1,), producer=None),
            _finding(count=3, ranks=(1,)),
        ]
    )
    assert merged == [
        _finding(count=5, ranks=(0, 1), observed={"saturated": 3}),
        _finding("NAN105", ranks=(1,), producer=None),
    ]


def test_findings_survive_the_trip_through_json():
    findings = [_finding(ranks=(0, 1)), replace(_finding("NAN103", producer=None), test="t.py::x")]
    assert from_json(to_json(findings)) == findings


@pytest.mark.parametrize(
    ("environment", "expected"),
    [
        ({}, None),
        ({"RANK": "0", "WORLD_SIZE": "1"}, None),
        ({"RANK": "3", "WORLD_SIZE": "4"}, Launch(3, 4, 3, 4)),
        (
            {"RANK": "3", "WORLD_SIZE": "4", "LOCAL_RANK": "1", "LOCAL_WORLD_SIZE": "2"},
            Launch(3, 4, 1, 2),
        ),
    ],
)
def test_the_launch_is_read_from_the_launchers_environment(monkeypatch, environment, expected):
    for name in ("RANK", "WORLD_SIZE", "LOCAL_RANK", "LOCAL_WORLD_SIZE"):
        monkeypatch.delenv(name, raising=False)
    for name, value in environment.items():
        monkeypatch.setenv(name, value)
    assert Launch.from_environment() == expected


def test_without_a_process_group_the_local_ranks_meet_through_files(monkeypatch, tmp_path):
    monkeypatch.setenv("TMPDIR", str(tmp_path))
    monkeypatch.setattr("tempfile.tempdir", None)
    monkeypatch.setenv("TORCHELASTIC_RUN_ID", "run-1")
    monkeypatch.setenv("NANLINT_GATHER_TIMEOUT", "5")
    started = time.time()
    assert gather([_finding(count=2), _finding("NAN105")], Launch(1, 2, 1, 2), started) is None
    assert [path.name for path in exchange_directory().iterdir()] == ["rank-1.json"]
    merged = gather([_finding()], Launch(0, 2, 0, 2), started)
    worst = {"saturated": 2}  # rank 1's
    assert merged == [
        _finding(count=3, ranks=(0, 1), observed=worst),
        _finding("NAN105", ranks=(1,)),
    ]
    assert not exchange_directory().exists()  # rank 0 cleans up


def test_a_rank_that_never_reports_is_named_and_a_stale_file_is_not_read(
    monkeypatch, tmp_path, capsys
):
    monkeypatch.setenv("TMPDIR", str(tmp_path))
    monkeypatch.setattr("tempfile.tempdir", None)
    monkeypatch.setenv("NANLINT_GATHER_TIMEOUT", "0")
    stale = exchange_directory() / "rank-1.json"  # an earlier launch of the same name
    stale.parent.mkdir()
    stale.write_text(to_json([_finding("NAN105")]))
    os.utime(stale, (time.time() - 60, time.time() - 60))
    assert gather([_finding()], Launch(0, 2, 0, 2), time.time()) == [_finding(ranks=(0,))]
    assert capsys.readouterr().err == (
        "nanlint run: 1 local rank(s) did not report their findings in time\n"
    )
    assert not stale.exists()


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _findings(report) -> list[tuple]:
    return sorted(
        (
            item["code"],
            f"{os.path.basename(item['filename'])}:{item['location']['row']}",
            item["ranks"],
            item["count"],
        )
        for item in json.loads(report.read_text())
    )


# Both ranks feed sigmoid outputs to BCELoss twice; rank 1 also feeds softmax to kl_div twice.
EXPECTED = [("NAN101", "train.py:25", [0, 1], 4), ("NAN105", "train.py:27", [1], 2)]


@pytest.mark.skipif(shutil.which("torchrun") is None, reason="torchrun is not installed")
def test_torchrun_two_ranks_print_the_merged_findings_once(tmp_path):
    report = tmp_path / "report.json"
    command = [
        "torchrun", "--standalone", "--nproc_per_node", "2",
        "-m", "nanlint", "run", "--output-format", "json", "-o", str(report), "train.py",
    ]  # fmt: skip
    done = subprocess.run(command, cwd=DDP, capture_output=True, text=True, timeout=240)
    assert done.returncode == 1, done.stderr  # rank 0's status: there are findings
    assert _findings(report) == EXPECTED
    assert done.stdout.count("rank 1 drift") == 2


def _rank(rank: int, port: str, report, tmp_path) -> subprocess.Popen:
    environment = {"RANK": str(rank), "WORLD_SIZE": "2", "MASTER_ADDR": "127.0.0.1"}
    environment.update(MASTER_PORT=port, NANLINT_GATHER_TIMEOUT="0")
    temporary = tmp_path / f"tmp{rank}"  # each rank its own: files could not meet
    temporary.mkdir()
    environment["TMPDIR"] = str(temporary)
    command = ["-m", "nanlint", "run", "--output-format", "json", "-o", str(report)]
    return subprocess.Popen(
        [sys.executable, *command, "train.py", "--keep-group"],
        cwd=DDP,
        env={**os.environ, **environment},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )


def test_ranks_with_a_live_gloo_group_gather_over_it(tmp_path):
    port = str(_free_port())
    reports = [tmp_path / f"rank{rank}.json" for rank in (0, 1)]
    ranks = [_rank(rank, port, report, tmp_path) for rank, report in enumerate(reports)]
    statuses = [process.wait(timeout=240) for process in ranks]
    assert statuses == [1, 0], [process.stderr.read() for process in ranks]
    assert _findings(reports[0]) == EXPECTED
    assert not reports[1].exists()  # printed once
