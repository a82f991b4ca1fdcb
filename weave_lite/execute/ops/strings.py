"""Kernels of the string ops (and of ``toString``, which turns any scalar into a string).

Everything runs over whole Arrow arrays: ``pyarrow.compute`` where Arrow has the operation with
Python's semantics, else small Numba loops over the UTF-8 bytes (``@njit``), else numpy.

Where Arrow and Python differ (the reference interpreter is Python), this module follows Python:

* ``lower``/``upper``: Arrow's utf8 case mapping is the simple (one code point) mapping of a newer
  Unicode version; Python uses the full mapping (``"ß".upper() == "SS"``, ``"İ".lower()`` is two
  code points) and the final-sigma rule of ``lower``.  ASCII-only columns use Arrow's ASCII
  kernels; others a Numba kernel driven by tables built once from Python's own ``str.upper`` /
  ``str.lower`` (so they always agree with the running interpreter).
* ``replace("", x)`` inserts ``x`` around every code point as Python does (a Numba kernel:
  Arrow's literal replace never terminates on an empty pattern).
* ``split("")`` splits into code points (numpy over the UTF-8 bytes).
* ``toNumber`` parses with Arrow's string->float64 cast after a RE2 check of the reference's
  number grammar; its type is ``union<int, float>`` which the type system widens to ``float``,
  so the kernel always returns float64 (an integer text gives the float of that integer: exact
  up to 2**53; ``"-0"`` gives ``0.0`` as ``int("-0")`` does).
* ``findAll(regex)`` uses RE2 (linear time) through Arrow, with ``\\d \\w \\s`` made
  Unicode-aware as in Python's ``re``; see :func:`_find_all` for the remaining differences.
* ``toString`` of timestamps is written with numpy (ISO 8601, microseconds, ``Z``); floats use
  Arrow's float->string cast, which is exactly the reference's formatter.

Arguments that differ from element to element (``s.replace(row["a"], row["b"])``) go to Numba
kernels (byte-level search: UTF-8 is self-synchronizing); ``findAll`` with a varying regex runs
RE2 once per *distinct* pattern (:func:`_by_distinct`).
"""

from __future__ import annotations

import threading
from typing import Any, Callable

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
from numba import njit

from weave_lite.execute.estimates import repeat_bytes
from weave_lite.execute.executor import KernelCall, kernel
from weave_lite.execute.ops.base import arrow_type_for, concat_vecs, is_null_type
from weave_lite.execute.vectors import ArrayVec, ConstVec, ListVec, StructVec, Vec, unsliced_union, vec_from_arrow

STRING = pa.string()

# ---------------------------------------------------------------------------------------------
# Generic plumbing
# ---------------------------------------------------------------------------------------------


def _null_result(call: KernelCall) -> Vec:
    return ConstVec(None, arrow_type_for(call.out_type), call.length)


def _has_null_type(call: KernelCall) -> bool:
    return any(isinstance(a, Vec) and is_null_type(a) for a in call.args)


def _broadcast(vec: Vec, n: int) -> Vec:
    """A Vec computed for one element, repeated ``n`` times."""
    if isinstance(vec, ConstVec):
        return ConstVec(vec.value, vec.arrow_type, n)
    if isinstance(vec, ArrayVec):
        t = vec.array.type
        if not (pa.types.is_nested(t) or pa.types.is_union(t)):
            return ConstVec(vec.array[0].as_py(), t, n)
    return vec.take(np.zeros(n, dtype=np.int64))


def folding(compute: Callable[[KernelCall, list, int], Vec]) -> Callable[[KernelCall], Vec]:
    """Run ``compute(call, args, n)``; when every value argument is a constant, run it once on
    one element and broadcast the result (``"a".upper`` in a frame of a million rows)."""

    def run(call: KernelCall) -> Vec:
        if _has_null_type(call):
            return _null_result(call)
        values = [a for a in call.args if isinstance(a, Vec)]
        if values and call.length != 1 and all(isinstance(a, ConstVec) for a in values):
            small = [ConstVec(a.value, a.arrow_type, 1) if isinstance(a, ConstVec) else a for a in call.args]
            one = compute(call, small, 1)
            if isinstance(one, (ListVec, StructVec)):  # copied once per element (`"a,b".split(",")`)
                call.admit(repeat_bytes(one, call.length), f"`{call.plan.op}` repeated for {call.length:,} elements")
            return _broadcast(one, call.length)
        return compute(call, list(call.args), call.length)

    run.__name__ = compute.__name__
    return run


def combine_chunks(array: pa.Array | pa.ChunkedArray) -> pa.Array:
    if isinstance(array, pa.ChunkedArray):
        if array.num_chunks == 1:
            return array.chunk(0)
        if array.num_chunks == 0:
            return pa.array([], type=array.type)
        return array.combine_chunks()
    return array


def _str_array(vec: Vec) -> pa.Array:
    """A string Vec as one ``pa.string()`` array (large strings kept large when they must be)."""
    array = combine_chunks(vec.array if isinstance(vec, ArrayVec) else vec.to_arrow())
    t = array.type
    if t == STRING or pa.types.is_large_string(t):
        return array
    if pa.types.is_null(t):
        return pa.nulls(len(array), type=STRING)
    if pa.types.is_string_view(t):
        return array.cast(STRING)
    raise TypeError(f"expected strings, got {t}")


def validity(array: pa.Array) -> np.ndarray:
    if array.null_count == 0:
        return np.ones(len(array), dtype=bool)
    return np.asarray(pc.is_valid(array).to_numpy(zero_copy_only=False), dtype=bool)


def _parts(array: pa.Array) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(UTF-8 bytes, int64 offsets of the n strings into them, validity) of a string array."""
    n = len(array)
    large = pa.types.is_large_string(array.type)
    buffers = array.buffers()
    if buffers[1] is None:
        offsets = np.zeros(n + 1, dtype=np.int64)
    else:
        offsets = np.frombuffer(buffers[1], dtype=np.int64 if large else np.int32, count=array.offset + n + 1)
        offsets = offsets[array.offset :].astype(np.int64)
    data = np.frombuffer(buffers[2], dtype=np.uint8) if buffers[2] is not None else np.zeros(0, np.uint8)
    return data, offsets, validity(array)


def _make_strings(data: np.ndarray, offsets: np.ndarray, valid: np.ndarray | None) -> pa.Array:
    """A string array from UTF-8 bytes and int64 offsets (large_string only when it must be)."""
    n = len(offsets) - 1
    large = int(offsets[-1]) >= 2**31 - 1
    off = pa.py_buffer(np.ascontiguousarray(offsets, dtype=np.int64 if large else np.int32))
    mask = None
    null_count = 0
    if valid is not None and not valid.all():
        mask = pa.py_buffer(np.packbits(valid.astype(np.uint8), bitorder="little"))
        null_count = int(n - np.count_nonzero(valid))
    typ = pa.large_string() if large else STRING
    return pa.Array.from_buffers(typ, n, [mask, off, pa.py_buffer(np.ascontiguousarray(data))], null_count)


def _gather(data: np.ndarray, starts: np.ndarray, ends: np.ndarray, valid: np.ndarray | None) -> pa.Array:
    """The strings ``data[starts[i]:ends[i]]`` (byte ranges)."""
    sizes = ends - starts
    out_off = np.zeros(len(sizes) + 1, dtype=np.int64)
    np.cumsum(sizes, out=out_off[1:])
    index = np.repeat(starts - out_off[:-1], sizes) + np.arange(out_off[-1], dtype=np.int64)
    return _make_strings(data[index], out_off, valid)


def _str_unary(compute_array: Callable[[pa.Array], pa.Array]):
    """A kernel applying ``compute_array`` to the string argument (constants folded)."""

    def compute(call: KernelCall, args: list, n: int) -> Vec:
        return _as_vec(compute_array(_str_array(args[0])))

    compute.__name__ = compute_array.__name__
    return folding(compute)


def _as_vec(out: pa.Array | Vec) -> Vec:
    if isinstance(out, Vec):
        return out
    return vec_from_arrow(out)


def _by_distinct(strings: Vec, args: list[Vec], fn: Callable[..., Vec], out_type: pa.DataType) -> Vec:
    """``fn(strings subset, *argument values)`` once per distinct tuple of argument values.

    For ops whose Arrow kernel takes its pattern as a scalar; a null argument gives null.  The
    Python loop runs over distinct argument values, never over rows.
    """
    n = strings.length
    codes = np.zeros(n, dtype=np.int64)
    valid = np.ones(n, dtype=bool)
    lookups: list[Callable[[int], Any]] = []
    for vec in args:
        if isinstance(vec, ConstVec):
            valid &= vec.value is not None
            lookups.append(lambda row, v=vec.value: v)
            continue
        array = combine_chunks(vec.array if isinstance(vec, ArrayVec) else vec.to_arrow())
        encoded = pc.dictionary_encode(array)
        idx = encoded.indices
        valid &= validity(idx)
        idx_np = np.asarray(pc.fill_null(idx, 0).to_numpy(zero_copy_only=False), dtype=np.int64)
        dictionary = encoded.dictionary
        codes = codes * max(len(dictionary), 1) + idx_np
        lookups.append(lambda row, d=dictionary, i=idx_np: d[int(i[row])].as_py())
    rows = np.flatnonzero(valid)
    order = rows[np.argsort(codes[rows], kind="stable")]
    sorted_codes = codes[order]
    bounds = np.flatnonzero(np.diff(sorted_codes)) + 1 if len(order) else np.zeros(0, np.int64)
    starts = np.concatenate([[0], bounds]).astype(np.int64) if len(order) else np.zeros(0, np.int64)
    ends = np.concatenate([bounds, [len(order)]]).astype(np.int64) if len(order) else np.zeros(0, np.int64)
    parts: list[Vec] = []
    for lo, hi in zip(starts, ends):
        group = order[lo:hi]
        first = int(group[0])
        parts.append(fn(strings.take(group), *[look(first) for look in lookups]))
    nulls = np.flatnonzero(~valid)
    if len(nulls):
        parts.append(ConstVec(None, out_type, len(nulls)))
    if not parts:
        return ConstVec(None, out_type, n)
    both = concat_vecs(parts) if len(parts) > 1 else parts[0]
    position = np.empty(n, dtype=np.int64)
    position[np.concatenate([order, nulls])] = np.arange(n, dtype=np.int64)
    return both.take(position)


def _pattern_op(
    fn: Callable[..., pa.Array | Vec],
    out_type: pa.DataType,
    varying: Callable[..., pa.Array | Vec] | None = None,
):
    """A kernel ``fn(strings array, *pattern values)`` whose patterns Arrow takes as scalars.

    Patterns that differ between elements go to ``varying(strings array, *pattern arrays)`` (a
    Numba kernel) when there is one, else run ``fn`` once per distinct pattern."""

    def compute(call: KernelCall, args: list, n: int) -> Vec:
        strings = args[0]
        patterns = [a for a in args[1:] if a is not None]
        if all(isinstance(p, ConstVec) for p in patterns):
            return _as_vec(fn(_str_array(strings), *[p.value for p in patterns]))
        if varying is not None:
            return _as_vec(varying(_str_array(strings), *[_str_array(p) for p in patterns]))
        return _by_distinct(strings, patterns, lambda s, *ps: _as_vec(fn(_str_array(s), *ps)), out_type)

    compute.__name__ = fn.__name__
    return folding(compute)


def _all_ascii(array: pa.Array) -> bool:
    data, offsets, _ = _parts(array)
    if len(offsets) == 0:
        return True
    region = data[int(offsets[0]) : int(offsets[-1])]
    return bool(region.size == 0 or region.max() < 0x80)


# ---------------------------------------------------------------------------------------------
# UTF-8 helpers (Numba)
# ---------------------------------------------------------------------------------------------


@njit(cache=True, nogil=True)
def _decode_at(data, i):
    """(code point, byte length) of the UTF-8 sequence starting at ``data[i]``."""
    b0 = np.int64(data[i])
    if b0 < 0x80:
        return b0, 1
    if b0 < 0xE0:
        return ((b0 & 0x1F) << 6) | (np.int64(data[i + 1]) & 0x3F), 2
    if b0 < 0xF0:
        return ((b0 & 0x0F) << 12) | ((np.int64(data[i + 1]) & 0x3F) << 6) | (np.int64(data[i + 2]) & 0x3F), 3
    return (
        ((b0 & 0x07) << 18)
        | ((np.int64(data[i + 1]) & 0x3F) << 12)
        | ((np.int64(data[i + 2]) & 0x3F) << 6)
        | (np.int64(data[i + 3]) & 0x3F)
    ), 4


@njit(cache=True, nogil=True)
def _utf8_len(cp):
    if cp < 0x80:
        return 1
    if cp < 0x800:
        return 2
    if cp < 0x10000:
        return 3
    return 4


@njit(cache=True, nogil=True)
def _put(out, j, cp):
    """Write ``cp`` as UTF-8 at ``out[j]``; return the next position."""
    if cp < 0x80:
        out[j] = cp
        return j + 1
    if cp < 0x800:
        out[j] = 0xC0 | (cp >> 6)
        out[j + 1] = 0x80 | (cp & 0x3F)
        return j + 2
    if cp < 0x10000:
        out[j] = 0xE0 | (cp >> 12)
        out[j + 1] = 0x80 | ((cp >> 6) & 0x3F)
        out[j + 2] = 0x80 | (cp & 0x3F)
        return j + 3
    out[j] = 0xF0 | (cp >> 18)
    out[j + 1] = 0x80 | ((cp >> 12) & 0x3F)
    out[j + 2] = 0x80 | ((cp >> 6) & 0x3F)
    out[j + 3] = 0x80 | (cp & 0x3F)
    return j + 4


@njit(cache=True, nogil=True)
def _final_sigma(data, start, i, after, end, ignorable, cased):
    """Python's Final_Sigma test for the capital sigma at bytes [i, after) of a string
    spanning [start, end): preceded by a cased letter and not followed by one, skipping
    case-ignorable code points both ways."""
    p = i
    found = False
    cp = 0
    while p > start:
        p -= 1
        while p > start and (data[p] & 0xC0) == 0x80:
            p -= 1
        cp, _ = _decode_at(data, p)
        if not ignorable[cp]:
            found = True
            break
    if not (found and cased[cp]):
        return False
    q = after
    while q < end:
        cp, k = _decode_at(data, q)
        if not ignorable[cp]:
            return not cased[cp]
        q += k
    return True


@njit(cache=True, nogil=True)
def _case_map(data, offsets, valid, single, multi_off, multi_cps, lower, ignorable, cased):
    """Full case mapping of every string: ``single[cp]`` is the mapped code point, or
    ``-(k + 1)`` for the k-th multi-code-point mapping; capital sigma follows Final_Sigma
    when ``lower``."""
    n = len(offsets) - 1
    out_off = np.zeros(n + 1, dtype=np.int64)
    for r in range(n):
        size = 0
        if valid[r]:
            i = offsets[r]
            end = offsets[r + 1]
            while i < end:
                cp, k = _decode_at(data, i)
                m = single[cp]
                if lower and cp == 0x3A3:
                    size += 2
                elif m >= 0:
                    size += _utf8_len(m)
                else:
                    idx = -m - 1
                    for t in range(multi_off[idx], multi_off[idx + 1]):
                        size += _utf8_len(multi_cps[t])
                i += k
        out_off[r + 1] = out_off[r] + size
    out = np.empty(out_off[n], dtype=np.uint8)
    for r in range(n):
        if not valid[r]:
            continue
        start = offsets[r]
        end = offsets[r + 1]
        i = start
        j = out_off[r]
        while i < end:
            cp, k = _decode_at(data, i)
            m = single[cp]
            if lower and cp == 0x3A3:
                if _final_sigma(data, start, i, i + k, end, ignorable, cased):
                    j = _put(out, j, 0x3C2)
                else:
                    j = _put(out, j, 0x3C3)
            elif m >= 0:
                j = _put(out, j, m)
            else:
                idx = -m - 1
                for t in range(multi_off[idx], multi_off[idx + 1]):
                    j = _put(out, j, multi_cps[t])
            i += k
    return out, out_off


@njit(cache=True, nogil=True)
def _codepoint_to_byte(data, offsets, positions):
    """Byte offset of code point ``positions[r]`` of string r (clamped to its end)."""
    n = len(positions)
    out = np.empty(n, dtype=np.int64)
    for r in range(n):
        i = offsets[r]
        end = offsets[r + 1]
        k = positions[r]
        while k > 0 and i < end:
            b = data[i]
            if b < 0x80:
                i += 1
            elif b < 0xE0:
                i += 2
            elif b < 0xF0:
                i += 3
            else:
                i += 4
            k -= 1
        out[r] = min(i, end)
    return out


@njit(cache=True, nogil=True)
def _insert_around_code_points(data, offsets, valid, insert):
    """``insert`` before every code point and at the end of every string (Python's
    ``s.replace("", insert)``)."""
    n = len(offsets) - 1
    k = len(insert)
    out_off = np.zeros(n + 1, dtype=np.int64)
    for r in range(n):
        size = 0
        if valid[r]:
            size = k
            for i in range(offsets[r], offsets[r + 1]):
                size += 1
                if (data[i] & 0xC0) != 0x80:
                    size += k
        out_off[r + 1] = out_off[r] + size
    out = np.empty(out_off[n], dtype=np.uint8)
    for r in range(n):
        if not valid[r]:
            continue
        j = out_off[r]
        for i in range(offsets[r], offsets[r + 1]):
            if (data[i] & 0xC0) != 0x80:
                for t in range(k):
                    out[j] = insert[t]
                    j += 1
            out[j] = data[i]
            j += 1
        for t in range(k):
            out[j] = insert[t]
            j += 1
    return out, out_off


@njit(cache=True, nogil=True)
def _find_bytes(data, start, end, needle, n0, n1):
    """First byte position >= start where ``needle[n0:n1]`` occurs in ``data[start:end]``, or -1.
    (Byte matching is code point matching: UTF-8 is self-synchronizing.)"""
    m = n1 - n0
    last = end - m
    i = start
    while i <= last:
        k = 0
        while k < m and data[i + k] == needle[n0 + k]:
            k += 1
        if k == m:
            return i
        i += 1
    return -1


@njit(cache=True, nogil=True)
def _match_rows(data, offsets, needles, n_offsets, mode):
    """Per row: 0 = contains, 1 = startsWith, 2 = endsWith (nulls are handled by the caller)."""
    n = len(offsets) - 1
    out = np.zeros(n, dtype=np.bool_)
    for r in range(n):
        s0, s1 = offsets[r], offsets[r + 1]
        n0, n1 = n_offsets[r], n_offsets[r + 1]
        m = n1 - n0
        if mode == 0:
            out[r] = _find_bytes(data, s0, s1, needles, n0, n1) >= 0
        elif m <= s1 - s0:
            base = s0 if mode == 1 else s1 - m
            ok = True
            for k in range(m):
                if data[base + k] != needles[n0 + k]:
                    ok = False
                    break
            out[r] = ok
    return out


@njit(cache=True, nogil=True)
def _replace_rows(data, offsets, valid, olds, o_off, news, w_off):
    """Python's ``s.replace(old, new)`` per row (``old`` empty: ``new`` around every code point)."""
    n = len(offsets) - 1
    out_off = np.zeros(n + 1, dtype=np.int64)
    for r in range(n):
        size = 0
        if valid[r]:
            s0, s1 = offsets[r], offsets[r + 1]
            o0, o1 = o_off[r], o_off[r + 1]
            k = w_off[r + 1] - w_off[r]
            if o1 == o0:
                size = k
                for i in range(s0, s1):
                    size += 1
                    if (data[i] & 0xC0) != 0x80:
                        size += k
            else:
                i = s0
                while True:
                    hit = _find_bytes(data, i, s1, olds, o0, o1)
                    if hit < 0:
                        size += s1 - i
                        break
                    size += hit - i + k
                    i = hit + (o1 - o0)
        out_off[r + 1] = out_off[r] + size
    out = np.empty(out_off[n], dtype=np.uint8)
    for r in range(n):
        if not valid[r]:
            continue
        s0, s1 = offsets[r], offsets[r + 1]
        o0, o1 = o_off[r], o_off[r + 1]
        w0, w1 = w_off[r], w_off[r + 1]
        j = out_off[r]
        if o1 == o0:
            for i in range(s0, s1):
                if (data[i] & 0xC0) != 0x80:
                    for t in range(w0, w1):
                        out[j] = news[t]
                        j += 1
                out[j] = data[i]
                j += 1
            for t in range(w0, w1):
                out[j] = news[t]
                j += 1
        else:
            i = s0
            while True:
                hit = _find_bytes(data, i, s1, olds, o0, o1)
                stop = s1 if hit < 0 else hit
                for t in range(i, stop):
                    out[j] = data[t]
                    j += 1
                if hit < 0:
                    break
                for t in range(w0, w1):
                    out[j] = news[t]
                    j += 1
                i = hit + (o1 - o0)
    return out, out_off


@njit(cache=True, nogil=True)
def _split_rows(data, offsets, valid, seps, s_off):
    """Python's ``s.split(sep)`` per row (``sep`` empty: the code points): list offsets and the
    byte ranges of the pieces."""
    n = len(offsets) - 1
    counts = np.zeros(n, dtype=np.int64)
    for r in range(n):
        if not valid[r]:
            continue
        s0, s1 = offsets[r], offsets[r + 1]
        p0, p1 = s_off[r], s_off[r + 1]
        if p1 == p0:
            for i in range(s0, s1):
                if (data[i] & 0xC0) != 0x80:
                    counts[r] += 1
        else:
            c = 1
            i = s0
            while True:
                hit = _find_bytes(data, i, s1, seps, p0, p1)
                if hit < 0:
                    break
                c += 1
                i = hit + (p1 - p0)
            counts[r] = c
    list_off = np.zeros(n + 1, dtype=np.int64)
    for r in range(n):
        list_off[r + 1] = list_off[r] + counts[r]
    starts = np.empty(list_off[n], dtype=np.int64)
    ends = np.empty(list_off[n], dtype=np.int64)
    for r in range(n):
        if not valid[r]:
            continue
        s0, s1 = offsets[r], offsets[r + 1]
        p0, p1 = s_off[r], s_off[r + 1]
        q = list_off[r]
        if p1 == p0:
            i = s0
            while i < s1:
                _, k = _decode_at(data, i)
                starts[q] = i
                ends[q] = i + k
                q += 1
                i += k
        else:
            i = s0
            while True:
                hit = _find_bytes(data, i, s1, seps, p0, p1)
                starts[q] = i
                if hit < 0:
                    ends[q] = s1
                    break
                ends[q] = hit
                q += 1
                i = hit + (p1 - p0)
    return list_off, starts, ends


@njit(cache=True, nogil=True)
def _codepoints_present(data, offsets, valid, lo, hi):
    """Which code points of [lo, hi) occur in the strings."""
    seen = np.zeros(hi - lo, dtype=np.bool_)
    for r in range(len(offsets) - 1):
        if not valid[r]:
            continue
        i = offsets[r]
        end = offsets[r + 1]
        while i < end:
            cp, k = _decode_at(data, i)
            if lo <= cp < hi:
                seen[cp - lo] = True
            i += k
    return seen


# ---------------------------------------------------------------------------------------------
# Case mapping tables, built once from Python's own str.upper / str.lower
# ---------------------------------------------------------------------------------------------

_TABLES: dict[str, tuple] = {}
_TABLES_LOCK = threading.Lock()


def _all_code_points() -> np.ndarray:
    cps = np.arange(0x110000, dtype=np.uint32)
    return cps[(cps != 0) & ((cps < 0xD800) | (cps > 0xDFFF))]


def _segments_after(text: str) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``text`` is items separated (and ended) by NUL: (code points, item starts, item lengths)."""
    out = np.frombuffer(text.encode("utf-32-le"), dtype=np.uint32)
    ends = np.flatnonzero(out == 0)
    starts = np.concatenate([[0], ends[:-1] + 1]).astype(np.int64)
    return out, starts, (ends - starts).astype(np.int64)


def _case_table(upper: bool) -> tuple:
    key = "upper" if upper else "lower"
    with _TABLES_LOCK:
        if key in _TABLES:
            return _TABLES[key]
        cps = _all_code_points()
        joined = np.zeros(2 * len(cps), dtype=np.uint32)
        joined[0::2] = cps
        text = joined.tobytes().decode("utf-32-le")
        mapped, starts, lengths = _segments_after(text.upper() if upper else text.lower())
        single = np.arange(0x110000, dtype=np.int64)
        one = lengths == 1
        single[cps[one]] = mapped[starts[one]]
        many = ~one
        multi_lengths = lengths[many]
        multi_off = np.zeros(len(multi_lengths) + 1, dtype=np.int64)
        np.cumsum(multi_lengths, out=multi_off[1:])
        gather = np.repeat(starts[many] - multi_off[:-1], multi_lengths) + np.arange(multi_off[-1], dtype=np.int64)
        multi_cps = mapped[gather].astype(np.int64)
        single[cps[many]] = -(np.arange(len(multi_lengths), dtype=np.int64) + 1)
        ignorable, cased = _sigma_tables() if not upper else (np.zeros(1, np.bool_), np.zeros(1, np.bool_))
        _TABLES[key] = (single, multi_off, multi_cps, ignorable, cased)
        return _TABLES[key]


def _sigma_tables() -> tuple[np.ndarray, np.ndarray]:
    """Case-ignorable and cased code points, read off Python's Final_Sigma behaviour:
    ``X + c + "Σ"`` lowercases to a final sigma iff the letter before the sigma (skipping
    case-ignorable ones) is cased.  With X = "A" (cased) and X = "1" (not cased) the results
    differ exactly when c is case-ignorable; when it is not, they tell whether c is cased."""
    cps = _all_code_points()
    items = np.zeros((len(cps), 4), dtype=np.uint32)
    items[:, 1] = cps
    items[:, 2] = 0x3A3
    last = []
    for before in ("A", "1"):
        items[:, 0] = ord(before)
        out, starts, lengths = _segments_after(items.tobytes().decode("utf-32-le").lower())
        last.append(out[starts + lengths - 1])
    ignorable = np.zeros(0x110000, dtype=np.bool_)
    cased = np.zeros(0x110000, dtype=np.bool_)
    ignorable[cps] = last[0] != last[1]
    cased[cps] = (last[1] == 0x3C2) & ~ignorable[cps]
    return ignorable, cased


def _change_case(array: pa.Array, upper: bool) -> pa.Array:
    if _all_ascii(array):
        return pc.ascii_upper(array) if upper else pc.ascii_lower(array)
    single, multi_off, multi_cps, ignorable, cased = _case_table(upper)
    data, offsets, valid = _parts(array)
    out, out_off = _case_map(data, offsets, valid, single, multi_off, multi_cps, not upper, ignorable, cased)
    return _make_strings(out, out_off, valid)


def _upper(array: pa.Array) -> pa.Array:
    return _change_case(array, True)


def _lower(array: pa.Array) -> pa.Array:
    return _change_case(array, False)


# ---------------------------------------------------------------------------------------------
# Kernels
# ---------------------------------------------------------------------------------------------


@kernel("add:string")
@folding
def add_string(call: KernelCall, args: list, n: int) -> Vec:
    a, b = _str_array(args[0]), _str_array(args[1])
    return ArrayVec(pc.binary_join_element_wise(a, b, ""))


def _length(array: pa.Array) -> pa.Array:
    return pc.utf8_length(array).cast(pa.int64())


def _strip(array: pa.Array) -> pa.Array:
    # Arrow's whitespace set equals Python's str.isspace (checked for every code point).
    return pc.utf8_trim_whitespace(array)


kernel("len")(_str_unary(_length))
kernel("lower")(_str_unary(_lower))
kernel("upper")(_str_unary(_upper))
kernel("strip")(_str_unary(_strip))


def _contains(array: pa.Array, needle: str) -> pa.Array:
    return pc.match_substring(array, needle)


def _starts_with(array: pa.Array, prefix: str) -> pa.Array:
    return pc.starts_with(array, prefix)


def _ends_with(array: pa.Array, suffix: str) -> pa.Array:
    return pc.ends_with(array, suffix)


def _matching(mode: int):
    def varying(array: pa.Array, needles: pa.Array) -> pa.Array:
        data, offsets, valid = _parts(array)
        n_data, n_offsets, n_valid = _parts(needles)
        both = valid & n_valid
        out = _match_rows(data, offsets, n_data, n_offsets, mode)
        return pa.array(out, type=pa.bool_(), mask=None if both.all() else ~both)

    return varying


kernel("contains:string")(_pattern_op(_contains, pa.bool_(), _matching(0)))
kernel("startsWith")(_pattern_op(_starts_with, pa.bool_(), _matching(1)))
kernel("endsWith")(_pattern_op(_ends_with, pa.bool_(), _matching(2)))


# -- slice ---------------------------------------------------------------------------------------

_BIG = 2**62


@kernel("slice")
@folding
def slice_(call: KernelCall, args: list, n: int) -> Vec:
    array = _str_array(args[0])
    start = args[1]
    stop = args[2] if len(args) > 2 and args[2] is not None else None
    if isinstance(start, ConstVec) and (stop is None or isinstance(stop, ConstVec)):
        a = int(np.clip(start.value, -_BIG, _BIG))
        b = _BIG if stop is None else int(np.clip(stop.value, -_BIG, _BIG))
        return ArrayVec(pc.utf8_slice_codeunits(array, start=a, stop=b))
    return ArrayVec(_slice_varying(array, start, stop, n))


def _int_numpy(vec: Vec, n: int) -> tuple[np.ndarray, np.ndarray]:
    if isinstance(vec, ConstVec):
        if vec.value is None:
            return np.zeros(n, np.int64), np.zeros(n, bool)
        return np.full(n, int(np.clip(vec.value, -_BIG, _BIG)), np.int64), np.ones(n, bool)
    array = combine_chunks(vec.array if isinstance(vec, ArrayVec) else vec.to_arrow())
    values = np.asarray(pc.fill_null(array, 0).to_numpy(zero_copy_only=False), dtype=np.int64)
    return np.clip(values, -_BIG, _BIG), validity(array)


def _slice_varying(array: pa.Array, start: Vec, stop: Vec | None, n: int) -> pa.Array:
    """Python's ``s[a:b]`` with per-element bounds (CPython's PySlice_AdjustIndices)."""
    data, offsets, valid = _parts(array)
    length = np.asarray(pc.fill_null(pc.utf8_length(array), 0).to_numpy(zero_copy_only=False), dtype=np.int64)
    a, a_ok = _int_numpy(start, n)
    lo = np.where(a < 0, np.maximum(a + length, 0), np.minimum(a, length))
    if stop is None:
        hi = length
        b_ok = np.ones(n, bool)
    else:
        b, b_ok = _int_numpy(stop, n)
        hi = np.where(b < 0, np.maximum(b + length, 0), np.minimum(b, length))
    hi = np.maximum(hi, lo)
    ok = valid & a_ok & b_ok
    lo = np.where(ok, lo, 0)
    hi = np.where(ok, hi, 0)
    return _gather(data, _codepoint_to_byte(data, offsets, lo), _codepoint_to_byte(data, offsets, hi), ok)


# -- replace, split ------------------------------------------------------------------------------


def _replace(array: pa.Array, old: str, new: str) -> pa.Array:
    if old == "":
        # Python inserts ``new`` before every code point and at the end (Arrow's literal
        # replace never terminates on an empty pattern).
        data, offsets, valid = _parts(array)
        insert = np.frombuffer(new.encode("utf-8"), dtype=np.uint8)
        out, out_off = _insert_around_code_points(data, offsets, valid, insert)
        return _make_strings(out, out_off, valid)
    return pc.replace_substring(array, pattern=old, replacement=new)


def _replace_varying(array: pa.Array, olds: pa.Array, news: pa.Array) -> pa.Array:
    data, offsets, valid = _parts(array)
    o_data, o_off, o_valid = _parts(olds)
    w_data, w_off, w_valid = _parts(news)
    valid = valid & o_valid & w_valid
    out, out_off = _replace_rows(data, offsets, valid, o_data, o_off, w_data, w_off)
    return _make_strings(out, out_off, valid)


_replace_kernel = _pattern_op(_replace, STRING, _replace_varying)


@kernel("replace")
def replace(call: KernelCall) -> Vec:
    if call.budget.tracks_memory and not _has_null_type(call):
        call.admit(_replaced_bytes(call), "`replace`")
    return _replace_kernel(call)


def _replaced_bytes(call: KernelCall) -> int:
    """An upper bound of ``replace``'s output bytes: chains of replacements grow strings
    geometrically (``s.replace("a", "aa")`` twice doubles twice)."""
    n = call.length
    strings, old, new = call.args[0], call.args[1], call.args[2]

    def lengths(vec: Vec) -> np.ndarray | int:
        if isinstance(vec, ConstVec):
            return len(str(vec.value).encode("utf-8", "surrogatepass"))
        array = _str_array(vec)
        return np.asarray(pc.fill_null(pc.binary_length(array), 0).to_numpy(zero_copy_only=False), dtype=np.int64)

    s_len, old_len, new_len = lengths(strings), lengths(old), lengths(new)
    if isinstance(old, ConstVec) and not isinstance(strings, ConstVec):
        array = _str_array(strings)
        counted = pc.utf8_length(array) if old.value == "" else pc.count_substring(array, str(old.value))
        count = np.asarray(pc.fill_null(counted, 0).to_numpy(zero_copy_only=False), dtype=np.int64) + (old.value == "")
    else:  # varying patterns: at most one match per pattern length, one more for ""
        count = np.asarray(s_len) // np.maximum(old_len, 1) + 1
    growth = np.maximum(np.asarray(new_len) - np.asarray(old_len), 0)
    per_element = np.asarray(s_len) + count * growth + 4
    return int(np.broadcast_to(per_element, (n,)).sum(dtype=np.float64))


def _split(array: pa.Array, sep: str) -> Vec:
    if sep == "":
        return _split_code_points(array)
    return vec_from_arrow(pc.split_pattern(array, pattern=sep))


def _split_code_points(array: pa.Array) -> Vec:
    """Every string as the list of its code points (null strings give null lists)."""
    valid = validity(array)
    if not valid.all():
        array = pc.fill_null(array, "")
    data, offsets, _ = _parts(array)
    lo, hi = int(offsets[0]), int(offsets[-1])
    starts = np.flatnonzero((data[lo:hi] & 0xC0) != 0x80).astype(np.int64) + lo
    per_row = np.searchsorted(starts, offsets, side="left")
    list_offsets = (per_row - per_row[0]).astype(np.int64)
    child_offsets = np.concatenate([starts, [hi]]).astype(np.int64)
    child = _make_strings(data, child_offsets, None)
    return ListVec(list_offsets, ArrayVec(child), None if valid.all() else valid)


def _split_varying(array: pa.Array, seps: pa.Array) -> Vec:
    data, offsets, valid = _parts(array)
    s_data, s_off, s_valid = _parts(seps)
    valid = valid & s_valid
    list_off, starts, ends = _split_rows(data, offsets, valid, s_data, s_off)
    return ListVec(list_off, ArrayVec(_gather(data, starts, ends, None)), None if valid.all() else valid)


kernel("split")(_pattern_op(_split, pa.list_(STRING), _split_varying))


# -- numbers in strings --------------------------------------------------------------------------

# The reference's grammar (tests/reference/interpreter.py), in RE2 syntax, anchored.
_NUMBER = r"[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][+-]?[0-9]+)?"
_SPECIAL = r"(?i:[+-]?(?:inf|infinity|nan))"
_NUMERIC_RE = rf"\A(?:{_NUMBER}|{_SPECIAL})\z"


def _is_numeric(array: pa.Array) -> pa.Array:
    return pc.match_substring_regex(_strip(array), pattern=_NUMERIC_RE)


def _to_number(array: pa.Array) -> pa.Array:
    text = _strip(array)
    numeric = pc.match_substring_regex(text, pattern=_NUMERIC_RE)
    text = pc.if_else(numeric, text, pa.scalar(None, type=text.type))
    return pc.cast(text, pa.float64())  # always a float, as float(text): "-0" is -0.0


kernel("isNumeric")(_str_unary(_is_numeric))
kernel("toNumber")(_str_unary(_to_number))


# -- findAll -------------------------------------------------------------------------------------


def _check_regex(pattern: str) -> None:
    try:
        pc.match_substring_regex(pa.array([""], type=STRING), pattern=pattern)
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError) as exc:
        detail = str(exc).split(":", 1)[-1].strip() if ":" in str(exc) else str(exc)
        raise ValueError(f"invalid regular expression {pattern!r} (RE2 syntax): {detail}") from None


def _markers(array: pa.Array) -> tuple[str, str]:
    """Two private-use characters that occur in none of the strings."""
    first = ("\ue000", "\ue001")
    if not (pc.any(pc.match_substring(array, first[0])).as_py() or pc.any(pc.match_substring(array, first[1])).as_py()):
        return first
    data, offsets, valid = _parts(array)
    for lo, hi in ((0xE000, 0xF900), (0xF0000, 0xFFFFE), (0x100000, 0x10FFFE)):
        free = np.flatnonzero(~_codepoints_present(data, offsets, valid, lo, hi))
        if len(free) >= 2:
            return chr(lo + int(free[0])), chr(lo + int(free[1]))
    raise ValueError("findAll: the strings use every private-use character")  # pragma: no cover


_CLASS_TESTS = {"d": str.isdecimal, "w": lambda c: c.isalnum() or c == "_", "s": str.isspace}
_CLASSES: dict[str, str] = {}


def _class_body(letter: str) -> str:
    """The code points Python's ``re`` means by ``\\d``, ``\\w`` or ``\\s`` (Unicode-aware, as
    ``str.isdecimal``, ``str.isalnum() or "_"``, ``str.isspace``), as RE2 class ranges."""
    with _TABLES_LOCK:
        if letter not in _CLASSES:
            cps = _all_code_points()
            chars = np.zeros(2 * len(cps), dtype=np.uint32)
            chars[0::2] = cps
            test = _CLASS_TESTS[letter]
            text = chars.tobytes().decode("utf-32-le")[0::2]
            member = cps[np.fromiter((test(c) for c in text), dtype=bool, count=len(cps))].astype(np.int64)
            breaks = np.flatnonzero(np.diff(member) != 1)
            starts = np.concatenate([member[:1], member[breaks + 1]])
            ends = np.concatenate([member[breaks], member[-1:]])
            _CLASSES[letter] = "".join(
                f"\\x{{{a:x}}}" + (f"-\\x{{{b:x}}}" if b > a else "") for a, b in zip(starts.tolist(), ends.tolist())
            )
        return _CLASSES[letter]


def python_classes(pattern: str) -> str:
    """``pattern`` with ``\\d \\w \\s`` (and ``\\D \\W \\S`` outside brackets) spelled out as the
    Unicode classes Python's ``re`` gives them; RE2's own are ASCII-only.  Everything else is
    left to RE2 (its ``\\b`` stays ASCII, its ``$`` matches only at the very end)."""
    if "\\" not in pattern:
        return pattern
    out: list[str] = []
    i, n = 0, len(pattern)
    in_class = False
    while i < n:
        c = pattern[i]
        if c == "\\" and i + 1 < n:
            nxt = pattern[i + 1]
            if nxt == "Q":  # RE2's literal text up to \\E
                end = pattern.find("\\E", i + 2)
                end = n if end < 0 else end + 2
                out.append(pattern[i:end])
                i = end
                continue
            if nxt in "dws":
                body = _class_body(nxt)
                out.append(body if in_class else f"[{body}]")
            elif nxt in "DWS" and not in_class:
                out.append(f"[^{_class_body(nxt.lower())}]")
            else:
                out.append(pattern[i : i + 2])
            i += 2
            continue
        if in_class:
            if c == "[" and pattern.startswith("[:", i):  # [[:alpha:]]
                end = pattern.find(":]", i + 2)
                end = n if end < 0 else end + 2
                out.append(pattern[i:end])
                i = end
                continue
            if c == "]":
                in_class = False
        elif c == "[":
            j = i + 1
            if j < n and pattern[j] == "^":
                j += 1
            if j < n and pattern[j] == "]":  # a leading ] is literal
                j += 1
            out.append(pattern[i:j])
            in_class = True
            i = j
            continue
        out.append(c)
        i += 1
    return "".join(out)


def _find_all(array: pa.Array, pattern: str) -> Vec:
    """Every non-overlapping match, leftmost first, as RE2 finds them (linear time).

    Each match is wrapped in two marker characters absent from the data (one global RE2
    replacement); splitting on the opening marker leaves, after the first piece, one piece per
    match that starts with the match and ends at the closing marker.

    ``\\d``, ``\\w``, ``\\s`` are Unicode-aware as in Python (:func:`python_classes`).  Known
    differences from Python's ``re`` (the reference): an empty match right after the previous
    match is not reported (``"x*"`` on ``"axb"`` gives ``["", "x", ""]`` where Python gives
    ``["", "x", "", ""]``), ``\\b`` is ASCII-only, ``$`` matches only at the very end, and
    constructs RE2 lacks (backreferences, lookaround) are errors.
    """
    _check_regex(pattern)
    pattern = python_classes(pattern)
    open_, close = _markers(array)
    marked = pc.replace_substring_regex(array, pattern=pattern, replacement=f"{open_}\\0{close}")
    pieces = vec_from_arrow(pc.split_pattern(marked, pattern=open_))
    assert isinstance(pieces, ListVec)
    position = np.arange(pieces.offsets[-1], dtype=np.int64) - np.repeat(pieces.offsets[:-1], pieces.lengths())
    matches = pieces.filter_children(position > 0)
    child = combine_chunks(matches.child.array if isinstance(matches.child, ArrayVec) else matches.child.to_arrow())
    if len(child):
        data, offsets, _ = _parts(child)
        size = np.asarray(pc.find_substring(child, close).to_numpy(zero_copy_only=False), dtype=np.int64)  # bytes
        child = _gather(data, offsets[:-1], offsets[:-1] + size, None)
    return ListVec(matches.offsets, ArrayVec(child), matches.valid)


kernel("findAll")(_pattern_op(_find_all, pa.list_(STRING)))


# -- toString ------------------------------------------------------------------------------------

_TS_FORMAT = "%Y-%m-%dT%H:%M:%SZ"  # %S of microsecond timestamps prints 00.000000


def to_string_array(array: pa.Array) -> pa.Array:
    """The text of every value, as the reference's ``toString`` writes it."""
    array = combine_chunks(array)
    t = array.type
    if t == STRING:
        return array
    if pa.types.is_large_string(t) or pa.types.is_string_view(t):
        return array.cast(STRING)
    if pa.types.is_null(t):
        return pa.nulls(len(array), type=STRING)
    if pa.types.is_boolean(t) or pa.types.is_integer(t):
        return array.cast(STRING)
    if pa.types.is_floating(t):
        # Arrow writes the shortest round-trip digits, integral values without a fraction,
        # "nan"/"inf"/"-inf"/"-0": exactly the reference's float_to_string.
        return array.cast(pa.float64()).cast(STRING)
    if pa.types.is_date(t):
        return to_string_array(array.cast(pa.timestamp("us")).cast(pa.timestamp("us", tz="UTC")))
    if pa.types.is_timestamp(t):
        if t.unit != "us" or t.tz is None:
            base = array.cast(pa.timestamp(t.unit)) if t.tz is not None else array
            array = base.cast(pa.timestamp("us")).cast(pa.timestamp("us", tz="UTC"))
        elif t.tz != "UTC":
            array = array.cast(pa.timestamp("us", tz="UTC"))
        return _iso_timestamps(array)
    if pa.types.is_union(t):
        return _union_to_string(array)
    raise TypeError(f"`toString` does not take values of Arrow type {t}")


_US_PER_DAY = 86_400_000_000
_MIN_US = -62135596800 * 1_000_000  # 0001-01-01T00:00:00Z
_MAX_US = 253402300800 * 1_000_000  # 10000-01-01T00:00:00Z


def _iso_timestamps(array: pa.Array) -> pa.Array:
    """``YYYY-MM-DDTHH:MM:SS.ffffffZ`` of UTC microsecond timestamps, written with numpy
    (days to civil dates by Hinnant's algorithm); years outside 1..9999 go through strftime."""
    n = len(array)
    valid = validity(array)
    us = np.asarray(pc.fill_null(array.cast(pa.int64()), 0).to_numpy(zero_copy_only=False), dtype=np.int64)
    if n == 0 or ((us[valid] < _MIN_US) | (us[valid] >= _MAX_US)).any():
        return pc.strftime(array, format=_TS_FORMAT)
    us = us[valid]
    days, rem = np.divmod(us, _US_PER_DAY)
    z = days + 719468
    era = np.floor_divide(z, 146097)
    doe = z - era * 146097
    yoe = (doe - doe // 1460 + doe // 36524 - doe // 146096) // 365
    doy = doe - (365 * yoe + yoe // 4 - yoe // 100)
    mp = (5 * doy + 2) // 153
    day = doy - (153 * mp + 2) // 5 + 1
    month = np.where(mp < 10, mp + 3, mp - 9)
    year = yoe + era * 400 + (month <= 2)
    secs, micro = np.divmod(rem, 1_000_000)
    hour, secs = np.divmod(secs, 3600)
    minute, second = np.divmod(secs, 60)
    out = np.empty((len(us), 27), dtype=np.uint8)
    out[:] = np.frombuffer(b"0000-00-00T00:00:00.000000Z", dtype=np.uint8)

    def put(column: int, width: int, values: np.ndarray) -> None:
        for k in range(width - 1, -1, -1):
            values, digit = np.divmod(values, 10)
            out[:, column + k] = digit + 48

    put(0, 4, year)
    put(5, 2, month)
    put(8, 2, day)
    put(11, 2, hour)
    put(14, 2, minute)
    put(17, 2, second)
    put(20, 6, micro)
    offsets = np.zeros(n + 1, dtype=np.int64)
    np.cumsum(np.where(valid, 27, 0), out=offsets[1:])
    return _make_strings(out.ravel(), offsets, valid)


def _union_to_string(array: pa.Array) -> pa.Array:
    t = array.type
    n = len(array)
    if n == 0:
        return pa.array([], type=STRING)
    array = unsliced_union(array)
    type_codes = np.asarray(array.type_codes, dtype=np.int64)
    child_of_code = np.zeros(max(t.type_codes) + 1, dtype=np.int64)
    child_of_code[list(t.type_codes)] = np.arange(t.num_fields)
    which = child_of_code[type_codes]
    children = [to_string_array(array.field(i)) for i in range(t.num_fields)]
    base = np.zeros(t.num_fields, dtype=np.int64)
    np.cumsum([len(c) for c in children[:-1]], out=base[1:])
    within = np.asarray(array.offsets, dtype=np.int64) if t.mode == "dense" else np.arange(n, dtype=np.int64) + array.offset
    return pa.concat_arrays(children).take(pa.array(base[which] + within))


@kernel("toString")
@folding
def to_string(call: KernelCall, args: list, n: int) -> Vec:
    vec = args[0]
    array = vec.array if isinstance(vec, ArrayVec) else vec.to_arrow()
    return ArrayVec(to_string_array(array))

