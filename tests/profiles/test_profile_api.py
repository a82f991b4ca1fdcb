"""Profile contents, views, queries, merge and the file format (SPEC section 5)."""

from __future__ import annotations

import math
import struct

import numpy as np
import pandas as pd
import pyarrow as pa
import pytest

from weave_lite.errors import WeaveError
from weave_lite.profiles import (
    METRICS,
    ColumnProfile,
    DatasetProfile,
    ProfileFormatError,
    profile_table,
    read,
)

SPEC_COLUMNS = [
    "column", "count", "null_count", "nan_count", "inf_count", "type_integral",
    "type_fractional", "type_boolean", "type_string", "type_object", "min", "max", "mean",
    "stddev", "q_01", "q_05", "q_10", "q_25", "median", "q_75", "q_90", "q_95", "q_99",
    "distinct_est", "distinct_lower", "distinct_upper", "frequent_items",
]


@pytest.fixture
def small():
    return pa.table({
        "x": pa.array([1.0, 2.0, float("nan"), float("inf"), None, 3.0]),
        "i": pa.array([1, 2, 2, None, 5, 6]),
        "s": pa.array(["a", "b", "a", None, "a", "c"]),
        "b": pa.array([True, False, True, None, True, True]),
        "t": pa.array([1, 2, 3, 4, 5, 6], type=pa.timestamp("us")),
    })


def test_to_arrow_columns_and_types(small):
    t = profile_table(small).to_arrow()
    assert t.column_names == SPEC_COLUMNS
    assert ["column", *METRICS] == SPEC_COLUMNS
    assert t.column("column").to_pylist() == ["x", "i", "s", "b", "t"]
    assert t.schema.field("count").type == pa.int64()
    assert t.schema.field("mean").type == pa.float64()
    fi = t.schema.field("frequent_items").type
    assert pa.types.is_list(fi) and fi.value_type.names == ["value", "est"]


def test_counts_types_and_numeric_metrics(small):
    s = profile_table(small).summary()
    for col in s.values():
        types = sum(col[k] for k in ("type_integral", "type_fractional", "type_boolean",
                                     "type_string", "type_object"))
        assert col["count"] == col["null_count"] + types
    x = s["x"]
    # a NaN is a missing value (null) as in whylogs, and also counted as a NaN
    assert (x["count"], x["null_count"], x["nan_count"], x["inf_count"]) == (6, 2, 1, 1)
    assert x["type_fractional"] == 4 and x["type_integral"] == 0
    assert (x["min"], x["max"]) == (1.0, 3.0)  # over finite values
    assert x["mean"] == pytest.approx(2.0) and x["stddev"] == pytest.approx(1.0)
    assert x["median"] == 2.0
    i = s["i"]
    assert (i["count"], i["null_count"], i["type_integral"]) == (6, 1, 5)
    assert i["distinct_est"] == 4 == i["distinct_lower"] == i["distinct_upper"]
    assert i["frequent_items"] is None
    st = s["s"]
    assert st["type_string"] == 5 and st["null_count"] == 1
    for key in ("min", "max", "mean", "stddev", "q_01", "median", "q_99"):
        assert st[key] is None and s["b"][key] is None and s["t"][key] is None
    assert st["frequent_items"] == [{"value": "a", "est": 3}, {"value": "b", "est": 1},
                                    {"value": "c", "est": 1}]
    assert st["distinct_est"] == 3
    assert s["b"]["type_boolean"] == 5 and s["b"]["distinct_est"] == 2
    assert s["t"]["type_object"] == 6 and s["t"]["distinct_est"] is None


def test_to_pandas_view(small):
    df = profile_table(small).to_pandas()
    assert list(df.columns) == SPEC_COLUMNS
    assert list(df["column"]) == ["x", "i", "s", "b", "t"]
    assert df["count"].dtype == np.int64
    assert math.isnan(df.loc[df["column"] == "s", "mean"].iloc[0])
    assert df.loc[df["column"] == "s", "frequent_items"].iloc[0][0] == {"value": "a", "est": 3}


def test_dict_records_with_mixed_types():
    p = DatasetProfile().update([
        {"v": 1, "w": "a"}, {"v": 2.5, "w": 3}, {"v": None}, {"v": "text", "w": [1, 2]},
        {"v": True, "w": float("nan")},
    ])
    v = p["v"].summary()
    assert v["count"] == 5 and v["null_count"] == 1
    assert (v["type_integral"], v["type_fractional"], v["type_string"], v["type_boolean"]) == (1, 1, 1, 1)
    assert v["mean"] == pytest.approx(1.75) and (v["min"], v["max"]) == (1.0, 2.5)
    w = p["w"].summary()
    assert w["count"] == 4  # a missing key is not a null
    assert (w["type_string"], w["type_integral"], w["type_object"], w["type_fractional"]) == (1, 1, 1, 0)
    assert w["nan_count"] == 1 and w["null_count"] == 1
    assert p.rows == 5


def test_ints_mixed_with_floats_count_as_ints():
    p = DatasetProfile().update([{"v": 1}, {"v": 2.5}, {"v": 3}])
    s = p["v"].summary()
    assert (s["type_integral"], s["type_fractional"]) == (2, 1)
    assert s["mean"] == pytest.approx(6.5 / 3)


def test_pandas_and_arrow_inputs_agree():
    rng = np.random.default_rng(3)
    df = pd.DataFrame({"a": rng.normal(size=5000), "b": rng.integers(0, 9, 5000),
                       "s": [f"k{i % 7}" for i in range(5000)]})
    df.loc[3, "a"] = np.nan
    p1 = profile_table(df).summary()
    p2 = profile_table(pa.Table.from_pandas(df, preserve_index=False)).summary()
    assert p1["a"]["nan_count"] == 1 and p1["a"]["null_count"] == 1  # missing, and a NaN
    assert p2["a"]["null_count"] == 1 and p2["a"]["nan_count"] == 0  # Arrow made it a null
    for c in ("b", "s"):
        assert p1[c] == p2[c]
    for key in ("count", "null_count", "type_fractional", "min", "max", "distinct_est"):
        assert p1["a"][key] == p2["a"][key]
    assert p1["a"]["mean"] == pytest.approx(p2["a"]["mean"], rel=1e-12)


def test_record_batch_and_dictionary_strings():
    arr = pa.array(["x", "y", None, "x"]).dictionary_encode()
    batch = pa.record_batch({"d": arr})
    s = profile_table(batch).summary()["d"]
    assert (s["count"], s["null_count"], s["type_string"], s["distinct_est"]) == (4, 1, 3, 2)
    assert s["frequent_items"] == [{"value": "x", "est": 2}, {"value": "y", "est": 1}]


def test_quantile_and_distinct_queries():
    p = profile_table(pa.table({"x": np.arange(1, 1001, dtype=np.float64)}))
    assert p.quantile("x", 0.5) == 500.0
    assert p.quantile("x", [0.0, 1.0]) == [1.0, 1000.0]
    assert p.distinct("x") == 1000
    with pytest.raises(ValueError):
        p.quantile("x", 1.5)
    with pytest.raises(KeyError, match="nope"):
        p.quantile("nope", 0.5)


def test_merge_returns_new_profile(small):
    a = profile_table(small)
    b = profile_table(small)
    before = a.summary()
    m = a.merge(b)
    assert m is not a and a.summary() == before
    assert m["x"].count == 12 and m.rows == 12
    assert m["s"].frequent_items()[0] == {"value": "a", "est": 6}
    c = a.merge(profile_table(pa.table({"new": [1, 2]})))
    assert c.column_names == ["x", "i", "s", "b", "t", "new"]


def test_empty_inputs():
    p = profile_table(pa.table({"x": pa.array([], type=pa.float64())}))
    s = p.summary()["x"]
    assert s["count"] == 0 and s["mean"] is None and s["median"] is None
    assert s["distinct_est"] == 0
    assert profile_table(pa.table({"n": pa.nulls(3)})).summary()["n"]["null_count"] == 3


def test_write_read_round_trip(tmp_path, table):
    p = profile_table(table.slice(0, 200_000), name="rt")
    path = p.write(tmp_path / "p.bin")
    q = read(path)
    assert q.name == "rt" and q.rows == 200_000
    assert q.to_arrow().equals(p.to_arrow())
    assert q.summary() == p.summary()
    # loaded profiles keep working: merge and queries
    m = q.merge(p)
    assert m.rows == 400_000
    assert m.quantile("uniform", 0.5) == pytest.approx(0.5, abs=0.01)
    assert path.stat().st_size < 400_000  # compact: sketches, not data
    assert not list(tmp_path.glob(".*tmp"))


def test_file_header_and_errors(tmp_path):
    p = profile_table(pa.table({"x": [1.0]}))
    data = p.to_bytes()
    assert data[:8] == b"\x89WLPROF\n"
    assert struct.unpack_from("<H", data, 8)[0] == 1
    bad = tmp_path / "bad.bin"
    bad.write_bytes(b"not a profile at all")
    with pytest.raises(ProfileFormatError, match="not a weave_lite profile"):
        read(bad)
    newer = bytearray(data)
    struct.pack_into("<H", newer, 8, 99)
    bad.write_bytes(bytes(newer))
    with pytest.raises(ProfileFormatError, match="version 99"):
        read(bad)
    bad.write_bytes(data[:-5])
    with pytest.raises(ProfileFormatError, match="truncated"):
        read(bad)
    flipped = bytearray(data)
    flipped[-3] ^= 0xFF
    bad.write_bytes(bytes(flipped))
    with pytest.raises(ProfileFormatError):
        read(bad)
    assert issubclass(ProfileFormatError, WeaveError) and issubclass(ProfileFormatError, ValueError)


def test_column_profile_serialises_alone():
    c = ColumnProfile("s")
    c.update_array(pa.array(["u", "v", "u"]))
    d = ColumnProfile.from_bytes(c.to_bytes())
    assert d.summary() == c.summary()


def test_rejects_unknown_input():
    with pytest.raises(TypeError, match="cannot profile"):
        DatasetProfile().update(42)
    with pytest.raises(TypeError, match="record 1"):
        DatasetProfile().update([{"a": 1}, "nope"])
