"""nanlint's diagnostics and fixes as LSP values (positions in the client's encoding)."""

from __future__ import annotations

from bisect import bisect_right
from pathlib import Path

from lsprotocol import types

from nanlint.catalog import DOCS_URL
from nanlint.diagnostics import Diagnostic
from nanlint.fixes import Applicability, Edit, Fix
from nanlint.positions import Position, line_starts
from nanlint.source import SourceFile

SOURCE = "nanlint"


class Text:
    """A file's text, to turn nanlint's offsets and positions into LSP positions."""

    def __init__(self, text: str, encoding: str = types.PositionEncodingKind.Utf16):
        self.text = text
        self.starts = line_starts(text)
        self.encoding = encoding

    def at_offset(self, offset: int) -> types.Position:
        line = bisect_right(self.starts, offset) - 1
        before = self.text[self.starts[line] : offset]
        return types.Position(line=line, character=self._units(before))

    def at(self, position: Position) -> types.Position:
        start = self.starts[min(position.line, len(self.starts)) - 1]
        return self.at_offset(min(start + position.column - 1, len(self.text)))

    def range(self, start: Position, end: Position) -> types.Range:
        return types.Range(start=self.at(start), end=self.at(end))

    def offset(self, position: types.Position) -> int:
        """The character offset of an LSP position."""
        start = self.starts[min(position.line, len(self.starts) - 1)]
        line_end = self.starts[position.line + 1] if position.line + 1 < len(self.starts) else None
        line = self.text[start:line_end]
        for index in range(len(line) + 1):
            if self._units(line[:index]) >= position.character:
                return start + index
        return start + len(line)

    def _units(self, text: str) -> int:
        if self.encoding == types.PositionEncodingKind.Utf8:
            return len(text.encode("utf-8"))
        if self.encoding == types.PositionEncodingKind.Utf32:
            return len(text)
        return len(text.encode("utf-16-le")) // 2


def diagnostic(found: Diagnostic, texts: dict[Path, Text]) -> types.Diagnostic:
    text = texts[found.path]
    related = [
        types.DiagnosticRelatedInformation(
            location=types.Location(
                uri=related.path.absolute().as_uri(),
                range=texts[related.path].range(related.span.start, related.span.end)
                if related.path in texts
                else types.Range(
                    start=types.Position(line=related.span.start.line - 1, character=0),
                    end=types.Position(line=related.span.start.line - 1, character=0),
                ),
            ),
            message=related.message,
        )
        for related in found.related
    ]
    return types.Diagnostic(
        range=text.range(found.start, found.end),
        severity=types.DiagnosticSeverity.Error
        if found.code is None
        else types.DiagnosticSeverity.Warning,
        code=found.label,
        code_description=types.CodeDescription(href=DOCS_URL.format(code=found.code))
        if found.code
        else None,
        source=SOURCE,
        message=found.short,
        related_information=related or None,
    )


def workspace_edit(edits: list[Edit], texts: dict[Path, Text]) -> types.WorkspaceEdit:
    """Edits of any files as one WorkspaceEdit (a cross-file fix applies at once)."""
    changes: dict[str, list[types.TextEdit]] = {}
    for edit in edits:
        text = texts[edit.path]
        changes.setdefault(edit.path.absolute().as_uri(), []).append(
            types.TextEdit(
                range=types.Range(start=text.at_offset(edit.start), end=text.at_offset(edit.end)),
                new_text=edit.content,
            )
        )
    return types.WorkspaceEdit(changes=changes)


def fix_title(fix: Fix) -> str:
    unsafe = fix.applicability is Applicability.UNSAFE
    return f"{fix.title} (unsafe)" if unsafe else fix.title


def noqa_edit(source: SourceFile, found: Diagnostic) -> Edit | None:
    """The edit that adds `# noqa: CODE` where it suppresses `found` (None: it cannot)."""
    from nanlint.noqa import noqa_edits

    edits = noqa_edits(source, [found])
    return edits[0] if edits else None


def hover(found: Diagnostic) -> str:
    """Markdown: the short message, the full explanation, the rule's page."""
    parts = [f"**{found.label}** {found.short}", found.message]
    if found.code:
        url = DOCS_URL.format(code=found.code)
        parts.append(f"[{found.code} rule page]({url}) · `nanlint repro {found.code}`")
    return "\n\n".join(parts)
