"""Deep recursions (libcst's parser, the analysis) on a thread with a large stack.

A main thread's stack is 1 to 8 MB depending on the platform, and Python allows 1000
frames: enough for most files, not for the analysis of a framework the size of
transformers, whose evaluation of one file can reach through dozens of others. A thread's
stack is reserved address space: only the pages a recursion touches use memory.

One long-lived thread per stack size does the work: a new thread per call would also get
a new malloc arena from glibc, and the parser's memory spread over them (measured: 100 MB
more on timm, and slower).
"""

from __future__ import annotations

import os
import queue
import sys
import threading
from collections.abc import Callable
from typing import TypeVar

T = TypeVar("T")

_workers: dict[int, queue.Queue] = {}
_starting = threading.Lock()


def _forget_threads() -> None:
    """In a forked child (flake8 forks its workers): the parent's threads are not there."""
    global _starting
    _workers.clear()
    _starting = threading.Lock()


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_forget_threads)


def on_large_stack(
    function: Callable[..., T], *args, stack_bytes: int, recursion_limit: int | None = None
) -> T:
    """`function(*args)` on a thread with a `stack_bytes` stack, and while it runs at least
    `recursion_limit` Python frames allowed; re-raises what it raises."""
    if threading.current_thread().name == _name(stack_bytes):
        return function(*args)  # already there (a job that needs its own thread again)
    previous_limit = sys.getrecursionlimit()
    if recursion_limit is not None and recursion_limit > previous_limit:
        sys.setrecursionlimit(recursion_limit)
    done: queue.Queue = queue.Queue(maxsize=1)
    try:
        _worker(stack_bytes).put((function, args, done))
        succeeded, outcome = done.get()
    finally:
        sys.setrecursionlimit(previous_limit)
    if not succeeded:
        raise outcome
    return outcome


def _worker(stack_bytes: int) -> queue.Queue:
    """The job queue of the thread with that stack size (started on first use)."""
    with _starting:
        jobs = _workers.get(stack_bytes)
        if jobs is None:
            jobs = _workers[stack_bytes] = queue.Queue()
            previous = threading.stack_size(stack_bytes)
            try:
                thread = threading.Thread(
                    target=_serve, args=(jobs,), name=_name(stack_bytes), daemon=True
                )
                thread.start()
            finally:
                threading.stack_size(previous)
        return jobs


def _name(stack_bytes: int) -> str:
    return f"nanlint-stack-{stack_bytes}"


def _serve(jobs: queue.Queue) -> None:
    while True:
        function, args, done = jobs.get()
        try:
            done.put((True, function(*args)))
        except BaseException as error:
            done.put((False, error))
