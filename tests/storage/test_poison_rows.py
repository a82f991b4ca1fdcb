"""Poison and huge rows (issue 10): validation the writer can trust.

* Everything ``log()`` refuses raises at once, in the caller, a ``TypeError`` that is a
  ``WeaveError`` (also a ``ValueError`` when the type is fine but the value is out of range or
  too large), naming the key (dotted path for nested keys) and the problem; nothing of that call
  is logged and the good rows of the other calls commit and read back.
* Everything it accepts can be encoded: generated rows of every accepted kind (nested, astral
  unicode, numpy and pandas scalars, extreme ints, floats and datetimes) log, flush and read
  back as logged; DataFrame object columns are typed exactly like the same values in dict rows.
* Batches larger than one Arrow array can hold raise ``BatchTooLargeError`` (never pyarrow's
  "Cannot convert ChunkedArray to Array"), and are split by ``rows_to_batches``.
"""

from __future__ import annotations

import datetime as dt
import decimal
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.storage.values_compare import same_logged_value
from weave_lite import StreamTable, WeaveError
from weave_lite.row_validation import (
    MAX_CELL_BYTES,
    MAX_NESTING,
    MAX_VALUE_BYTES,
    RowError,
    normalize_row,
    normalize_rows,
)
from weave_lite.storage import bulk_input
from weave_lite.storage import values as V

UTC = dt.UTC


# ---------------------------------------------------------------------------------------------
# The table of refused kinds


@dataclass(frozen=True)
class Case:
    id: str
    make: Callable[[], Any]  # builds the whole argument of the bad log() call
    key: str | None  # the key path (or column) the message must name, as repr() shows it
    needle: str  # a word of the problem the message must say
    value_error: bool = False  # an accepted type with a bad value: also a ValueError


def rows(value: Any, key: str = "bad") -> list[dict]:
    """A call whose first row is good and whose second holds the bad value."""
    return [{"good": 2}, {"good": 2, key: value}]


def frame(values: list, **kw: Any) -> pd.DataFrame:
    return pd.DataFrame({"good": [2] * len(values), "bad": pd.Series(values, **kw)})


def table(array: pa.Array) -> pa.Table:
    return pa.table({"good": pa.array([2] * len(array)), "bad": array})


def nested_lists(depth: int) -> Any:
    value: Any = 1
    for _ in range(depth):
        value = [value]
    return value


def nested_dicts(depth: int) -> Any:
    value: Any = 1
    for _ in range(depth):
        value = {"a": value}
    return value


def cycle() -> list:
    loop: list = []
    loop.append(loop)
    return loop


class BrokenZone(dt.tzinfo):
    def utcoffset(self, when):
        raise RuntimeError("no offset today")


class Extension(pa.ExtensionType):
    def __init__(self):
        super().__init__(pa.int64(), "test.unknown")

    def __arrow_ext_serialize__(self):
        return b""

    @classmethod
    def __arrow_ext_deserialize__(cls, storage_type, serialized):
        return cls()


_LONGDOUBLE_IS_WIDER = np.finfo(np.longdouble).nmant > np.finfo(np.float64).nmant
_BIG_ASCII = "x" * (MAX_VALUE_BYTES + 1)  # built once, shared by the cases
_NEAR_LIMIT = "y" * (MAX_VALUE_BYTES - 1)

ROW_CASES = [
    # Strings and keys must encode to UTF-8.
    Case("surrogate-value", lambda: rows("\ud800"), "bad", "surrogate"),
    Case("surrogate-in-unicode-text", lambda: rows("héllo \udfff wörld"), "bad", "surrogate"),
    Case("surrogate-key", lambda: rows(1, key="\ud800"), "\ud800", "surrogate"),
    Case("surrogate-nested-key", lambda: rows({"l\udc00ng": 1}), "bad.l\udc00ng", "surrogate"),
    Case("surrogate-nested-value", lambda: rows({"lang": "\ud83d"}), "bad.lang", "surrogate"),
    Case("surrogate-in-list", lambda: rows(["a", "b", "\ud800"]), "bad[2]", "surrogate"),
    Case("surrogate-in-tuple-of-dicts", lambda: rows(({"a": 1}, {"t": "\ud800"})), "bad[1].t", "surrogate"),
    Case("surrogate-np-str", lambda: rows(np.str_("\ud800")), "bad", "surrogate"),
    Case("surrogate-np-unicode-array", lambda: rows(np.array(["ok", "\ud800"])), "bad[1]", "surrogate"),
    Case("surrogate-str-subclass", lambda: rows(type("S", (str,), {})("\ud800")), "bad", "surrogate"),
    # Keys must be str, at every level.
    Case("int-key", lambda: [{"good": 2}, {1: "x"}], None, "keys must be str"),
    Case("nested-int-key", lambda: rows({"input": {2: "x"}}), "bad.input", "keys must be str"),
    Case("nested-tuple-key-in-list", lambda: rows([{("t",): 1}]), "bad[0]", "keys must be str"),
    # Ints fit in 64 bits, from Python or numpy.
    Case("int-2**63", lambda: rows(2**63), "bad", "64 bits", True),
    Case("int-huge", lambda: rows(10**5000), "bad", "64 bits", True),
    Case("int-nested", lambda: rows({"n": [1, -(2**63) - 1]}), "bad.n[1]", "64 bits", True),
    Case("np-uint64-max", lambda: rows(np.uint64(2**64 - 1)), "bad", "64 bits", True),
    Case("np-uint64-array", lambda: rows(np.array([1, 2**64 - 1], dtype=np.uint64)), "bad[1]", "64 bits", True),
    # numpy kinds without a lossless meaning.
    Case("np-complex", lambda: rows(np.complex128(1j)), "bad", "complex"),
    Case("np-complex-array", lambda: rows(np.array([1j, 2])), "bad", "complex"),
    Case("np-void", lambda: rows(np.zeros(1, dtype=[("a", "i4")])[0]), "bad", "structured"),
    Case("np-structured-array", lambda: rows(np.zeros(2, dtype=[("a", "i4")])), "bad", "structured"),
    Case("np-2d-array", lambda: rows(np.zeros((2, 2))), "bad", "dimensions"),
    Case("np-0d-array", lambda: rows(np.array(5)), "bad", "dimensions"),
    Case("np-timedelta64", lambda: rows(np.timedelta64(1, "s")), "bad", "timedelta64"),
    Case("np-timedelta64-array", lambda: rows(np.array([1], dtype="timedelta64[s]")), "bad", "timedelta64"),
    Case("np-object-array-with-set", lambda: rows(np.array([1, {1}], dtype=object)), "bad[1]", "set"),
    Case("np-datetime64-year-10000", lambda: rows(np.datetime64("10000-01-01")), "bad", "out of range", True),
    Case("np-datetime64-far-past", lambda: rows(np.datetime64(-(10**15), "D")), "bad", "out of range", True),
    Case("np-datetime64-huge-years", lambda: rows(np.datetime64(2**62, "Y")), "bad", "out of range", True),
    Case(
        "np-datetime64-array-out-of-range",
        lambda: rows(np.array(["2024-01-01", "10000-01-01"], dtype="datetime64[D]")),
        "bad[1]",
        "out of range",
        True,
    ),
    pytest.param(
        Case("np-longdouble-lossy", lambda: rows(np.longdouble(1) / 3), "bad", "without loss", True),
        marks=pytest.mark.skipif(not _LONGDOUBLE_IS_WIDER, reason="longdouble is float64 here"),
    ),
    # Datetimes stay within years 1-9999 in UTC.
    Case(
        "datetime-max-west-of-utc",
        lambda: rows(dt.datetime.max.replace(tzinfo=dt.timezone(-dt.timedelta(hours=5)))),
        "bad",
        "out of range",
        True,
    ),
    Case(
        "datetime-min-east-of-utc",
        lambda: rows({"at": dt.datetime.min.replace(tzinfo=dt.timezone(dt.timedelta(hours=5)))}),
        "bad.at",
        "out of range",
        True,
    ),
    Case("datetime-broken-tzinfo", lambda: rows(dt.datetime(2024, 1, 1, tzinfo=BrokenZone())), "bad", "time zone"),
    Case("timedelta", lambda: rows(dt.timedelta(seconds=1)), "bad", "timedelta"),
    Case("pd-timedelta", lambda: rows(pd.Timedelta(1, "s")), "bad", "timedelta"),
    Case("time-of-day", lambda: rows(dt.time(12)), "bad", "time"),
    # Other types, deep inside too.
    Case("decimal-nested", lambda: rows({"input": {"price": decimal.Decimal("1.5")}}), "bad.input.price", "Decimal"),
    Case("set", lambda: rows({1, 2}), "bad", "set"),
    Case("object", lambda: rows(object()), "bad", "object"),
    # Nesting is bounded (Arrow's IPC format stops at 64 levels).
    Case("lists-too-deep", lambda: rows(nested_lists(MAX_NESTING + 1)), "bad" + "[0]" * MAX_NESTING, "nesting", True),
    Case("dicts-too-deep", lambda: rows(nested_dicts(MAX_NESTING + 1)), "bad" + ".a" * MAX_NESTING, "nesting", True),
    Case("cycle", lambda: rows(cycle()), "bad" + "[0]" * MAX_NESTING, "nesting", True),
    # Sizes: one value, and all the data nested in one value.
    Case("str-over-limit", lambda: rows(_BIG_ASCII), "bad", "bytes", True),
    Case("bytes-over-limit", lambda: rows(_BIG_ASCII.encode()), "bad", "bytes", True),
    Case("bytearray-over-limit", lambda: rows(bytearray(MAX_VALUE_BYTES + 1)), "bad", "bytes", True),
    Case("non-ascii-str-over-limit-in-utf8", lambda: rows("é" * (MAX_VALUE_BYTES // 2 + 1)), "bad", "bytes", True),
    Case("nested-str-over-limit", lambda: rows({"text": [_BIG_ASCII]}), "bad.text[0]", "bytes", True),
    Case(
        "cell-over-limit",
        lambda: rows({"parts": [_NEAR_LIMIT] * (MAX_CELL_BYTES // MAX_VALUE_BYTES + 1)}),
        "bad",
        "exceed",
        True,
    ),
]

FRAME_CASES = [
    Case("df-object-surrogate", lambda: frame(["ok", "\ud800"], dtype=object), "bad", "surrogate"),
    Case("df-object-decimal", lambda: frame([1, decimal.Decimal(1)], dtype=object), "bad", "Decimal"),
    Case("df-object-nested-bad", lambda: frame([{"a": 1}, {"a": {2: 1}}], dtype=object), "bad.a", "keys must be str"),
    Case("df-object-out-of-range", lambda: frame([np.datetime64("10000-01-01")], dtype=object), "bad", "out of range", True),
    Case("df-object-huge-value", lambda: frame([_BIG_ASCII], dtype=object), "bad", "bytes", True),
    Case("df-timedelta", lambda: frame(list(pd.to_timedelta([1, 2], unit="s"))), "bad", "duration"),
    Case("df-period", lambda: frame(list(pd.period_range("2024-01", periods=2, freq="M"))), "bad", "pandas.period"),
    Case("df-interval", lambda: frame(list(pd.interval_range(0, 2))), "bad", "interval"),
    Case("df-complex", lambda: frame([1j, 2j]), "bad", "complex"),
    Case("df-uint64-over-int64", lambda: frame([1, 2**64 - 1], dtype=np.uint64), "bad", "uint64", True),
    Case("df-int-column-name", lambda: pd.DataFrame({"good": [2], 0: [1]}), None, "must be str"),
    Case("df-duplicate-columns", lambda: pd.DataFrame([[2, 1]], columns=["good", "good"]), "good", "unique"),
    Case(
        "df-surrogate-column-name",
        lambda: pd.DataFrame([[2, 1]], columns=pd.Index(["good", "b\ud800d"], dtype=object)),
        "b\ud800d",
        "surrogate",
    ),
]

_BAD_UTF8 = pa.Array.from_buffers(
    pa.string(), 2, [None, pa.py_buffer(np.array([0, 2, 4], dtype=np.int32)), pa.py_buffer(b"ok\xff\xfe")]
)

ARROW_CASES = [
    Case("pa-decimal", lambda: table(pa.array([decimal.Decimal("1.5")])), "bad", "decimal"),
    Case("pa-time64", lambda: table(pa.array([dt.time(1)], pa.time64("us"))), "bad", "time64"),
    Case("pa-duration", lambda: table(pa.array([1], pa.duration("s"))), "bad", "duration"),
    Case("pa-interval", lambda: table(pa.array([(1, 2, 3)], pa.month_day_nano_interval())), "bad", "interval"),
    Case("pa-map", lambda: table(pa.array([[("a", 1)]], pa.map_(pa.string(), pa.int64()))), "bad", "map"),
    Case("pa-unknown-extension", lambda: table(pa.ExtensionArray.from_storage(Extension(), pa.array([1]))), "bad", "test.unknown"),
    Case(
        "pa-struct-duplicate-fields",
        lambda: table(pa.StructArray.from_arrays([pa.array([1]), pa.array([2])], names=["a", "a"])),
        "a",
        "unique",
    ),
    Case("pa-list-of-decimal", lambda: table(pa.array([[decimal.Decimal(1)]])), "bad", "decimal"),
    Case("pa-dictionary-of-durations", lambda: table(pa.array([1, 1], pa.duration("s")).dictionary_encode()), "bad", "duration"),
    Case("pa-timestamp-s-year-33658", lambda: table(pa.array([10**12], pa.timestamp("s"))), "bad", "1-9999", True),
    Case("pa-timestamp-us-before-year-1", lambda: table(pa.array([-(2**62)], pa.timestamp("us", tz="UTC"))), "bad", "1-9999", True),
    Case("pa-date32-far", lambda: table(pa.array([2**30], pa.date32())), "bad", "1-9999", True),
    Case("pa-date64-far", lambda: table(pa.array([2**60], pa.date64())), "bad", "1-9999", True),
    Case(
        "pa-nested-timestamp-far",
        lambda: table(pa.array([{"t": 10**12}], pa.struct([("t", pa.timestamp("s"))]))),
        "bad.t",
        "1-9999",
        True,
    ),
    Case("pa-invalid-utf8", lambda: table(_BAD_UTF8), "bad", "UTF-8", True),
    Case("pa-uint64-over-int64", lambda: table(pa.array([2**64 - 1], pa.uint64())), "bad", "uint64", True),
    Case("pa-huge-value", lambda: table(pa.array([_BIG_ASCII], pa.large_string())), "bad", "bytes", True),
]


def _case_id(case: Any) -> str:
    return case.id if isinstance(case, Case) else case.values[0].id


@pytest.mark.parametrize("case", ROW_CASES + FRAME_CASES + ARROW_CASES, ids=_case_id)
def test_refused_at_once_naming_the_key_and_nothing_of_the_call_is_logged(tmp_path, case):
    st_ = StreamTable("e/p/t", root=tmp_path)
    st_.log({"good": 1})
    st_.flush()  # committed before
    st_.log([{"good": 2}])  # queued, not yet committed, when the bad call comes
    call = case.make()
    with pytest.raises(TypeError) as info:
        st_.log(call)
    error = info.value
    assert isinstance(error, WeaveError), type(error)
    assert isinstance(error, ValueError) == case.value_error, type(error)
    message = str(error)
    message.encode("utf-8")  # the message itself can be printed and stored
    assert case.needle.lower() in message.lower(), message
    if case.key is not None:
        assert repr(case.key) in message, message
    st_.log({"good": 3})  # later calls work
    st_.flush()
    got = st_.to_arrow()
    assert got.column("good").to_pylist() == [1, 2, 3]
    assert set(got.column_names) == {"good", "timestamp", "_client_id"}
    st_.finish()


def test_row_error_carries_the_key_path_and_row_index():
    with pytest.raises(RowError) as info:
        normalize_rows([{"ok": 1}, {"ok": 2}, {"input": {"lang": ["en", "\ud800"]}}])
    assert info.value.key == "input.lang[1]"
    assert info.value.row == 2
    assert str(info.value).startswith("row 2: key 'input.lang[1]': string is not valid Unicode")


def test_bad_rows_never_block_good_rows_of_other_calls(tmp_path):
    """Interleaved bad and good calls: every good row commits, in order, and nothing else."""
    st_ = StreamTable("e/p/t", root=tmp_path)
    bad_calls = [c.make for c in ROW_CASES if isinstance(c, Case) and "limit" not in c.id]
    expected = []
    for i, make in enumerate(bad_calls):
        st_.log({"i": i})
        expected.append(i)
        with pytest.raises(TypeError):
            st_.log(make())
    st_.finish()
    assert st_.to_arrow().column("i").to_pylist() == expected


# ---------------------------------------------------------------------------------------------
# Limits: the deepest and largest accepted values commit


def test_deepest_accepted_value_commits_even_with_a_union_at_every_level(tmp_path):
    def mixed(depth: int) -> Any:
        value: Any = "leaf"
        for _ in range(depth - 1):
            value = [1, value]  # an int next to a list: a union under every list
        return [value]

    deepest = mixed(MAX_NESTING)
    st_ = StreamTable("e/p/t", root=tmp_path)
    st_.log([{"x": 1}, {"x": deepest}, {"x": nested_dicts(MAX_NESTING)}])  # a union at the top too
    st_.finish()
    back = st_.to_arrow().column("x").to_pylist()
    assert back == [1, deepest, nested_dicts(MAX_NESTING)]


def test_values_at_the_size_limits_commit(tmp_path):
    st_ = StreamTable("e/p/t", root=tmp_path)
    st_.log({"s": "z" * MAX_VALUE_BYTES})
    st_.log({"b": b"\0" * MAX_VALUE_BYTES})
    st_.finish()
    got = st_.to_arrow()
    assert pc.binary_length(got.column("s")).to_pylist() == [MAX_VALUE_BYTES, None]
    assert pc.binary_length(got.column("b")).to_pylist() == [None, MAX_VALUE_BYTES]


# ---------------------------------------------------------------------------------------------
# Conversions: what is accepted reads back as the value it stands for

CONVERTED = [
    (np.longdouble(1.5), 1.5),
    (np.float16(0.5), 0.5),
    (np.float32(0.25), 0.25),
    (np.uint64(2**63 - 1), 2**63 - 1),
    (np.int8(-5), -5),
    (np.bool_(True), True),
    (np.str_("naïve 😀"), "naïve 😀"),
    (np.bytes_(b"ab"), b"ab"),
    (np.datetime64("NaT"), None),
    (np.datetime64("9999-12-31T23:59:59.999999"), dt.datetime(9999, 12, 31, 23, 59, 59, 999999)),
    (np.datetime64("2262-04-11T23:47:16.854775807"), dt.datetime(2262, 4, 11, 23, 47, 16, 854775)),
    (np.datetime64("0001-01-01"), dt.datetime(1, 1, 1)),
    (np.datetime64("2024-05", "M"), dt.datetime(2024, 5, 1)),
    (np.datetime64(3, "10D"), dt.datetime(1970, 1, 31)),
    (np.datetime64(-1, "ns"), dt.datetime(1969, 12, 31, 23, 59, 59, 999999)),
    (np.array(["2024-01-01T12"], dtype="datetime64[h]"), [dt.datetime(2024, 1, 1, 12)]),
    (np.array([1.5, 2.5], dtype=np.float16), [1.5, 2.5]),
    (np.array([2**63 - 1], dtype=np.uint64), [2**63 - 1]),
    (np.array([1, "a", None], dtype=object), [1, "a", None]),
    (pd.NaT, None),
    (pd.NA, None),
    (pd.Timestamp("2024-01-01 12:00", tz="Europe/Paris"), dt.datetime(2024, 1, 1, 11, tzinfo=UTC)),
    (pd.Timestamp("2024-01-01 12:00:00.000001001"), dt.datetime(2024, 1, 1, 12, 0, 0, 1)),
    (dt.datetime.max, dt.datetime.max),
    (dt.datetime.max.replace(tzinfo=dt.timezone(dt.timedelta(hours=5))), dt.datetime(9999, 12, 31, 18, 59, 59, 999999, tzinfo=UTC)),
    (dt.datetime.min.replace(tzinfo=dt.timezone(dt.timedelta(hours=-5))), dt.datetime(1, 1, 1, 5, tzinfo=UTC)),
    (dt.date.min, dt.date.min),
    (dt.date.max, dt.date.max),
    ({"k": bytearray(b"xy"), "m": memoryview(b"z")}, {"k": b"xy", "m": b"z"}),
]


@pytest.mark.parametrize("logged,expected", CONVERTED, ids=[repr(c[0])[:40] for c in CONVERTED])
def test_numpy_pandas_and_extreme_values_convert(tmp_path, logged, expected):
    st_ = StreamTable("e/p/t", root=tmp_path)
    st_.log({"v": logged})
    st_.finish()
    assert st_.to_arrow().column("v").to_pylist() == [expected]


def test_dataframe_kinds_are_converted(tmp_path):
    df = pd.DataFrame(
        {
            "tz": pd.to_datetime(["2024-01-01 12:00", None]).tz_localize("Europe/Paris"),
            "naive_ns": pd.to_datetime(["2024-01-01 00:00:00.000001999", None]),
            "cat": pd.Categorical(["x", None]),
            "Int64": pd.array([1, None], dtype="Int64"),
            "boolean": pd.array([True, None], dtype="boolean"),
            "f16": np.array([0.5, np.nan], dtype=np.float16),
            "u64": np.array([1, 2**63 - 1], dtype=np.uint64),
            "pastr": pd.array(["a", None], dtype="string[pyarrow]"),
            "mixed": pd.Series([1, "a"], dtype=object),
            "nan_obj": pd.Series(["a", np.nan], dtype=object),
            "dicts": pd.Series([{"p": 1}, {"p": "x"}], dtype=object),
            "stamps": pd.Series([pd.Timestamp("2024-01-01", tz="UTC"), pd.NaT], dtype=object),
        }
    )
    st_ = StreamTable("e/p/t", root=tmp_path)
    st_.log(df)
    st_.finish()
    got = st_.to_arrow().drop_columns(["timestamp", "_client_id"]).to_pydict()
    assert got == {
        "tz": [dt.datetime(2024, 1, 1, 11, tzinfo=UTC), None],
        "naive_ns": [dt.datetime(2024, 1, 1, 0, 0, 0, 1), None],
        "cat": ["x", None],
        "Int64": [1, None],
        "boolean": [True, None],
        "f16": [0.5, None],
        "u64": [1, 2**63 - 1],
        "pastr": ["a", None],
        "mixed": [1, "a"],
        "nan_obj": ["a", None],
        "dicts": [{"p": 1}, {"p": "x"}],
        "stamps": [dt.datetime(2024, 1, 1, tzinfo=UTC), None],
    }


def _list_view() -> pa.Array:
    return pa.ListViewArray.from_arrays(pa.array([2, 0, 0]), pa.array([1, 0, 2]), pa.array([7, 8, 9]))


ARROW_CONVERTED = [
    (pa.array(["a", None], pa.large_string()), ["a", None]),
    (pa.array(["a", "b"], pa.string_view()), ["a", "b"]),
    (pa.array(["a", "b", "a"]).dictionary_encode(), ["a", "b", "a"]),
    (pa.array(np.array([0.5, 1.5], dtype=np.float16)), [0.5, 1.5]),
    (pa.array([2**63 - 1], pa.uint64()), [2**63 - 1]),
    (pc.run_end_encode(pa.array([1, 1, 2])), [1, 1, 2]),
    (pa.ExtensionArray.from_storage(pa.json_(), pa.array(['{"a": 1}'])), ['{"a": 1}']),
    (pa.ExtensionArray.from_storage(pa.uuid(), pa.array([b"0" * 16], pa.binary(16))), [b"0" * 16]),
    (_list_view(), [[9], [], [7, 8]]),
    (pa.array([[1], [2, 3], [4]]).slice(1), [[2, 3], [4]]),
    (pa.array([[1], [2, 3]], pa.large_list(pa.int64())), [[1], [2, 3]]),
    (pa.array([{"a": 1}, {"a": 2}, None]).slice(1), [{"a": 2}, None]),
    (pa.array([1, 1500], pa.timestamp("ns", tz="Asia/Tokyo")), [dt.datetime(1970, 1, 1, tzinfo=UTC), dt.datetime(1970, 1, 1, 0, 0, 0, 1, tzinfo=UTC)]),
    (pa.array([253_402_300_799], pa.timestamp("s")), [dt.datetime(9999, 12, 31, 23, 59, 59)]),
    (pa.array([86_400_000], pa.date64()), [dt.date(1970, 1, 2)]),
    (pa.UnionArray.from_sparse(pa.array([0, 1], pa.int8()), [pa.array([1, 2]), pa.array(["a", "b"])]), [1, "b"]),
]


@pytest.mark.parametrize("array,expected", ARROW_CONVERTED, ids=[str(a.type)[:40] for a, _ in ARROW_CONVERTED])
def test_arrow_types_are_converted(tmp_path, array, expected):
    st_ = StreamTable("e/p/t", root=tmp_path)
    st_.log(pa.table({"v": array}))
    st_.finish()
    assert st_.to_arrow().column("v").to_pylist() == expected


# ---------------------------------------------------------------------------------------------
# Huge batches


def test_rows_to_batch_refuses_a_2gib_column_before_building_it():
    ten_mb = "x" * (10 * 2**20)
    with pytest.raises(V.BatchTooLargeError) as info:
        V.rows_to_batch([{"i": i, "big": ten_mb} for i in range(220)])
    assert info.value.column == "big" and "'big'" in str(info.value)
    assert isinstance(info.value, (WeaveError, ValueError))


@pytest.mark.slow
def test_nested_column_over_2gib_raises_batch_too_large_not_chunked_array():
    ten_mb = "x" * (10 * 2**20)
    with pytest.raises(V.BatchTooLargeError) as info:
        V.rows_to_batch([{"big": [ten_mb]} for _ in range(220)])
    assert info.value.column == "big"
    assert "ChunkedArray" not in str(info.value)


def test_rows_to_batches_splits_in_order(monkeypatch):
    monkeypatch.setattr(V, "MAX_ARRAY_BYTES", 1000)
    rows_ = [{"i": i, "s": "x" * 100} for i in range(50)]
    extra = {"n": pa.array(range(50))}
    with pytest.raises(V.BatchTooLargeError):
        V.rows_to_batch(rows_, extra)
    batches = V.rows_to_batches(rows_, extra)
    assert len(batches) > 1
    assert all(sum(pc.binary_length(b.column("s")).to_pylist()) <= 1000 for b in batches)
    table_ = pa.Table.from_batches(batches)
    assert table_.column("i").to_pylist() == list(range(50)) == table_.column("n").to_pylist()
    assert V.rows_to_batches(rows_[:5], None)[0].num_rows == 5  # fits: one batch


@pytest.mark.slow
def test_huge_values_in_one_call_commit_with_the_rows_around_them(tmp_path):
    """220 values of 10 MB in one call (2.2 GB): the writer splits them; every row lands."""
    ten_mb = "x" * (10 * 2**20)
    st_ = StreamTable("e/p/t", root=tmp_path)
    st_.log({"i": -1})
    st_.log([{"i": i, "big": ten_mb} for i in range(220)])
    st_.log({"i": 220})
    st_.finish()
    got = st_.to_arrow()
    assert got.column("i").to_pylist() == list(range(-1, 221))
    assert pc.sum(pc.binary_length(got.column("big"))).as_py() == 220 * len(ten_mb)


def test_a_bulk_column_over_2gib_is_refused_in_the_caller(tmp_path):
    ten_mb = "x" * (10 * 2**20)
    big = pa.chunked_array([pa.array([ten_mb] * 110, pa.string())] * 2)  # chunks share buffers
    st_ = StreamTable("e/p/t", root=tmp_path)
    with pytest.raises(V.BatchTooLargeError) as info:
        st_.log(pa.table({"good": pa.array(range(220)), "big": big}))
    assert info.value.column == "big"
    st_.log({"good": 1})
    st_.finish()
    assert st_.to_arrow().column("good").to_pylist() == [1]


# ---------------------------------------------------------------------------------------------
# Properties: whatever is accepted round-trips


def _fits_in_utc(value: dt.datetime) -> bool:
    try:
        value.astimezone(UTC)
    except OverflowError:
        return False
    return True


_offsets = st.integers(-23 * 60, 23 * 60).map(lambda m: dt.timezone(dt.timedelta(minutes=m)))
_text = st.text(st.characters(codec="utf-8"), max_size=10) | st.sampled_from(["😀", "𝄞 clef", "日本語", "", "\x00"])
_plain_scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-(2**63), 2**63 - 1),
    st.sampled_from([-(2**63), 2**63 - 1, 0, -1]),
    st.floats(allow_nan=True, allow_infinity=True),
    st.sampled_from([1.7976931348623157e308, 5e-324, -0.0, float("inf"), float("-inf")]),
    _text,
    st.binary(max_size=8),
    st.datetimes(),
    st.datetimes(timezones=_offsets).filter(_fits_in_utc),
    st.sampled_from([dt.datetime.min, dt.datetime.max]),
    st.dates(),
)
_numpy_scalars = st.one_of(
    st.integers(-(2**63), 2**63 - 1).map(np.int64),
    st.integers(0, 2**63 - 1).map(np.uint64),
    st.integers(-128, 127).map(np.int8),
    st.floats(width=16).map(np.float16),
    st.floats(width=32).map(np.float32),
    st.floats().map(np.float64),
    st.floats().map(np.longdouble),
    st.booleans().map(np.bool_),
    _text.map(np.str_),
    st.binary(max_size=8).map(np.bytes_),
    st.tuples(st.datetimes(), st.sampled_from(["D", "s", "ms", "us", "ns"])).map(
        lambda p: np.datetime64(p[0], p[1]) if p[1] != "ns" or 1678 <= p[0].year <= 2261 else np.datetime64(p[0], "us")
    ),
    st.just(np.datetime64("NaT")),
    st.just(pd.NaT),
    st.just(pd.NA),
    st.datetimes(timezones=_offsets).filter(_fits_in_utc).map(pd.Timestamp),
    st.lists(st.floats(), max_size=4).map(lambda xs: np.array(xs, dtype=np.float64)),
    st.lists(st.integers(-(2**63), 2**63 - 1), max_size=4).map(lambda xs: np.array(xs, dtype=np.int64)),
    st.lists(_text, max_size=3).map(lambda xs: np.array(xs, dtype=object)),
)
_keys = st.sampled_from(["a", "b", "model", "ünï", "😀", "x.y", "𝄞"]) | st.text(st.characters(codec="utf-8"), max_size=4)
_accepted_values = st.recursive(
    st.one_of(_plain_scalars, _numpy_scalars),
    lambda children: st.one_of(
        st.lists(children, max_size=3),
        st.lists(children, max_size=3).map(tuple),
        st.dictionaries(_keys, children, max_size=3),
    ),
    max_leaves=10,
)
_accepted_rows = st.dictionaries(_keys.filter(lambda k: k not in ("timestamp", "_client_id")), _accepted_values, max_size=4)


def expected(value: Any) -> Any:
    """What a logged value reads back as, by numpy's and pandas' own conversions."""
    if value is None or value is pd.NaT or value is pd.NA:
        return None
    if isinstance(value, np.datetime64):
        return None if np.isnat(value) else value.astype("datetime64[us]").item()
    if isinstance(value, pd.Timestamp):
        return value.to_pydatetime()
    if isinstance(value, np.ndarray):
        return [expected(v) for v in value.tolist()]
    if isinstance(value, np.generic):
        return expected(value.item()) if not isinstance(value, np.longdouble) else float(value)
    if isinstance(value, (list, tuple)):
        return [expected(v) for v in value]
    if isinstance(value, dict):
        return {k: expected(v) for k, v in value.items()}
    return value


@given(st.lists(st.lists(_accepted_rows, min_size=1, max_size=4), min_size=1, max_size=3))
@settings(deadline=None)
def test_every_accepted_row_commits_and_reads_back(calls):
    with tempfile.TemporaryDirectory() as root:
        st_ = StreamTable("e/p/t", root=root, batch_interval=0.001)
        for call in calls:
            st_.log(call)
        st_.finish()
        got = st_.to_arrow()
        # And the bulk path takes back whatever the log gives out.
        again = StreamTable("e/p/t2", root=root)
        again.log(got)
        again.finish()
        copied = again.to_arrow()
    logged = [r for call in calls for r in call]
    back = got.to_pylist()
    assert len(back) == len(logged)
    for original, read in zip(logged, back):
        for key, value in original.items():
            assert same_logged_value(expected(value), read[key]), (key, value, read[key])
    assert copied.schema == got.schema
    for first, second in zip(got.to_pylist(), copied.to_pylist()):
        assert all(same_logged_value(first[k], second[k]) for k in first if k != "_client_id"), (first, second)


_object_values = st.recursive(
    st.one_of(
        st.none(),
        st.booleans(),
        st.integers(-(2**63), 2**63 - 1),
        st.floats(allow_nan=False),
        _text,
        st.binary(max_size=4),
        st.datetimes(),
        st.datetimes(timezones=_offsets).filter(_fits_in_utc),
        st.dates(),
    ),
    lambda children: st.lists(children, max_size=3) | st.dictionaries(st.sampled_from(["p", "q"]), children, max_size=2),
    max_leaves=6,
)


@given(st.lists(_object_values, min_size=1, max_size=6))
@settings(deadline=None)
def test_dataframe_object_columns_are_typed_like_dict_rows(values):
    """The same values logged as dict rows and as a DataFrame object column give the same
    column: type and values (mixed kinds make the same union)."""
    from_rows = V.rows_to_batch(normalize_rows([{"m": v} for v in values]))
    from_frame = bulk_input.normalize_batch(pd.DataFrame({"m": pd.Series(values, dtype=object)}))
    assert from_frame.column(0).type == from_rows.column(0).type
    assert from_frame.column(0).to_pylist() == from_rows.column(0).to_pylist()


def _utf8_bytes(value: Any) -> int:
    if isinstance(value, str):
        return len(value.encode("utf-8"))
    if isinstance(value, bytes):
        return len(value)
    if isinstance(value, list):
        return sum(map(_utf8_bytes, value))
    if isinstance(value, dict):
        return sum(map(_utf8_bytes, value.values()))
    return 0


@given(_accepted_rows)
def test_estimate_row_bytes_never_underestimates_string_data(row):
    normalized = normalize_row(row)
    assert V.estimate_row_bytes(normalized) >= _utf8_bytes(normalized) + V.VALUE_OVERHEAD_BYTES * len(normalized)


def test_booleans_mixed_with_numbers_in_an_object_column_stay_booleans():
    """Hypothesis found it: pyarrow turns ``[0.0, False]`` into doubles; dict rows keep a union."""
    values = [0.0, False]
    from_rows = V.rows_to_batch(normalize_rows([{"m": v} for v in values]))
    from_frame = bulk_input.normalize_batch(pd.DataFrame({"m": pd.Series(values, dtype=object)}))
    assert from_frame.column(0).type == from_rows.column(0).type
    assert from_frame.column(0).to_pylist() == [0.0, False]
