"""The live state of an exact ``quantile``/``median`` with a constant q: each group's non-null
values kept sorted (for :class:`weave_lite.execute.accumulate.MergedAggregate`).

A morsel's new values are sorted into one run per group, each touched group's run is merged
into its kept values and its quantile is read off at its two ranks, all in the kernels of
:mod:`weave_lite.kernels.sorted_runs` (loaded by the first absorb, not at import): a poll costs
about the new rows, no selection over a group's values again and no Python step per group.
The ranks and the interpolation are the cold kernel's
(:func:`weave_lite.kernels.selection.run_quantile`), so results equal a cold run's.
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa

from weave_lite.compile.physical import Leaf
from weave_lite.execute.executor import Frame, Runtime
from weave_lite.execute.vectors import ArrayVec, Vec


class QuantileState:
    """Each group's non-null values as sorted runs in one buffer (see the module docstring)."""

    # A group's recent run is merged into its main one once it holds 1/share of it.
    share = 16

    def __init__(self, leaf: Leaf, q: float):
        self.leaf = leaf
        self.q = q
        self.buf = np.zeros(0, dtype=np.float64)  # the groups' slots
        self.used = 0  # values of buf laid out (live or moved away from)
        self.live = 0  # values kept
        # Per group: its slot's start, sorted main and recent run lengths, and room.
        self.start = np.zeros(0, dtype=np.int64)
        self.n_main = np.zeros(0, dtype=np.int64)
        self.n_recent = np.zeros(0, dtype=np.int64)
        self.cap = np.zeros(0, dtype=np.int64)
        self.out = np.zeros(0, dtype=np.float64)
        self.has = np.zeros(0, dtype=bool)
        self.result: Vec | None = None

    def absorb(self, partial: tuple, gid: np.ndarray, n: int, frame: Frame, runtime: Runtime) -> None:
        from weave_lite.execute.ops.reducers import float_values  # loads the reducers' area
        from weave_lite.kernels.sorted_runs import group_runs, merge_runs

        local, elements = partial
        values = _float_numpy(float_values(elements))
        self._grow(n)
        offsets, ordered = group_runs(np.asarray(local, dtype=np.int64), values, len(gid))
        groups = np.asarray(gid, dtype=np.int64)
        counts = np.diff(offsets)
        # A moved slot takes twice what it holds: room for the worst case, else lay out again.
        need = 2 * int((self.n_main[groups] + self.n_recent[groups] + counts).sum())
        if self.used + need > len(self.buf):
            self._compact(need)
        self.used = merge_runs(
            self.buf, self.used, self.start, self.n_main, self.n_recent, self.cap, groups, offsets, ordered,
            self.q, self.share, self.out, self.has,
        )  # fmt: skip
        self.live += len(ordered)
        self.result = ArrayVec(pa.array(self.out, type=pa.float64(), mask=~self.has))

    def values(self, group: int) -> np.ndarray:
        """Group ``group``'s kept values, sorted."""
        s, m, r = int(self.start[group]), int(self.n_main[group]), int(self.n_recent[group])
        return np.sort(self.buf[s : s + m + r], kind="stable")

    def _grow(self, n: int) -> None:
        """Room in the per-group arrays for ``n`` groups (new ones hold no values)."""
        grow = n - len(self.start)
        if grow <= 0:
            return
        zeros = np.zeros(grow, dtype=np.int64)
        self.start = np.concatenate([self.start, zeros])
        self.n_main = np.concatenate([self.n_main, zeros])
        self.n_recent = np.concatenate([self.n_recent, zeros])
        self.cap = np.concatenate([self.cap, zeros])
        self.out = np.concatenate([self.out, np.zeros(grow, dtype=np.float64)])
        self.has = np.concatenate([self.has, np.zeros(grow, dtype=bool)])

    def _compact(self, need: int) -> None:
        """Lay the slots out again in a buffer with room for ``need`` more values and as many
        again as it holds (the moved-from space is dropped)."""
        from weave_lite.kernels.sorted_runs import compact

        size = 4 * self.live + need
        self.buf, self.used = compact(self.buf, self.start, self.n_main, self.n_recent, self.cap, size)


def _float_numpy(values: pa.Array | pa.ChunkedArray) -> np.ndarray:
    """float64 Arrow values as numpy, nulls as NaN."""
    if isinstance(values, pa.ChunkedArray):
        values = values.combine_chunks() if values.num_chunks != 1 else values.chunk(0)
    return np.asarray(values.to_numpy(zero_copy_only=False), dtype=np.float64)
