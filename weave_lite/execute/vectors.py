"""Columnar values: how the executor holds every value while it runs a plan.

Evaluation is *vectorized over frames*.  A frame is a run of N elements evaluated at once: the
top level is a frame of one element; a lambda applied to a list runs in a frame with one element
per list item (all the lists of the outer frame flattened together).  Every value in a frame of N
is a :class:`Vec` of length N:

* :class:`ArrayVec` - one Arrow array (or chunked array) of scalars;
* :class:`ConstVec` - one value repeated N times (literals, free variables), never materialised
  unless an op needs an array;
* :class:`StructVec` - dicts/rows, column by column (a table's columns are used as they are);
* :class:`ListVec` - N lists stored as offsets into one flat child ``Vec`` (like Arrow's list
  arrays, but the child may be any Vec); a group list also carries its keys.

So ``rows.filter(row => row["x"] > 5)`` evaluates ``row["x"] > 5`` once over the whole column,
and ``groups.map(g => g["lat"].avg)`` computes every group's average in one pass over the flat
child; nothing runs per row in Python.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeAlias

import numpy as np
import pyarrow as pa

from weave_lite.lazy import call_compute, lazy_module

pc = lazy_module("pyarrow.compute")  # loaded by the first query, not at import weave_lite

# An Arrow array or chunked array (``pa.Array | pa.ChunkedArray``). pyarrow ships no type
# information, so to the type checker both are ``Any``; the alias names the intent.
Array: TypeAlias = Any


def combine(array: Array) -> pa.Array:
    """One contiguous array (zero-copy when there is a single chunk)."""
    if not isinstance(array, pa.ChunkedArray):
        return array
    if array.num_chunks == 1:
        return array.chunk(0)
    if array.num_chunks == 0:
        return empty_array(array.type)
    return array.combine_chunks()


_SMALL_COPY = 1 << 14  # rows of a chunked array cheaper to copy whole than to gather chunk by chunk


def _small_flat(array: pa.ChunkedArray) -> bool:
    """A few thousand rows of a flat type (the morsels' top-k candidates, one chunk each): one
    copy and one take beat a take per chunk and a reordering take."""
    t = array.type
    return len(array) <= _SMALL_COPY and not (pa.types.is_nested(t) or pa.types.is_dictionary(t))


def take_rows(array: Array, indices: np.ndarray) -> Array:
    """``array`` at ``indices`` without concatenating its chunks first (Arrow's take of a
    chunked array copies the whole column into one chunk before gathering)."""
    if not isinstance(array, pa.ChunkedArray) or array.num_chunks <= 1 or _small_flat(array):
        # Arrow's take, without importing pyarrow.compute (Array.take does: ~45 ms in a fresh process)
        return call_compute("take", combine(array), pa.array(indices, type=pa.int64()))
    lengths = np.fromiter((len(c) for c in array.chunks), dtype=np.int64, count=array.num_chunks)
    starts = np.concatenate([[0], np.cumsum(lengths)])
    chunk_of = np.searchsorted(starts[1:], indices, side="right")
    in_order = bool(np.all(chunk_of[1:] >= chunk_of[:-1])) if len(indices) > 1 else True
    order = None if in_order else np.argsort(chunk_of, kind="stable")
    ordered_chunks = chunk_of if order is None else chunk_of[order]
    ordered = indices if order is None else indices[order]
    bounds = np.searchsorted(ordered_chunks, np.arange(array.num_chunks + 1), side="left")
    pieces = []
    for c in range(array.num_chunks):
        lo, hi = bounds[c], bounds[c + 1]
        if hi > lo:
            local = pa.array(ordered[lo:hi] - starts[c], type=pa.int64())
            pieces.append(call_compute("take", array.chunk(c), local))
    if not pieces:
        return empty_array(array.type)
    gathered = pa.chunked_array(pieces, type=array.type)
    if order is None:
        return gathered
    inverse = np.empty(len(order), dtype=np.int64)
    inverse[order] = np.arange(len(order), dtype=np.int64)
    return call_compute("take", combine(gathered), pa.array(inverse))


def empty_array(t: pa.DataType) -> pa.Array:
    """An empty array of type ``t`` (``pa.array([], type)`` cannot build unions)."""
    if pa.types.is_union(t):
        children = [empty_array(t.field(i).type) for i in range(t.num_fields)]
        names = [t.field(i).name for i in range(t.num_fields)]
        return pa.UnionArray.from_dense(
            pa.array([], pa.int8()), pa.array([], pa.int32()), children, names, list(t.type_codes)
        )
    if pa.types.is_struct(t) and any(pa.types.is_union(f.type) for f in t):
        return pa.StructArray.from_arrays([empty_array(f.type) for f in t], fields=list(t))
    if pa.types.is_list(t) and pa.types.is_union(t.value_type):
        return pa.ListArray.from_arrays(pa.array([0], pa.int32()), empty_array(t.value_type), type=t)
    return pa.array([], type=t)


class Vec:
    """A column of N values of one weave type (see the module docstring)."""

    __slots__ = ()
    length: int

    def take(self, indices: np.ndarray) -> Vec:
        raise NotImplementedError

    def filter(self, mask: np.ndarray) -> Vec:
        return self.take(np.flatnonzero(mask))

    def to_arrow(self) -> pa.Array:
        raise NotImplementedError

    def is_valid(self) -> np.ndarray:
        """Boolean numpy array: True where the element is not null."""
        raise NotImplementedError

    def slice(self, start: int, stop: int) -> Vec:
        return self.take(np.arange(start, stop, dtype=np.int64))


class ArrayVec(Vec):
    __slots__ = ("array", "length")

    def __init__(self, array: Array):
        self.array = array
        self.length = len(array)

    def take(self, indices: np.ndarray) -> ArrayVec:
        return ArrayVec(take_rows(self.array, np.asarray(indices, dtype=np.int64)))

    def filter(self, mask: np.ndarray) -> ArrayVec:
        return ArrayVec(self.array.filter(pa.array(mask, type=pa.bool_())))

    def slice(self, start: int, stop: int) -> ArrayVec:
        return ArrayVec(self.array.slice(start, stop - start))

    def to_arrow(self) -> pa.Array:
        return combine(self.array)

    def is_valid(self) -> np.ndarray:
        a = self.array
        if pa.types.is_union(a.type):
            return union_valid(combine(a))
        if a.null_count == 0:
            return np.ones(self.length, dtype=bool)
        return _to_numpy_bool(pc.is_valid(a))

    def __repr__(self) -> str:
        return f"ArrayVec({self.array.type}, n={self.length})"


class GatheredVec(ArrayVec):
    """``base`` gathered at ``indices``, gathered only when its values are read.

    Filtering rows leaves their columns as gathers; an op that only needs per-value codes
    (grouping by a string column) can take the codes of ``base`` (cached per segment) at
    ``indices`` instead of copying strings.
    """

    __slots__ = ("base", "indices", "_gathered")

    def __init__(self, base: ArrayVec, indices: np.ndarray):
        self.base = base
        self.indices = indices
        self.length = len(indices)
        self._gathered = None

    @property
    def array(self) -> Array:
        if self._gathered is None:
            self._gathered = take_rows(self.base.array, np.asarray(self.indices, dtype=np.int64))
        return self._gathered

    def take(self, indices: np.ndarray) -> GatheredVec:
        return GatheredVec(self.base, self.indices[indices])

    def filter(self, mask: np.ndarray) -> GatheredVec:
        return GatheredVec(self.base, self.indices[mask])

    def slice(self, start: int, stop: int) -> GatheredVec:
        return GatheredVec(self.base, self.indices[start:stop])

    def __reduce__(self):
        # Pickled (a partial sent between processes) as the values it stands for.
        return (ArrayVec, (self.array,))

    def __repr__(self) -> str:
        return f"GatheredVec({self.base.array.type}, n={self.length})"


class ConstVec(Vec):
    """``value`` (a Python value, or None) repeated ``length`` times; ``arrow_type`` types it."""

    __slots__ = ("value", "arrow_type", "length")

    def __init__(self, value: Any, arrow_type: pa.DataType, length: int):
        self.value = value
        self.arrow_type = arrow_type
        self.length = length

    def take(self, indices: np.ndarray) -> ConstVec:
        return ConstVec(self.value, self.arrow_type, len(indices))

    def filter(self, mask: np.ndarray) -> ConstVec:
        return ConstVec(self.value, self.arrow_type, int(np.count_nonzero(mask)))

    def slice(self, start: int, stop: int) -> ConstVec:
        return ConstVec(self.value, self.arrow_type, stop - start)

    def scalar(self) -> pa.Scalar:
        return pa.scalar(self.value, type=self.arrow_type)

    def to_arrow(self) -> pa.Array:
        if self.value is None:
            return pa.nulls(self.length, type=self.arrow_type)
        try:
            one = pa.array([self.value], type=self.arrow_type)
        except (pa.ArrowInvalid, pa.ArrowTypeError, pa.ArrowNotImplementedError):
            # A constant whose static type has no single Arrow type (a union, e.g. `1 ?? "a"`,
            # typed null): an array of its own kind, which concatenation unifies as needed.
            one = pa.array([self.value])
        return one.take(pa.array(np.zeros(self.length, dtype=np.int64)))

    def is_valid(self) -> np.ndarray:
        return np.full(self.length, self.value is not None, dtype=bool)

    def __repr__(self) -> str:
        return f"ConstVec({self.value!r}, n={self.length})"


class Fields(Mapping):
    """The fields of a StructVec, materialised lazily.

    Taking or filtering rows of a struct only records the row indices per field; a field is
    gathered when an op reads it.  ``rows.filter(...).count`` thus touches one column, and
    ``rows.filter(...)["lat"].avg`` two: projection pushdown without an analysis pass.
    """

    __slots__ = ("_entries",)

    def __init__(self, entries: dict[str, Vec | tuple[Vec, np.ndarray]]):
        self._entries = entries

    def __getitem__(self, name: str) -> Vec:
        entry = self._entries[name]
        if isinstance(entry, tuple):
            base, indices = entry
            entry = GatheredVec(base, indices) if type(base) is ArrayVec else base.take(indices)
            self._entries[name] = entry
        return entry

    def __contains__(self, name: object) -> bool:
        return name in self._entries

    def __iter__(self):
        return iter(self._entries)

    def __len__(self) -> int:
        return len(self._entries)

    def take(self, indices: np.ndarray) -> Fields:
        out: dict[str, Vec | tuple[Vec, np.ndarray]] = {}
        # Fields taken together share their index array: compose each one once, not per field
        # (a wide row broadcast into a large frame would otherwise copy one array per column).
        composed: dict[int, np.ndarray] = {}
        for name, entry in self._entries.items():
            if isinstance(entry, tuple):
                key = id(entry[1])
                if key not in composed:
                    composed[key] = entry[1][indices]
                out[name] = (entry[0], composed[key])
            elif isinstance(entry, ConstVec):
                out[name] = entry.take(indices)
            else:
                out[name] = (entry, indices)
        return Fields(out)


class StructVec(Vec):
    """Dicts (rows) of N elements, column by column; ``valid`` marks non-null dicts."""

    __slots__ = ("fields", "length", "valid")

    def __init__(self, fields: Mapping[str, Vec] | Fields, length: int, valid: np.ndarray | None = None):
        self.fields = fields if isinstance(fields, Fields) else Fields(dict(fields))
        self.length = length
        self.valid = valid

    @classmethod
    def from_table(cls, table: pa.Table) -> StructVec:
        return cls({name: ArrayVec(table.column(name)) for name in table.column_names}, table.num_rows)

    @classmethod
    def from_struct_array(cls, array: Array) -> StructVec:
        array = combine(array)
        fields: dict[str, Vec] = {
            array.type.field(i).name: ArrayVec(array.field(i)) for i in range(array.type.num_fields)
        }
        valid = _to_numpy_bool(pc.is_valid(array)) if array.null_count else None
        vec = cls(fields, len(array), valid)
        return vec.with_nulls_pushed_down() if valid is not None else vec

    def with_nulls_pushed_down(self) -> StructVec:
        """A null dict reads as null in every field (``row["a"]["b"]`` of a null ``a``)."""
        if self.valid is None:
            return self
        mask = pa.array(~self.valid, type=pa.bool_())
        fields = {k: null_where(v, mask) for k, v in self.fields.items()}
        return StructVec(fields, self.length, self.valid)

    def take(self, indices: np.ndarray) -> StructVec:
        indices = np.asarray(indices, dtype=np.int64)
        valid = self.valid[indices] if self.valid is not None else None
        return StructVec(self.fields.take(indices), len(indices), valid)

    def filter(self, mask: np.ndarray) -> StructVec:
        return self.take(np.flatnonzero(mask))

    def slice(self, start: int, stop: int) -> StructVec:
        if start == 0 and stop == self.length:
            return self
        return self.take(np.arange(start, stop, dtype=np.int64))

    def to_arrow(self) -> pa.Array:
        mask = pa.array(~self.valid, type=pa.bool_()) if self.valid is not None else None
        if not self.fields:
            return pa.array(
                [
                    None if mask is not None and m else {}
                    for m in (mask.to_pylist() if mask is not None else [False] * self.length)
                ],
                type=pa.struct([]),
            )
        arrays = [v.to_arrow() for v in self.fields.values()]
        return pa.StructArray.from_arrays(arrays, names=list(self.fields), mask=mask)

    def to_table(self) -> pa.Table:
        """The dicts as a table (one column per field); only for non-null dicts."""
        if not self.fields:
            return pa.table({}).append_column("_", pa.nulls(self.length)).drop(["_"]) if self.length else pa.table({})
        return pa.table({k: _as_array_or_chunked(v) for k, v in self.fields.items()})

    def is_valid(self) -> np.ndarray:
        return self.valid if self.valid is not None else np.ones(self.length, dtype=bool)

    def __repr__(self) -> str:
        return f"StructVec({list(self.fields)}, n={self.length})"


class ListVec(Vec):
    """N lists: element i is ``child[offsets[i]:offsets[i+1]]``; ``offsets[0] == 0``.

    ``keys`` (a Vec of length N) is set for group lists; ``valid`` marks non-null lists.

    A list may also be held *order-free* as ``view = (group_of, base)``: element j of ``base``
    belongs to list ``group_of[j]``, and ``child`` is ``base`` reordered list by list (stable),
    computed only if an op needs list order.  ``groupby`` builds its groups this way, so that
    ``g["lat"].avg`` reduces straight from the column by group id, with no sort or gather.
    """

    __slots__ = ("offsets", "_child", "length", "valid", "keys", "view")

    def __init__(
        self,
        offsets: np.ndarray,
        child: Vec | None = None,
        valid: np.ndarray | None = None,
        keys: Vec | None = None,
        view: tuple[np.ndarray, Vec] | None = None,
    ):
        if child is None and view is None:
            raise ValueError("a ListVec needs its child or an order-free view")
        self.offsets = offsets
        self._child = child
        self.length = len(offsets) - 1
        self.valid = valid
        self.keys = keys
        self.view = view

    @property
    def child(self) -> Vec:
        if self._child is None:
            from weave_lite.kernels.grouping import stable_order

            assert self.view is not None  # the constructor requires a child or a view
            group_of, base = self.view
            order, _ = stable_order(group_of, self.length)
            self._child = base.take(order)
        return self._child

    @classmethod
    def single(cls, child: Vec) -> ListVec:
        """One list holding all of ``child`` (a top-level list)."""
        return cls(np.array([0, child.length], dtype=np.int64), child)

    def lengths(self) -> np.ndarray:
        return np.diff(self.offsets)

    def parent_index(self) -> np.ndarray:
        """For each child element, the index of the list it belongs to."""
        if self.length == 1:  # a top-level list: no repeat needed
            return np.zeros(int(self.offsets[1]), dtype=np.int64)
        return np.repeat(np.arange(self.length, dtype=np.int64), self.lengths())

    def with_child(self, child: Vec, keys: Vec | None = None) -> ListVec:
        return ListVec(self.offsets, child, self.valid, keys if keys is not None else self.keys)

    def take(self, indices: np.ndarray) -> ListVec:
        indices = np.asarray(indices, dtype=np.int64)
        lens = self.lengths()[indices]
        offsets = np.zeros(len(indices) + 1, dtype=np.int64)
        np.cumsum(lens, out=offsets[1:])
        starts = self.offsets[:-1][indices]
        child_idx = np.repeat(starts - offsets[:-1], lens) + np.arange(offsets[-1], dtype=np.int64)
        valid = self.valid[indices] if self.valid is not None else None
        keys = self.keys.take(indices) if self.keys is not None else None
        return ListVec(offsets, self.child.take(child_idx), valid, keys)

    def slice(self, start: int, stop: int) -> ListVec:
        lo, hi = self.offsets[start], self.offsets[stop]
        valid = self.valid[start:stop] if self.valid is not None else None
        keys = self.keys.slice(start, stop) if self.keys is not None else None
        return ListVec(self.offsets[start : stop + 1] - lo, self.child.slice(int(lo), int(hi)), valid, keys)

    def filter_children(self, mask: np.ndarray) -> ListVec:
        """Keep the child elements where ``mask`` (length = child length) is True."""
        if self.length == 1:
            kept = np.array([np.count_nonzero(mask)], dtype=np.int64)
        else:
            kept = np.bincount(self.parent_index()[mask], minlength=self.length).astype(np.int64)
        offsets = np.zeros(self.length + 1, dtype=np.int64)
        np.cumsum(kept, out=offsets[1:])
        return ListVec(offsets, self.child.filter(mask), self.valid, self.keys)

    def to_arrow(self) -> pa.Array:
        child = self.child.to_arrow()
        mask = pa.array(~self.valid, type=pa.bool_()) if self.valid is not None else None
        if self.offsets[-1] < 2**31:
            return pa.ListArray.from_arrays(pa.array(self.offsets.astype(np.int32)), child, mask=mask)
        return pa.LargeListArray.from_arrays(pa.array(self.offsets), child, mask=mask)

    def is_valid(self) -> np.ndarray:
        return self.valid if self.valid is not None else np.ones(self.length, dtype=bool)

    def __repr__(self) -> str:
        return f"ListVec(n={self.length}, group={self.keys is not None}, order_free={self.view is not None})"


# ---------------------------------------------------------------------------------------------


def vec_from_arrow(array: Array) -> Vec:
    """Wrap an Arrow array: structs become StructVec, lists ListVec, the rest ArrayVec."""
    t = array.type
    if pa.types.is_struct(t):
        return StructVec.from_struct_array(array)
    if pa.types.is_list(t) or pa.types.is_large_list(t):
        array = combine(array)
        offsets = np.asarray(array.offsets, dtype=np.int64)
        base = offsets[0]
        child = array.values.slice(base, offsets[-1] - base)
        valid = _to_numpy_bool(pc.is_valid(array)) if array.null_count else None
        return ListVec(offsets - base, vec_from_arrow(child), valid)
    return ArrayVec(array)


def null_where(vec: Vec, mask: pa.Array) -> Vec:
    """``vec`` with nulls where ``mask`` (Arrow bool, length N) is True."""
    if isinstance(vec, ArrayVec):
        if pa.types.is_union(vec.array.type):
            return ArrayVec(_union_null_where(combine(vec.array), _to_numpy_bool(mask)))
        return ArrayVec(pc.if_else(mask, pa.scalar(None, type=vec.array.type), vec.array))
    if isinstance(vec, ConstVec):
        return null_where(ArrayVec(vec.to_arrow()), mask)
    m = _to_numpy_bool(mask)
    if isinstance(vec, StructVec):
        valid = vec.is_valid() & ~m
        return StructVec({k: null_where(v, mask) for k, v in vec.fields.items()}, vec.length, valid)
    if isinstance(vec, ListVec):
        return ListVec(vec.offsets, vec._child, vec.is_valid() & ~m, vec.keys, vec.view)
    raise TypeError(vec)


def _union_null_where(array: pa.Array, mask: np.ndarray) -> pa.Array:
    """A dense union with nulls where ``mask`` is True (they point at one null appended to the
    first variant, since a dense union has no validity bitmap of its own)."""
    if not mask.any():
        return array
    t = array.type
    children = [array.field(i) for i in range(t.num_fields)]
    first = children[0]
    children[0] = (
        pa.concat_arrays([first, pa.nulls(1, type=first.type)]) if not pa.types.is_union(first.type) else first
    )
    codes = np.asarray(array.type_codes).copy()
    offsets = np.asarray(array.offsets).astype(np.int32)
    codes[mask] = t.type_codes[0]
    offsets[mask] = len(first)
    names = [t.field(i).name for i in range(t.num_fields)]
    return pa.UnionArray.from_dense(
        pa.array(codes, pa.int8()), pa.array(offsets, pa.int32()), children, names, list(t.type_codes)
    )


def unsliced_union(array: pa.Array) -> pa.Array:
    """A union array whose ``type_codes``/``offsets`` describe its own rows: pyarrow's
    properties ignore a slice's offset (morsels slice segments), so a slice is copied first."""
    return pa.concat_arrays([array]) if array.offset else array


def union_variants(array: pa.Array) -> list[tuple[int, np.ndarray, pa.Array, np.ndarray]]:
    """The variants a union array holds, each as ``(i, rows, child, inner)``: variant i's child
    array, the rows holding it, and each such row's index into the child (sparse or dense).
    The one walk over union arrays (validity, key codes, strings, join keys use it)."""
    array = unsliced_union(array)
    t = array.type
    type_codes = np.asarray(array.type_codes, dtype=np.int64)
    offsets = np.asarray(array.offsets, dtype=np.int64) if t.mode == "dense" else None
    out = []
    for i in range(t.num_fields):
        rows = np.flatnonzero(type_codes == t.type_codes[i])
        if not len(rows):
            continue
        out.append((i, rows, array.field(i), rows if offsets is None else offsets[rows]))
    return out


def union_valid(array: pa.Array) -> np.ndarray:
    """Validity of a dense union (its nulls live in the variants; it has no bitmap of its own)."""
    valid = np.ones(len(array), dtype=bool)
    for _, rows, child, inner in union_variants(array):
        if child.null_count:
            valid[rows] = _to_numpy_bool(pc.is_valid(child))[inner]
    return valid


def _to_numpy_bool(array: Array) -> np.ndarray:
    array = combine(array)
    if array.null_count == 0 and pa.types.is_boolean(array.type) and len(array):
        # Unpack the bitmap (Arrow's conversion goes value by value, several times slower).
        data = array.buffers()[1]
        bits = np.frombuffer(data, dtype=np.uint8, count=(array.offset + len(array) + 7) // 8)
        unpacked = np.unpackbits(bits, count=array.offset + len(array), bitorder="little")
        return unpacked[array.offset :].view(np.bool_)
    return array.to_numpy(zero_copy_only=False).astype(bool, copy=False)


def to_numpy_bool(array: Array, null_as: bool = False) -> np.ndarray:
    """An Arrow boolean array as numpy, nulls read as ``null_as``."""
    if array.null_count:
        array = pc.fill_null(array, null_as)
    return _to_numpy_bool(array)


def _as_array_or_chunked(vec: Vec) -> Array:
    if isinstance(vec, ArrayVec):
        return vec.array
    return vec.to_arrow()
