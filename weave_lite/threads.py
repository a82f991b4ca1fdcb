"""The worker threads that run morsels and parallel kernels (one shared pool per size).

Arrow kernels and the ``nogil`` Numba kernels release the GIL, so work handed to these threads
runs on all cores.
"""

from __future__ import annotations

import functools
import itertools
import os
import threading
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import TypeVar

T = TypeVar("T")
R = TypeVar("R")

_POOLS: dict[int, ThreadPoolExecutor] = {}
_POOLS_LOCK = threading.Lock()
_INSIDE = threading.local()  # .active: this thread is running items of a map_in_order


def default_threads() -> int:
    """``WEAVE_LITE_THREADS`` if set, else every core."""
    configured = os.environ.get("WEAVE_LITE_THREADS")
    return max(1, int(configured)) if configured else _cores()


@functools.cache
def _cores() -> int:
    # Asked once: os.cpu_count reads the system per call, and every run (each live poll's
    # runtime too) asks for the default.
    return os.cpu_count() or 1


def _pool(threads: int) -> ThreadPoolExecutor:
    with _POOLS_LOCK:
        pool = _POOLS.get(threads)
        if pool is None:
            pool = _POOLS[threads] = ThreadPoolExecutor(threads, thread_name_prefix="weave-worker")
        return pool


def map_in_order(fn: Callable[[T], R], items: Sequence[T], threads: int) -> list[R]:
    """``[fn(x) for x in items]`` run on ``threads`` threads; the first error (in item order)
    is raised, and items not started by then are skipped.  Work already on a worker thread
    runs inline (no pool waits on itself).

    The calling thread works too, and ``threads - 1`` helpers from the pool take items one at
    a time from a shared counter: one hand-off per helper, not one per item (a hand-off to a
    pool thread and back costs ~40-70 us, more than a million-row scan's piece saves)."""
    n = len(items)
    if (
        threads <= 1
        or n <= 1
        or _INSIDE.__dict__.get("active")
        or threading.current_thread().name.startswith("weave-worker")
    ):
        return [fn(x) for x in items]
    out: list = [None] * n
    errors: list[BaseException | None] = [None] * n
    taken = itertools.count()
    stop = threading.Event()

    def drain() -> None:
        while not stop.is_set():
            i = next(taken)  # atomic (a C iterator, under the GIL)
            if i >= n:
                return
            try:
                out[i] = fn(items[i])
            except BaseException as exc:  # raised below, in item order
                errors[i] = exc
                stop.set()

    pool = _pool(threads)
    helpers = [pool.submit(drain) for _ in range(min(threads, n) - 1)]
    _INSIDE.active = True  # the items this thread runs run their own maps inline, as workers do
    try:
        drain()
    finally:
        _INSIDE.active = False
        stop.set()  # (all items are taken by now, unless this thread was interrupted)
        for helper in helpers:
            if not helper.cancel():  # not started: nothing to wait for
                helper.result()
    for error in errors:
        if error is not None:
            raise error
    return out
