"""The real-code score's own logic (bench/realcode/): labels, matching, counting, reporting.

Tiny synthetic labels and findings only: no corpus is fetched and nanlint is not run.
"""

from __future__ import annotations

import json
import subprocess
import sys
import zipfile

import pytest

from conftest import ROOT

sys.path.insert(0, str(ROOT / "bench" / "realcode"))

import fetch
import score
from labels import LabelError, Span, load_labels, parse_labels
from manifest import Repository, Wheel, load_manifest
from matching import Finding, findings_from_json, relative_path, score_corpus
from score_report import render_markdown, render_text, summary

LABELS = """
[[bug]]
path = "pkg/gan.py"
sink = [10, 12]
producer = 3
codes = ["NAN101"]
ends = "same-file"
capability = "core"
note = "sigmoid discriminator into BCELoss"

[[bug]]
path = "pkg/loss.py"
sink = 40
producer = 38
codes = ["NAN203", "NAN204"]
ends = "same-function"
capability = "1"
note = "log of a sum of exps joined with +"

[[trap]]
path = "pkg/loss.py"
line = 50
codes = []
note = "max-shifted log-sum-exp"

[[verdict]]
path = "pkg/audio.py"
line = 7
code = "NAN601"
verdict = "false"
reason = "window norm without gradient"

[[verdict]]
path = "pkg/audio.py"
line = 9
code = "NAN601"
verdict = "debatable"
reason = "norm of an embedding"
"""


def finding(path: str, line: int, code: str, message: str = "m") -> Finding:
    return Finding("demo", path, line, code, message)


@pytest.fixture
def labels():
    return parse_labels("demo", LABELS)


def test_labels_parse_spans_and_fields(labels):
    first, second = labels.bugs
    assert (first.sink, first.codes, first.ends, first.capability) == (
        Span(10, 12),
        ("NAN101",),
        "same-file",
        "core",
    )
    assert second.sink == Span(40, 40) and 40 in second.sink and 41 not in second.sink
    assert [trap.codes for trap in labels.traps] == [()]
    assert [(v.code, v.verdict) for v in labels.verdicts] == [
        ("NAN601", "false"),
        ("NAN601", "debatable"),
    ]


@pytest.mark.parametrize(
    ("entry", "message"),
    [
        ('ends = "elsewhere"\ncapability = "core"\nsink = 1', "ends must be one of"),
        ('ends = "same-file"\ncapability = "9"\nsink = 1', "unknown capability"),
        ('ends = "same-file"\ncapability = "core"\nsink = [5, 2]', "a line is an integer"),
    ],
)
def test_labels_reject_malformed_entries(entry, message):
    text = f'[[bug]]\npath = "a.py"\ncodes = ["NAN101"]\nnote = "n"\n{entry}\n'
    with pytest.raises(LabelError, match=message):
        parse_labels("demo", text)


def test_relative_path_accepts_absolute_and_dotted_names():
    assert relative_path("/c/root/pkg/a.py", "/c/root") == "pkg/a.py"
    assert relative_path("./pkg/a.py", "/c/root") == "pkg/a.py"
    assert relative_path("pkg/a.py", "/c/root") == "pkg/a.py"


def test_findings_from_json_reads_rows_and_names_skipped_files():
    diagnostics = [
        {
            "filename": "/r/pkg/a.py",
            "location": {"row": 4, "column": 1},
            "code": "NAN101",
            "message": "x",
        },
        {
            "filename": "/r/pkg/b.py",
            "location": {"row": 1, "column": 1},
            "code": None,
            "message": "deep",
        },
    ]
    assert findings_from_json("demo", "/r", diagnostics) == [
        Finding("demo", "pkg/a.py", 4, "NAN101", "x"),
        Finding("demo", "pkg/b.py", 1, "skipped", "deep"),
    ]


def test_matching_rule_same_file_code_and_sink_span(labels):
    findings = [
        finding("pkg/gan.py", 11, "NAN101"),  # inside the sink span: the bug
        finding("pkg/gan.py", 12, "NAN101"),  # a second finding on the same bug
        finding("pkg/gan.py", 13, "NAN101"),  # one line past the span: nobody's
        finding("pkg/gan.py", 10, "NAN103"),  # right place, code not among the bug's
        finding("pkg/other.py", 11, "NAN101"),  # another file
    ]
    result = score_corpus(labels, findings)
    gan_bug, loss_bug = labels.bugs
    assert result.found == {gan_bug: findings[:2]}
    assert result.unlabelled == findings[2:]
    assert result.missed == [loss_bug]


def test_skipped_files_are_listed_apart_and_never_matched(labels):
    skipped = finding("pkg/gan.py", 11, "skipped", "ParseError: too deep")
    result = score_corpus(labels, [skipped])
    assert (result.skipped, result.unlabelled, result.found) == ([skipped], [], {})
    data = summary([result])
    assert [(row["path"], row["message"]) for row in data["skipped"]] == [
        ("pkg/gan.py", "ParseError: too deep")
    ]
    assert "files nanlint skipped (1):\n  demo/pkg/gan.py:11 skipped: ParseError: too deep" in (
        render_text(data)
    )
    assert "- `demo/pkg/gan.py:11`: ParseError: too deep" in render_markdown(data)


def test_traps_catch_any_code_and_win_over_verdicts(labels):
    on_trap = finding("pkg/loss.py", 50, "NAN302")
    judged_false = finding("pkg/audio.py", 7, "NAN601")
    judged_debatable = finding("pkg/audio.py", 9, "NAN601")
    wrong_code = finding("pkg/audio.py", 7, "NAN602")
    result = score_corpus(labels, [on_trap, judged_false, judged_debatable, wrong_code])
    assert [f for f, _ in result.trapped] == [on_trap]
    assert [(f, v.verdict) for f, v in result.judged] == [
        (judged_false, "false"),
        (judged_debatable, "debatable"),
    ]
    assert result.unlabelled == [wrong_code]

    both = parse_labels(
        "demo",
        LABELS + '[[verdict]]\npath = "pkg/loss.py"\nline = 50\ncode = "NAN302"\n'
        'verdict = "debatable"\nreason = "r"\n',
    )
    assert [f for f, _ in score_corpus(both, [on_trap]).trapped] == [on_trap]


def test_summary_counts_recall_by_ends_and_capability_and_false_by_code(labels):
    result = score_corpus(
        labels,
        [
            finding("pkg/gan.py", 10, "NAN101"),
            finding("pkg/loss.py", 50, "NAN203"),
            finding("pkg/audio.py", 7, "NAN601"),
            finding("pkg/audio.py", 9, "NAN601"),
            finding("pkg/new.py", 3, "NAN202", "log of sigmoid"),
        ],
    )
    data = summary([result])
    assert data["recall"] == {"found": 1, "bugs": 2}
    assert data["by_ends"] == {"same-function": [0, 1], "same-file": [1, 1]}
    assert data["by_capability"] == {"core": [1, 1], "1": [0, 1]}
    assert data["traps"] == {"flagged": 1, "total": 1}
    assert data["false_by_code"] == {"NAN203": 1, "NAN601": 1}
    assert data["debatable_by_code"] == {"NAN601": 1}
    assert [row["kind"] for row in data["false"]] == ["false", "trap"]
    assert [(row["path"], row["sink"]) for row in data["missed"]] == [("pkg/loss.py", "40")]
    assert [(row["path"], row["line"]) for row in data["unlabelled"]] == [("pkg/new.py", 3)]
    assert data["corpora"][0] == {
        "corpus": "demo",
        "findings": 5,
        "by_code": {"NAN101": 1, "NAN202": 1, "NAN203": 1, "NAN601": 2},
        "bugs": 2,
        "found": 1,
        "traps": 1,
        "traps_flagged": 1,
        "verdicts": 2,
        "unlabelled": 1,
        "skipped": 0,
    }


def test_text_and_markdown_reports_list_every_item(labels):
    result = score_corpus(
        labels, [finding("pkg/gan.py", 10, "NAN101"), finding("pkg/new.py", 3, "NAN202", "log")]
    )
    text = render_text(summary([result]))
    assert text.splitlines()[:3] == [
        "recall: 1/2 (50%)",
        "by where the ends sit:",
        "  same-function    0/1 (0%)",
    ]
    assert (
        "  demo/pkg/loss.py:40 NAN203/NAN204 [same-function, 1]: log of a sum of exps joined with +"
        in text
    )
    assert "  demo/pkg/new.py:3 NAN202: log" in text
    markdown = render_markdown(summary([result]))
    assert "### 1: exp/log algebra (1)" in markdown
    assert (
        "- `demo/pkg/loss.py:40` NAN203/NAN204 (same-function): log of a sum of exps joined with +"
        in markdown
    )
    assert "| demo | 2 | NAN101 1, NAN202 1 | 1/2 | 0/1 | 1 |" in markdown


def write_corpus(tmp_path):
    labels_dir = tmp_path / "labels"
    labels_dir.mkdir()
    (labels_dir / "demo.toml").write_text(LABELS)
    findings_dir = tmp_path / "findings"
    findings_dir.mkdir()
    root = tmp_path / "corpus" / "src" / "demo"
    diagnostics = [
        {
            "filename": str(root / "pkg" / "gan.py"),
            "location": {"row": 12, "column": 5},
            "code": "NAN101",
            "message": "sigmoid into BCELoss",
        }
    ]
    (findings_dir / "demo.json").write_text(json.dumps(diagnostics))
    return labels_dir, findings_dir


def test_main_scores_saved_findings_as_json(tmp_path, capsys):
    labels_dir, findings_dir = write_corpus(tmp_path)
    argv = ["--corpus-dir", str(tmp_path / "corpus"), "--labels", str(labels_dir)]
    assert score.main([*argv, "--findings", str(findings_dir), "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["recall"] == {"found": 1, "bugs": 2}
    assert score.main([*argv, "--findings", str(findings_dir), "--corpus", "nope"]) == 2
    assert "no labels for: nope" in capsys.readouterr().err


def test_main_runs_nanlint_from_the_corpus_root(tmp_path, capsys, monkeypatch):
    labels_dir, _ = write_corpus(tmp_path)
    root = tmp_path / "corpus" / "src" / "demo"
    root.mkdir(parents=True)
    seen = []

    def fake_run(corpus_root, nanlint_src):
        seen.append((corpus_root, nanlint_src))
        return [
            {"filename": "./pkg/gan.py", "location": {"row": 10}, "code": "NAN101", "message": "m"}
        ]

    monkeypatch.setattr(score, "run_nanlint", fake_run)
    saved = tmp_path / "saved"
    argv = ["--corpus-dir", str(tmp_path / "corpus"), "--labels", str(labels_dir)]
    assert score.main([*argv, "--nanlint-src", "src", "--save-findings", str(saved)]) == 0
    assert seen == [(root, ROOT.joinpath("src").relative_to(ROOT))]
    assert capsys.readouterr().out.startswith("recall: 1/2 (50%)\n")
    assert json.loads((saved / "demo.json").read_text())[0]["code"] == "NAN101"


def test_manifest_names_every_corpus_and_each_has_a_label_file():
    manifest = load_manifest()
    names = manifest.corpus_names()
    assert len(manifest.wheels) >= 20 and len(manifest.repositories) >= 10
    assert len(set(names)) == len(names)
    assert set(names) == set(load_labels())
    assert Wheel("pyro-ppl", "1.9.2").corpus == "pyro-ppl-1.9.2"
    repository = Repository("owner/name", "0123456789abcdef0123456789abcdef01234567")
    assert (repository.slug, repository.corpus) == ("owner+name", "owner+name-0123456789ab")


def test_every_label_file_parses_and_names_known_codes():
    from nanlint.rules import ALL_RULES

    codes = {rule.code for rule in ALL_RULES}
    for corpus in load_labels().values():
        for bug in corpus.bugs:
            assert set(bug.codes) <= codes, (corpus.corpus, bug)
        assert {verdict.code for verdict in corpus.verdicts} <= codes, corpus.corpus


def test_fetch_unpacks_only_the_python_files_of_a_cached_wheel(tmp_path):
    wheels = tmp_path / "wheels"
    wheels.mkdir()
    with zipfile.ZipFile(wheels / "demo_pkg-1.0-py3-none-any.whl", "w") as archive:
        archive.writestr("demo_pkg/__init__.py", "x = 1\n")
        archive.writestr("demo_pkg/data.bin", "skip")
    target = fetch.fetch_wheel(Wheel("demo-pkg", "1.0"), tmp_path)
    assert sorted(p.relative_to(target).as_posix() for p in target.rglob("*") if p.is_file()) == [
        ".complete",
        "demo_pkg/__init__.py",
    ]


def test_fetch_reads_a_repository_at_its_commit_from_a_mirror(tmp_path):
    work = tmp_path / "mirrors" / "owner+name" / "repo"
    work.mkdir(parents=True)
    git = ["git", "-C", str(work), "-c", "user.name=t", "-c", "user.email=t@t"]
    subprocess.run(["git", "init", "-q", str(work)], check=True)
    (work / "a.py").write_text("first = 1\n")
    (work / "notes.txt").write_text("skip\n")
    subprocess.run([*git, "add", "."], check=True)
    subprocess.run([*git, "commit", "-qm", "one"], check=True)
    commit = subprocess.run([*git, "rev-parse", "HEAD"], capture_output=True, text=True).stdout
    (work / "a.py").write_text("second = 2\n")
    subprocess.run([*git, "commit", "-qam", "two"], check=True)
    repository = Repository("owner/name", commit.strip())
    assert fetch.git_dir(tmp_path / "mirrors", repository) == work / ".git"
    target = fetch.fetch_repository(repository, tmp_path / "mirrors", tmp_path / "out")
    assert (target / "a.py").read_text() == "first = 1\n"
    assert not (target / "notes.txt").exists()
    with pytest.raises(FileNotFoundError, match="no git mirror of other/repo"):
        fetch.git_dir(tmp_path / "mirrors", Repository("other/repo", commit.strip()))
