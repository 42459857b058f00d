"""`nanlint server`, driven over stdio by a real LSP client (tests/lsp_client.py): diagnostics on
open and change, code actions applied to the text, hover, settings, parse errors, shutdown."""

from __future__ import annotations

from pathlib import Path

import pytest

import readme
from lsp_client import Client

BCE = (
    "import torch\nimport torch.nn.functional as F\n\n\n"
    "def loss(z, y):\n    return F.binary_cross_entropy(torch.sigmoid(z), y)\n"
)
BCE_FIXED = BCE.replace(
    "binary_cross_entropy(torch.sigmoid(z)", "binary_cross_entropy_with_logits(z"
)
BCE_RANGE = {"start": {"line": 5, "character": 34}, "end": {"line": 5, "character": 50}}
URL = "https://github.com/nanlint/nanlint/blob/main/rules/{}.md"


class Editor:
    """An editor session: open documents with their versions, over one server."""

    def __init__(self, root: Path, options: dict | None = None):
        self.root = root
        self.client = Client(root)
        self.versions: dict[str, int] = {}
        self.texts: dict[str, str] = {}
        result = self.client.request(
            "initialize",
            {
                "processId": None,
                "rootUri": root.as_uri(),
                "capabilities": {},
                "initializationOptions": options or {},
            },
        )
        assert result["serverInfo"]["name"] == "nanlint"
        self.capabilities = result["capabilities"]
        self.client.notify("initialized", {})

    def uri(self, name: str) -> str:
        return (self.root / name).as_uri()

    def open(self, name: str) -> None:
        self.versions[name], self.texts[name] = 1, (self.root / name).read_text()
        document = {"uri": self.uri(name), "languageId": "python", "version": 1}
        self.client.notify(
            "textDocument/didOpen", {"textDocument": {**document, "text": self.texts[name]}}
        )

    def change(self, name: str, text: str) -> None:
        self.versions[name] += 1
        self.texts[name] = text
        self.client.notify(
            "textDocument/didChange",
            {
                "textDocument": {"uri": self.uri(name), "version": self.versions[name]},
                "contentChanges": [{"text": text}],
            },
        )

    def diagnostics(self, name: str) -> list[dict]:
        """The diagnostics published for the current version of `name`."""
        uri, version = self.uri(name), self.versions[name]
        params = self.client.wait_for(
            "textDocument/publishDiagnostics",
            lambda p: p["uri"] == uri and p.get("version") == version,
        )
        return params["diagnostics"]

    def latest(self, name: str) -> list[dict]:
        """The diagnostics of `name` in the last publication received so far."""
        uri = self.uri(name)
        published = [
            n["params"]
            for n in self.client.notifications
            if n["method"] == "textDocument/publishDiagnostics" and n["params"]["uri"] == uri
        ]
        return published[-1]["diagnostics"]

    def actions(self, name: str, diagnostic: dict, only: list[str] | None = None) -> list[dict]:
        context = {"diagnostics": [diagnostic], **({"only": only} if only else {})}
        params = {"textDocument": {"uri": self.uri(name)}, "range": diagnostic["range"]}
        return self.client.request("textDocument/codeAction", {**params, "context": context})

    def apply(self, edit: dict) -> dict[str, str]:
        """The new text of each file the WorkspaceEdit changes, by name."""
        changed = {}
        for uri, edits in edit["changes"].items():
            name = next(n for n in (*self.texts, *_names(self.root)) if self.uri(n) == uri)
            text = self.texts.get(name) or (self.root / name).read_text()
            changed[name] = apply_text_edits(text, edits)
        return changed

    def close(self) -> None:
        assert self.client.close() == 0


def _names(root: Path) -> list[str]:
    return [path.name for path in root.iterdir()]


def apply_text_edits(text: str, edits: list[dict]) -> str:
    """LSP text edits (ASCII text: UTF-16 units are characters), applied from the end."""
    lines = text.splitlines(keepends=True)
    starts = [sum(len(line) for line in lines[:index]) for index in range(len(lines) + 1)]

    def offset(position: dict) -> int:
        return starts[position["line"]] + position["character"]

    ordered = sorted(edits, key=lambda e: offset(e["range"]["start"]), reverse=True)
    for edit in ordered:
        start, end = offset(edit["range"]["start"]), offset(edit["range"]["end"])
        text = text[:start] + edit["newText"] + text[end:]
    return text


@pytest.fixture
def editor(tmp_path):
    (tmp_path / "train.py").write_text(BCE)
    session = Editor(tmp_path)
    yield session
    session.close()


def test_open_publishes_the_diagnostic_with_its_range_link_and_related_location(editor):
    assert editor.capabilities["codeActionProvider"]["codeActionKinds"] == [
        "quickfix",
        "source.fixAll.nanlint",
    ]
    editor.open("train.py")
    (diagnostic,) = editor.diagnostics("train.py")
    assert diagnostic["code"] == "NAN101" and diagnostic["range"] == BCE_RANGE
    assert diagnostic["severity"] == 2 and diagnostic["source"] == "nanlint"
    assert diagnostic["codeDescription"]["href"] == URL.format("NAN101")
    assert diagnostic["message"] == (
        "Sigmoid probabilities from `torch.sigmoid` reach `F.binary_cross_entropy`:"
        " use BCEWithLogitsLoss on the logits"
    )
    (related,) = diagnostic["relatedInformation"]
    assert related["location"] == {"uri": editor.uri("train.py"), "range": BCE_RANGE}
    assert related["message"] == "sigmoid probabilities produced here by `torch.sigmoid`"


def test_the_safe_fix_is_a_preferred_quick_fix_and_its_edit_fixes_the_text(editor):
    editor.open("train.py")
    (diagnostic,) = editor.diagnostics("train.py")
    fix, suppress, fix_all = editor.actions("train.py", diagnostic)
    assert fix["title"] == "Pass the logits to `binary_cross_entropy_with_logits`"
    assert fix["kind"] == "quickfix" and fix["isPreferred"] is True
    assert editor.apply(fix["edit"]) == {"train.py": BCE_FIXED}
    assert suppress["title"] == "Suppress NAN101 with # noqa: NAN101"
    assert "isPreferred" not in suppress
    suppressed = BCE.replace("y)\n", "y)  # noqa: NAN101\n")
    assert editor.apply(suppress["edit"]) == {"train.py": suppressed}
    assert fix_all["kind"] == "source.fixAll.nanlint"
    assert editor.apply(fix_all["edit"]) == {"train.py": BCE_FIXED}
    assert editor.actions("train.py", diagnostic, only=["source.fixAll"]) == [fix_all]
    editor.change("train.py", BCE_FIXED)
    assert editor.diagnostics("train.py") == []
    editor.change("train.py", suppressed)
    assert editor.diagnostics("train.py") == []


def test_hover_on_a_diagnostic_explains_it_and_links_its_page(editor):
    editor.open("train.py")
    editor.diagnostics("train.py")
    position = {"line": 5, "character": 40}
    params = {"textDocument": {"uri": editor.uri("train.py")}, "position": position}
    hover = editor.client.request("textDocument/hover", params)
    assert hover["range"] == BCE_RANGE and hover["contents"]["kind"] == "markdown"
    text = hover["contents"]["value"]
    assert text.startswith("**NAN101** Sigmoid probabilities from `torch.sigmoid`")
    assert "a gradient of exactly zero in float32" in text  # the full explanation
    assert f"[NAN101 rule page]({URL.format('NAN101')})" in text
    elsewhere = {**params, "position": {"line": 0, "character": 0}}
    assert editor.client.request("textDocument/hover", elsewhere) is None


def test_a_file_that_stops_parsing_keeps_its_diagnostics_after_the_parse_error(editor):
    editor.open("train.py")
    editor.diagnostics("train.py")
    editor.change("train.py", BCE + "def broken(:\n")
    error, kept = editor.diagnostics("train.py")
    assert error["severity"] == 1 and error["code"] == "SyntaxError"
    assert error["range"]["start"]["line"] == 6
    assert (kept["code"], kept["range"]) == ("NAN101", BCE_RANGE)
    (action,) = editor.actions("train.py", kept, only=["quickfix"])  # no stale fix, noqa only
    assert action["title"].startswith("Suppress")


def test_changes_typed_quickly_publish_only_the_last_version(editor):
    editor.open("train.py")
    editor.diagnostics("train.py")
    editor.change("train.py", BCE_FIXED)
    editor.change("train.py", BCE)  # within the debounce delay
    assert [d["code"] for d in editor.diagnostics("train.py")] == ["NAN101"]
    published = [
        n["params"].get("version")
        for n in editor.client.notifications
        if n.get("method") == "textDocument/publishDiagnostics"
    ]
    assert published == [1, 3]  # version 2 was never linted on its own


def test_a_model_changed_in_its_buffer_updates_the_script_that_uses_it(tmp_path):
    project = readme.write_project(tmp_path)
    models = (project / "models.py").read_text()
    softmax = "nn.Sequential(nn.Linear(features, classes), nn.Softmax(dim=-1))"
    editor = Editor(project)
    try:
        editor.open("train.py")
        editor.open("models.py")
        assert editor.diagnostics("models.py") == []
        train = editor.diagnostics("train.py")
        assert [(d["code"], d["range"]["start"]) for d in train] == [
            ("NAN103", {"line": 10, "character": 27}),
            ("NAN101", {"line": 14, "character": 34}),
        ]
        related = [r["location"]["uri"] for r in train[0]["relatedInformation"]]
        assert editor.uri("models.py") in related
        (unsafe, _suppress) = editor.actions("train.py", train[0], only=["quickfix"])
        assert unsafe["title"] == (
            "Remove `nn.Softmax` (last layer of `self.net`) and pass logits (unsafe)"
        )
        assert "isPreferred" not in unsafe or unsafe["isPreferred"] is False
        fixed_models = models.replace(softmax, "nn.Sequential(nn.Linear(features, classes))")
        assert editor.apply(unsafe["edit"]) == {"models.py": fixed_models}  # one cross-file edit
        editor.change("models.py", fixed_models)
        assert editor.diagnostics("models.py") == []
        # the same lint published train.py just before: its latest diagnostics lost NAN103
        assert [d["code"] for d in editor.latest("train.py")] == ["NAN101"]
    finally:
        editor.close()


def test_settings_come_from_the_configuration_file_and_initialization_options(tmp_path):
    (tmp_path / "train.py").write_text(BCE)
    (tmp_path / "pyproject.toml").write_text('[tool.nanlint]\nselect = ["NAN2"]\n')
    # the editor's select replaces the file's, as --select does
    for options, codes in (({}, []), ({"select": ["NAN101"]}, ["NAN101"])):
        editor = Editor(tmp_path, options)
        try:
            editor.open("train.py")
            assert [d["code"] for d in editor.diagnostics("train.py")] == codes
        finally:
            editor.close()
    (tmp_path / "pyproject.toml").unlink()
    editor = Editor(tmp_path, {"ignore": ["NAN1"]})
    try:
        editor.open("train.py")
        assert editor.diagnostics("train.py") == []
    finally:
        editor.close()


def test_saving_the_configuration_file_reloads_it_and_closing_clears_diagnostics(editor):
    editor.open("train.py")
    assert [d["code"] for d in editor.diagnostics("train.py")] == ["NAN101"]
    (editor.root / "pyproject.toml").write_text('[tool.nanlint]\nignore = ["NAN101"]\n')
    saved = {"textDocument": {"uri": editor.uri("pyproject.toml")}}
    editor.client.notify("textDocument/didSave", saved)
    assert editor.diagnostics("train.py") == []  # version 1 again, linted with the new settings
    editor.client.notify("textDocument/didClose", {"textDocument": {"uri": editor.uri("train.py")}})
    cleared = editor.client.wait_for(
        "textDocument/publishDiagnostics", lambda p: p["uri"] == editor.uri("train.py")
    )
    assert cleared == {"uri": editor.uri("train.py"), "diagnostics": []}


def test_a_broken_configuration_file_is_reported_and_the_settings_kept(editor):
    editor.open("train.py")
    assert [d["code"] for d in editor.diagnostics("train.py")] == ["NAN101"]
    (editor.root / "pyproject.toml").write_text('[tool.nanlint]\nselect = ["NOPE9"]\n')
    saved = {"textDocument": {"uri": editor.uri("pyproject.toml")}}
    editor.client.notify("textDocument/didSave", saved)
    shown = editor.client.wait_for("window/showMessage")
    assert shown["type"] == 1 and shown["message"].startswith("nanlint: ")
    assert "NOPE9" in shown["message"]
    assert [d["code"] for d in editor.diagnostics("train.py")] == ["NAN101"]
