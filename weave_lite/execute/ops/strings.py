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
* ``toNumber`` parses with Arrow's string->float64 cast after a RE2 check of Weave's
  ``isNumeric`` rule; its type is ``union<int, float>`` which the type system widens to
  ``float``, so the kernel always returns float64 (an integer text gives the float of that
  integer: exact up to 2**53; ``"-0"`` gives ``-0.0`` as ``float("-0")`` does).
* ``isAlpha``/``isAlnum`` follow Python's ``str.isalpha``/``str.isalnum`` (Arrow's Unicode
  tables are of another version): ASCII columns use Arrow, others a Numba loop over a table
  built once from Python.  ``levenshtein`` is a Numba loop over code points.
* Weave's null rule for a second string argument (``append``, ``prepend``, ``in``,
  ``startsWith``, ``endsWith``, ``levenshtein``): null counts as ``""``.
* ``findAll(regex)`` uses RE2 (linear time) through Arrow, with ``\\d \\w \\s`` made
  Unicode-aware as in Python's ``re``; see :func:`_find_all` for the remaining differences.
* ``toString`` of timestamps is written with numpy (ISO 8601, microseconds, ``Z``); floats use
  Arrow's float->string cast, which is exactly the reference's formatter.

Arguments that differ from element to element (``s.replace(row["a"], row["b"])``) go to Numba
kernels (byte-level search: UTF-8 is self-synchronizing); ``findAll`` with a varying regex runs
RE2 once per *distinct* pattern (:func:`_by_distinct`).
"""

from __future__ import annotations

import dataclasses
import functools
from collections.abc import Callable
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from weave_lite.execute.calls import folding, has_null_type
from weave_lite.execute.columns import as_array, as_list, combine, concat_vecs, dense_validity, to_numpy, validity
from weave_lite.execute.executor import KernelCall, kernel
from weave_lite.execute.ops.numbers import equal_or_both_null
from weave_lite.execute.regex import check_regex, python_classes
from weave_lite.execute.text_arrays import STRING, all_ascii, gather, make_strings, parts, str_array, to_string_array
from weave_lite.execute.vectors import ArrayVec, ConstVec, ListVec, Vec, vec_from_arrow
from weave_lite.kernels import text


def _str_unary(compute_array: Callable[[pa.Array], pa.Array]):
    """A kernel applying ``compute_array`` to the string argument (constants folded)."""

    def compute(call: KernelCall, args: list, n: int) -> Vec:
        return _as_vec(compute_array(str_array(args[0])))

    compute.__name__ = compute_array.__name__
    return folding(compute)


def _as_vec(out: pa.Array | Vec) -> Vec:
    if isinstance(out, Vec):
        return out
    return vec_from_arrow(out)


def _constant(value: Any, row: int) -> Any:
    return value


def _dictionary_value(dictionary: pa.Array, indices: np.ndarray, row: int) -> Any:
    return dictionary[int(indices[row])].as_py()


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
            lookups.append(functools.partial(_constant, vec.value))
            continue
        array = combine(as_array(vec))
        encoded = pc.dictionary_encode(array)
        idx = encoded.indices
        valid &= validity(idx)
        idx_np = np.asarray(pc.fill_null(idx, 0).to_numpy(zero_copy_only=False), dtype=np.int64)
        dictionary = encoded.dictionary
        codes = codes * max(len(dictionary), 1) + idx_np
        lookups.append(functools.partial(_dictionary_value, dictionary, idx_np))
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
            return _as_vec(fn(str_array(strings), *[p.value for p in patterns]))
        if varying is not None:
            return _as_vec(varying(str_array(strings), *[str_array(p) for p in patterns]))
        return _by_distinct(strings, patterns, lambda s, *ps: _as_vec(fn(str_array(s), *ps)), out_type)

    compute.__name__ = fn.__name__
    return folding(compute)


def _change_case(array: pa.Array, upper: bool) -> pa.Array:
    if all_ascii(array):
        return pc.ascii_upper(array) if upper else pc.ascii_lower(array)
    single, multi_off, multi_cps, ignorable, cased = text.case_table(upper)
    data, offsets, valid = parts(array)
    out, out_off = text.case_map(data, offsets, valid, single, multi_off, multi_cps, not upper, ignorable, cased)
    return make_strings(out, out_off, valid)


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
    a, b = str_array(args[0]), str_array(args[1])
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
        data, offsets, valid = parts(array)
        n_data, n_offsets, n_valid = parts(needles)
        both = valid & n_valid
        out = text.match_rows(data, offsets, n_data, n_offsets, mode)
        return pa.array(out, type=pa.bool_(), mask=None if both.all() else ~both)

    return varying


def _empty_if_null(vec: Vec) -> Vec:
    """A string argument with null elements counted as "" (Weave's rule for a second argument)."""
    if isinstance(vec, ConstVec):
        return ConstVec("", STRING, vec.length) if vec.value is None else vec
    array = str_array(vec)
    return ArrayVec(pc.fill_null(array, "")) if array.null_count else vec


def _null_as_empty(run: Callable[[KernelCall], Vec]) -> Callable[[KernelCall], Vec]:
    """The kernel ``run`` with a null second argument counted as ""."""

    @functools.wraps(run)
    def wrapped(call: KernelCall) -> Vec:
        args = list(call.args)
        args[1] = _empty_if_null(args[1])
        return run(dataclasses.replace(call, args=args))

    return wrapped


_contains_kernel = _pattern_op(_contains, pa.bool_(), _matching(0))
kernel("contains:string")(_contains_kernel)
kernel("startsWith")(_null_as_empty(_pattern_op(_starts_with, pa.bool_(), _matching(1))))
kernel("endsWith")(_null_as_empty(_pattern_op(_ends_with, pa.bool_(), _matching(2))))


# -- slice ---------------------------------------------------------------------------------------

_BIG = 2**62


@kernel("slice")
@folding
def slice_(call: KernelCall, args: list, n: int) -> Vec:
    array = str_array(args[0])
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
    values, valid = to_numpy(vec, n, np.int64)
    return np.clip(values, -_BIG, _BIG), dense_validity(valid, len(values))


def _slice_varying(array: pa.Array, start: Vec, stop: Vec | None, n: int) -> pa.Array:
    """Python's ``s[a:b]`` with per-element bounds (CPython's PySlice_AdjustIndices)."""
    data, offsets, valid = parts(array)
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
    return gather(data, text.codepoint_to_byte(data, offsets, lo), text.codepoint_to_byte(data, offsets, hi), ok)


# -- replace, split ------------------------------------------------------------------------------


def _replace(array: pa.Array, old: str, new: str) -> pa.Array:
    if old == "":
        # Python inserts ``new`` before every code point and at the end (Arrow's literal
        # replace never terminates on an empty pattern).
        data, offsets, valid = parts(array)
        insert = np.frombuffer(new.encode("utf-8"), dtype=np.uint8)
        out, out_off = text.insert_around_code_points(data, offsets, valid, insert)
        return make_strings(out, out_off, valid)
    return pc.replace_substring(array, pattern=old, replacement=new)


def _replace_varying(array: pa.Array, olds: pa.Array, news: pa.Array) -> pa.Array:
    data, offsets, valid = parts(array)
    o_data, o_off, o_valid = parts(olds)
    w_data, w_off, w_valid = parts(news)
    valid = valid & o_valid & w_valid
    out, out_off = text.replace_rows(data, offsets, valid, o_data, o_off, w_data, w_off)
    return make_strings(out, out_off, valid)


_replace_kernel = _pattern_op(_replace, STRING, _replace_varying)


@kernel("replace")
def replace(call: KernelCall) -> Vec:
    if call.budget.tracks_memory and not has_null_type(call):
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
        array = str_array(vec)
        return np.asarray(pc.fill_null(pc.binary_length(array), 0).to_numpy(zero_copy_only=False), dtype=np.int64)

    s_len, old_len, new_len = lengths(strings), lengths(old), lengths(new)
    if isinstance(old, ConstVec) and not isinstance(strings, ConstVec):
        array = str_array(strings)
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
    data, offsets, _ = parts(array)
    lo, hi = int(offsets[0]), int(offsets[-1])
    starts = np.flatnonzero((data[lo:hi] & 0xC0) != 0x80).astype(np.int64) + lo
    per_row = np.searchsorted(starts, offsets, side="left")
    list_offsets = (per_row - per_row[0]).astype(np.int64)
    child_offsets = np.concatenate([starts, [hi]]).astype(np.int64)
    child = make_strings(data, child_offsets, None)
    return ListVec(list_offsets, ArrayVec(child), None if valid.all() else valid)


def _split_varying(array: pa.Array, seps: pa.Array) -> Vec:
    data, offsets, valid = parts(array)
    s_data, s_off, s_valid = parts(seps)
    valid = valid & s_valid
    list_off, starts, ends = text.split_rows(data, offsets, valid, s_data, s_off)
    return ListVec(list_off, ArrayVec(gather(data, starts, ends, None)), None if valid.all() else valid)


kernel("split")(_pattern_op(_split, pa.list_(STRING), _split_varying))


# -- numbers in strings --------------------------------------------------------------------------

# Weave's isNumeric (weave/ops_primitives/string.py): an optional "-", then ASCII digits with at
# most one "." ("5.", ".5" and "-.5" count; "", "-", ".", "1e3", " 2", "+1", "inf" do not).
_NUMERIC_RE = r"\A-?(?:[0-9]+\.?[0-9]*|\.[0-9]+)\z"


def _is_numeric(array: pa.Array) -> pa.Array:
    return pc.match_substring_regex(array, pattern=_NUMERIC_RE)


def _to_number(array: pa.Array) -> pa.Array:
    numeric = pc.match_substring_regex(array, pattern=_NUMERIC_RE)
    text = pc.if_else(numeric, array, pa.scalar(None, type=array.type))
    return pc.cast(text, pa.float64())  # always a float, as float(text): "-0" is -0.0


kernel("isNumeric")(_str_unary(_is_numeric))
kernel("toNumber")(_str_unary(_to_number))


# -- Weave's string ops: lStrip, rStrip, isAlpha, isAlnum, append, prepend, in, partition -------


def _char_class(bit: int, ascii_test: Callable[[pa.Array], pa.Array]) -> Callable[[pa.Array], pa.Array]:
    def test(array: pa.Array) -> pa.Array:
        if all_ascii(array):
            return ascii_test(array)
        data, offsets, valid = parts(array)
        out = text.all_in_class(data, offsets, text.class_table(), bit)
        return pa.array(out, type=pa.bool_(), mask=None if valid.all() else ~valid)

    test.__name__ = ascii_test.__name__
    return test


kernel("lStrip")(_str_unary(pc.utf8_ltrim_whitespace))  # Arrow's whitespace is Python's
kernel("rStrip")(_str_unary(pc.utf8_rtrim_whitespace))
kernel("isAlpha")(_str_unary(_char_class(text.ALPHA, pc.ascii_is_alpha)))
kernel("isAlnum")(_str_unary(_char_class(text.ALNUM, pc.ascii_is_alnum)))


@kernel("append")
@_null_as_empty
@folding
def append(call: KernelCall, args: list, n: int) -> Vec:
    return ArrayVec(pc.binary_join_element_wise(str_array(args[0]), str_array(args[1]), ""))


@kernel("prepend")
@_null_as_empty
@folding
def prepend(call: KernelCall, args: list, n: int) -> Vec:
    return ArrayVec(pc.binary_join_element_wise(str_array(args[1]), str_array(args[0]), ""))


@kernel("in:string")
@_null_as_empty
def in_string(call: KernelCall) -> Vec:
    """``a.in(b)`` is ``b.contains(a)``, with a null ``b`` counted as ""."""
    needle, haystack = call.args
    if isinstance(needle, ConstVec) and needle.value is None:
        return ConstVec(None, pa.bool_(), call.length)
    swapped = (call.arg_types[1], call.arg_types[0])
    return _contains_kernel(dataclasses.replace(call, args=[haystack, needle], arg_types=swapped))


@kernel("in:list")
def in_list(call: KernelCall) -> Vec:
    """Whether the string equals an element of the list (false for a null list; null for a
    null string)."""
    needle, options = call.args
    n = call.length
    needle_valid = needle.is_valid() if not isinstance(needle, ConstVec) else np.full(n, needle.value is not None)
    if isinstance(options, ConstVec) and options.value is None:
        found = np.zeros(n, dtype=bool)
    else:
        lists = as_list(options)
        pid = lists.parent_index()
        hit = equal_or_both_null(lists.child, needle.take(pid)) if len(pid) else np.zeros(0, bool)
        found = np.bincount(pid[hit], minlength=n)[:n] > 0 if len(pid) else np.zeros(n, dtype=bool)
        if lists.valid is not None:
            found &= lists.valid
    return ArrayVec(pa.array(found, type=pa.bool_(), mask=None if needle_valid.all() else ~needle_valid))


@kernel("partition")
@_null_as_empty
@folding
def partition(call: KernelCall, args: list, n: int) -> Vec:
    """``[before, sep, after]`` around the first ``sep``; ``[s, "", ""]`` when ``sep`` is
    absent, empty or null (Weave: null; Python's ``str.partition("")`` is an error)."""
    array = str_array(args[0])
    data, offsets, valid = parts(array)
    seps = args[1]
    if isinstance(seps, ConstVec):
        sep = "" if seps.value is None else str(seps.value)
        s_data = np.frombuffer(sep.encode("utf-8"), dtype=np.uint8)
        s_off = np.array([0, len(s_data)], dtype=np.int64)
        sep_len = np.full(n, len(s_data), dtype=np.int64)
        at = text.find_rows(data, offsets, s_data, s_off, True) if len(s_data) else np.full(n, -1, np.int64)
    else:
        s_data, s_off, _ = parts(pc.fill_null(str_array(seps), ""))
        sep_len = np.diff(s_off)
        at = np.where(sep_len > 0, text.find_rows(data, offsets, s_data, s_off, False), -1)
    start, end = offsets[:-1], offsets[1:]
    found = at >= 0
    cut = np.where(found, start + at, end)
    after = np.where(found, cut + sep_len, end)
    bounds = np.stack([start, cut, cut, after, after, end], axis=1)[valid]
    list_offsets = np.zeros(n + 1, dtype=np.int64)
    np.cumsum(np.where(valid, 3, 0), out=list_offsets[1:])
    child = gather(data, bounds[:, 0::2].ravel(), bounds[:, 1::2].ravel(), None)
    return ListVec(list_offsets, ArrayVec(child), None if valid.all() else valid)


# -- levenshtein ---------------------------------------------------------------------------------


def _code_units(vec: Vec) -> tuple[np.ndarray, np.ndarray, np.ndarray, bool]:
    """(bytes, offsets, validity, broadcast) of a string argument; a constant is one row."""
    if isinstance(vec, ConstVec):
        raw = np.frombuffer(("" if vec.value is None else str(vec.value)).encode("utf-8"), dtype=np.uint8)
        return raw, np.array([0, len(raw)], dtype=np.int64), np.ones(1, dtype=bool), True
    data, offsets, valid = parts(str_array(vec))
    return data, offsets, valid, False


@kernel("levenshtein")
def levenshtein(call: KernelCall) -> Vec:
    """The edit distance of two strings in code points; null counts as "" (never null)."""
    a, b = call.args
    n = call.length
    both_const = isinstance(a, ConstVec) and isinstance(b, ConstVec)
    a_data, a_off, a_valid, a_one = _code_units(a)
    b_data, b_off, b_valid, b_one = _code_units(b)
    out = text.levenshtein_rows(a_data, a_off, a_valid, b_data, b_off, b_valid, a_one, b_one, 1 if both_const else n)
    if both_const:
        return ConstVec(int(out[0]), pa.int64(), n)
    return ArrayVec(pa.array(out, type=pa.int64()))


# -- findAll -------------------------------------------------------------------------------------


def _markers(array: pa.Array) -> tuple[str, str]:
    """Two private-use characters that occur in none of the strings."""
    first = ("\ue000", "\ue001")
    if not (pc.any(pc.match_substring(array, first[0])).as_py() or pc.any(pc.match_substring(array, first[1])).as_py()):
        return first
    data, offsets, valid = parts(array)
    for lo, hi in ((0xE000, 0xF900), (0xF0000, 0xFFFFE), (0x100000, 0x10FFFE)):
        free = np.flatnonzero(~text.codepoints_present(data, offsets, valid, lo, hi))
        if len(free) >= 2:
            return chr(lo + int(free[0])), chr(lo + int(free[1]))
    raise ValueError("findAll: the strings use every private-use character")  # pragma: no cover


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
    check_regex(pattern)
    pattern = python_classes(pattern)
    open_, close = _markers(array)
    marked = pc.replace_substring_regex(array, pattern=pattern, replacement=f"{open_}\\0{close}")
    pieces = vec_from_arrow(pc.split_pattern(marked, pattern=open_))
    assert isinstance(pieces, ListVec)
    position = np.arange(pieces.offsets[-1], dtype=np.int64) - np.repeat(pieces.offsets[:-1], pieces.lengths())
    matches = pieces.filter_children(position > 0)
    child = combine(as_array(matches.child))
    if len(child):
        data, offsets, _ = parts(child)
        size = np.asarray(pc.find_substring(child, close).to_numpy(zero_copy_only=False), dtype=np.int64)  # bytes
        child = gather(data, offsets[:-1], offsets[:-1] + size, None)
    return ListVec(matches.offsets, ArrayVec(child), matches.valid)


kernel("findAll")(_pattern_op(_find_all, pa.list_(STRING)))


# -- toString ------------------------------------------------------------------------------------


@kernel("toString")
@folding
def to_string(call: KernelCall, args: list, n: int) -> Vec:
    vec = args[0]
    array = vec.array if isinstance(vec, ArrayVec) else vec.to_arrow()
    return ArrayVec(to_string_array(array))
