"""Group-by on epoch-aligned time bins (``row["timestamp"].floor("m")``) without building the
floored timestamps or hashing them.

``floor`` with a constant unit gives a :class:`TimeFloorVec`: the microseconds and the bin
width, floored only if an op reads the values.  ``groupby`` on one reads the bins straight
from ``us // width`` (:func:`weave_lite.kernels.grouping.time_bin_groups`): a table indexed by
bin, since the bins of a table's timestamps span a small range.  When the timestamps are
near-sorted (a stream table's), every group is one run of consecutive rows, so the groups
are also built in list order (no reordering for ops that need it) and per-group quantiles
select each run where it lies (:func:`weave_lite.kernels.grouping.grouped_run_quantiles`).
"""

from __future__ import annotations

import numpy as np

from weave_lite.execute.columns import timestamps
from weave_lite.execute.kernel_choice import time_bin_groups
from weave_lite.execute.vectors import Array, ArrayVec, ListVec

# Bins spanning more than this many values per element (sparse timestamps far apart) are
# grouped by hashing the floored values instead: the table would be mostly empty.
_BINS_PER_ROW = 4
_MIN_BINS = 1 << 16


class TimeFloorVec(ArrayVec):
    """``floor(us / width) * width`` as timestamps, computed only when its values are read."""

    __slots__ = ("us", "valid", "width", "_floored")

    def __init__(self, us: np.ndarray, valid: np.ndarray, width: int):
        self.us = us
        self.valid = valid
        self.width = width
        self.length = len(us)
        self._floored = None

    @property
    def array(self) -> Array:
        if self._floored is None:
            self._floored = timestamps(self.us - np.mod(self.us, self.width), self.valid)
        return self._floored

    def __reduce__(self):
        return (ArrayVec, (self.array,))  # pickled as the values it stands for

    def __repr__(self) -> str:
        return f"TimeFloorVec(width={self.width}us, n={self.length})"


def group_time_bins(keys: TimeFloorVec, lists: ListVec) -> ListVec | None:
    """``groupby``'s result for one list grouped by time bins (groups in first-appearance
    order, as the generic path numbers them), or None when the bins are too sparse."""
    n = keys.length
    max_bins = max(_MIN_BINS, _BINS_PER_ROW * n)
    group_of, first, sizes, contiguous = time_bin_groups(keys.us, keys.valid, keys.width, max_bins)
    if len(sizes) and sizes[0] < 0:
        return None
    groups = len(first)
    inner_offsets = np.zeros(groups + 1, dtype=np.int64)
    np.cumsum(sizes, out=inner_offsets[1:])
    first_us = keys.us[first]
    group_keys = ArrayVec(timestamps(first_us - np.mod(first_us, keys.width), keys.valid[first]))
    child = lists.child
    # Contiguous groups, numbered in row order, are already the list order: no reordering.
    inner = ListVec(inner_offsets, child if contiguous else None, None, group_keys, view=(group_of, child))
    return ListVec(np.array([0, groups], dtype=np.int64), inner, lists.valid)
