"""The profile of one column: exact counters, streaming moments and three sketches.

What is counted (the same whether values arrive as Arrow arrays, pandas columns or dicts):

- ``count``: every value, nulls included; ``null_count``: missing values, i.e. nulls
  (``None``, Arrow nulls) *and* float NaN, as whylogs counts them (a pandas NaN is pandas'
  missing value); ``nan_count``: the NaNs among them; ``inf_count``: +-inf.
- type counts, per non-missing value: ``type_integral`` (ints), ``type_fractional`` (floats,
  inf included, and decimals), ``type_boolean``, ``type_string`` and ``type_object``
  (anything else: bytes, dates and times, lists, dicts, ...). So
  ``count == null_count + type_integral + type_fractional + type_boolean + type_string +
  type_object``.
- numeric metrics (``min``, ``max``, ``mean``, ``stddev``, quantiles) over the finite int and
  float values; ``None`` when a column has none (booleans are not numeric). ``stddev`` is the
  sample standard deviation, as in whylogs.
- ``distinct_*`` from :class:`~.sketches.HLLSketch` over ints, floats (NaN excluded), booleans
  and strings; ``None`` for a column of objects only.
- ``frequent_items`` from :class:`~.sketches.FrequentItemsSketch` over the strings; ``None``
  for a column that never held a string.
"""

from __future__ import annotations

from collections import Counter

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from ._binio import BinReader, BinWriter, FormatError
from .moments import Moments
from .sketches.frequent import FrequentItemsSketch
from .sketches.hashing import (
    hash_bool_values,
    hash_float64s,
    hash_int64s,
    hash_string_array,
    hash_strings,
    string_array_parts,
)
from .sketches.hll import DEFAULT_LG_K, HLLSketch
from .sketches.kll import DEFAULT_K, KLLSketch

COUNTERS = (
    "count",
    "null_count",
    "nan_count",
    "inf_count",
    "type_integral",
    "type_fractional",
    "type_boolean",
    "type_string",
    "type_object",
)
(_COUNT, _NULL, _NAN, _INF, _INT, _FRAC, _BOOL, _STR, _OBJ) = range(len(COUNTERS))

QUANTILES = (
    ("q_01", 0.01),
    ("q_05", 0.05),
    ("q_10", 0.10),
    ("q_25", 0.25),
    ("median", 0.50),
    ("q_75", 0.75),
    ("q_90", 0.90),
    ("q_95", 0.95),
    ("q_99", 0.99),
)

METRICS = (
    *COUNTERS,
    "min",
    "max",
    "mean",
    "stddev",
    *(name for name, _ in QUANTILES),
    "distinct_est",
    "distinct_lower",
    "distinct_upper",
    "frequent_items",
)

_FLOAT_TYPES = {float, type(None), np.float64, np.float32, np.float16}
_QS = np.array([q for _, q in QUANTILES])


def _is_string_type(t: pa.DataType) -> bool:
    return (
        pa.types.is_string(t)
        or pa.types.is_large_string(t)
        or (hasattr(pa.types, "is_string_view") and pa.types.is_string_view(t))
    )


class ColumnProfile:
    """Counters, moments and sketches of one column; update with whole arrays, merge, serialise."""

    __slots__ = ("name", "counters", "moments", "kll", "hll", "freq")

    def __init__(self, name: str, *, kll_k: int = DEFAULT_K, hll_lg_k: int = DEFAULT_LG_K) -> None:
        self.name = name
        self.counters = np.zeros(len(COUNTERS), dtype=np.int64)
        self.moments = Moments()
        self.kll = KLLSketch(k=kll_k)
        self.hll = HLLSketch(lg_k=hll_lg_k)
        self.freq: FrequentItemsSketch | None = None

    # ------------------------------------------------------------------ updates
    def update_array(self, arr) -> None:
        """Profile an Arrow ``Array`` or ``ChunkedArray`` (any type)."""
        if isinstance(arr, pa.ChunkedArray):
            for chunk in arr.chunks:
                self.update_array(chunk)
            return
        if not isinstance(arr, pa.Array):
            arr = pa.array(arr)
        n = len(arr)
        if n == 0:
            return
        c = self.counters
        nulls = arr.null_count
        c[_COUNT] += n
        c[_NULL] += nulls
        valid = n - nulls
        if valid == 0:
            return
        t = arr.type
        if pa.types.is_dictionary(t):
            c[_COUNT] -= n
            c[_NULL] -= nulls
            self._update_dictionary(arr)
            return
        if pa.types.is_integer(t):
            c[_INT] += valid
            vals = arr.drop_null() if nulls else arr
            np_vals = vals.to_numpy(zero_copy_only=False)
            if pa.types.is_uint64(t):
                bits = np_vals.view(np.int64)
            else:
                bits = np_vals.astype(np.int64, copy=False)
            self._update_numeric(np_vals.astype(np.float64), hash_int64s(bits))
        elif pa.types.is_floating(t) or pa.types.is_decimal(t):
            c[_FRAC] += valid
            vals = arr.drop_null() if nulls else arr
            if not pa.types.is_float64(t):
                vals = vals.cast(pa.float64())
            f = vals.to_numpy(zero_copy_only=False)
            self._update_numeric(f, hash_float64s(f))
        elif pa.types.is_boolean(t):
            c[_BOOL] += valid
            trues = pc.sum(arr).as_py() or 0
            self.hll.update_hashes(hash_bool_values(valid - trues > 0, trues > 0))
        elif _is_string_type(t):
            c[_STR] += valid
            self._update_strings(arr)
        elif pa.types.is_null(t):
            pass
        else:
            c[_OBJ] += valid

    def _update_numeric(self, f: np.ndarray, hashes: np.ndarray) -> None:
        f = np.ascontiguousarray(f, dtype=np.float64)
        nans, infs = self.moments.update(f)
        c = self.counters
        c[_NAN] += nans
        c[_INF] += infs
        if nans:  # a NaN is a missing value, as in whylogs: a null with no type
            c[_NULL] += nans
            c[_FRAC] -= nans
        self.kll.update(f)
        self.hll.update_hashes(hashes)

    def _update_strings(self, arr: pa.Array) -> None:
        if not (pa.types.is_string(arr.type) or pa.types.is_large_string(arr.type)):
            arr = arr.cast(pa.large_string())
        hashes, rows = hash_string_array(arr)
        self.hll.update_hashes(hashes)
        if self.freq is None:
            self.freq = FrequentItemsSketch()
        self.freq.update(hashes, rows, lambda i: arr[i].as_py())

    def _update_dictionary(self, arr: pa.DictionaryArray) -> None:
        dictionary = arr.dictionary
        if not _is_string_type(dictionary.type) or dictionary.null_count:
            self.update_array(arr.dictionary_decode())
            return
        n = len(arr)
        nulls = arr.null_count
        c = self.counters
        c[_COUNT] += n
        c[_NULL] += nulls
        c[_STR] += n - nulls
        # hash each dictionary entry once, then gather by index
        d = (
            dictionary
            if pa.types.is_string(dictionary.type) or pa.types.is_large_string(dictionary.type)
            else dictionary.cast(pa.large_string())
        )
        offsets, data, valid, has_valid = string_array_parts(d)
        dict_hashes, _ = hash_strings(offsets, data, valid, has_valid)
        idx_arr = arr.indices
        if nulls:
            rows = np.nonzero(pc.is_valid(arr).to_numpy(zero_copy_only=False))[0]
            idx = idx_arr.to_numpy(zero_copy_only=False)[rows].astype(np.int64)
        else:
            rows = np.arange(n, dtype=np.int64)
            idx = idx_arr.to_numpy(zero_copy_only=False).astype(np.int64)
        hashes = dict_hashes[idx]
        self.hll.update_hashes(hashes)
        if self.freq is None:
            self.freq = FrequentItemsSketch()
        self.freq.update(hashes, rows, lambda i: arr[i].as_py())

    def update_values(self, values: list) -> None:
        """Profile a list of Python values (the dict-record path).

        The list is turned into one Arrow array when its values share a type (ints mixed with
        floats still count as ints in ``type_integral``); a list of mixed types is split by
        type first.
        """
        if not values:
            return
        try:
            arr = pa.array(values)
        except (pa.ArrowInvalid, pa.ArrowTypeError, pa.ArrowNotImplementedError, OverflowError, TypeError, ValueError):
            self._update_mixed(values)
            return
        t = arr.type
        if pa.types.is_floating(t):
            # ints turned into floats by Arrow still count as ints (type() counting runs in C)
            n_int = 0
            if set(map(type, values)) - _FLOAT_TYPES:
                types = Counter(map(type, values))
                n_int = sum(
                    c for tp, c in types.items() if tp is int or (tp is not bool and issubclass(tp, np.integer))
                )
            self.update_array(arr)
            if n_int:
                self.counters[_INT] += n_int
                self.counters[_FRAC] -= n_int
            return
        self.update_array(arr)

    def _update_mixed(self, values: list) -> None:
        ints: list = []
        floats: list = []
        bools: list = []
        strs: list = []
        nulls = 0
        objs = 0
        for v in values:
            if v is None:
                nulls += 1
            elif isinstance(v, (bool, np.bool_)):
                bools.append(bool(v))
            elif isinstance(v, (int, np.integer)):
                ints.append(int(v))
            elif isinstance(v, (float, np.floating)):
                floats.append(float(v))
            elif isinstance(v, str):
                strs.append(v)
            else:
                objs += 1
        c = self.counters
        c[_COUNT] += nulls + objs
        c[_NULL] += nulls
        c[_OBJ] += objs
        if ints:
            try:
                self.update_array(pa.array(ints, type=pa.int64()))
            except (OverflowError, pa.ArrowInvalid):  # beyond int64: profiled as floats, still counted as ints
                self.update_array(pa.array([float(i) for i in ints], type=pa.float64()))
                c[_INT] += len(ints)
                c[_FRAC] -= len(ints)
        if floats:
            self.update_array(pa.array(floats, type=pa.float64()))
        if bools:
            self.update_array(pa.array(bools, type=pa.bool_()))
        if strs:
            self.update_array(pa.array(strs, type=pa.large_string()))

    # ------------------------------------------------------------------ merge
    def merge(self, other: ColumnProfile) -> ColumnProfile:
        """A new profile of both streams (neither input changes)."""
        out = self.copy()
        out.merge_in(other)
        return out

    def merge_in(self, other: ColumnProfile) -> ColumnProfile:
        self.counters += other.counters
        self.moments.merge(other.moments)
        self.kll.merge(other.kll)
        self.hll.merge(other.hll)
        if other.freq is not None:
            if self.freq is None:
                self.freq = other.freq.copy()
            else:
                self.freq.merge(other.freq)
        return self

    def copy(self) -> ColumnProfile:
        c = ColumnProfile.__new__(ColumnProfile)
        c.name = self.name
        c.counters = self.counters.copy()
        c.moments = self.moments.copy()
        c.kll = self.kll.copy()
        c.hll = self.hll.copy()
        c.freq = None if self.freq is None else self.freq.copy()
        return c

    # ------------------------------------------------------------------ queries
    @property
    def count(self) -> int:
        return int(self.counters[_COUNT])

    def quantile(self, q):
        """Quantile(s) of the numeric values at fraction(s) ``q`` in [0, 1]; ``None`` if none."""
        if np.ndim(q) == 0:
            return self.kll.quantile(float(q))
        return [None if np.isnan(v) else float(v) for v in self.kll.quantiles(q)]

    def distinct(self) -> float | None:
        """Estimated number of distinct values (``None`` for a column of objects only)."""
        return self._distinct()[0]

    def _distinct(self):
        c = self.counters
        nonnull = c[_COUNT] - c[_NULL]
        if c[_OBJ] > 0 and c[_OBJ] == nonnull:
            return None, None, None
        est = self.hll.estimate()
        lo, hi = self.hll.bounds()
        return est, lo, hi

    def frequent_items(self) -> list[dict] | None:
        return None if self.freq is None else self.freq.items()

    def summary(self) -> dict:
        """All metrics of the column, in the order of :data:`METRICS`."""
        out: dict = {name: int(v) for name, v in zip(COUNTERS, self.counters)}
        m = self.moments
        numeric = m.n > 0
        out["min"] = float(m.min) if numeric else None
        out["max"] = float(m.max) if numeric else None
        out["mean"] = float(m.mean) if numeric else None
        out["stddev"] = m.stddev if numeric else None
        qs = self.kll.quantiles(_QS) if numeric else np.full(len(_QS), np.nan)
        for (name, _), v in zip(QUANTILES, qs):
            out[name] = None if np.isnan(v) else float(v)
        est, lo, hi = self._distinct()
        out["distinct_est"] = est
        out["distinct_lower"] = lo
        out["distinct_upper"] = hi
        out["frequent_items"] = self.frequent_items()
        return out

    def __repr__(self) -> str:
        return f"ColumnProfile({self.name!r}, count={self.count})"

    def _repr_html_(self) -> str:
        from weave_lite.display.stats import profile_html

        return profile_html(pa.Table.from_pylist([{"column": self.name, **self.summary()}]), title="column profile")

    # ------------------------------------------------------------------ serialisation
    def to_bytes(self) -> bytes:
        w = BinWriter()
        w.text(self.name)
        w.array(self.counters, "<i8")
        m = self.moments
        w.i64(m.n)
        w.f64(m.mean)
        w.f64(m.m2)
        w.f64(m.min)
        w.f64(m.max)
        w.blob(self.kll.to_bytes())
        w.blob(self.hll.to_bytes())
        if self.freq is None:
            w.u8(0)
        else:
            w.u8(1)
            w.blob(self.freq.to_bytes())
        return w.getvalue()

    @classmethod
    def from_bytes(cls, data: bytes) -> ColumnProfile:
        r = BinReader(data)
        c = cls.__new__(cls)
        c.name = r.text()
        counters = r.array("<i8")
        if counters.shape[0] != len(COUNTERS):
            msg = "corrupt column profile"
            raise FormatError(msg)
        c.counters = counters.astype(np.int64)
        c.moments = Moments(r.i64(), r.f64(), r.f64(), r.f64(), r.f64())
        c.kll = KLLSketch.from_bytes(r.blob())
        c.hll = HLLSketch.from_bytes(r.blob())
        c.freq = FrequentItemsSketch.from_bytes(r.blob()) if r.u8() else None
        return c
