"""Group-bys on string keys numbered from the segments' cached dictionaries (and merged across
morsels through unified dictionaries) give the generic path's groups, order and values."""

from __future__ import annotations

import itertools
import math

import duckdb
import numpy as np
import pyarrow as pa
import pytest

from weave_lite import evaluate, to_python
from weave_lite.execute.columns import key_codes
from weave_lite.execute.string_groups import gathered_codes, keys_of, merged_codes
from weave_lite.execute.vectors import ArrayVec, GatheredVec, _to_numpy_bool
from weave_lite.kernels import grouping, numpy_grouping

ROWS = 'table("t").rows'
Q2 = (
    f'{ROWS}.groupby(r => r["model"]).map(g => {{model: g.groupkey, n: g.count, avg: g["lat"].avg, max: g["lat"].max}})'
)
Q7 = f'{ROWS}.filter(r => r["ok"]).groupby(r => r["user"]).map(g => {{user: g.groupkey, n: g.count}}).sort(r => [r["n"]], ["desc"]).limit(10)'


def _table(n: int, users: int, seed: int, null_keys: float = 0.05, chunks: int = 1) -> pa.Table:
    rng = np.random.default_rng(seed)
    names = np.array([f"user-{i:05d}" for i in range(users)])
    models = np.array(["m-a", "m-b", "ünï", "", "m-zz"])
    lat = rng.lognormal(3.0, 1.0, n)
    table = pa.table(
        {
            "user": pa.array(names[rng.integers(0, users, n)], mask=rng.random(n) < null_keys),
            "model": pa.array(models[rng.integers(0, len(models), n)], mask=rng.random(n) < null_keys),
            "ok": pa.array(rng.random(n) > 0.3),
            "lat": pa.array(lat, mask=rng.random(n) < 0.05),
        }
    )
    if chunks > 1:
        bounds = np.linspace(0, n, chunks + 1).astype(int)
        table = pa.Table.from_batches(
            [b for lo, hi in itertools.pairwise(bounds) for b in table.slice(lo, hi - lo).to_batches()]
        )
    return table


def _q7_reference(table: pa.Table) -> list[dict]:
    counts: dict = {}
    for user, ok in zip(table.column("user").to_pylist(), table.column("ok").to_pylist()):
        if ok:
            counts[user] = counts.get(user, 0) + 1
    ranked = sorted(counts.items(), key=lambda kv: -kv[1])  # stable: ties in first-appearance order
    return [{"user": u, "n": c} for u, c in ranked[:10]]


def _q2_reference(table: pa.Table) -> list[dict]:
    groups: dict = {}
    for model, lat in zip(table.column("model").to_pylist(), table.column("lat").to_pylist()):
        groups.setdefault(model, []).append(lat)
    out = []
    for model, values in groups.items():
        seen = [v for v in values if v is not None]
        out.append(
            {
                "model": model,
                "n": len(values),
                "avg": sum(seen) / len(seen) if seen else None,
                "max": max(seen) if seen else None,
            }
        )
    return out


def _close(got: list[dict], want: list[dict]) -> None:
    assert [{k: v for k, v in g.items() if k != "avg"} for g in got] == [
        {k: v for k, v in w.items() if k != "avg"} for w in want
    ]
    for g, w in zip(got, want):
        assert (g["avg"] is None) == (w["avg"] is None)
        if w["avg"] is not None:
            assert math.isclose(g["avg"], w["avg"], rel_tol=1e-12)


@pytest.fixture(params=["numba", "numpy"])
def kernels(request, monkeypatch):
    monkeypatch.setenv("WEAVE_LITE_KERNELS", request.param)
    return request.param


# One big chunk (cached encodings, one morsel or many), many chunks (uncached small ones).
CASES = [
    {"n": 150_000, "users": 20_000, "chunks": 1, "morsel_rows": None},
    {"n": 150_000, "users": 20_000, "chunks": 1, "morsel_rows": 40_000},
    {"n": 150_000, "users": 300, "chunks": 6, "morsel_rows": 30_000},
    {"n": 9_000, "users": 50, "chunks": 7, "morsel_rows": 1_000},
    {"n": 9_000, "users": 50, "chunks": 1, "morsel_rows": None},
]


@pytest.mark.parametrize("case", CASES, ids=lambda c: f"{c['n']}x{c['chunks']}m{c['morsel_rows']}")
def test_top_users_match_python(case, kernels):
    table = _table(case["n"], case["users"], seed=case["n"] + case["chunks"], chunks=case["chunks"])
    kwargs = {"morsel_rows": case["morsel_rows"]} if case["morsel_rows"] else {}
    want = _q7_reference(table)
    for threads in (1, 2):
        for _ in range(2):  # the second run reads the cached encodings and unified dictionaries
            assert to_python(evaluate(Q7, tables={"t": table}, threads=threads, **kwargs)) == want


@pytest.mark.parametrize("case", CASES, ids=lambda c: f"{c['n']}x{c['chunks']}m{c['morsel_rows']}")
def test_models_match_python_and_duckdb(case, kernels):
    table = _table(case["n"], case["users"], seed=case["n"] * 3 + case["chunks"], chunks=case["chunks"])
    kwargs = {"morsel_rows": case["morsel_rows"]} if case["morsel_rows"] else {}
    got = to_python(evaluate(Q2, tables={"t": table}, threads=2, **kwargs))
    _close(got, _q2_reference(table))
    con = duckdb.connect()
    con.register("t", table)
    duck = {
        m: (n, a, x)
        for m, n, a, x in con.sql("SELECT model, count(*), avg(lat), max(lat) FROM t GROUP BY model").fetchall()
    }
    assert len(duck) == len(got)
    for row in got:
        n, a, x = duck[row["model"]]
        assert row["n"] == n and row["max"] == x and math.isclose(row["avg"], a, rel_tol=1e-12)


def test_empty_filter_one_row_and_all_null_keys(kernels):
    table = _table(100_000, 1_000, seed=5)
    nothing = f'{ROWS}.filter(r => r["lat"] < 0).groupby(r => r["user"]).map(g => {{user: g.groupkey, n: g.count}})'
    assert to_python(evaluate(nothing, tables={"t": table})) == []
    assert to_python(evaluate(nothing, tables={"t": table}, morsel_rows=30_000)) == []
    one = table.slice(7, 1)
    assert to_python(evaluate(Q7, tables={"t": one})) == _q7_reference(one)
    nulls = pa.table({"user": pa.nulls(70_000, pa.string()), "ok": pa.array([True, False] * 35_000)})
    assert to_python(evaluate(Q7, tables={"t": nulls}, morsel_rows=20_000)) == [{"user": None, "n": 35_000}]


def test_ties_keep_first_appearance_across_morsels():
    # Every user appears equally often: the top 10 are the first 10 to appear.
    users = [f"u{i:03d}" for i in range(200)]
    order = np.random.default_rng(3).permutation(200)
    column = [users[i] for i in order] * 400
    table = pa.table({"user": column, "ok": [True] * len(column)})
    want = [{"user": users[i], "n": 400} for i in order[:10]]
    for morsel_rows in (None, 7_000):
        kwargs = {"morsel_rows": morsel_rows} if morsel_rows else {}
        assert to_python(evaluate(Q7, tables={"t": table}, threads=2, **kwargs)) == want


def test_large_strings_and_mixed_morsel_types_fall_back_correctly():
    big = _table(80_000, 500, seed=9)
    large = big.set_column(0, "user", big.column("user").cast(pa.large_string()))
    assert to_python(evaluate(Q7, tables={"t": large}, morsel_rows=25_000)) == _q7_reference(big)


def test_merged_codes_partition_like_key_codes():
    rng = np.random.default_rng(11)
    words = np.array([f"w{i}" for i in range(3_000)])
    chunks = [pa.array(words[rng.integers(0, 3_000, 70_000)], mask=rng.random(70_000) < 0.1) for _ in range(3)]
    parts = [GatheredVec(ArrayVec(c), np.sort(rng.choice(len(c), 5_000, replace=False))) for c in chunks]
    for _ in range(2):  # second time: the cached unified dictionary
        merged = merged_codes(parts)
        assert merged is not None
        codes, n_codes, dictionary = merged
        assert codes.max() < n_codes
        values = [v for p in parts for v in p.array.to_pylist()]
        generic = key_codes(ArrayVec(pa.chunked_array([p.array for p in parts])))
        assert len(set(zip(codes.tolist(), generic.tolist()))) == len(set(generic.tolist())) == len(set(codes.tolist()))
        assert keys_of(dictionary, codes).array.to_pylist() == values
    assert merged_codes([ArrayVec(chunks[0])]) is None  # not a gather: the generic path


def test_gathered_codes_only_for_one_string_chunk():
    chunk = pa.array(["a", None, "b", "a"])
    codes, at, n_codes = gathered_codes(ArrayVec(chunk))
    assert at is None and n_codes == 3 and codes[0] == codes[3] and codes[1] == 2
    assert gathered_codes(ArrayVec(pa.chunked_array([chunk, chunk]))) is None
    assert gathered_codes(ArrayVec(pa.array([1, 2]))) is None


@pytest.mark.parametrize("n, codes", [(0, 1), (1, 1), (1_000, 7), (5_000, 4_000)])
def test_renumber_gathered_matches_renumber_first_appearance(n, codes):
    rng = np.random.default_rng(n)
    c = rng.integers(0, codes, n).astype(np.int32)
    c.flags.writeable = False
    at = np.sort(rng.choice(n, n // 2, replace=False)) if n else np.zeros(0, np.int64)
    want_ids, want_first = grouping.renumber_first_appearance(c[at], codes)
    new_id, out, first = np.full(codes, -1, np.int64), np.empty(len(at), np.int64), np.empty(len(at), np.int64)
    sizes = np.zeros(len(at), np.int64)
    groups = grouping.renumber_gathered(c, at, True, new_id, out, first, sizes)
    assert (out == want_ids).all() and (first[:groups] == want_first).all()
    assert (sizes[:groups] == np.bincount(want_ids, minlength=groups)).all()
    np_ids, np_first, np_sizes = numpy_grouping.renumber_gathered(c, at, codes)
    assert (np_ids == want_ids).all() and (np_first == want_first).all() and (np_sizes == sizes[:groups]).all()


def test_grouped_count_sum_is_the_moments_count_and_total():
    rng = np.random.default_rng(4)
    group_of = rng.integers(0, 30, 10_000)
    values = rng.normal(size=10_000)
    values[::97] = np.nan
    valid = rng.random(10_000) > 0.1
    count, total = grouping.grouped_count_sum(group_of, values, valid, 31)
    c, t, _, _ = grouping.grouped_moments(group_of, values, valid, 31)
    assert (count == c).all() and np.array_equal(total, t, equal_nan=True)


@pytest.mark.parametrize("n", [1, 7, 8, 9, 1_000, 100_003])
def test_bool_bitmap_unpack_matches_arrow(n):
    array = pa.array(np.random.default_rng(n).random(n) > 0.5)
    for offset in sorted({0, 1, 3, min(8, n), min(13, n)}):
        sliced = array.slice(offset)
        assert (_to_numpy_bool(sliced) == np.asarray(sliced.to_numpy(zero_copy_only=False), dtype=bool)).all()
