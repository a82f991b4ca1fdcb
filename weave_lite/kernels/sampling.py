"""Deterministic sampling without replacement (``randomlyDownsample``), vectorized in numpy.

Seed policy: the elements kept from a list depend only on the list's length and ``n``. Every
element gets a pseudo-random rank, ``splitmix64`` of its position mixed with a seed made from
(length, n); the n smallest ranks are kept, in the list's order. So a list of a given length
always keeps the same positions (a board shows the same sample on every refresh, and morsels,
threads or a rerun never change it), while every n-subset of positions is about equally likely
across lengths and n. Weave draws a fresh random sample on every call; no test relies on that.
"""

from __future__ import annotations

import numpy as np

_GOLDEN = np.uint64(0x9E3779B97F4A7C15)
_M1 = np.uint64(0xBF58476D1CE4E5B9)
_M2 = np.uint64(0x94D049BB133111EB)


def splitmix64(x: np.ndarray) -> np.ndarray:
    """The splitmix64 finalizer of every uint64 (wrapping arithmetic)."""
    with np.errstate(over="ignore"):
        z = x + _GOLDEN
        z = (z ^ (z >> np.uint64(30))) * _M1
        z = (z ^ (z >> np.uint64(27))) * _M2
        return z ^ (z >> np.uint64(31))


def sample_mask(parent: np.ndarray, position: np.ndarray, length: np.ndarray, n: np.ndarray) -> np.ndarray:
    """Which elements a downsample keeps: per element its list (``parent``, sorted), its
    ``position`` in the list, the list's ``length`` and the ``n`` asked for that list.

    A list no longer than n keeps everything; otherwise the n elements of smallest rank.
    """
    keep = length <= n
    if keep.all():
        return keep
    seed = splitmix64(length.astype(np.uint64) * np.uint64(0x100000001B3) ^ n.astype(np.uint64))
    rank = splitmix64(seed ^ position.astype(np.uint64))
    order = np.lexsort((position, rank, parent))  # by list, then rank (ties by position)
    starts = np.searchsorted(parent[order], parent[order], side="left")
    rank_in_list = np.empty(len(order), dtype=np.int64)
    rank_in_list[order] = np.arange(len(order), dtype=np.int64) - starts
    return keep | (rank_in_list < n)
