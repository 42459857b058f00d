"""`nanlint check --watch`: run, then re-run whenever the linted files change.

Polls the files' names, sizes and times (no extra dependency; a project's files are few
enough): each run goes through the results cache, so an unchanged project replays at once.
Stops on Ctrl-C.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import datetime

INTERVAL = 0.5  # seconds between two looks at the files


def watch(
    run: Callable[[], int],
    state: Callable[[], object],
    echo: Callable[[str], None],
    sleep: Callable[[float], None] | None = None,
) -> None:
    """Call `run`, then again each time `state()` changes, until interrupted."""
    echo(_stamp("Starting linter in watch mode..."))
    run()
    seen = state()
    try:
        while True:
            (sleep or time.sleep)(INTERVAL)
            now = state()
            if now != seen:
                seen = now
                echo(_stamp("File change detected..."))
                run()
    except KeyboardInterrupt:
        return


def _stamp(message: str) -> str:
    return f"[{datetime.now().strftime('%H:%M:%S')}] {message}"
