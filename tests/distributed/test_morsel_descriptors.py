"""Morsels described by segment ranges (what a Dask worker is told to read) cut a table at the
very rows where the local runner cuts it: ``split_morsels(snapshot.to_arrow(), size)``."""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pytest

from weave_lite.execute.morsel_sources import (
    plan_segment_morsels,
    read_morsel,
    segment_morsels,
    split_morsels,
)
from weave_lite.storage.compaction import _merge_run
from weave_lite.storage.segments import SegmentInfo
from weave_lite.storage.table import TableLog


def _rows(start: int, n: int, rng) -> pa.Table:
    return pa.table({"i": np.arange(start, start + n, dtype=np.int64), "x": rng.normal(size=n)})


@pytest.fixture
def uneven(tmp_path):
    """Segments of uneven sizes, several of them holding many record batches, one column
    appearing only later (conformed to nulls before)."""
    rng = np.random.default_rng(3)
    log = TableLog("e/p/t", tmp_path)
    start = 0
    for n, chunk in [(130, 40), (370, 370), (1, 1), (999, 250), (600, 77), (55, 10), (400, 400)]:
        table = _rows(start, n, rng)
        if start > 1000:
            table = table.append_column("late", pa.array([f"s{k}" for k in range(n)]))
        log.append(pa.Table.from_batches(table.to_batches(max_chunksize=chunk)))
        start += n
    return log


def _boundaries(pieces) -> list[list[int]]:
    return [[b.num_rows for b in p.to_batches()] for p in pieces]


def _check(snapshot, size):
    local = split_morsels(snapshot.to_arrow(), size)
    described = segment_morsels(snapshot, size)
    assert [m.rows for m in described] == [p.num_rows for p in local]
    read = [read_morsel(m) for m in described]
    assert _boundaries(read) == _boundaries(local)
    for got, want in zip(read, local):
        assert got.schema == want.schema and got.equals(want)
    for m in described:  # each morsel names only the segments it reads
        assert {seg for seg, _, _ in m.ranges} == set(range(len(m.segments)))
    return described


@pytest.mark.parametrize("size", [1, 7, 100, 250, 333, 1000, 10**6])
def test_descriptors_cut_where_split_morsels_cuts(uneven, size):
    _check(uneven.snapshot(), size)


def test_compacted_segments(tmp_path):
    rng = np.random.default_rng(5)
    log = TableLog("e/p/c", tmp_path)
    start = 0
    for n in [40_000, 30_000, 123, 5_000, 900]:
        log.append(pa.Table.from_batches(_rows(start, n, rng).to_batches(max_chunksize=7_000)))
        start += n
    segments = log.snapshot().segments
    assert _merge_run(log, list(segments[:3]))  # one compacted segment of 70,123 rows
    snapshot = log.snapshot()
    assert snapshot.segments[0].compacted and snapshot.segments[0].batch_rows == (65_536, 70_123 - 65_536)
    for size in (1 << 20, 50_000, 8_192, 6_999):
        _check(snapshot, size)


def test_pruned_snapshot(uneven):
    snapshot = uneven.snapshot()
    predicates = (("i", "ge", 1200),)
    pruned = snapshot.prune(predicates)
    assert 0 < len(pruned.segments) < len(snapshot.segments)
    described = _check(pruned, 300)
    assert all(s in pruned.segments for m in described for s in m.segments)


def test_segments_without_recorded_batches_are_read_for_their_layout(uneven):
    snapshot = uneven.snapshot()
    old = [
        SegmentInfo(s.path, s.rows, s.bytes, s.schema, s.stats, s.version, checksum=s.checksum)
        for s in snapshot.segments
    ]
    legacy = type(snapshot)(snapshot.table, snapshot.version, tuple(old))
    assert all(s.batch_rows is None for s in legacy.segments)
    assert [m.ranges for m in segment_morsels(legacy, 250)] == [m.ranges for m in segment_morsels(snapshot, 250)]


def test_a_record_that_disagrees_with_the_file_is_an_error(uneven):
    snapshot = uneven.snapshot()
    morsel = segment_morsels(snapshot, 10**6, layout_of=lambda s: (s.rows,))[0]
    with pytest.raises(Exception, match="batches"):
        read_morsel(morsel)


def test_plan_joins_adjacent_ranges_and_cuts_long_batches():
    assert plan_segment_morsels([(3, 4), (0, 2), (10,)], 9) == [[(0, 0, 7), (1, 0, 2)], [(2, 0, 9)], [(2, 9, 1)]]
    assert plan_segment_morsels([], 5) == []
