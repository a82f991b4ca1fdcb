"""Kernels of ``join`` and ``joinAll`` (at the end).

``join`` runs for every list of a frame at once: the key functions run once over all the
elements of all the left (resp. right) lists, both sides' keys get one set of dense integer
codes (``NaN == NaN``, ``0.0 == -0.0``, ``1 == 1.0``; values of different kinds never meet),
and matching buckets the right elements by ``(list, code)`` (a stable sort plus bincount
offsets), so each left element's matches are one contiguous slice, found in O(1).  The output order follows docs/semantics.md: per list,
every left row in order with its matches in right order (or once with ``null`` with
``leftOuter``), then the unmatched right rows in right order (with ``rightOuter``).  Keys that
hold a ``null`` (a null key, or a dict/list key with a null inside) never match.
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa

from weave_lite.execute.columns import (
    as_array,
    as_list,
    as_struct,
    combine,
    concat_vecs,
    is_null_type,
    key_codes,
    list_positions,
    pair_codes,
    ranges,
    take_or_null,
)
from weave_lite.execute.estimates import element_bytes
from weave_lite.execute.executor import KernelCall, kernel
from weave_lite.execute.vectors import ArrayVec, ConstVec, ListVec, StructVec, Vec, union_variants, vec_from_arrow


def _keys_of(call: KernelCall, i: int, lists: ListVec) -> Vec:
    """Run key function ``i`` over every element of every list (params: row, index)."""
    fn = call.args[i]
    index = ArrayVec(pa.array(list_positions(lists), type=pa.int64()))
    return fn([lists.child, index], lists.parent_index())


def _normalize(vec: Vec) -> Vec:
    """Nested Arrow structs/lists (and nested constants) as StructVec/ListVec, so that a key
    holding a null is seen (:func:`_holds_null`) and dict keys compare by their fields."""
    if isinstance(vec, ConstVec):
        if vec.value is None:
            return vec
        if isinstance(vec.value, (list, dict, float)) or pa.types.is_nested(vec.arrow_type):
            return _normalize(ArrayVec(vec.to_arrow()))
        return vec
    if isinstance(vec, ArrayVec):
        t = vec.array.type
        if pa.types.is_struct(t) or pa.types.is_list(t) or pa.types.is_large_list(t):
            return _normalize(vec_from_arrow(vec.array))
        return vec
    if isinstance(vec, StructVec):
        return StructVec({k: _normalize(v) for k, v in vec.fields.items()}, vec.length, vec.valid)
    if isinstance(vec, ListVec):
        return ListVec(vec.offsets, _normalize(vec.child), vec.valid)
    return vec


def _holds_null(vec: Vec) -> np.ndarray:
    """Per element: the key is null or holds a null (in a dict field or list item)."""
    n = vec.length
    if isinstance(vec, ConstVec):
        return np.full(n, _py_holds_null(vec.value), dtype=bool)
    if isinstance(vec, StructVec):
        out = ~vec.is_valid()
        for field in vec.fields.values():
            out = out | _holds_null(field)
        return out
    if isinstance(vec, ListVec):
        out = ~vec.is_valid()
        inner = _holds_null(vec.child)
        if inner.any():
            out = out | (np.bincount(vec.parent_index()[inner], minlength=n)[:n] > 0)
        return out
    return ~vec.is_valid()


def _py_holds_null(value) -> bool:
    if value is None:
        return True
    if isinstance(value, (list, tuple)):
        return any(_py_holds_null(v) for v in value)
    if isinstance(value, dict):
        return any(_py_holds_null(v) for v in value.values())
    return False


def _join_keys(left_keys: Vec, right_keys: Vec) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Codes and usable-key masks of both sides, with codes shared between the sides."""
    nl, nr = left_keys.length, right_keys.length
    left_keys, right_keys = _normalize(left_keys), _normalize(right_keys)
    usable_l = ~_holds_null(left_keys)
    usable_r = ~_holds_null(right_keys)
    if (
        isinstance(left_keys, StructVec)
        and isinstance(right_keys, StructVec)
        and list(left_keys.fields) != list(right_keys.fields)
    ):
        # Dicts with different keys (or key order) are different values.
        return np.zeros(nl, np.int64), np.zeros(nr, np.int64), np.zeros(nl, bool), np.zeros(nr, bool)
    if is_null_type(left_keys) or is_null_type(right_keys):
        return np.zeros(nl, np.int64), np.zeros(nr, np.int64), np.zeros(nl, bool), np.zeros(nr, bool)
    try:
        both = concat_vecs([left_keys, right_keys])
    except (TypeError, pa.ArrowException):
        # Keys of different kinds (a dict and a number, an int and a string...).
        scalar = (ArrayVec, ConstVec)
        if isinstance(left_keys, scalar) and isinstance(right_keys, scalar):
            code_l, code_r = _codes_by_kind(left_keys, right_keys)
            return code_l, code_r, usable_l, usable_r
        return np.zeros(nl, np.int64), np.zeros(nr, np.int64), np.zeros(nl, bool), np.zeros(nr, bool)
    codes = key_codes(both)  # the key coder of groupby: equal keys meet, lists and dicts included
    return codes[:nl], codes[nl:], usable_l, usable_r


def _kind(t: pa.DataType) -> str:
    if pa.types.is_integer(t) or pa.types.is_floating(t):
        return "number"
    if pa.types.is_string(t) or pa.types.is_large_string(t):
        return "string"
    if pa.types.is_binary(t) or pa.types.is_large_binary(t):
        return "bytes"
    if pa.types.is_timestamp(t):
        return "timestamp"
    return str(t)


def _variants(array: pa.Array) -> list[tuple[np.ndarray, pa.Array]]:
    """``(positions, values)`` of each type a (union) array holds."""
    if not pa.types.is_union(array.type):
        return [(np.arange(len(array), dtype=np.int64), array)]
    return [(rows, child.take(pa.array(inner, type=pa.int64()))) for _, rows, child, inner in union_variants(array)]


def _codes_by_kind(left: Vec, right: Vec) -> tuple[np.ndarray, np.ndarray]:
    """Shared codes of scalar keys of mixed kinds: values of different kinds never meet."""
    codes = [np.zeros(left.length, np.int64), np.zeros(right.length, np.int64)]
    by_kind: dict[str, list[tuple[int, np.ndarray, pa.Array]]] = {}
    for side, vec in enumerate((left, right)):
        for positions, values in _variants(combine(as_array(vec))):
            if pa.types.is_null(values.type):
                continue
            if pa.types.is_timestamp(values.type):
                values = values.cast(pa.timestamp("us", tz="UTC"), safe=False)
            elif pa.types.is_floating(values.type):
                values = values.cast(pa.float64())  # key_codes makes -0.0 and NaN meet
            by_kind.setdefault(_kind(values.type), []).append((side, positions, values))
    base = 0
    for parts in by_kind.values():
        merged = concat_vecs([ArrayVec(values) for _, _, values in parts])
        kind_codes = key_codes(merged)
        start = 0
        for side, positions, values in parts:
            codes[side][positions] = base + kind_codes[start : start + len(values)]
            start += len(values)
        base += int(kind_codes.max(initial=-1)) + 1
    return codes[0], codes[1]


@kernel("join")
def join(call: KernelCall) -> Vec:
    left = as_list(call.args[0])
    right = as_list(call.args[1])
    alias1 = call.const(4, "a")
    alias2 = call.const(5, "b")
    left_outer = call.const(6, False)
    right_outer = call.const(7, False)
    if not isinstance(alias1, str) or not isinstance(alias2, str):
        raise call.error("join aliases must be strings")
    if not isinstance(left_outer, bool) or not isinstance(right_outer, bool):
        raise call.error("`join`'s leftOuter and rightOuter must be true or false")
    n = left.length
    if right.length != n:
        raise call.error("`join` got frames of different lengths")
    lists_valid = left.is_valid() & right.is_valid()

    left_keys = _keys_of(call, 2, left)
    right_keys = _keys_of(call, 3, right)
    code_l, code_r, usable_l, usable_r = _join_keys(left_keys, right_keys)
    pid_l = left.parent_index()
    pid_r = right.parent_index()
    live_l = lists_valid[pid_l] if len(pid_l) else np.zeros(0, bool)
    live_r = lists_valid[pid_r] if len(pid_r) else np.zeros(0, bool)
    usable_l &= live_l
    usable_r &= live_r

    # One integer per (list, key).
    width = int(max(code_l.max(initial=0), code_r.max(initial=0))) + 1
    size = len(pid_l) + len(pid_r)
    if n * width > 4 * size + 1024:
        # Sparse (list, key) pairs: renumber them densely first.
        k = pair_codes(np.concatenate([pid_l, pid_r]), np.concatenate([code_l, code_r]))
        k_l, k_r = k[: len(pid_l)], k[len(pid_l) :]
        buckets = int(k.max(initial=-1)) + 1
    else:
        k_l = pid_l * width + code_l
        k_r = pid_r * width + code_r
        buckets = n * width

    # The usable right elements sorted by (list, key), right order kept within a key; each left
    # element's matches are the slice [lo, hi) of that order (bucket offsets from bincount).
    right_idx = np.flatnonzero(usable_r)
    order = np.argsort(k_r[right_idx], kind="stable")
    sorted_r = right_idx[order]
    counts = np.bincount(k_r[right_idx], minlength=buckets).astype(np.int64)
    starts = np.zeros(buckets + 1, dtype=np.int64)
    np.cumsum(counts, out=starts[1:])
    safe_l = np.where(usable_l, k_l, 0)
    lo = starts[safe_l] if buckets else np.zeros(len(k_l), np.int64)
    hi = lo + (counts[safe_l] if buckets else 0)
    matches = np.where(usable_l, hi - lo, 0).astype(np.int64)

    # Left section: each live left element emits its matches, or one null row if leftOuter.
    emit = np.where(matches > 0, matches, 1 if left_outer else 0)
    emit = np.where(live_l, emit, 0).astype(np.int64)
    _admit_output(call, int(emit.sum()) + (len(pid_r) if right_outer else 0), left, right)
    out_left = np.repeat(np.arange(len(pid_l), dtype=np.int64), emit)
    rank = ranges(emit)
    has_match = np.repeat(matches > 0, emit)
    start = np.repeat(lo, emit)
    out_right = np.where(has_match, sorted_r[np.where(has_match, start + rank, 0)] if len(sorted_r) else 0, -1)
    left_section = (
        np.bincount(pid_l, weights=emit, minlength=n).astype(np.int64)[:n] if len(pid_l) else np.zeros(n, np.int64)
    )

    # Right section: unmatched live right elements (rightOuter).
    if right_outer and len(pid_r):
        matched_r = np.zeros(len(pid_r), dtype=bool)
        matched_r[out_right[out_right >= 0]] = True
        unmatched = np.flatnonzero(~matched_r & live_r)
    else:
        unmatched = np.zeros(0, dtype=np.int64)
    right_section = (
        np.bincount(pid_r[unmatched], minlength=n).astype(np.int64)[:n] if len(unmatched) else np.zeros(n, np.int64)
    )

    offsets = np.zeros(n + 1, dtype=np.int64)
    np.cumsum(left_section + right_section, out=offsets[1:])
    total = int(offsets[-1])
    li = np.full(total, -1, dtype=np.int64)
    ri = np.full(total, -1, dtype=np.int64)
    if len(out_left):
        # Left entries are produced in list order; place them at the head of their list.
        lpid = pid_l[out_left]
        left_start = np.concatenate([[0], np.cumsum(left_section)[:-1]]).astype(np.int64)
        pos = offsets[:-1][lpid] + (np.arange(len(out_left), dtype=np.int64) - left_start[lpid])
        li[pos] = out_left
        ri[pos] = out_right
    if len(unmatched):
        upid = pid_r[unmatched]
        u_start = np.concatenate([[0], np.cumsum(right_section)[:-1]]).astype(np.int64)
        pos = offsets[:-1][upid] + left_section[upid] + (np.arange(len(unmatched), dtype=np.int64) - u_start[upid])
        ri[pos] = unmatched

    fields: dict[str, Vec] = {}
    fields[alias1] = take_or_null(left.child, li, li >= 0)
    fields[alias2] = take_or_null(right.child, ri, ri >= 0)
    rows = StructVec(fields, total)
    valid = None if lists_valid.all() else lists_valid
    return ListVec(offsets, rows, valid)


def _admit_output(call: KernelCall, rows: int, left: ListVec, right: ListVec) -> None:
    """Refuse a join whose output (counted from the key buckets, before anything is built)
    does not fit: a cross join or a join on a constant or low-cardinality key is quadratic."""
    if not call.budget.tracks_memory:
        return
    per_row = JOIN_TEMPORARIES + element_bytes(left.child) + element_bytes(right.child)
    call.admit(rows * per_row, f"`join` ({rows:,} rows)")


# int64 arrays of one entry per output row that the kernel builds (repeat, ranks, matches, the
# output positions and indices of both sides).
JOIN_TEMPORARIES = 10 * 8


# -- joinAll -----------------------------------------------------------------------------------------


@kernel("joinAll")
def join_all(call: KernelCall) -> Vec:
    """``lists.joinAll(row => key, outer)``, as Weave's ``join_all``: null lists are dropped;
    rows whose key is (or holds) null are skipped; per distinct key (in order of first
    appearance), every combination of one matching row from each list, the first list varying
    slowest; with ``outer`` a list without a match contributes one all-null row, else the key
    is dropped. Each output row is a dict over all the columns, each value a list with one
    entry per (non-null) input list."""
    outer_lists = as_list(call.args[0])
    outer = bool(call.const(2, False))
    inner = as_list(outer_lists.child) if outer_lists.child.length else None
    if inner is None or is_null_type(inner.child) or not inner.child.length:
        return ListVec(
            np.zeros(outer_lists.length + 1, dtype=np.int64), ConstVec(None, pa.null(), 0), outer_lists.valid
        )
    rows = inner.child
    fn = call.args[1]
    list_of_row = inner.parent_index()
    frame_row = outer_lists.parent_index()[list_of_row]
    keys = _normalize(fn([rows, ArrayVec(pa.array(list_positions(inner), type=pa.int64()))], frame_row))
    usable = ~_holds_null(keys) & ~is_null_type(keys)
    codes = key_codes(keys) if usable.any() else np.zeros(rows.length, np.int64)
    picked: list[np.ndarray] = []
    sizes = np.zeros(outer_lists.length, dtype=np.int64)
    width = 0
    for i in range(outer_lists.length):  # the outer lists of the frame (one, unless mapped)
        members = np.arange(outer_lists.offsets[i], outer_lists.offsets[i + 1])
        members = members[inner.is_valid()[members]]  # null lists are dropped
        table = _combinations(members, list_of_row, codes, usable, outer)
        picked.append(table)
        sizes[i] = len(table)
        width = max(width, table.shape[1])
    idx = np.concatenate([t.ravel() for t in picked]) if picked else np.zeros(0, np.int64)
    if width == 0 or not len(idx):
        return ListVec(np.zeros(outer_lists.length + 1, dtype=np.int64), StructVec({}, 0), outer_lists.valid)
    if any(t.shape[1] != width for t in picked if len(t)):
        raise call.error("`joinAll` over lists of lists of different lengths in one call")
    call.admit(len(idx) * (8 + element_bytes(rows)), f"`joinAll` ({len(idx) // width:,} rows)")
    struct = as_struct(rows).with_nulls_pushed_down()
    n_out = len(idx) // width
    item_offsets = np.arange(0, (n_out + 1) * width, width, dtype=np.int64)
    present = idx >= 0
    fields: dict[str, Vec] = {k: ListVec(item_offsets, take_or_null(v, idx, present)) for k, v in struct.fields.items()}
    offsets = np.zeros(outer_lists.length + 1, dtype=np.int64)
    np.cumsum(sizes, out=offsets[1:])
    return ListVec(offsets, StructVec(fields, n_out), outer_lists.valid)


def _combinations(members, list_of_row, codes, usable, outer: bool) -> np.ndarray:
    """Rows of the output of one joinAll: an (output rows, lists) array of row indices (-1
    where an outer join has no match), the keys in order of first appearance."""
    m = len(members)
    if m == 0:
        return np.zeros((0, 0), dtype=np.int64)
    which = np.full(len(list_of_row), -1, dtype=np.int64)
    which[_rows_of(members, list_of_row)] = np.repeat(np.arange(m), _count_rows(members, list_of_row))
    row_ids = np.flatnonzero((which >= 0) & usable)
    if not len(row_ids):
        return np.zeros((0, m), dtype=np.int64)
    _, first, key_of = np.unique(codes[row_ids], return_index=True, return_inverse=True)
    # Keys renumbered by first appearance.
    rank = np.empty(len(first), dtype=np.int64)
    rank[np.argsort(first, kind="stable")] = np.arange(len(first))
    key_of = rank[key_of]
    n_keys = len(first)
    j_of = which[row_ids]
    order = np.lexsort((row_ids, j_of, key_of))  # by key, list, then row order
    counts = np.bincount(key_of * m + j_of, minlength=n_keys * m).reshape(n_keys, m)
    flat_starts = np.zeros(n_keys * m, dtype=np.int64)
    np.cumsum(counts.ravel()[:-1], out=flat_starts[1:])
    starts = flat_starts.reshape(n_keys, m)
    if not outer:
        alive = (counts > 0).all(axis=1)
    else:
        alive = np.ones(n_keys, dtype=bool)
    slots = np.where(counts > 0, counts, 1)  # an unmatched list gives one null row (outer)
    slots[~alive] = 0
    combos = np.prod(slots, axis=1)
    total = int(combos.sum())
    key_of_out = np.repeat(np.arange(n_keys), combos)
    t = ranges(combos)
    out = np.empty((total, m), dtype=np.int64)
    stride = np.ones(n_keys, dtype=np.int64)
    for j in range(m - 1, -1, -1):  # the last list varies fastest
        pick = (t // stride[key_of_out]) % np.maximum(slots[key_of_out, j], 1)
        has = counts[key_of_out, j] > 0
        out[:, j] = np.where(has, row_ids[order][np.where(has, starts[key_of_out, j] + pick, 0)], -1)
        stride = stride * np.maximum(slots[:, j], 1)
    return out


def _count_rows(members: np.ndarray, list_of_row: np.ndarray) -> np.ndarray:
    return np.bincount(list_of_row, minlength=int(members.max()) + 1)[members]


def _rows_of(members: np.ndarray, list_of_row: np.ndarray) -> np.ndarray:
    """The rows of the given lists, list by list (the rows of a list are contiguous)."""
    return np.flatnonzero(np.isin(list_of_row, members))
