"""Merged partial aggregates kept up to date as morsels arrive (for live queries).

:mod:`weave_lite.execute.partials` merges every morsel's partials at the end of a run.  A live
query instead keeps the *merged* state of a :class:`~weave_lite.compile.physical.Merge` between
runs, per group, and absorbs only the partials of the rows appended since: each group the new
rows touch is recomputed, the others keep their results.  Per kind of
:class:`~weave_lite.graph.registry.Partial`:

* ``fold``: each group's result; a touched group's new result is the ``merge_with`` reducer
  over [kept result, new partial] (counts add, maxima take the maximum; counts and sums
  without nulls add in numpy);
* ``moments``: each group's count, sum, shift, shifted mean and M2, merged with Chan et al.'s
  update (the same arithmetic as the kernel that merges morsels);
* ``values`` of an exact ``quantile``/``median`` with a constant q: each group's non-null values
  kept sorted (:class:`~weave_lite.execute.sorted_values.QuantileState`); new values are merged
  into the groups they touch and the quantile is read off at its two ranks;
* other ``values`` / ``distinct``: each group's values (distinct ones for ``distinct``) in row order,
  kept as a few blocks sorted by group; a touched group's reducer (``quantile``, ``mode``,
  ``countDistinct``...) runs again over its kept values and the new ones, so an exact p95 per
  minute costs the minutes the new rows fall in, not the table.  A whole-table
  ``countDistinct`` keeps its values in a :class:`~weave_lite.execute.key_index.KeyIndex`
  and looks the new rows' values up there (raw: not deduplicated first).

The kept group keys are a :class:`~weave_lite.execute.key_index.KeyIndex` too (where their
type allows): a poll looks up the new rows' keys only.  Groups keep their first-appearance order (new groups are numbered after the kept ones, in the
new rows' order), which is the order of a cold run.  Results equal a cold run's, floats up to
rounding (sums add in another order).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pyarrow as pa

from weave_lite.compile.physical import KEY_VAR, Leaf, Merge, PartialAggregate
from weave_lite.execute.columns import concat_vecs, first_appearance_groups, key_codes
from weave_lite.execute.executor import Frame, Runtime, run
from weave_lite.execute.key_index import KeyIndex, lookup_array
from weave_lite.execute.ops.reducers import finish_moments
from weave_lite.execute.partials import MorselPartial, reduce_groups
from weave_lite.execute.partials import _constant_quantile as constant_quantile
from weave_lite.execute.sorted_values import QuantileState
from weave_lite.execute.vectors import ArrayVec, ListVec, Vec
from weave_lite.lazy import lazy_module

pc = lazy_module("pyarrow.compute")  # loaded by the first query, not at import weave_lite

# Value blocks kept per leaf before they are merged into one (bounds the gathers' overhead).
MAX_BLOCKS = 12


def _scatter(old: Vec | None, gid: np.ndarray, new: Vec, n: int) -> Vec:
    """``old`` (one value per kept group) with groups ``gid`` set to ``new`` (``n`` groups)."""
    n_old = 0 if old is None else old.length
    if old is None or n_old == 0:  # every group is in gid
        return new.take(_rank(gid, n))
    index = np.arange(n, dtype=np.int64)
    index[gid] = n_old + np.arange(len(gid), dtype=np.int64)
    return concat_vecs([old, new]).take(index)


def hashable_values(vec: Vec) -> list | None:
    """The values of ``vec`` as Python keys whose equality is :func:`key_codes`' (strings,
    integers, booleans and timestamps as their integers), else None (floats: NaN, -0.0)."""
    if not isinstance(vec, ArrayVec):  # a GatheredVec too: its array is the gathered values
        return None
    array = vec.array
    t = array.type
    if pa.types.is_dictionary(t):
        t = t.value_type
    if pa.types.is_temporal(t) and not pa.types.is_dictionary(array.type):
        return array.cast(pa.int64()).to_pylist()
    if pa.types.is_string(t) or pa.types.is_large_string(t) or pa.types.is_integer(t) or pa.types.is_boolean(t):
        return array.to_pylist()
    return None


def _rank(gid: np.ndarray, n: int) -> np.ndarray:
    """For groups 0..n-1 all listed in ``gid``: where each is in ``gid``."""
    where = np.empty(n, dtype=np.int64)
    where[gid] = np.arange(len(gid), dtype=np.int64)
    return where


class FoldState:
    """Each group's result, folded with the reducer ``merge_with``."""

    def __init__(self, leaf: Leaf):
        self.leaf = leaf
        self.result: Vec | None = None
        self._sums: np.ndarray | None = None  # the results as numpy, while _add_sums applies

    def absorb(self, partial: Vec, gid: np.ndarray, n: int, frame: Frame, runtime: Runtime) -> None:
        merge_with = self.leaf.partial.merge_with
        assert merge_with is not None
        if merge_with == "sum" and self._add_sums(partial, gid, n):
            return
        self._sums = None
        n_old = 0 if self.result is None else self.result.length
        old = gid < n_old
        k = len(gid)
        if old.any():
            assert self.result is not None
            elements = concat_vecs([self.result.take(gid[old]), partial])
            group_of = np.concatenate([np.flatnonzero(old), np.arange(k, dtype=np.int64)])
        else:
            elements, group_of = partial, np.arange(k, dtype=np.int64)
        merged = reduce_groups(self.leaf, merge_with, group_of, elements, k, frame, runtime)
        self.result = _scatter(self.result, gid, merged, n)

    def _add_sums(self, partial: Vec, gid: np.ndarray, n: int) -> bool:
        """Counts and sums without nulls, added in numpy (the kept value plus the new one,
        what the ``sum`` reducer gives for the two); False when they do not apply."""
        sums = self._sums
        if sums is None:  # the first morsel, or the kept results were built another way
            sums = _plain_numbers(self.result) if self.result is not None else np.zeros(0, np.int64)
        new = _plain_numbers(partial)
        if sums is None or new is None or (len(sums) and new.dtype != sums.dtype) or len(new) != len(gid):
            return False
        grown = np.zeros(n, dtype=new.dtype)
        grown[: len(sums)] = sums
        grown[gid] += new  # a morsel's groups are distinct
        self._sums = grown
        self.result = ArrayVec(pa.array(grown))
        return True


def _plain_numbers(vec: Vec) -> np.ndarray | None:
    """An int64 or float64 Vec without nulls as numpy, else None."""
    if not isinstance(vec, ArrayVec):
        return None
    array = vec.to_arrow()
    if array.null_count or array.type not in (pa.int64(), pa.float64()):
        return None
    return array.to_numpy(zero_copy_only=False)


class MomentsState:
    """Each group's count, sum, shift, shifted mean and M2."""

    def __init__(self, leaf: Leaf):
        self.leaf = leaf
        self.columns = [np.zeros(0, np.int64)] + [np.zeros(0, np.float64) for _ in range(4)]
        self.result: Vec | None = None

    def absorb(self, partial: tuple, gid: np.ndarray, n: int, frame: Frame, runtime: Runtime) -> None:
        c, t, s, sm, q = (np.concatenate([col, np.zeros(n - len(col), col.dtype)]) for col in self.columns)
        nb, tb, sb, smb, qb = partial
        na = c[gid]
        first = na == 0
        total = na + nb
        with np.errstate(all="ignore"):
            delta = (sb - s[gid]) + (smb - sm[gid])  # mean_b - mean_a
            ratio = np.where(total > 0, nb / np.maximum(total, 1), 0.0)
            sm_new = np.where(first, smb, sm[gid] + delta * ratio)
            q_new = np.where(first, qb, q[gid] + qb + delta * delta * (na.astype(float) * nb / np.maximum(total, 1)))
        keep = nb > 0  # a group without values here keeps its moments
        s[gid] = np.where(keep & first, sb, s[gid])
        sm[gid] = np.where(keep, sm_new, sm[gid])
        q[gid] = np.where(keep, q_new, q[gid])
        t[gid] = np.where(keep, t[gid] + tb, t[gid])
        c[gid] = total
        self.columns = [c, t, s, sm, q]
        with np.errstate(all="ignore"):
            mean = np.where(c > 0, t / np.maximum(c, 1), 0.0)
        self.result = finish_moments(self.leaf.node.key.removeprefix("scan:"), c, t, mean, q, np.ones(n, dtype=bool))


class ValuesState:
    """Each group's values in row order, as blocks sorted by group; the reducer runs again
    over a touched group's values."""

    distinct = False

    def __init__(self, leaf: Leaf):
        self.leaf = leaf
        # Per block: (the groups it holds, sorted; offsets into its elements; the elements).
        self.blocks: list[tuple[np.ndarray, np.ndarray, Vec]] = []
        self.result: Vec | None = None

    def absorb(self, partial: tuple, gid: np.ndarray, n: int, frame: Frame, runtime: Runtime) -> None:
        local, elements = partial
        group_of = gid[np.asarray(local, dtype=np.int64)]
        touched = np.sort(gid)
        slot = np.searchsorted(touched, group_of)  # each new element's place among the touched
        kept_slot, kept = self._gather(touched)
        all_slot = np.concatenate([kept_slot, slot])
        all_elements = concat_vecs([kept, elements]) if kept is not None else elements
        if self.distinct:  # keep only values new to their group
            _, first = first_appearance_groups(all_slot, key_codes(all_elements))
            fresh = np.sort(first[first >= len(kept_slot)])
            group_of, elements = touched[all_slot[fresh]], all_elements.take(fresh)
        merged = reduce_groups(self.leaf, self.leaf.node.key, all_slot, all_elements, len(touched), frame, runtime)
        self._add_block(group_of, elements)
        self.result = _scatter(self.result, touched, merged, n)

    def _gather(self, touched: np.ndarray) -> tuple[np.ndarray, Vec | None]:
        """The kept values of groups ``touched`` (sorted), block by block, and each one's
        place in ``touched``."""
        slots, pieces = [], []
        for groups, offsets, elements in self.blocks:
            pos = np.searchsorted(groups, touched)
            hit = pos < len(groups)
            hit[hit] = groups[pos[hit]] == touched[hit]
            if not hit.any():
                continue
            starts, ends = offsets[pos[hit]], offsets[pos[hit] + 1]
            lengths = ends - starts
            total = int(lengths.sum())
            if total == 0:
                continue
            shift = np.repeat(starts - np.concatenate([[0], np.cumsum(lengths)[:-1]]), lengths)
            index = np.arange(total, dtype=np.int64) + shift
            slots.append(np.repeat(np.flatnonzero(hit), lengths))
            pieces.append(elements.take(index))
        if not pieces:
            return np.zeros(0, np.int64), None
        return np.concatenate(slots), pieces[0] if len(pieces) == 1 else concat_vecs(pieces)

    def _add_block(self, group_of: np.ndarray, elements: Vec) -> None:
        if len(group_of):
            self.blocks.append(_block(group_of, elements))
        if len(self.blocks) > MAX_BLOCKS:  # one block again (stable: row order within a group)
            offsets = [np.repeat(g, np.diff(o)) for g, o, _ in self.blocks]
            self.blocks = [_block(np.concatenate(offsets), concat_vecs([e for _, _, e in self.blocks]))]


class DistinctState(ValuesState):
    """Each group's distinct values: as Python sets when the values hash like their key codes
    (a touched group's count grows by its values not seen before: O(new values)), else as
    value blocks (the reducer runs again over a touched group's distinct values)."""

    distinct = True
    ungrouped = False  # set for a whole-table aggregate: one group
    _seen: dict[int, set] | None = None
    _sorted: KeyIndex | None = None
    _sorted_type: pa.DataType | None = None

    def _absorb_sorted(self, elements: Vec, n: int, frame: Frame, runtime: Runtime) -> bool:
        """One group's distinct values kept in a :class:`KeyIndex` (a lookup of the new
        ones); False when the values cannot be (floats) or a string hash collided (the
        kept values then move to value blocks)."""
        keys = lookup_array(elements)
        if keys is None or (self._sorted is not None and keys.type != self._sorted_type):
            self._leave_index()
            return False
        if self._sorted is None:
            self._sorted, self._sorted_type = KeyIndex(keys[:0]), keys.type
        assert self._sorted is not None
        found = self._sorted.find(keys)
        if found is None:
            self._leave_index()
            return False
        fresh = np.flatnonzero(found < 0)
        count = 0  # no value new to the table: nothing to count (the usual poll)
        if len(fresh):
            slots = np.zeros(len(fresh), dtype=np.int64)
            added = reduce_groups(self.leaf, self.leaf.node.key, slots, elements.take(fresh), 1, frame, runtime)
            count = int(added.to_arrow()[0].as_py() or 0)
        if self.result is not None:
            count += int(self.result.to_arrow()[0].as_py() or 0)
        self.result = ArrayVec(pa.array([count], type=pa.int64()))
        if len(fresh):
            new_keys = pc.unique(keys.take(pa.array(fresh)))  # raw partials repeat values
            if not self._sorted.add(new_keys, np.zeros(len(new_keys), dtype=np.int64)):
                self._leave_index(new_keys)  # the count is right; keep the values as blocks
        return True

    def _leave_index(self, fresh: pa.Array | None = None) -> None:
        """Move the values kept in the index (and ``fresh`` ones) to one value block."""
        if self._sorted is not None:
            index = self._sorted
            pieces = [index.values()]
            if index.null_gid >= 0:
                pieces.append(pa.nulls(1, type=index.type))
            if fresh is not None:
                pieces.append(fresh)
            values = pa.concat_arrays([p.cast(index.type) for p in pieces])
            self.blocks = [_block(np.zeros(len(values), dtype=np.int64), ArrayVec(values))] if len(values) else []
        self._sorted = None

    def absorb(self, partial: tuple, gid: np.ndarray, n: int, frame: Frame, runtime: Runtime) -> None:
        local, elements = partial
        sortable = self.ungrouped and self._seen is None and (self.result is None or self._sorted is not None)
        if sortable and self._absorb_sorted(elements, n, frame, runtime):
            return
        values = hashable_values(elements)
        if self.result is None and values is not None:
            self._seen = {}
        if self._seen is None or values is None:
            self._seen = None
            super().absorb(partial, gid, n, frame, runtime)
            return
        group_of = gid[np.asarray(local, dtype=np.int64)]
        touched = np.sort(gid)
        fresh = np.zeros(len(values), dtype=bool)
        seen = self._seen
        for j, (g, v) in enumerate(zip(group_of.tolist(), values)):
            kept = seen.get(g)
            if kept is None:
                kept = seen[g] = set()
            if v not in kept:
                kept.add(v)
                fresh[j] = True
        index = np.flatnonzero(fresh)
        slots = np.searchsorted(touched, group_of[index])
        added = reduce_groups(self.leaf, self.leaf.node.key, slots, elements.take(index), len(touched), frame, runtime)
        counts = np.asarray(added.to_arrow().to_numpy(zero_copy_only=False), dtype=np.int64)
        n_old = 0 if self.result is None else self.result.length
        if n_old:
            assert self.result is not None
            kept_counts = self.result.take(np.minimum(touched, n_old - 1)).to_arrow().to_numpy(zero_copy_only=False)
            counts = counts + np.where(touched < n_old, kept_counts, 0)
        self.result = _scatter(self.result, touched, ArrayVec(pa.array(counts, type=pa.int64())), n)


def _state(leaf: Leaf, frame: Frame, runtime: Runtime) -> Any:
    """The live state of one leaf: sorted values for a constant quantile, else by kind."""
    if leaf.partial.kind == "values":
        q = constant_quantile(leaf, frame, runtime)
        if q is not None:
            return QuantileState(leaf, q)
    return STATES[leaf.partial.kind](leaf)


def _block(group_of: np.ndarray, elements: Vec) -> tuple[np.ndarray, np.ndarray, Vec]:
    order = np.argsort(group_of, kind="stable")
    groups, counts = np.unique(group_of, return_counts=True)
    offsets = np.zeros(len(groups) + 1, dtype=np.int64)
    np.cumsum(counts, out=offsets[1:])
    return groups, offsets, elements.take(order)


STATES: dict[str, Any] = {"fold": FoldState, "moments": MomentsState, "values": ValuesState, "distinct": DistinctState}


class MergedAggregate:
    """The merged partials of one :class:`Merge`, absorbing morsels' partials in order."""

    def __init__(self, operator: Merge, top: Frame, runtime: Runtime):
        self.operator = operator
        aggregate: PartialAggregate = operator.partial
        self.grouped = aggregate.group is not None
        self.keys: Vec | None = None
        self.n_groups = 0 if self.grouped else 1
        self.leaves = [_state(leaf, top, runtime) for leaf in aggregate.leaves]
        for state in self.leaves:
            if isinstance(state, DistinctState):
                state.ungrouped = not self.grouped
        self.index: KeyIndex | None = None  # the kept keys, for lookup_array's types
        self.parts = 0  # morsel partials absorbed
        self.touched = 0  # groups the last absorb recomputed

    def absorb(self, part: MorselPartial, top: Frame, runtime: Runtime, gid: np.ndarray | None = None) -> None:
        """Fold one morsel's partial (the next in row order) into the state; ``gid``: its
        groups' kept groups, when the caller mapped them (and kept the new keys) itself."""
        if self.grouped and part.n_groups == 0:
            return  # a morsel without rows here
        gid = self._global_groups(part) if gid is None else gid
        n = self.n_groups
        frame = Frame(len(gid), {}, top, lambda: np.zeros(len(gid), dtype=np.int64))
        for state, partial in zip(self.leaves, part.leaves):
            state.absorb(partial, gid, n, frame, runtime)
        self.parts += 1
        self.touched = len(gid)

    def total(self) -> int | float | None:
        """The kept result of a whole-table count or sum kept as one plain number (a fold
        merged with ``sum``, no nulls), as a Python number; None when the aggregate is not that
        shape (see :class:`weave_lite.live_totals.LiveTotal`)."""
        state = self._single_sum()
        if state is None:
            return None
        kept = state._sums if state._sums is not None else _plain_numbers(state.result)  # type: ignore[arg-type]
        return None if kept is None or len(kept) != 1 else kept[0].item()

    def set_total(self, value: int | float, parts: int) -> bool:
        """Make that one plain number ``value`` (``parts`` more partials' totals added to it
        elsewhere, in order, as :meth:`FoldState.absorb` adds them); False, the state untouched,
        when the aggregate is not that shape or ``value`` not of its type."""
        state = self._single_sum()
        kept = self.total()
        if state is None or kept is None or isinstance(kept, int) != isinstance(value, int):
            return False
        total = np.array([value], dtype=np.int64 if isinstance(value, int) else np.float64)
        state.result, state._sums = ArrayVec(pa.array(total)), total
        self.parts += parts
        self.touched = 1
        return True

    def _single_sum(self) -> FoldState | None:
        if self.grouped or len(self.leaves) != 1 or self.parts == 0:
            return None
        state = self.leaves[0]
        if not isinstance(state, FoldState) or state.leaf.partial.merge_with != "sum" or state.result is None:
            return None
        return state

    def _global_groups(self, part: MorselPartial) -> np.ndarray:
        """The kept group of each of the morsel's groups (new ones numbered after the kept)."""
        if not self.grouped:
            return np.zeros(1, dtype=np.int64)
        assert part.keys is not None
        n_old = self.n_groups
        if self.keys is None or n_old == 0:
            self.keys, self.n_groups = part.keys, part.n_groups
            first = lookup_array(part.keys)
            self.index = KeyIndex(first) if first is not None else None
            if self.index is not None and not self.index.ok:
                self.index = None
            return np.arange(part.n_groups, dtype=np.int64)
        keys = lookup_array(part.keys) if self.index is not None else None
        found = self.index.find(keys) if keys is not None and self.index is not None else None
        if found is not None:
            gid = found
            new = gid < 0
            gid[new] = n_old + np.arange(int(new.sum()), dtype=np.int64)
            if new.any() and not self.index.add(keys.filter(pa.array(new)), gid[new]):  # type: ignore[union-attr]
                self.index = None  # a hash collision: the exact path from now on
        else:
            self.index = None
            codes = key_codes(concat_vecs([self.keys, part.keys]))
            of_code = np.full(int(codes.max()) + 1, -1, dtype=np.int64)
            of_code[codes[:n_old]] = np.arange(n_old, dtype=np.int64)
            gid = of_code[codes[n_old:]]
            new = gid < 0
            gid[new] = n_old + np.arange(int(new.sum()), dtype=np.int64)
        if new.any():
            self.keys = concat_vecs([self.keys, part.keys.take(np.flatnonzero(new))])
            self.n_groups = n_old + int(new.sum())
        return gid

    def result(self, top: Frame, runtime: Runtime) -> Vec:
        """The aggregate's value (what :func:`partials.merge` gives for the same rows)."""
        n = self.n_groups
        values: dict[str, Vec] = {}
        for leaf, state in zip(self.operator.partial.leaves, self.leaves):
            assert state.result is not None
            values[leaf.var] = state.result
        if self.keys is not None:
            values[KEY_VAR] = self.keys
        frame = Frame(n, values, top, lambda: np.zeros(n, dtype=np.int64))
        result = run(self.operator.body, frame, runtime)
        return ListVec.single(result) if self.grouped else result
