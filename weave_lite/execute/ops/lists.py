"""Kernels of the lists area: picking, filter/map/sort/groupby, slicing, unique/concat/flatten,
membership, the ``[...]`` literal, ``joinToStr``, ``randomlyDownsample`` and ``unnest``."""

from __future__ import annotations

import numpy as np
import pyarrow as pa

from weave_lite.execute.columns import (
    as_array,
    as_list,
    as_struct,
    bool_mask,
    canonical_floats,
    combine,
    concat_vecs,
    first_appearance_groups,
    is_null_type,
    key_codes,
    list_positions,
    null_like,
    ranges,
    take_or_null,
    to_numpy,
    validity,
)
from weave_lite.execute.estimates import element_bytes
from weave_lite.execute.executor import KernelCall, kernel
from weave_lite.execute.kernel_choice import renumber_first_appearance, renumber_gathered
from weave_lite.execute.ops.numbers import equal_or_both_null
from weave_lite.execute.picks import is_list_vec, one_value, pick_path, pick_per_row, struct_or_empty
from weave_lite.execute.sort_ranks import needs_ranks, ranks
from weave_lite.execute.string_groups import gathered_codes, lazy_keys
from weave_lite.execute.time_bins import TimeFloorVec, group_time_bins
from weave_lite.execute.top_k import top_k_order, top_k_rows
from weave_lite.execute.vectors import (
    ArrayVec,
    ConstVec,
    GatheredVec,
    ListVec,
    StructVec,
    Vec,
    union_variants,
)
from weave_lite.lazy import lazy_module

sampling = lazy_module("weave_lite.kernels.sampling")  # Numba: loaded by the first `sample`
pc = lazy_module("pyarrow.compute")  # loaded by the first kernel that uses it (issue 15: start-up)

# -- picking and indexing ------------------------------------------------------------------------


@kernel("getitem:pick")
def pick(call: KernelCall) -> Vec:
    container = call.args[0]
    key_vec = call.args[1]
    if not isinstance(key_vec, ConstVec) and not one_value(key_vec):
        return pick_per_row(struct_or_empty(container), key_vec)  # {a: 1, b: 2}[row["k"]]
    key = call.const(1)
    if key is None:
        return ConstVec(None, pa.null(), call.length)
    return pick_path(as_struct(container), key)


@kernel("getitem:index")
def index(call: KernelCall) -> Vec:
    lists = as_list(call.args[0])
    i = call.args[1]
    position, known = to_numpy(i, lists.length, np.int64, fill=0)
    lengths = lists.lengths()
    position = np.where(position < 0, position + lengths, position).astype(np.int64)  # x[-1]: the last
    valid = (known if known is not None else True) & (position >= 0) & (position < lengths) & lists.is_valid()
    return take_or_null(lists.child, lists.offsets[:-1] + np.where(valid, position, 0), valid)


def _int_values(vec: Vec, n: int) -> np.ndarray:
    """An int Vec as numpy (nulls as -1, which selects nothing)."""
    return to_numpy(vec, n, np.int64, fill=-1)[0]


@kernel("first")
def first(call: KernelCall) -> Vec:
    lists = as_list(call.args[0])
    valid = (lists.lengths() > 0) & lists.is_valid()
    return take_or_null(lists.child, lists.offsets[:-1], valid)


@kernel("last")
def last(call: KernelCall) -> Vec:
    lists = as_list(call.args[0])
    valid = (lists.lengths() > 0) & lists.is_valid()
    return take_or_null(lists.child, lists.offsets[1:] - 1, valid)


# -- whole-list ops ------------------------------------------------------------------------------


@kernel("count")
def count(call: KernelCall) -> Vec:
    lists = as_list(call.args[0])
    mask = ~lists.valid if lists.valid is not None else None
    return ArrayVec(pa.array(lists.lengths(), type=pa.int64(), mask=mask))


def _call_each(call: KernelCall, i: int, lists: ListVec) -> Vec:
    """Run function argument ``i`` over every element of every list (params: item, index)."""
    fn = call.args[i]
    params = [lists.child]
    if fn.arity > 1:  # the index is computed only for functions that take it
        params.append(ArrayVec(pa.array(list_positions(lists), type=pa.int64())))
    return fn(params, lists.parent_index)  # computed only if the body uses an outer variable


@kernel("filter")
def filter_(call: KernelCall) -> Vec:
    lists = as_list(call.args[0])
    keep = bool_mask(_call_each(call, 1, lists))
    return _plain(lists.filter_children(keep))


@kernel("map")
def map_(call: KernelCall) -> Vec:
    lists = as_list(call.args[0])
    return ListVec(lists.offsets, _call_each(call, 1, lists), lists.valid)


@kernel("count:where")
def count_where(call: KernelCall) -> Vec:
    """``filter(f).count`` rewritten: count the elements where ``f`` is true (see rewrites)."""
    lists = as_list(call.args[0])
    keep = _call_each(call, 1, lists)
    if lists.length == 1:
        counted = np.array([_count_true(keep)], dtype=np.int64)
    else:
        counted = np.bincount(lists.parent_index()[bool_mask(keep)], minlength=lists.length).astype(np.int64)
    mask = ~lists.valid if lists.valid is not None else None
    return ArrayVec(pa.array(counted, type=pa.int64(), mask=mask))


def _count_true(vec: Vec) -> int:
    if isinstance(vec, ConstVec):
        return vec.length if vec.value else 0
    array = vec.to_arrow()
    if pa.types.is_null(array.type):
        return 0
    return int(pc.sum(array, min_count=0).as_py() or 0)  # nulls are skipped: they count as false


@kernel("limit")
def limit(call: KernelCall) -> Vec:
    lists = as_list(call.args[0])
    n = _int_values(call.args[1], lists.length)
    keep = list_positions(lists) < np.repeat(n, lists.lengths())
    return _plain(lists.filter_children(keep))


@kernel("offset")
def offset(call: KernelCall) -> Vec:
    lists = as_list(call.args[0])
    n = _int_values(call.args[1], lists.length)
    keep = list_positions(lists) >= np.repeat(n, lists.lengths())
    return _plain(lists.filter_children(keep))


def _plain(lists: ListVec) -> ListVec:
    """A list op on a group gives a plain list (SPEC: the key stays with the group)."""
    if lists.keys is None:
        return lists
    return ListVec(lists.offsets, lists._child, lists.valid, None, lists.view)


@kernel("dropna")
def dropna(call: KernelCall) -> Vec:
    lists = as_list(call.args[0])
    return _plain(lists.filter_children(lists.child.is_valid()))


# -- sort ----------------------------------------------------------------------------------------


@kernel("sort")
def sort(call: KernelCall) -> Vec:
    return _sorted(call, as_list(call.args[0]))


@kernel("limit:sorted")
def limit_sorted(call: KernelCall) -> Vec:
    """``sort(f, dirs).limit(n)`` rewritten: top-k candidates, then an exact stable sort of them."""
    lists = as_list(call.args[0])
    n = call.args[3]
    if lists.length == 1 and isinstance(n, ConstVec) and n.value is not None and 0 <= n.value * 8 < lists.child.length:
        keys, directions = _sort_keys(call, lists)
        ordered = _top_k_one_key(keys, directions, int(n.value))
        if ordered is not None:
            return ListVec(np.array([0, len(ordered)], dtype=np.int64), _gathered(lists.child.take(ordered)))
        chosen = _top_k_candidates(lists, keys, directions, int(n.value), call)
        if chosen is not None:  # sort the candidates' keys, then gather their rows once
            sub = ListVec(np.array([0, len(chosen)], dtype=np.int64), ConstVec(None, pa.null(), len(chosen)))
            order = sort_order(sub, [k.take(chosen) for k in keys], directions, call)[: int(n.value)]
            return ListVec(np.array([0, len(order)], dtype=np.int64), _gathered(lists.child.take(chosen[order])))
    sorted_lists = _sorted(call, lists)
    keep = list_positions(sorted_lists) < np.repeat(_int_values(n, lists.length), sorted_lists.lengths())
    return _plain(sorted_lists.filter_children(keep))


def _gathered(rows: Vec) -> Vec:
    """The k rows' fields gathered now: a morsel's top k are gathered on its own thread, not
    one after the other where the morsels' rows are concatenated."""
    if isinstance(rows, StructVec):
        for field in rows.fields.values():
            if isinstance(field, GatheredVec):
                field.array  # noqa: B018 - gathers and keeps the values
    return rows


def _top_k_one_key(keys: list[Vec], directions: list, k: int) -> np.ndarray | None:
    """The first k elements in sort order when one key varies (:func:`top_k_order` orders
    them as the stable sort does), else None."""
    varying = [(i, key) for i, key in enumerate(keys) if not isinstance(key, ConstVec)]
    if len(varying) != 1:
        return None
    i, key = varying[0]
    direction = directions[i] if i < len(directions) else "asc"
    if direction not in ("asc", "desc"):
        return None  # sort_order reports it
    return top_k_order(key.array if isinstance(key, ArrayVec) else key.to_arrow(), k, direction == "desc")


def _top_k_candidates(lists, keys, directions, k, call) -> np.ndarray | None:
    """Sorted indices of a superset of the first k elements in sort order, or None when top-k
    cannot decide them (nulls or NaN would be among them).

    :func:`top_k_rows` picks them by the first key: the first k in its order, or (when later
    keys break its ties) every element tied with the k-th too, so the exact stable sort of the
    candidates starts with the same k elements as the full sort.
    """
    varying = [(i, key) for i, key in enumerate(keys) if not isinstance(key, ConstVec)]
    if not varying:
        return np.arange(min(k, lists.child.length), dtype=np.int64)
    i, key = varying[0]
    column = key.array if isinstance(key, ArrayVec) else key.to_arrow()
    descending = (directions[i] if i < len(directions) else "asc") == "desc"
    return top_k_rows(column, k, descending, keep_ties=len(varying) > 1)


class SortKeys(StructVec):
    """The keys of a sort key function whose body is a list literal, each in its own column
    with its own type: the value of ``sort:keys`` (see
    :mod:`weave_lite.compile.rewrites.sort_keys`), read by ``sort`` as it is."""

    __slots__ = ()


@kernel("sort:keys")
def sort_keys(call: KernelCall) -> Vec:
    """``[a, b, ...]`` as the body of a sort key function: the items, never built into lists."""
    items = [a for a in call.args if a is not None]
    return SortKeys({str(i): item for i, item in enumerate(items)}, call.length)


def _sort_keys(call: KernelCall, lists: ListVec) -> tuple[list[Vec], list]:
    fn = call.args[1]
    params = [lists.child]
    if fn.arity > 1:
        params.append(ArrayVec(pa.array(list_positions(lists), type=pa.int64())))
    keys = _positional_keys(fn(params, lists.parent_index))
    directions = call.const(2) or []
    if isinstance(directions, str):
        directions = [directions]
    if not isinstance(directions, list):  # a dict, a number...: never indexable by key position
        raise call.error(f'sort directions are a list of "asc" and "desc", got {type(directions).__name__}')
    return keys, directions


def _positional_keys(value: Vec) -> list[Vec]:
    """The sort keys a key function's value stands for: the items of a list of the same length
    for every element (``r => [r["a"], r["b"]]``: key 0, key 1...), else the value itself."""
    if isinstance(value, SortKeys):
        return list(value.fields.values())
    if not value.length:
        return []
    if not (
        isinstance(value, ListVec)
        or is_list_vec(value)
        or (isinstance(value, ConstVec) and isinstance(value.value, list))
    ):
        return [value]
    lists = as_list(value)
    lengths = lists.lengths()
    if not lists.is_valid().all() or not (lengths == lengths[0]).all():
        return [value]
    starts = lists.offsets[:-1]
    return [_one_kind(lists.child.take(starts + j)) for j in range(int(lengths[0]))]


def _one_kind(vec: Vec) -> Vec:
    """Key values of one kind out of the union a list of mixed items holds them in (the
    ``[name, number]`` of a key function): the variant holding every non-null value."""
    if not (isinstance(vec, ArrayVec) and pa.types.is_union(vec.array.type)):
        return vec
    array = combine(vec.array)
    live = [v for v in union_variants(array) if validity(v[2])[v[3]].any()]
    if len(live) > 1:
        return vec
    if not live:
        return ConstVec(None, pa.null(), vec.length)
    _, rows, child, inner = live[0]
    index = np.zeros(len(array), dtype=np.int64)
    index[rows] = inner
    missing = np.ones(len(array), dtype=bool)
    missing[rows] = False
    return ArrayVec(child.take(pa.array(index, mask=missing)))


def _sorted(call: KernelCall, lists: ListVec) -> ListVec:
    keys, directions = _sort_keys(call, lists)
    order = sort_order(lists, keys, directions, call)
    return _plain(ListVec(lists.offsets, lists.child.take(order), lists.valid))


def sort_order(lists: ListVec, keys: list[Vec], directions: list, call: KernelCall) -> np.ndarray:
    """The permutation of child elements sorting each list by ``keys`` (stable, nulls last)."""
    columns = {"__list": pa.array(lists.parent_index(), type=pa.int64())}
    sort_keys = [("__list", "ascending", "at_end")]
    for i, key in enumerate(keys):
        if isinstance(key, ConstVec):
            continue
        direction = directions[i] if i < len(directions) else "asc"
        if direction not in ("asc", "desc"):
            raise call.error(f'sort directions are "asc" or "desc", got {direction!r}')
        arr = key.to_arrow()
        if pa.types.is_null(arr.type):
            continue
        if pa.types.is_floating(arr.type):
            arr = canonical_floats(arr)  # -0.0 and 0.0 sort as equal
        elif needs_ranks(arr.type):  # lists, dicts, mixed types: Arrow cannot sort them
            arr = ranks(arr)
        columns[f"k{i}"] = arr
        sort_keys.append((f"k{i}", "ascending" if direction == "asc" else "descending", "at_end"))
    table = pa.table(columns)
    return np.asarray(pc.sort_indices(table, sort_keys=sort_keys), dtype=np.int64)


# -- groupby -------------------------------------------------------------------------------------


@kernel("groupby")
def groupby(call: KernelCall) -> Vec:
    lists = as_list(call.args[0])
    keys = _call_each(call, 1, lists)
    if isinstance(keys, TimeFloorVec) and lists.length == 1:  # time bins: no floor, no hashing
        grouped = group_time_bins(keys, lists)
        if grouped is not None:
            return grouped
    string_codes = gathered_codes(keys) if lists.length == 1 else None
    if string_codes is not None:  # one string chunk: its cached dictionary's codes, no hashing
        codes, at, n_codes = string_codes
        group_of, first_index, sizes = renumber_gathered(codes, at, n_codes)
        pid_of_group = np.zeros(len(first_index), dtype=np.int64)
    elif lists.length == 1:  # the usual top-level list: dense codes, one O(n) pass
        codes = key_codes(keys)
        group_of, first_index = renumber_first_appearance(codes, int(codes.max()) + 1 if len(codes) else 0)
        pid_of_group = np.zeros(len(first_index), dtype=np.int64)
    else:
        codes = key_codes(keys)
        pid = lists.parent_index()
        group_of, first_index = first_appearance_groups(pid, codes)
        pid_of_group = pid[first_index]
    groups = len(first_index)
    if string_codes is None:  # (the string kernel counted the groups' sizes)
        sizes = np.bincount(group_of, minlength=groups).astype(np.int64)
    inner_offsets = np.zeros(groups + 1, dtype=np.int64)
    np.cumsum(sizes, out=inner_offsets[1:])
    # The groups stay order-free: reducers work by group id; order is made only if needed.
    inner = ListVec(inner_offsets, None, None, lazy_keys(keys, first_index), view=(group_of, lists.child))
    per_list = np.bincount(pid_of_group, minlength=lists.length).astype(np.int64)
    outer_offsets = np.zeros(lists.length + 1, dtype=np.int64)
    np.cumsum(per_list, out=outer_offsets[1:])
    return ListVec(outer_offsets, inner, lists.valid)


@kernel("groupkey")
def groupkey(call: KernelCall) -> Vec:
    groups = call.args[0]
    if isinstance(groups, ListVec) and groups.keys is not None:
        return groups.keys
    raise call.error("`groupkey` needs a group (an element of the result of `groupby`)")


# -- unique, concat, flatten, contains ------------------------------------------------------------


@kernel("unique")
def unique(call: KernelCall) -> Vec:
    lists = as_list(call.args[0])
    pid = lists.parent_index()
    _, first_index = first_appearance_groups(pid, key_codes(lists.child))
    per_list = np.bincount(pid[first_index], minlength=lists.length).astype(np.int64)
    offsets = np.zeros(lists.length + 1, dtype=np.int64)
    np.cumsum(per_list, out=offsets[1:])
    return ListVec(offsets, lists.child.take(first_index), lists.valid)


@kernel("concat")
def concat(call: KernelCall) -> Vec:
    outer = as_list(call.args[0])
    if len(call.args) > 1 and call.args[1] is not None:
        return _append_lists(outer, as_list(call.args[1]))
    inner = as_list(outer.child) if outer.child.length else ListVec(np.zeros(1, np.int64), null_like(outer.child, 0))
    return ListVec(inner.offsets[outer.offsets], inner.child, outer.valid)


def _append_lists(a: ListVec, b: ListVec) -> ListVec:
    """Element-wise ``a[i] + b[i]``; a null side counts as empty."""
    la = np.where(a.is_valid(), a.lengths(), 0)
    lb = np.where(b.is_valid(), b.lengths(), 0)
    n = a.length
    offsets = np.zeros(n + 1, dtype=np.int64)
    np.cumsum(la + lb, out=offsets[1:])
    both = concat_vecs([a.child, b.child])
    # Index of every output element into ``both``: a's elements, then b's, list by list.
    a_idx = np.repeat(a.offsets[:-1], la) + ranges(la)
    b_idx = a.child.length + np.repeat(b.offsets[:-1], lb) + ranges(lb)
    order = np.empty(offsets[-1], dtype=np.int64)
    a_pos = np.repeat(offsets[:-1], la) + ranges(la)
    b_pos = np.repeat(offsets[:-1] + la, lb) + ranges(lb)
    order[a_pos] = a_idx
    order[b_pos] = b_idx
    valid = a.is_valid() & b.is_valid() if (a.valid is not None and b.valid is not None) else None
    return ListVec(offsets, both.take(order), valid)


@kernel("flatten")
def flatten(call: KernelCall) -> Vec:
    lists = as_list(call.args[0])
    while is_list_vec(lists.child):
        inner = _nulls_as_elements(as_list(lists.child))
        lists = ListVec(inner.offsets[lists.offsets], inner.child, lists.valid)
    return _plain(lists)


def _nulls_as_elements(lists: ListVec) -> ListVec:
    """The same lists, except that a null list becomes a list of one null element (so that
    flattening keeps it as a null, as the reference does)."""
    valid = lists.is_valid()
    if valid.all():
        return lists
    lengths = np.where(valid, lists.lengths(), 1)
    offsets = np.zeros(lists.length + 1, dtype=np.int64)
    np.cumsum(lengths, out=offsets[1:])
    index = np.repeat(lists.offsets[:-1], lengths) + ranges(lengths)
    element_valid = np.repeat(valid, lengths)
    return ListVec(offsets, take_or_null(lists.child, index, element_valid))


@kernel("contains:list")
def contains(call: KernelCall) -> Vec:
    lists = as_list(call.args[0])
    needle = call.args[1].take(lists.parent_index())
    hit = equal_or_both_null(lists.child, needle)
    found = np.bincount(lists.parent_index()[hit], minlength=lists.length) > 0
    mask = ~lists.valid if lists.valid is not None else None
    return ArrayVec(pa.array(found, type=pa.bool_(), mask=mask))


# -- literals ------------------------------------------------------------------------------------


@kernel("list")
def list_literal(call: KernelCall) -> Vec:
    items = [a for a in call.args if a is not None]
    n = call.length
    k = len(items)
    offsets = np.arange(0, (n + 1) * k, k, dtype=np.int64) if k else np.zeros(n + 1, dtype=np.int64)
    if not k:
        return ListVec(offsets, ArrayVec(pa.nulls(0)))
    call.admit(n * sum(element_bytes(item) + 8 for item in items), f"a list of {k:,} items in each of {n:,} elements")
    stacked = concat_vecs(items) if k > 1 else items[0]  # item 0 of every element, then item 1, ...
    if k == 1 or n == 1:  # already in order: no copy (nested literals would copy every level)
        return ListVec(offsets, stacked)
    order = (np.arange(k, dtype=np.int64)[None, :] * n + np.arange(n, dtype=np.int64)[:, None]).ravel()
    return ListVec(offsets, stacked.take(order))


# -- joinToStr -------------------------------------------------------------------------------------


@kernel("joinToStr")
def join_to_str(call: KernelCall) -> Vec:
    from weave_lite.execute.text_arrays import element_strings  # joinToStr only: pyarrow.compute

    lists = as_list(call.args[0])
    n = lists.length
    sep_vec = call.args[1]
    child = lists.child
    if isinstance(child, (ListVec, StructVec)):
        raise call.error("`joinToStr` joins a list of numbers, strings, booleans or timestamps")
    values = as_array(child) if child.length else pa.array([], pa.large_string())
    values = combine(values)
    if pa.types.is_nested(values.type) and not pa.types.is_union(values.type):
        raise call.error("`joinToStr` joins a list of numbers, strings, booleans or timestamps")
    try:
        strings = element_strings(values)
    except TypeError as exc:
        raise call.error(str(exc)) from None
    # Null elements are written as "" (Weave: "1,,2" for ["1", null, "2"]).
    flat = pc.fill_null(strings, "") if strings.null_count else strings
    pid = lists.parent_index()
    kept = np.bincount(pid, minlength=n).astype(np.int64)[:n] if len(pid) else np.zeros(n, np.int64)
    offsets = np.zeros(n + 1, dtype=np.int64)
    np.cumsum(kept, out=offsets[1:])
    mask = pa.array(~lists.valid) if lists.valid is not None else None
    listed = pa.LargeListArray.from_arrays(pa.array(offsets, type=pa.int64()), flat, mask=mask)
    if isinstance(sep_vec, ConstVec):
        if sep_vec.value is None:
            return ArrayVec(pa.nulls(n, pa.string()))
        sep = pa.scalar(str(sep_vec.value), pa.large_string())
    else:
        sep = as_array(sep_vec)
        if pa.types.is_null(sep.type):
            return ArrayVec(pa.nulls(n, pa.string()))
        sep = sep.cast(pa.large_string())
    if call.budget.tracks_memory:  # a long separator between many short strings
        sep_bytes = (
            len(sep.as_py().encode()) if isinstance(sep, pa.Scalar) else int(pc.max(pc.binary_length(sep)).as_py() or 0)
        )
        call.admit(flat.nbytes + int(kept.sum()) * sep_bytes, f"`joinToStr` ({int(kept.sum()):,} strings)")
    out = pc.binary_join(listed, sep)
    return ArrayVec(out.cast(pa.string()))


# -- randomlyDownsample, unnest ----------------------------------------------------------------------


@kernel("randomlyDownsample")
def randomly_downsample(call: KernelCall) -> Vec:
    """n elements of each list, chosen without replacement, in the list's order; the same
    positions for the same length and n (seed policy: weave_lite/kernels/sampling.py)."""
    lists = as_list(call.args[0])
    n, known = to_numpy(call.args[1], lists.length, np.int64, fill=0)
    if ((n < 0) & (known if known is not None else True)).any():
        raise call.error("`randomlyDownsample`: n must be non-negative")
    lengths = lists.lengths()
    per_element = np.repeat(lengths, lengths)
    keep = sampling.sample_mask(lists.parent_index(), list_positions(lists), per_element, np.repeat(n, lengths))
    out = _plain(lists.filter_children(keep))
    if known is None:
        return out
    valid = lists.is_valid() & known  # a null n gives a null list
    return ListVec(out.offsets, out.child, valid)


@kernel("unnest")
def unnest(call: KernelCall) -> Vec:
    """One row per element of the list columns of each row (all of a row's lists together: they
    must have the same length; a null list counts as nulls), the other columns repeated. A row
    whose lists are all empty or null gives no row."""
    lists = as_list(call.args[0])
    rows = lists.child
    if is_null_type(rows) or not rows.length:
        return _plain(lists)
    struct = as_struct(rows).with_nulls_pushed_down()
    exploded = {k: as_list(v) for k, v in struct.fields.items() if is_list_vec(v)}
    if not exploded:
        return _plain(lists)
    sizes = np.zeros(struct.length, dtype=np.int64)
    for column in exploded.values():
        sizes = np.maximum(sizes, np.where(column.is_valid(), column.lengths(), 0))
    for name, column in exploded.items():
        bad = column.is_valid() & (column.lengths() != sizes)
        if bad.any():
            row = int(np.flatnonzero(bad)[0])
            raise call.error(
                f"`unnest`: the list columns of row {row} have different lengths (`{name}` has {int(column.lengths()[row])}, another {int(sizes[row])})"
            )
    source_row = np.repeat(np.arange(struct.length, dtype=np.int64), sizes)
    within = ranges(sizes)
    fields = {}
    for name, column in struct.fields.items():
        if name in exploded:
            c = exploded[name]
            fields[name] = take_or_null(c.child, c.offsets[:-1][source_row] + within, c.is_valid()[source_row])
        else:
            fields[name] = column.take(source_row)
    per_list = np.bincount(lists.parent_index(), weights=sizes, minlength=lists.length).astype(np.int64)[: lists.length]
    offsets = np.zeros(lists.length + 1, dtype=np.int64)
    np.cumsum(per_list, out=offsets[1:])
    return ListVec(offsets, StructVec(fields, len(source_row)), lists.valid)
