"""String arrays in and out of numpy, and the text of any Arrow array (``toString``).

A string array is worked on as (UTF-8 bytes, int64 offsets of the n strings into them,
validity): the Numba loops of :mod:`weave_lite.kernels.text` take that form, and
:func:`make_strings` / :func:`gather` build the result back without copying per string.
:func:`to_string_array` writes every value as the reference's ``toString`` does (used by the
``toString`` kernel in :mod:`weave_lite.execute.ops.strings`).
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from weave_lite.execute.columns import as_array, combine, map_union, validity
from weave_lite.execute.vectors import Vec

STRING = pa.string()


def str_array(vec: Vec) -> pa.Array:
    """A string Vec as one ``pa.string()`` array (large strings kept large when they must be)."""
    array = combine(as_array(vec))
    t = array.type
    if t == STRING or pa.types.is_large_string(t):
        return array
    if pa.types.is_null(t):
        return pa.nulls(len(array), type=STRING)
    if pa.types.is_string_view(t):
        return array.cast(STRING)
    raise TypeError(f"expected strings, got {t}")


def parts(array: pa.Array) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
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


def make_strings(data: np.ndarray, offsets: np.ndarray, valid: np.ndarray | None) -> pa.Array:
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


def gather(data: np.ndarray, starts: np.ndarray, ends: np.ndarray, valid: np.ndarray | None) -> pa.Array:
    """The strings ``data[starts[i]:ends[i]]`` (byte ranges)."""
    sizes = ends - starts
    out_off = np.zeros(len(sizes) + 1, dtype=np.int64)
    np.cumsum(sizes, out=out_off[1:])
    index = np.repeat(starts - out_off[:-1], sizes) + np.arange(out_off[-1], dtype=np.int64)
    return make_strings(data[index], out_off, valid)


def all_ascii(array: pa.Array) -> bool:
    data, offsets, _ = parts(array)
    if len(offsets) == 0:
        return True
    region = data[int(offsets[0]) : int(offsets[-1])]
    return bool(region.size == 0 or region.max() < 0x80)


_TS_FORMAT = "%Y-%m-%dT%H:%M:%SZ"  # %S of microsecond timestamps prints 00.000000


def to_string_array(array: pa.Array) -> pa.Array:
    """The text of every value, as the reference's ``toString`` writes it."""
    array = combine(array)
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
        return map_union(array, to_string_array, STRING)
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
    return make_strings(out.ravel(), offsets, valid)


def element_strings(array: pa.Array) -> pa.Array:
    """``joinToStr``'s text of every element (nulls stay null), as docs/semantics.md defines it."""
    t = array.type
    if pa.types.is_string(t) or pa.types.is_large_string(t):
        return array.cast(pa.large_string())
    if pa.types.is_null(t):
        return pa.nulls(len(array), pa.large_string())
    if pa.types.is_dictionary(t):
        return element_strings(array.cast(t.value_type))
    if pa.types.is_floating(t):
        if t != pa.float64():
            array = array.cast(pa.float64())
        return array.cast(pa.large_string())
    if pa.types.is_integer(t) or pa.types.is_boolean(t):
        return array.cast(pa.large_string())
    if pa.types.is_timestamp(t):
        us = array.cast(pa.timestamp("us", tz=t.tz), safe=False) if t.unit != "us" else array
        return pc.strftime(us, format="%Y-%m-%dT%H:%M:%SZ").cast(pa.large_string())
    if pa.types.is_union(t):
        return map_union(array, element_strings, pa.large_string())
    raise TypeError(f"`joinToStr` cannot turn {t} into a string")
