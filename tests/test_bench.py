"""The benchmark's own logic (bench/): corpora, command lines, measurement, verdicts, report.

Nothing here downloads a corpus or asserts a timing.
"""

from __future__ import annotations

import json
import sys
import zipfile
from pathlib import Path

import pytest

from conftest import ROOT

sys.path.insert(0, str(ROOT / "bench"))

import run
from commands import NanlintFlags, nanlint_check, ruff_check, torchfix_check
from corpora import (
    CACHE_ENV,
    CORPORA,
    DEFAULT_CORPORA,
    Corpus,
    copy_project,
    default_cache_dir,
    download_command,
    fetch,
)
from measure import CommandFailed, Measurement, measure, median_seconds
from report import as_json, markdown, markdown_table, times, verdicts
from results import (
    NANLINT_COLD,
    NANLINT_ONE_FILE,
    NANLINT_WARM,
    RUFF_ALL,
    RUFF_DEFAULT,
    TORCHFIX,
    CorpusResult,
)
from scenario import diagnostics_in, touch

ALL_FLAGS = NanlintFlags(no_cache=True, cache_dir=True, jobs=True)
NO_FLAGS = NanlintFlags(no_cache=False, cache_dir=False, jobs=False)
HELP = """\
  --exit-zero              Exit 0 even when diagnostics remain.
  --no-cache               Read and write no cache.
  --cache-dir DIRECTORY    Where the cache lives.
  -j, --jobs INTEGER       Processes to use.
"""


def runs(*seconds: float, peak: float = 100.0) -> list[Measurement]:
    return [Measurement(s, peak, 0) for s in seconds]


def result_with(**medians: float) -> CorpusResult:
    labels = {
        "cold": NANLINT_COLD,
        "warm": NANLINT_WARM,
        "one_file": NANLINT_ONE_FILE,
        "ruff_all": RUFF_ALL,
        "ruff_default": RUFF_DEFAULT,
        "torchfix": TORCHFIX,
    }
    result = CorpusResult("transformers", "5.23.0", 2860)
    for key, seconds in medians.items():
        result.commands[labels[key]] = ["tool", "."]
        result.runs[labels[key]] = runs(seconds)
    return result


def verdict_of(result: CorpusResult, target: str):
    (verdict,) = [v for v in verdicts(result) if v.target.startswith(target)]
    return verdict


# Corpora


def test_the_corpora_are_pinned_to_the_issue_versions():
    assert CORPORA["timm"].requirement == "timm==1.0.31"
    assert CORPORA["transformers"].requirement == "transformers==5.23.0"
    assert set(DEFAULT_CORPORA) == {"timm", "transformers"}


@pytest.mark.parametrize("name", sorted(CORPORA))
def test_the_changed_file_is_a_python_file_inside_the_quick_subset(name):
    corpus = CORPORA[name]
    assert corpus.changed_file.endswith(".py")
    assert Path(corpus.changed_file).parent.is_relative_to(corpus.quick_dir)


def test_the_wheel_prefix_is_pip_s_file_name():
    assert CORPORA["pytorch-lightning"].wheel_prefix == "pytorch_lightning-2.6.6-"


def test_download_is_a_binary_wheel_without_dependencies(tmp_path):
    command = download_command(CORPORA["timm"], tmp_path, None)
    assert command[1:4] == ["-m", "pip", "download"]
    assert {"--no-deps", "timm==1.0.31"} <= set(command)
    assert command[command.index("--only-binary") + 1] == ":all:"
    assert command[command.index("-d") + 1] == str(tmp_path)
    assert "--find-links" not in command
    assert download_command(CORPORA["timm"], tmp_path, "/wheels")[-2:] == [
        "--find-links",
        "/wheels",
    ]


def test_the_cache_is_outside_the_repository_unless_overridden(monkeypatch, tmp_path):
    monkeypatch.delenv(CACHE_ENV, raising=False)
    assert not default_cache_dir().is_relative_to(ROOT)
    monkeypatch.setenv(CACHE_ENV, str(tmp_path))
    assert default_cache_dir() == tmp_path


def test_fetch_unpacks_the_python_files_of_a_cached_wheel_once(tmp_path):
    corpus = Corpus("tiny-pkg", "1.0", "tiny_pkg/core.py", "tiny_pkg")
    (tmp_path / "wheels").mkdir()
    wheel = tmp_path / "wheels" / "tiny_pkg-1.0-py3-none-any.whl"
    with zipfile.ZipFile(wheel, "w") as archive:
        archive.writestr("tiny_pkg/core.py", "x = 1\n")
        archive.writestr("tiny_pkg/data.json", "{}")
        archive.writestr("tiny_pkg-1.0.dist-info/METADATA", "Name: tiny-pkg\n")
    unpacked = fetch(corpus, tmp_path)
    unpacked_files = sorted(p.relative_to(unpacked).as_posix() for p in unpacked.rglob("*.*"))
    assert unpacked_files == [".complete", "tiny_pkg/core.py"]
    wheel.unlink()  # a second fetch neither downloads nor unpacks
    (unpacked / "tiny_pkg" / "core.py").write_text("x = 2\n")
    assert fetch(corpus, tmp_path) == unpacked
    assert (unpacked / "tiny_pkg" / "core.py").read_text() == "x = 2\n"


def test_the_quick_copy_holds_the_subset_only_at_its_place(tmp_path):
    corpus = Corpus("tiny-pkg", "1.0", "pkg/sub/a.py", "pkg/sub")
    unpacked = tmp_path / "unpacked"
    for name in ("pkg/sub/a.py", "pkg/b.py", ".complete"):
        (unpacked / name).parent.mkdir(parents=True, exist_ok=True)
        (unpacked / name).write_text("")
    quick = copy_project(corpus, unpacked, tmp_path / "quick", quick=True)
    full = copy_project(corpus, unpacked, tmp_path / "full", quick=False)
    assert [p.relative_to(quick).as_posix() for p in quick.rglob("*.py")] == ["pkg/sub/a.py"]
    assert sorted(p.relative_to(full).as_posix() for p in full.rglob("*.*")) == [
        "pkg/b.py",
        "pkg/sub/a.py",
    ]


# Command lines


def test_the_flags_are_read_from_the_help_text():
    assert NanlintFlags.from_help(HELP) == ALL_FLAGS
    assert NanlintFlags.from_help("--no-cache-info  --cache-directory  --jobsite") == NO_FLAGS


def test_missing_flags_are_warned_about_and_jobs_only_when_asked():
    assert ALL_FLAGS.warnings(jobs=2) == []
    assert len(NO_FLAGS.warnings(jobs=None)) == 2
    (jobs,) = [w for w in NO_FLAGS.warnings(jobs=2) if "--jobs" in w]
    assert "--jobs 2" in jobs


def test_nanlint_cold_warm_and_fallback_command_lines(tmp_path):
    cold = nanlint_check("py", ALL_FLAGS, ["."], jobs=2)
    warm = nanlint_check("py", ALL_FLAGS, ["a.py"], Path("/c"), None, ("--force-exclude",))
    fallback = nanlint_check("py", NO_FLAGS, ["."], Path("/c"), 2)
    assert " ".join(cold) == "py -m nanlint check --isolated --exit-zero --no-cache --jobs 2 ."
    assert " ".join(warm) == (
        "py -m nanlint check --isolated --exit-zero --force-exclude --cache-dir /c a.py"
    )
    assert " ".join(fallback) == "py -m nanlint check --isolated --exit-zero ."


def test_ruff_and_torchfix_command_lines():
    everything = "ruff check --no-cache --isolated --exit-zero --select ALL ."
    assert " ".join(ruff_check("ruff", select_all=True)) == everything
    assert " ".join(ruff_check("ruff", select_all=False)) == everything.replace(" --select ALL", "")
    assert torchfix_check("torchfix") == ["torchfix", "."]


def test_repeat_defaults_and_torchfix_runs_once_unless_asked():
    defaults = run.parse_args([])
    assert (defaults.repeat, defaults.corpus, defaults.torchfix) == (None, None, False)
    chosen = run.parse_args(["--corpus", "timm", "--corpus", "diffusers", "--repeat", "5"])
    assert (chosen.corpus, chosen.repeat) == (["timm", "diffusers"], 5)
    with pytest.raises(SystemExit):
        run.parse_args(["--corpus", "numpy"])


# Measurement


def test_each_measurement_has_its_own_peak_memory(tmp_path):
    big = measure([sys.executable, "-c", "data = b'x' * (200 * 2**20)"], tmp_path)
    small = measure([sys.executable, "-c", "pass"], tmp_path)
    assert big.peak_mb > 200 > small.peak_mb
    assert big.returncode == small.returncode == 0


def test_an_unexpected_exit_code_fails_the_benchmark(tmp_path):
    exit_3 = [sys.executable, "-c", "import sys; sys.stderr.write('boom'); sys.exit(3)"]
    with pytest.raises(CommandFailed, match="boom"):
        measure(exit_3, tmp_path)
    assert measure(exit_3, tmp_path, ok_codes=(0, 3)).returncode == 3


def test_median_of_an_even_and_an_odd_number_of_runs():
    assert median_seconds(runs(3.0, 1.0, 2.0)) == 2.0
    assert median_seconds(runs(4.0, 1.0, 2.0, 3.0)) == 2.5


def test_touch_makes_new_content_that_still_compiles(tmp_path):
    path = tmp_path / "model.py"
    path.write_text("x = 1")  # no final newline
    touch(path, 0)
    first = path.read_text()
    touch(path, 1)
    assert first != path.read_text()
    assert path.read_text().startswith("x = 1\n")
    compile(path.read_text(), str(path), "exec")


def test_diagnostics_are_those_of_the_named_file_whatever_its_path_spelling(tmp_path):
    def item(filename, row):
        location = {"row": row, "column": 1}
        return {"filename": filename, "code": "NAN101", "message": "m", "location": location}

    output = json.dumps(
        [item(str(tmp_path / "pkg/a.py"), 3), item("pkg/b.py", 1), item("pkg/a.py", 1)]
    )
    assert diagnostics_in(output, tmp_path, "pkg/a.py") == [
        ("NAN101", 1, 1, "m"),
        ("NAN101", 3, 1, "m"),
    ]


# Verdicts and report


def test_the_ratio_targets_at_their_limits():
    result = result_with(cold=10.0, ruff_all=10.0, warm=1.0, ruff_default=4.0, torchfix=500.0)
    assert verdict_of(result, "cold nanlint").passed
    assert verdict_of(result, "warm nanlint").passed
    assert verdict_of(result, "TorchFix").passed
    slower = result_with(cold=10.1, ruff_all=10.0, warm=1.1, ruff_default=4.0, torchfix=499.0)
    assert not any(verdict_of(slower, name).passed for name in ("cold", "warm", "TorchFix"))
    assert verdict_of(slower, "TorchFix").measured == "49x"


def test_one_file_time_memory_and_correctness_targets():
    result = result_with(one_file=0.59)
    result.one_file_correct = False
    assert verdict_of(result, "one changed file, wall").passed
    assert verdict_of(result, "nanlint peak memory").passed  # 100 MB
    assert not verdict_of(result, "one changed file, diagnostics").passed
    result.runs[NANLINT_ONE_FILE] = runs(0.6, peak=400.0)
    assert not verdict_of(result, "one changed file, wall").passed
    assert not verdict_of(result, "nanlint peak memory").passed


def test_a_target_whose_runs_were_not_measured_has_no_verdict():
    assert verdicts(result_with(ruff_all=1.0, ruff_default=1.0)) == []


def test_ratios_are_shown_with_two_decimals_below_ten():
    assert (times(0.4213), times(9.994), times(57.4)) == ("0.42x", "9.99x", "57x")


def test_markdown_table_and_report():
    assert markdown_table(["a", "b"], [["1", "2"]]) == "| a | b |\n| --- | --- |\n| 1 | 2 |"
    result = result_with(cold=2.0, ruff_all=4.0)
    text = markdown({"cpu": "test cpu"}, ["a warning"], [result])
    assert "- cpu: test cpu\n" in text and "- warning: a warning" in text
    assert "### transformers 5.23.0 (2860 files)" in text
    assert "| nanlint cold | 2.00 | 2.00 | 2.00 | 1 | 100 |" in text
    assert "| transformers | cold nanlint / ruff --select ALL | 0.50x | <= 1x | PASS |" in text
    data = as_json({"cpu": "test cpu"}, [], [result])
    (corpus,) = data["corpora"]
    assert corpus["runs"][NANLINT_COLD]["median_s"] == 2.0
    assert corpus["targets"][0]["passed"] is True
    json.dumps(data)
