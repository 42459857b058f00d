"""The pygls language server: documents in, diagnostics, code actions and hovers out.

Linting runs in one worker thread, never on the event loop; a change waits DEBOUNCE seconds for
the next keystroke, and results for a document version that is no longer current are dropped.
"""

from __future__ import annotations

import asyncio
import os
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from lsprotocol import types
from pygls.lsp.server import LanguageServer
from pygls.uris import to_fs_path

from nanlint import __version__
from nanlint.config import ConfigError
from nanlint.diagnostics import Diagnostic
from nanlint.fixes import Applicability, select_compatible
from nanlint.selection import SelectorError
from nanlint.server import convert
from nanlint.server.state import Document, Results, ServerState
from nanlint.source import SourceFile

DEBOUNCE = 0.15  # seconds
CONFIG_FILES = ("pyproject.toml", "nanlint.toml", ".nanlint.toml")
FIX_ALL = "source.fixAll.nanlint"


class NanlintServer(LanguageServer):
    def __init__(self) -> None:
        super().__init__("nanlint", __version__)
        self.state = ServerState(Path.cwd())
        self.worker = ThreadPoolExecutor(max_workers=1, thread_name_prefix="nanlint-lint")
        self.generation = 0
        self.published: dict[Path, tuple[Results, list[Diagnostic]]] = {}

    def texts(self, results: Results) -> dict[Path, convert.Text]:
        encoding = self.workspace.position_encoding or types.PositionEncodingKind.Utf16
        return {path: convert.Text(text, encoding) for path, text in results.texts.items()}

    async def relint(self, delay: float = 0.0) -> None:
        """Lint the open documents after `delay` unless a newer request came meanwhile."""
        self.generation += 1
        generation = self.generation
        if delay:
            await asyncio.sleep(delay)
            if generation != self.generation:
                return
        loop = asyncio.get_running_loop()
        results = await loop.run_in_executor(self.worker, self.state.lint)
        self.publish(results)

    def reload_config(self) -> None:
        """Re-read the settings; a broken file (or option) keeps the previous ones and says why."""
        try:
            self.state.reload_config()
        except (ConfigError, SelectorError) as error:
            self.window_show_message(
                types.ShowMessageParams(type=types.MessageType.Error, message=f"nanlint: {error}")
            )

    def publish(self, results: Results) -> None:
        for error in results.errors:  # a bug in nanlint: logged, the other diagnostics stand
            rule = f" in rule {error.rule}" if error.rule else ""
            message = f"nanlint: internal error{rule} on {error.path}: {error.message}"
            self.window_log_message(
                types.LogMessageParams(type=types.MessageType.Error, message=message)
            )
        texts = self.texts(results)
        for path, found in results.diagnostics.items():
            current = self.state.documents.get(path)
            if current is None or current.version != results.versions[path]:
                continue  # stale: a newer lint will publish this document
            self.published[path] = (results, found)
            self.text_document_publish_diagnostics(
                types.PublishDiagnosticsParams(
                    uri=path.absolute().as_uri(),
                    version=current.version,
                    diagnostics=[convert.diagnostic(d, texts) for d in found],
                )
            )


server = NanlintServer()


def _path(uri: str) -> Path:
    return Path(to_fs_path(uri) or uri)


def _track(ls: NanlintServer, uri: str) -> None:
    document = ls.workspace.get_text_document(uri)
    path = _path(uri)
    ls.state.documents[path] = Document(path, document.source, document.version or 0)


@server.feature(types.INITIALIZE)
def initialize(ls: NanlintServer, params: types.InitializeParams) -> None:
    root = ls.workspace.root_path
    if root:
        os.chdir(root)  # the configuration's relative patterns and the output paths
        ls.state.root = Path(root)
    options = params.initialization_options
    ls.state.options = options if isinstance(options, dict) else {}
    ls.reload_config()


@server.feature(types.TEXT_DOCUMENT_DID_OPEN)
async def did_open(ls: NanlintServer, params: types.DidOpenTextDocumentParams) -> None:
    _track(ls, params.text_document.uri)
    await ls.relint()


@server.feature(types.TEXT_DOCUMENT_DID_CHANGE)
async def did_change(ls: NanlintServer, params: types.DidChangeTextDocumentParams) -> None:
    _track(ls, params.text_document.uri)
    await ls.relint(DEBOUNCE)


@server.feature(types.TEXT_DOCUMENT_DID_SAVE)
async def did_save(ls: NanlintServer, params: types.DidSaveTextDocumentParams) -> None:
    if _path(params.text_document.uri).name in CONFIG_FILES:
        ls.reload_config()
    await ls.relint()


@server.feature(types.WORKSPACE_DID_CHANGE_WATCHED_FILES)
async def watched_files(ls: NanlintServer, params: types.DidChangeWatchedFilesParams) -> None:
    if any(_path(change.uri).name in CONFIG_FILES for change in params.changes):
        ls.reload_config()
        await ls.relint()


@server.feature(types.TEXT_DOCUMENT_DID_CLOSE)
def did_close(ls: NanlintServer, params: types.DidCloseTextDocumentParams) -> None:
    path = _path(params.text_document.uri)
    ls.state.documents.pop(path, None)
    ls.state.last_good.pop(path, None)
    ls.published.pop(path, None)
    ls.text_document_publish_diagnostics(
        types.PublishDiagnosticsParams(uri=params.text_document.uri, diagnostics=[])
    )


def _overlapping(ls: NanlintServer, uri: str, wanted: types.Range):
    """The published diagnostics of `uri` whose range meets `wanted`, as (nanlint, LSP)."""
    path = _path(uri)
    if path not in ls.published:
        return None, []
    results, found = ls.published[path]
    texts = ls.texts(results)
    pairs = []
    for diagnostic in found:
        lsp = convert.diagnostic(diagnostic, texts)
        start, end = lsp.range.start, lsp.range.end
        if (start.line, start.character) <= (wanted.end.line, wanted.end.character) and (
            wanted.start.line,
            wanted.start.character,
        ) <= (end.line, end.character):
            pairs.append((diagnostic, lsp))
    return results, pairs


@server.feature(
    types.TEXT_DOCUMENT_CODE_ACTION,
    types.CodeActionOptions(code_action_kinds=[types.CodeActionKind.QuickFix, FIX_ALL]),
)
def code_action(ls: NanlintServer, params: types.CodeActionParams) -> list[types.CodeAction]:
    uri = params.text_document.uri
    results, pairs = _overlapping(ls, uri, params.range)
    if results is None:
        return []
    texts = ls.texts(results)
    only = params.context.only
    actions: list[types.CodeAction] = []
    if not only or any(str(kind).startswith("quickfix") for kind in only):
        for found, lsp in pairs:
            actions += _quick_fixes(found, lsp, results, texts)
    if not only or any(FIX_ALL.startswith(str(kind)) for kind in only):
        _, every = ls.published[_path(uri)]
        safe = [d.fix for d in every if d.fix and d.fix.applicability is Applicability.SAFE]
        if safe:
            edits = [edit for fix in select_compatible(safe) for edit in fix.edits]
            actions.append(
                types.CodeAction(
                    title="nanlint: fix all safe fixes",
                    kind=FIX_ALL,
                    edit=convert.workspace_edit(edits, texts),
                )
            )
    return actions


def _quick_fixes(found: Diagnostic, lsp: types.Diagnostic, results: Results, texts):
    actions = []
    fix = found.fix
    if fix is not None and fix.applicability is not Applicability.DISPLAY_ONLY:
        actions.append(
            types.CodeAction(
                title=convert.fix_title(fix),
                kind=types.CodeActionKind.QuickFix,
                diagnostics=[lsp],
                is_preferred=fix.applicability is Applicability.SAFE,
                edit=convert.workspace_edit(list(fix.edits), texts),
            )
        )
    if found.code is not None:
        source = SourceFile(found.path, results.texts[found.path])
        edit = convert.noqa_edit(source, found)
        if edit is not None:
            actions.append(
                types.CodeAction(
                    title=f"Suppress {found.code} with # noqa: {found.code}",
                    kind=types.CodeActionKind.QuickFix,
                    diagnostics=[lsp],
                    edit=convert.workspace_edit([edit], texts),
                )
            )
    return actions


@server.feature(types.TEXT_DOCUMENT_HOVER)
def hover(ls: NanlintServer, params: types.HoverParams) -> types.Hover | None:
    at = types.Range(start=params.position, end=params.position)
    _, pairs = _overlapping(ls, params.text_document.uri, at)
    if not pairs:
        return None
    return types.Hover(
        contents=types.MarkupContent(
            kind=types.MarkupKind.Markdown,
            value="\n\n---\n\n".join(convert.hover(found) for found, _ in pairs),
        ),
        range=pairs[0][1].range,
    )


def serve() -> None:
    server.start_io()
