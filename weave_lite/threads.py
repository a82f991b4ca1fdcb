"""The worker threads that run morsels and parallel kernels (one shared pool per size).

Arrow kernels and the ``nogil`` Numba kernels release the GIL, so work handed to these threads
runs on all cores.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import TypeVar

T = TypeVar("T")
R = TypeVar("R")

_POOLS: dict[int, ThreadPoolExecutor] = {}
_POOLS_LOCK = threading.Lock()


def default_threads() -> int:
    """``WEAVE_LITE_THREADS`` if set, else every core."""
    configured = os.environ.get("WEAVE_LITE_THREADS")
    return max(1, int(configured)) if configured else (os.cpu_count() or 1)


def _pool(threads: int) -> ThreadPoolExecutor:
    with _POOLS_LOCK:
        pool = _POOLS.get(threads)
        if pool is None:
            pool = _POOLS[threads] = ThreadPoolExecutor(threads, thread_name_prefix="weave-worker")
        return pool


def map_in_order(fn: Callable[[T], R], items: Sequence[T], threads: int) -> list[R]:
    """``[fn(x) for x in items]`` run on ``threads`` threads; the first error (in item order)
    is raised.  Work already on a worker thread runs inline (no pool waits on itself)."""
    if threads <= 1 or len(items) <= 1 or threading.current_thread().name.startswith("weave-worker"):
        return [fn(x) for x in items]
    futures = [_pool(threads).submit(fn, x) for x in items]
    return [f.result() for f in futures]
