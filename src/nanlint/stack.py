"""Deep recursions (libcst's parser, the analysis) on a thread with a large stack.

A main thread's stack is 1 to 8 MB depending on the platform, and Python allows 1000
frames: enough for most files, not for the analysis of a framework the size of
transformers, whose evaluation of one file can reach through dozens of others. A thread's
stack is reserved address space: only the pages a recursion touches use memory.
"""

from __future__ import annotations

import sys
import threading
from collections.abc import Callable
from typing import TypeVar

T = TypeVar("T")


def on_large_stack(
    function: Callable[..., T], *args, stack_bytes: int, recursion_limit: int | None = None
) -> T:
    """`function(*args)` on a new thread with a `stack_bytes` stack, and while it runs at
    least `recursion_limit` Python frames allowed; re-raises what it raises."""
    outcome: dict[str, object] = {}

    def target() -> None:
        try:
            outcome["value"] = function(*args)
        except BaseException as error:
            outcome["error"] = error

    previous_limit = sys.getrecursionlimit()
    if recursion_limit is not None and recursion_limit > previous_limit:
        sys.setrecursionlimit(recursion_limit)
    previous_size = threading.stack_size(stack_bytes)
    try:
        thread = threading.Thread(target=target, name=f"nanlint-{function.__name__}", daemon=True)
        thread.start()
    finally:
        threading.stack_size(previous_size)
    try:
        thread.join()
    finally:
        sys.setrecursionlimit(previous_limit)
    if "error" in outcome:
        raise outcome["error"]
    return outcome["value"]  # type: ignore[return-value]
