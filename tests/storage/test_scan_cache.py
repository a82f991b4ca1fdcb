"""The scan cache (weave_lite/storage/scan_cache.py): a repeated query on an unchanged table
reuses the rows its scan read (zones checked, segments joined), and any change of the table
(a commit by this or another writer, a compaction, a new column) is seen at once."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pytest

from weave_lite import evaluate, to_python
from weave_lite.storage.compaction import compact
from weave_lite.storage.names import TableName
from weave_lite.storage.scan_cache import ScanCache, scan_key
from weave_lite.storage.segments import ZONE_ROWS
from weave_lite.storage.table import TableLog, shared_table

NAME = "e/p/scans"
T0 = dt.datetime(2024, 5, 1, tzinfo=dt.UTC)
COUNT = f'stream_table("{NAME}").rows.filter(row => row["lat"] > 100).count'
SUM = f'stream_table("{NAME}").rows.map(row => row["lat"] * 2 + row["tok"] / 10).sum'


def _batch(lo: int, n: int, seed: int) -> pa.Table:
    rng = np.random.default_rng(seed)
    ts = (np.arange(lo, lo + n, dtype=np.int64) + int(T0.timestamp())) * 1_000_000
    return pa.table(
        {
            "timestamp": pa.array(ts).cast(pa.timestamp("us", tz="UTC")),
            "lat": pa.array(rng.lognormal(3.0, 1.0, n), mask=rng.random(n) < 0.05),
            "tok": pa.array(rng.integers(1, 4000, n)),
        }
    )


def _writer(root) -> TableLog:
    """A TableLog of its own, as another process would have (not the shared one queries read)."""
    log = TableLog(NAME, root)
    log.create()
    return log


def _all_rows(root) -> pa.Table:
    log = TableLog(NAME, root)
    return log.snapshot().to_arrow()


def _count(table: pa.Table) -> int:
    return int(pc.sum(pc.greater(table["lat"], 100)).as_py() or 0)


def _range(lo: int, hi: int) -> str:
    iso = [(T0 + dt.timedelta(seconds=s)).strftime("%Y-%m-%dT%H:%M:%SZ") for s in (lo, hi)]
    return (
        f'stream_table("{NAME}").rows.filter(row => row["timestamp"] >= Date("{iso[0]}")'
        f' && row["timestamp"] < Date("{iso[1]}")).count'
    )


def test_a_repeated_query_reuses_the_scan_and_a_commit_is_seen_at_once(tmp_path):
    writer = _writer(tmp_path)
    writer.append(_batch(0, 3 * ZONE_ROWS, 1))
    cache = shared_table(TableName.parse(NAME), tmp_path).scans
    first = to_python(evaluate(COUNT, root=tmp_path))
    assert first == _count(_all_rows(tmp_path))
    hits = cache.hits
    assert to_python(evaluate(COUNT, root=tmp_path)) == first
    assert cache.hits == hits + 1  # the second run reused the scan
    for k in range(3):  # another writer's commits: each one seen by the very next query
        writer.append(_batch((k + 3) * ZONE_ROWS, 1000 + k, 2 + k))
        got = to_python(evaluate(COUNT, root=tmp_path))
        assert got == _count(_all_rows(tmp_path))
        assert got > first or k  # (a 1000-row batch of lognormal values has some > 100)


def test_compaction_is_seen_and_the_rows_stay_the_same(tmp_path):
    writer = _writer(tmp_path)
    for k in range(6):
        writer.append(_batch(k * 5000, 5000, k))
    before = to_python(evaluate(COUNT, root=tmp_path)), to_python(evaluate(SUM, root=tmp_path))
    misses = shared_table(TableName.parse(NAME), tmp_path).scans.misses
    result = compact(TableLog(NAME, tmp_path), retention_seconds=0)  # old files deleted at once
    assert result.segments_after < result.segments_before
    after = to_python(evaluate(COUNT, root=tmp_path)), to_python(evaluate(SUM, root=tmp_path))
    assert shared_table(TableName.parse(NAME), tmp_path).scans.misses > misses  # new segments: read anew
    assert after[0] == before[0] == _count(_all_rows(tmp_path))
    assert after[1] == pytest.approx(before[1], rel=1e-12)
    snap = shared_table(TableName.parse(NAME), tmp_path).snapshot()
    assert {s.path for s in snap.segments}.isdisjoint({s.path for s in TableLog(NAME, tmp_path).snapshot(1).segments})


def test_zone_maps_still_prune_and_every_range_is_right_after_appends(tmp_path):
    writer = _writer(tmp_path)
    writer.append(_batch(0, 4 * ZONE_ROWS + 17, 7))
    for lo, hi in [(1000, 2000), (ZONE_ROWS, ZONE_ROWS + 10), (0, 10**9), (3 * ZONE_ROWS, 3 * ZONE_ROWS + 1)]:
        for _ in range(2):  # once read, once from the cache; then rows in the range appended
            us = pc.cast(_all_rows(tmp_path)["timestamp"], pa.int64()).to_numpy() // 1_000_000 - int(T0.timestamp())
            want = int(((us >= lo) & (us < hi)).sum())
            assert to_python(evaluate(_range(lo, hi), root=tmp_path)) == want
            assert to_python(evaluate(_range(lo, hi), root=tmp_path)) == want
            snap = shared_table(TableName.parse(NAME), tmp_path).snapshot()
            bounds = (T0 + dt.timedelta(seconds=lo), T0 + dt.timedelta(seconds=hi))
            preds = (("timestamp", "ge", bounds[0]), ("timestamp", "lt", bounds[1]))
            if hi - lo < ZONE_ROWS:  # a range inside one zone reads that zone (and the new rows)
                assert snap.scan(preds).num_rows <= 2 * ZONE_ROWS + 100
            writer.append(_batch(lo, min(100, hi - lo), lo))


def test_a_new_column_is_seen(tmp_path):
    writer = _writer(tmp_path)
    writer.append(_batch(0, 1000, 1))
    text = f'stream_table("{NAME}").rows.map(row => row["lat"] * 2 + row["tok"] / 10).sum'
    evaluate(text, root=tmp_path)
    extra = _batch(1000, 500, 2).append_column("new", pa.array(np.ones(500)))
    writer.append(extra)
    got = to_python(evaluate(f'stream_table("{NAME}").rows.map(row => row["new"]).sum', root=tmp_path))
    assert got == 500.0
    assert to_python(evaluate(text, root=tmp_path)) == pytest.approx(
        pc.sum(pc.add(pc.multiply(_all_rows(tmp_path)["lat"], 2), pc.divide(_all_rows(tmp_path)["tok"], 10.0))).as_py()
    )


def test_predicate_literals_of_other_types_are_other_keys(tmp_path):
    """``> 1``, ``> 1.0`` and ``> true`` are equal in Python, not to the cache."""
    assert len({scan_key(("a",), (("x", "gt", v),), None) for v in (1, 1.0, True)}) == 3
    assert scan_key(("a",), (("x", "eq", [1, 2]),), None) is None  # unhashable: never kept
    writer = _writer(tmp_path)
    writer.append(pa.table({"x": pa.array([0, 1, 2, 3]), "b": pa.array([True, False, True, True])}))
    for text, want in [
        (f'stream_table("{NAME}").rows.filter(row => row["x"] > 1).count', 2),
        (f'stream_table("{NAME}").rows.filter(row => row["x"] > 1.5).count', 2),
        (f'stream_table("{NAME}").rows.filter(row => row["x"] > 2.5).count', 1),
        (f'stream_table("{NAME}").rows.filter(row => row["x"] > 1).count', 2),
    ]:
        assert to_python(evaluate(text, root=tmp_path)) == want


def test_the_cache_is_bounded_and_needs_the_same_schema():
    cache = ScanCache(max_entries=2)
    one = pa.table({"a": [1]})
    reads = []

    def read(t=one):
        reads.append(t)
        return t

    for k in range(3):
        cache.get_or_read(("k", k), one.schema, read)
    assert len(cache) == 2 and len(reads) == 3
    cache.get_or_read(("k", 2), one.schema, read)
    assert len(reads) == 3  # a hit
    other = pa.schema([("a", pa.float64())])
    cache.get_or_read(("k", 2), other, read)
    assert len(reads) == 4  # the same key under another schema: read again
    cache.get_or_read(None, one.schema, read)
    assert len(reads) == 5 and len(cache) == 2
