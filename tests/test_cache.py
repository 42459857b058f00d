"""The results cache: replayed only when every input of the run is unchanged, and safe to share."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys

import pytest
from click.testing import CliRunner

from conftest import ROOT
from nanlint import cache, records
from nanlint.cli import main
from nanlint.engine import everywhere, lint_files
from nanlint.rules import ALL_RULES
from nanlint.source import SourceFile

PROJECTS = ROOT / "fixtures" / "projects"
TRAIN = "segmentation/train.py"
UNET = "segmentation/models/unet.py"


@pytest.fixture
def project(tmp_path, monkeypatch):
    """A copy of the UNet project (NAN101 in train.py, the sigmoid in models/unet.py)."""
    copy = tmp_path / "unet"
    shutil.copytree(PROJECTS / "unet_segmentation", copy)
    monkeypatch.chdir(copy)
    monkeypatch.delenv(cache.ENVIRONMENT_VARIABLE, raising=False)
    return copy


def check(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(
        main, ["check", "--isolated", "--output-format", "concise", *args], catch_exceptions=False
    )
    return result.exit_code, result.stdout


def records_in(directory) -> list:
    return sorted(directory.glob(f"{cache.CACHE_NAME}/*/*.json"))


def test_an_unchanged_run_replays_the_same_diagnostics(project):
    cold = check(TRAIN)
    assert cold[0] == 1 and f"{TRAIN}:22:30: NAN101" in cold[1]
    assert len(records_in(project)) == 1
    assert check(TRAIN) == cold
    assert check("--no-cache", TRAIN) == cold


def test_the_cache_directory_is_tagged_and_ignored_by_git(project):
    check(TRAIN)
    directory = project / cache.CACHE_NAME
    assert (
        (directory / "CACHEDIR.TAG")
        .read_text()
        .startswith("Signature: 8a477f597d28d172789f06886806bc55\n")
    )
    assert (directory / ".gitignore").read_text().splitlines()[-1] == "*"


def test_no_cache_neither_reads_nor_writes(project):
    check("--no-cache", TRAIN)
    assert not (project / cache.CACHE_NAME).exists()


def test_cache_dir_and_the_environment_choose_the_directory(project, tmp_path, monkeypatch):
    check("--cache-dir", str(tmp_path / "elsewhere"), TRAIN)
    assert len(list((tmp_path / "elsewhere").glob("*/*.json"))) == 1
    monkeypatch.setenv(cache.ENVIRONMENT_VARIABLE, str(tmp_path / "from-env"))
    check(TRAIN)
    assert len(list((tmp_path / "from-env").glob("*/*.json"))) == 1
    assert not (project / cache.CACHE_NAME).exists()


def test_a_changed_dependency_that_is_not_linted_invalidates_the_record(project):
    assert "NAN101" in check(TRAIN)[1]
    unet = project / UNET
    unet.write_text(unet.read_text().replace(", nn.Sigmoid())", ")"))
    assert check(TRAIN) == (0, "All checks passed!\n")


def test_a_new_module_that_changes_an_import_invalidates_the_record(project):
    assert "NAN101" in check(TRAIN)[1]
    # `from segmentation.models import UNet` now finds a module shadowing the package's name
    (project / "segmentation" / "models" / "UNet.py").write_text("VALUE = 1\n")
    assert check(TRAIN) == (0, "All checks passed!\n")


def test_different_settings_have_their_own_record(project):
    assert check("--select", "NAN2", TRAIN) == (0, "All checks passed!\n")
    assert "NAN101" in check(TRAIN)[1]
    assert len(records_in(project)) == 2


@pytest.mark.parametrize("damage", ["", "{", '{"format": 1}', "[]", '{"format": 999}'])
def test_a_damaged_record_is_a_miss(project, damage):
    cold = check(TRAIN)
    (record,) = records_in(project)
    record.write_text(damage)
    assert check(TRAIN) == cold
    assert json.loads(record.read_text())["format"] == cache.FORMAT  # rewritten whole


def test_a_damaged_diagnostic_is_a_miss(project):
    cold = check(TRAIN)
    (record,) = records_in(project)
    data = json.loads(record.read_text())
    data["diagnostics"][0]["span"] = "nonsense"
    record.write_text(json.dumps(data))
    assert check(TRAIN) == cold


def test_records_beyond_the_limit_are_pruned_oldest_first(project, monkeypatch):
    monkeypatch.setattr(cache, "MAX_RECORDS", 2)
    for selector in ("NAN1", "NAN2", "NAN3"):
        check("--select", selector, TRAIN)
    assert len(records_in(project)) == 2
    check("--select", "NAN3", TRAIN)  # the newest record survived
    assert len(records_in(project)) == 2


def test_clean_removes_the_cache(project):
    check(TRAIN)
    result = CliRunner().invoke(main, ["clean"])
    assert result.exit_code == 0 and result.stdout.startswith("Removed ")
    assert not (project / cache.CACHE_NAME).exists()
    assert CliRunner().invoke(main, ["clean"]).stdout.startswith("No cache at ")


def test_clean_refuses_a_directory_that_is_not_a_nanlint_cache(project):
    (project / "precious").mkdir()
    result = CliRunner().invoke(main, ["clean", "--cache-dir", "precious"])
    assert result.exit_code == 2 and "not a nanlint cache directory" in result.output
    assert (project / "precious").is_dir()


def test_records_round_trip_every_diagnostic_of_the_example_project():
    sources = [
        SourceFile.from_bytes(path, path.read_bytes())
        for path in sorted((ROOT / "fixtures" / "example_project").glob("*.py"))
    ]
    diagnostics, _ = lint_files(sources, everywhere(ALL_RULES))
    assert any(d.fix is not None and d.related for d in diagnostics)
    loaded = [records.load(json.loads(json.dumps(records.dump(d)))) for d in diagnostics]
    assert loaded == diagnostics


_CHECK_AND_REPORT_IMPORTS = (
    "import sys, runpy\n"
    "sys.argv = ['nanlint', 'check', '--isolated', '--output-format', 'concise', sys.argv[1]]\n"
    "try:\n"
    "    runpy.run_module('nanlint', run_name='__main__')\n"
    "except SystemExit:\n"
    "    pass\n"
    "print('libcst' in sys.modules)\n"
)


def test_a_replayed_run_does_not_load_the_analysis(project):
    def run() -> list[str]:
        done = subprocess.run(
            [sys.executable, "-c", _CHECK_AND_REPORT_IMPORTS, TRAIN],
            capture_output=True,
            text=True,
            check=True,
        )
        return done.stdout.splitlines()

    cold, warm = run(), run()
    assert cold[-1] == "True" and warm[-1] == "False"
    assert cold[:-1] == warm[:-1] and f"{TRAIN}:22:30: NAN101" in cold[0]


def test_concurrent_runs_share_the_cache_safely(project):
    command = [sys.executable, "-m", "nanlint", "check", "--isolated", "--output-format", "concise"]
    expected = subprocess.run([*command, "--no-cache", "."], capture_output=True, text=True)
    for _ in range(2):  # a cold race, then a warm one
        racers = [
            subprocess.Popen([*command, "."], stdout=subprocess.PIPE, text=True) for _ in range(4)
        ]
        outputs = [racer.communicate()[0] for racer in racers]
        assert outputs == [expected.stdout] * 4
    (record,) = records_in(project)
    assert json.loads(record.read_text())["format"] == cache.FORMAT
    assert not [path for path in record.parent.iterdir() if path.suffix != ".json"]


def read_files(monkeypatch) -> list[str]:
    """The files nanlint reads as sources from now on (by name)."""
    names: list[str] = []
    real = SourceFile.from_bytes.__func__

    def counting(cls, path, data):
        names.append(path.name)
        return real(cls, path, data)

    monkeypatch.setattr(SourceFile, "from_bytes", classmethod(counting))
    return names


def test_an_untouched_run_is_replayed_reading_only_what_it_shows(project, monkeypatch):
    cold = check("segmentation")
    assert "NAN101" in cold[1]
    names = read_files(monkeypatch)
    assert check("segmentation") == cold
    # only the files its diagnostics show (the loss, the sigmoid); the others are stat-ed
    assert names == ["unet.py", "train.py"]
    assert len(list((project / "segmentation").rglob("*.py"))) > 2


def test_a_touched_file_is_hashed_again_and_the_record_still_replayed(project, monkeypatch):
    cold = check("segmentation")
    (project / UNET).write_text((project / UNET).read_text())  # same content, new times
    names = read_files(monkeypatch)
    assert check("segmentation") == cold
    assert "unet.py" in names  # read and hashed: the content decides


def test_a_record_from_another_build_of_nanlint_is_not_replayed(project, monkeypatch):
    check(TRAIN)
    monkeypatch.setattr(cache, "_nanlint_build", lambda: "another build")
    check(TRAIN)
    assert len(records_in(project)) == 2


def test_a_file_changed_while_it_was_checked_is_not_trusted_by_its_signature(project):
    inputs = {str(project / UNET): cache.digest("what the run read\n")}
    assert cache._signatures(inputs) == {}  # the file on disk is not what was hashed
    inputs = {str(project / UNET): cache.digest((project / UNET).read_text())}
    assert cache._signatures(inputs) == {str(project / UNET): cache.signature(str(project / UNET))}
