"""Where user code is: the innermost frame outside torch and nanlint, as a Location.

A `Site` is what the mode keeps (a code object and an instruction offset: no frame, so no
local variable is held alive); it becomes a `Location` only when a finding needs it, with
the line and column of the instruction from `co_positions()`.
"""

from __future__ import annotations

import linecache
import os
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from types import CodeType, FrameType

from nanlint.guard.findings import Location

_DYNAMO = os.path.join("torch", "_dynamo", "")


@dataclass(frozen=True)
class Site:
    """The instruction of user code that was running; `module` is the torch.nn module whose
    forward the operation ran in (`nn.BCELoss`), when it is one the tables name."""

    code: CodeType
    lasti: int
    module: str | None = None


class Frames:
    """Walks the stack cheaply: whether a code object is library code is decided once."""

    def __init__(self, library_dirs: tuple[str, ...], module_labels: dict[CodeType, str]):
        self._library_dirs = library_dirs
        self._module_labels = module_labels
        self._library: dict[CodeType, bool] = {}
        self._locations: dict[tuple[CodeType, int], Location] = {}
        self.compiled_caller_seen = False  # user code first seen under a torch.compile wrapper

    def _is_library(self, frame: FrameType) -> bool:
        code = frame.f_code
        is_library = self._library.get(code)
        if is_library is None:
            is_library = self._library[code] = code.co_filename.startswith(self._library_dirs)
            if not is_library:
                self._note_callers(frame)
        return is_library

    def site(self) -> Site | None:
        """The innermost user frame of the current stack (on every producer: kept lean)."""
        frame: FrameType | None = sys._getframe(1)
        library = self._library
        module = None
        while frame is not None:
            code = frame.f_code
            is_library = library.get(code)
            if is_library is None:
                is_library = self._is_library(frame)
            if not is_library:
                return Site(code, frame.f_lasti, module)
            if module is None:
                module = self._module_labels.get(code)
            frame = frame.f_back
        return None

    def library_frames(self) -> Iterator[FrameType]:
        """The library frames between the current operation and user code, innermost first."""
        frame: FrameType | None = sys._getframe(1)
        while frame is not None and self._is_library(frame):
            yield frame
            frame = frame.f_back

    def _note_callers(self, frame: FrameType) -> None:
        """Once per new user code object: is it run by a torch.compile'd caller?"""
        caller = frame.f_back
        while caller is not None and not self.compiled_caller_seen:
            self.compiled_caller_seen = _DYNAMO in caller.f_code.co_filename
            caller = caller.f_back

    def location(self, site: Site) -> Location:
        key = (site.code, site.lasti)
        location = self._locations.get(key)
        if location is None:
            location = self._locations[key] = _location(site)
        return location


def _location(site: Site) -> Location:
    code = site.code
    positions = list(code.co_positions())
    line, _, column, _ = positions[site.lasti // 2] if site.lasti >= 0 else (None,) * 4
    if line is None:
        line = code.co_firstlineno
    path = os.path.abspath(code.co_filename)
    text = linecache.getline(code.co_filename, line)
    if column is None:
        column = len(text) - len(text.lstrip())
    elif text:  # co_positions counts UTF-8 bytes
        column = len(text.encode("utf-8")[:column].decode("utf-8", errors="ignore"))
    return Location(path, line, column + 1, code.co_qualname)
