"""Sketch accuracy against exact values on seeded data of 1M values (issue 5, "must show")."""

from __future__ import annotations

from collections import Counter

import numpy as np
import pyarrow as pa
import pytest
from profiles_testdata import GRID, QS, finite_sorted, rank_error

from weave_lite.profiles import DatasetProfile, profile_table
from weave_lite.profiles.column import ColumnProfile
from weave_lite.profiles.sketches import HLLSketch, KLLSketch
from weave_lite.profiles.sketches.hashing import hash_int64s

NUMERIC = ["uniform", "lognormal", "ties", "nulls"]


@pytest.mark.parametrize("name", NUMERIC)
def test_kll_rank_error_default_size(columns, name):
    col = ColumnProfile(name)
    col.update_array(columns[name])
    exact = finite_sorted(columns[name])
    assert col.kll.n == exact.shape[0]
    assert rank_error(exact, col.quantile(list(QS)), QS) <= 0.005
    assert rank_error(exact, col.kll.quantiles(GRID), GRID) <= 0.005
    s = col.summary()
    assert s["min"] == exact[0] and s["max"] == exact[-1]
    assert s["mean"] == pytest.approx(float(np.mean(exact)), rel=1e-9)
    assert s["stddev"] == pytest.approx(float(np.std(exact, ddof=1)), rel=1e-9)


def test_kll_rank_error_small_batches():
    """The per-item path (small batches, as from single dicts) is as accurate."""
    x = np.random.default_rng(7).lognormal(size=300_000)
    s = KLLSketch()
    for i in range(0, x.shape[0], 1000):
        s.update(x[i : i + 1000])
    assert rank_error(np.sort(x), s.quantiles(GRID), GRID) <= 0.005


def test_kll_exact_while_small():
    s = KLLSketch()
    s.update(np.arange(1000, dtype=np.float64))
    assert s.quantile(0.5) == 499.0
    assert s.quantile(0.0) == 0.0 and s.quantile(1.0) == 999.0
    assert s.num_retained == 1000


@pytest.mark.parametrize("card", [10, 1_000, 100_000, 10_000_000])
def test_hll_relative_error(card):
    h = HLLSketch()
    step = 1_000_000
    for start in range(0, card, step):  # 10M distinct int64s, 1M at a time
        h.update_hashes(hash_int64s(np.arange(start, min(card, start + step), dtype=np.int64)))
    est = h.estimate()
    assert abs(est - card) / card <= 0.02
    lo, hi = h.bounds()
    assert lo <= card <= hi


def test_hll_with_repeats_and_strings(columns):
    col = ColumnProfile("strings")
    col.update_array(columns["strings"])
    exact = len(set(columns["strings"].to_pylist()))
    assert abs(col.distinct() - exact) / exact <= 0.02
    ties = ColumnProfile("ties")
    ties.update_array(columns["ties"])
    assert ties.distinct() == 50  # exact below the HLL threshold


@pytest.mark.parametrize("name", NUMERIC)
def test_hll_numeric_columns(columns, name):
    col = ColumnProfile(name)
    col.update_array(columns[name])
    exact = np.unique(finite_sorted(columns[name])).shape[0]
    assert abs(col.distinct() - exact) / exact <= 0.02


def test_frequent_items_finds_every_item_above_one_percent(columns):
    strings = columns["strings"]
    counts = Counter(strings.to_pylist())
    n = len(strings)
    heavy = {v for v, c in counts.items() if c > 0.01 * n}
    assert len(heavy) == 8
    col = ColumnProfile("strings")
    col.update_array(strings)
    items = {d["value"]: d["est"] for d in col.frequent_items()}
    assert heavy <= set(items)
    offset = col.freq.offset
    for v in heavy:  # count <= true <= count + offset, reported est = count + offset
        assert counts[v] <= items[v] <= counts[v] + offset
    assert offset <= n / 768


def test_frequent_items_adversarial_order():
    """Heavy items arriving only at the end, after 500k distinct values, are still found."""
    light = [f"l{i}" for i in range(500_000)]
    heavy = ["late-a"] * 15_000 + ["late-b"] * 12_000
    arr = pa.array(light + heavy)
    col = ColumnProfile("s")
    col.update_array(arr)
    items = {d["value"] for d in col.frequent_items()}
    assert {"late-a", "late-b"} <= items


def test_frequent_items_exact_when_few_distinct():
    arr = pa.array(["a"] * 5 + ["b"] * 3 + ["c"] + [None] * 2)
    col = ColumnProfile("s")
    col.update_array(arr)
    assert col.frequent_items() == [
        {"value": "a", "est": 5}, {"value": "b", "est": 3}, {"value": "c", "est": 1}]


def test_merge_of_halves_agrees_with_whole(table, columns):
    half = table.num_rows // 2
    whole = profile_table(table)
    a = profile_table(table.slice(0, half))
    b = profile_table(table.slice(half))
    merged = a.merge(b)
    assert merged.rows == whole.rows == table.num_rows
    sw, sm = whole.summary(), merged.summary()
    for name in table.column_names:
        w, m = sw[name], sm[name]
        for key in ("count", "null_count", "nan_count", "inf_count", "type_integral",
                    "type_fractional", "type_boolean", "type_string", "type_object"):
            assert w[key] == m[key], (name, key)
        if name in NUMERIC:
            exact = finite_sorted(columns[name])
            assert m["min"] == w["min"] and m["max"] == w["max"]
            assert m["mean"] == pytest.approx(w["mean"], rel=1e-9)
            assert m["stddev"] == pytest.approx(w["stddev"], rel=1e-9)
            assert rank_error(exact, merged.quantile(name, list(QS)), QS) <= 0.005
            assert rank_error(exact, merged[name].kll.quantiles(GRID), GRID) <= 0.005
        assert abs(m["distinct_est"] - w["distinct_est"]) / w["distinct_est"] <= 0.02
    heavy = {d["value"] for d in sw["strings"]["frequent_items"][:8]}
    assert heavy <= {d["value"] for d in sm["strings"]["frequent_items"]}


def test_merge_many_small_profiles_keeps_accuracy():
    x = np.random.default_rng(11).random(400_000)
    merged = DatasetProfile()
    for i in range(0, x.shape[0], 10_000):
        merged = merged.merge(profile_table(pa.table({"x": x[i : i + 10_000]})))
    exact = np.sort(x)
    assert rank_error(exact, merged["x"].kll.quantiles(GRID), GRID) <= 0.005
    assert abs(merged.distinct("x") - x.shape[0]) / x.shape[0] <= 0.02
    assert merged["x"].summary()["mean"] == pytest.approx(float(x.mean()), rel=1e-9)
