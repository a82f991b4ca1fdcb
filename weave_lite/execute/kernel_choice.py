"""Which implementation of a kernel runs: Numba's, or the numpy one (identical results) of
:mod:`weave_lite.kernels.numpy_grouping` for group-bys, or the op-by-op Arrow path for the
fused scan (:mod:`weave_lite.kernels.scan`, see ``execute/ops/fused.py``).

Numba costs a fresh process ~0.3-0.5 s to import and, on an empty cache (the first query after
installing), seconds per kernel to compile.  On small inputs numpy is about as fast as Numba
once Numba is loaded, so a process uses numpy until Numba is *ready*: until a background thread
(started after the first small query) has imported and compiled the kernels for the dtypes seen,
or a large input made the process load Numba anyway.  ``WEAVE_LITE_KERNELS=numba|numpy``
forces one side (tests compare the two).
"""

from __future__ import annotations

import functools
import importlib.util
import os
import threading
from collections.abc import Callable
from pathlib import Path
from types import ModuleType

import numpy as np

from weave_lite.kernels import numpy_grouping

# Up to this many values a query uses numpy while Numba is not ready: a 2M-value per-group
# quantile takes numpy ~0.25 s, about what importing Numba and loading its cached kernels does.
SMALL_VALUES = 2_000_000
# In a long-lived process (``background`` on), from this many values a kernel that Numba has
# compiled before on this machine (its cache index is on disk) is loaded now, in the
# foreground: loading costs ~0.3-0.8 s once, and every later large query gains.  A kernel
# never compiled here (the first query after installing) still answers on numpy first.
CACHED_VALUES = 200_000
# Whether a small query starts compiling in the background.  Off for one-shot processes (the
# CLI): the compile would only compete for the CPU with the query, and die at exit.
background = True

_lock = threading.Lock()
_warming: set[tuple] = set()  # warm-ups started, by (kernel, dtypes)
_ready: set[tuple] = set()  # warm-ups finished
_pending: list[tuple[tuple, Callable[[ModuleType], object]]] = []  # to start after the query


def _grouping() -> ModuleType:
    from weave_lite.kernels import grouping  # Numba: imported only here and by the op areas

    return grouping


def _forced() -> str:
    return os.environ.get("WEAVE_LITE_KERNELS", "auto")


def use_numba(
    signature: tuple, size: int, warm: Callable[[ModuleType], object], cached: tuple[str, str] | None = None
) -> bool:
    """Whether a kernel call of ``size`` values runs on Numba now.  If not, the caller runs its
    numpy/Arrow path, and (unless off) ``warm`` compiles the kernel in a background thread.
    ``cached`` names the kernel's (module, function), to tell whether Numba's cache holds it."""
    forced = _forced()
    if forced in ("numba", "numpy"):
        return forced == "numba"
    if signature in _ready:
        return True
    if size > SMALL_VALUES or (background and size >= CACHED_VALUES and cached and _on_disk(*cached)):
        _ready.add(signature)  # compiled (or loaded) now, in the foreground
        return True
    if background:
        with _lock:
            if signature not in _warming:
                _warming.add(signature)
                _pending.append((signature, warm))
    return False


def is_ready(signature: tuple) -> bool:
    """Whether a kernel call of ``signature`` runs on Numba now whatever its size (compiled or
    loaded already, or forced), without starting a warm-up."""
    forced = _forced()
    if forced in ("numba", "numpy"):
        return forced == "numba"
    return signature in _ready


@functools.cache
def _on_disk(module: str, function: str) -> bool:
    """Whether Numba's on-disk cache has an index for ``module.function`` (found without
    importing the module: next to its source, or under ``NUMBA_CACHE_DIR``)."""
    spec = importlib.util.find_spec(module)
    if spec is None or spec.origin is None:
        return False
    source = Path(spec.origin)
    pattern = f"{source.stem}.{function}-*.nbi"
    cache_dir = os.environ.get("NUMBA_CACHE_DIR")  # when set, Numba's only cache
    if cache_dir:
        return any(Path(cache_dir).rglob(pattern))
    return any((source.parent / "__pycache__").glob(pattern))


def start_pending_warmups() -> None:
    """Compile, in one background thread, the kernels that queries so far ran without.

    Called after a query (``api``'s run), never during one: compiling holds the GIL for
    seconds, and would slow the very query that fell back to numpy to be fast.  A one-shot
    script exits before it matters (the thread is a daemon); a server or notebook gets the
    compiled kernels for its next large query."""
    with _lock:
        jobs = list(_pending)
        _pending.clear()
    if jobs:
        threading.Thread(target=_warm_all, args=(jobs,), name="weave-lite-jit", daemon=True).start()


def _warm_all(jobs: list[tuple[tuple, Callable[[ModuleType], object]]]) -> None:
    """Compile (or load from Numba's cache) each kernel for the dtypes in its signature."""
    for signature, warm in jobs:
        try:
            warm(_grouping())
        except Exception:
            continue
        _ready.add(signature)


def renumber_first_appearance(codes: np.ndarray, n_codes: int) -> tuple[np.ndarray, np.ndarray]:
    """:func:`weave_lite.kernels.grouping.renumber_first_appearance`, from the faster side."""
    signature = ("renumber", codes.dtype.str, codes.flags.writeable)
    sample = np.zeros(1, codes.dtype)
    sample.flags.writeable = codes.flags.writeable  # Arrow's zero-copy codes are read-only
    warm = lambda g: g.renumber_first_appearance(sample, 1)  # noqa: E731
    if use_numba(signature, len(codes), warm, ("weave_lite.kernels.grouping", "renumber_first_appearance")):
        return _grouping().renumber_first_appearance(codes, n_codes)
    return numpy_grouping.renumber_first_appearance(codes, n_codes)


def grouped_quantile(
    pieces: list[tuple[np.ndarray, np.ndarray, np.ndarray]], n_groups: int, q: float, threads: int = 1
) -> tuple[np.ndarray, np.ndarray]:
    """:func:`weave_lite.kernels.grouping.grouped_quantile` (pieces ``(group_of, mapping,
    values)``, NaN for nulls), from the faster side."""
    size = sum(len(values) for _, _, values in pieces)
    first = pieces[0] if pieces else (np.zeros(0, np.int64), np.zeros(0, np.int64), np.zeros(0))
    signature = ("quantile", first[0].dtype.str, first[1].dtype.str)
    sample = [(np.zeros(1, first[0].dtype), np.zeros(0, first[1].dtype), np.zeros(1, np.float64))]
    # Unsorted ids too: sorted ones take the runs kernels, unsorted ones the counting sort.
    unsorted = [(np.array([1, 0], first[0].dtype), np.zeros(0, first[1].dtype), np.zeros(2, np.float64))]
    warm = lambda g: (g.grouped_quantile(sample, 1, 0.5), g.grouped_quantile(unsorted, 2, 0.5))  # noqa: E731
    if use_numba(signature, size, warm, ("weave_lite.kernels.grouping", "select_quantiles")):
        return _grouping().grouped_quantile(pieces, n_groups, q, threads)
    # numpy: the pieces' global group ids and values, joined (nulls arrive as NaN: skipped)
    groups = [mapping[group_of] if len(mapping) else group_of for group_of, mapping, _ in pieces]
    group_of = np.concatenate(groups).astype(np.int64, copy=False) if groups else np.zeros(0, np.int64)
    values = np.concatenate([v for _, _, v in pieces]) if pieces else np.zeros(0)
    valid = np.ones(len(values), dtype=np.bool_)
    return numpy_grouping.grouped_quantile(group_of, values, valid, n_groups, q, threads)


def renumber_gathered(
    codes: np.ndarray, indices: np.ndarray | None, n_codes: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Group ids by first appearance of ``codes[indices]`` (of all ``codes`` for None) and each
    group's first position, as :func:`renumber_first_appearance` gives them, and each group's
    size, from the faster side (Numba's reads the codes in place, into arrays numpy allocates)."""
    at = np.zeros(0, dtype=np.int64) if indices is None else indices
    signature = ("renumber_gathered", codes.dtype.str, at.dtype.str, codes.flags.writeable)
    sample, sample_at = np.zeros(1, codes.dtype), np.zeros(1, at.dtype)
    sample.flags.writeable = codes.flags.writeable  # Arrow's zero-copy codes are read-only
    warm = lambda g: g.renumber_gathered(  # noqa: E731
        sample,
        sample_at,
        True,
        np.full(1, -1, np.int64),
        np.empty(1, np.int64),
        np.empty(1, np.int64),
        np.zeros(1, np.int64),
    )
    n = len(codes) if indices is None else len(indices)
    if not use_numba(signature, n, warm, ("weave_lite.kernels.grouping", "renumber_gathered")):
        return numpy_grouping.renumber_gathered(codes, indices, n_codes)
    new_id = np.full(n_codes, -1, dtype=np.int64)
    out = np.empty(n, dtype=np.int64)
    first = np.empty(min(n, n_codes), dtype=np.int64)
    sizes = np.zeros(min(n, n_codes), dtype=np.int64)
    groups = _grouping().renumber_gathered(codes, at, indices is not None, new_id, out, first, sizes)
    return out, first[:groups].copy(), sizes[:groups].copy()


def time_bin_groups(
    us: np.ndarray, valid: np.ndarray, width: int, max_bins: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray, bool]:
    """:func:`weave_lite.kernels.grouping.time_bin_groups`, from the faster side."""
    signature = ("time_bins",)
    warm = lambda g: g.time_bin_groups(np.zeros(1, np.int64), np.ones(1, np.bool_), 1, 1, np.zeros(1, np.int64))  # noqa: E731
    if use_numba(signature, len(us), warm, ("weave_lite.kernels.grouping", "time_bin_groups")):
        return _grouping().time_bin_groups(us, valid, width, max_bins, np.empty(len(us), dtype=np.int64))
    return numpy_grouping.time_bin_groups(us, valid, width, max_bins)
