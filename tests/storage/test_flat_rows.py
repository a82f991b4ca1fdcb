"""The fast path of single-row ``log`` calls (weave_lite.flat_rows) and the lean segment read.

Rows of a recurring shape are queued as tuples and columnised by the writer; everything else
keeps the general path.  These tests log the same rows one by one (the fast path, with shape
changes, type mixes and rows that must leave it) and as one list (the general path) and demand
identical tables; bad rows between good ones raise in the caller and never reach the table.
"""

from __future__ import annotations

import gc
import itertools
import os
import threading

import pyarrow as pa
import pytest

from weave_lite import StreamTable
from weave_lite.errors import RowError, RowValueError
from weave_lite.flat_rows import FlatRows
from weave_lite.row_validation import normalize_row
from weave_lite.storage.table import conform_table


def _data(table: pa.Table) -> pa.Table:
    return table.drop_columns(["timestamp", "_client_id"])


def _mixed_rows() -> list[dict]:
    rows: list[dict] = []
    for i in range(3000):
        row = {"model": f"m{i % 7}", "latency": i / 3, "tokens": i, "ok": i % 3 == 0, "note": None}
        if i % 50 == 0:
            row["latency"] = None  # a float column that sees nulls
        if i % 70 == 0:
            row["tokens"] = float(i) + 0.5  # ints and floats in one column
        if i % 90 == 0:
            row["note"] = "naïve"  # non-ASCII: valid, but off the fast path
        if i % 110 == 0:
            row["ok"] = "yes"  # a union column
        if i % 400 == 0:
            row = {"other": i, "shape": [i, i + 1]}  # another shape, with a list
        if i % 650 == 0:
            row = {"tokens": i, "model": "reordered"}  # the same keys in another order
        if i % 777 == 0:
            row["big"] = 2**63 - 1  # the largest int64
        rows.append(row)
    return rows


def test_fast_path_tables_equal_the_general_path(tmp_path):
    rows = _mixed_rows()
    one_by_one = StreamTable("t/t/single", root=tmp_path, batch_rows=500)
    for row in rows:
        one_by_one.log(row)
    one_by_one.finish()
    as_list = StreamTable("t/t/list", root=tmp_path)
    as_list.log(rows)
    as_list.finish()
    single, listed = _data(one_by_one.to_arrow()), _data(as_list.to_arrow())
    assert single.num_rows == len(rows)
    assert single.to_pylist() == listed.to_pylist()
    assert single.schema == listed.schema


def test_bad_rows_among_fast_rows_raise_in_the_caller_and_never_land(tmp_path):
    st = StreamTable("t/t/bad", root=tmp_path)
    good = {"model": "m", "tokens": 1, "text": "a"}
    bad_rows = [
        ({"model": "m", "tokens": 2**63, "text": "a"}, RowValueError),  # int past 64 bits
        ({"model": "m", "tokens": 1, "text": "\ud800"}, RowError),  # lone surrogate
        ({"model": "m", "tokens": 1, "text": object()}, RowError),  # unloggable type
    ]
    logged = 0
    for bad, error in bad_rows:
        for _ in range(100):
            st.log(dict(good, tokens=logged))
            logged += 1
        with pytest.raises(error):
            st.log(bad)
    st.finish()
    table = st.to_arrow()
    assert table.column("tokens").to_pylist() == list(range(logged))
    assert set(table.column("text").to_pylist()) == {"a"}


def test_a_row_mutated_after_log_is_stored_as_logged(tmp_path):
    st = StreamTable("t/t/mutated", root=tmp_path)
    row = {"model": "m", "n": 1}
    st.log(dict(row))
    st.log(row)  # the fast path now
    row["model"] = "changed"
    row["n"] = 2
    st.finish()
    assert st.to_arrow().column("model").to_pylist() == ["m", "m"]


def test_rows_with_their_own_timestamp_keep_it(tmp_path):
    import datetime as dt

    when = dt.datetime(2024, 1, 2, tzinfo=dt.UTC)
    st = StreamTable("t/t/own_time", root=tmp_path)
    for i in range(10):
        st.log({"timestamp": when, "n": i})
    st.finish()
    assert set(st.to_arrow().column("timestamp").to_pylist()) == {when}


def test_threads_logging_shapes_in_turn_land_exactly_once(tmp_path):
    st = StreamTable("t/t/threads", root=tmp_path, batch_rows=2000)

    def work(k: int) -> None:
        for i in range(5000):
            row_id = k * 1_000_000 + i
            if i % 3 == 0:
                st.log({"id": row_id, "who": f"w{k}"})
            elif i % 3 == 1:
                st.log({"id": row_id, "score": i / 7})
            else:
                st.log({"id": row_id, "who": None, "flag": True})

    threads = [threading.Thread(target=work, args=(k,)) for k in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    st.finish()
    ids = st.to_arrow().column("id").to_pylist()
    assert len(ids) == 20_000
    assert set(ids) == {k * 1_000_000 + i for k in range(4) for i in range(5000)}


def test_packed_rows_are_untracked_by_the_garbage_collector():
    flat = FlatRows()
    first = flat.learn(normalize_row({"a": "x", "b": 1.5, "c": None}), 1)
    packed = flat.pack({"a": "y", "b": 2.5, "c": None}, 2)
    assert first is not None and packed is not None
    gc.collect()
    # A queue of hundreds of thousands of rows must not be re-scanned by every collection.
    assert not gc.is_tracked(packed)


def test_fast_path_refuses_what_it_cannot_vouch_for():
    flat = FlatRows()
    assert flat.learn(normalize_row({"a": "x", "n": 1}), 1) is not None
    assert flat.pack({"a": "x", "n": 2**64}, 2) is None  # to full validation (which raises)
    assert flat.pack({"a": "é", "n": 1}, 2) is None
    assert flat.pack({"n": 1, "a": "x"}, 2) is None  # other key order: another shape
    assert flat.pack({"a": "x", "n": True}, 2) is None  # a type this column has not seen
    assert flat.learn(normalize_row({"a": "x", "n": True}), 3) is not None  # ... until learnt
    assert flat.pack({"a": "x", "n": False}, 4) is not None
    assert flat.learn(normalize_row({"timestamp": 1, "n": 1}), 5) is None  # reserved keys


def _mapped_kib(path: str) -> int:
    """Resident KiB of this process's maps of ``path``."""
    total, current = 0, None
    with open("/proc/self/smaps") as f:
        for line in f:
            parts = line.split()
            if "-" in parts[0] and len(parts) >= 5 and not line[0].isupper():
                current = parts[5] if len(parts) >= 6 else None
            elif line.startswith("Rss:") and current == path:
                total += int(parts[1])
    return total


@pytest.mark.skipif(not os.path.exists("/proc/self/smaps"), reason="needs Linux /proc/self/smaps")
def test_reading_a_segment_maps_in_no_column_before_it_is_used(tmp_path):
    n = 1_000_000
    st = StreamTable("t/t/mapped", root=tmp_path)
    st.log(pa.table({"user": [f"user-{i % 1000}" for i in range(n)], "x": [1.0] * n}))
    st.finish()
    snap = st.snapshot()
    (segment,) = snap.segments
    path = os.path.realpath(os.path.join(st.path, segment.path))
    table = snap.read(segment)
    assert table.num_rows == n
    # The offsets of `user` and `_client_id` are 4 MB each; validating them must not leave
    # them mapped in (what is, about 2 MB, is metadata and the kernel's fault-around).
    assert _mapped_kib(path) < 4096
    table.column("x").chunk(0).to_numpy().sum()
    assert _mapped_kib(path) >= 7 * 1024  # the column read is (8 MB)


def test_conform_table_returns_a_conformed_segment_as_it_is():
    table = pa.table({"a": [1, 2], "b": ["x", "y"]})
    assert conform_table(table, table.schema) is table
    wider = pa.schema([("a", pa.float64()), ("b", pa.string())])
    assert conform_table(table, wider).column("a").to_pylist() == [1.0, 2.0]


def test_streamed_segment_write_checksums_the_bytes_on_disk_and_cleans_up_on_enospc(tmp_path, monkeypatch):
    import errno

    import xxhash

    from weave_lite.storage import filesystem

    batch = pa.record_batch({"a": list(range(100_000)), "s": [f"v{i}" for i in range(100_000)]})
    path = str(tmp_path / "seg.arrow")
    size, checksum = filesystem._write_segment_file(path, [batch], batch.schema)
    with open(path, "rb") as f:
        data = f.read()
    assert size == len(data) and checksum == xxhash.xxh3_64_hexdigest(data)
    assert pa.ipc.open_file(pa.py_buffer(data)).read_all().to_batches() == [batch]

    real_write = os.write
    calls = []

    def full_disk(fd, view):
        calls.append(len(view))
        if len(calls) > 2:  # fail mid-file, after some bytes landed
            raise OSError(errno.ENOSPC, "injected ENOSPC")
        return real_write(fd, view)

    monkeypatch.setattr(os, "write", full_disk)
    other = str(tmp_path / "other.arrow")
    with pytest.raises(OSError) as info:
        filesystem._write_segment_file(other, [batch], batch.schema)
    assert info.value.errno == errno.ENOSPC
    assert not os.path.exists(other)


# -- the writer's columns from the known kinds of flat rows ------------------------------------

_KIND_CASES = [
    [1, 2, None, -(2**63), 2**63 - 1],
    [None, None, None],
    [1.5, None, float("nan"), float("inf")],
    [True, False, None],
    ["a", "", None, "x" * 100],
    [],
]


@pytest.mark.parametrize("values", _KIND_CASES)
def test_known_kind_array_equals_column_to_array(values):
    from weave_lite.storage.values import column_to_array, known_kind_array

    expected = column_to_array(values)
    kinds = frozenset(map(type, values))
    for extra in (frozenset(), frozenset([type(None)])):  # exact kinds, and with nulls seen before
        got = known_kind_array(values, kinds | extra)
        if got is None:
            assert not values  # no kinds at all: the general path
            continue
        assert got.type == expected.type
        assert repr(got.to_pylist()) == repr(expected.to_pylist())  # NaN == NaN here
        assert got.null_count == expected.null_count


def test_known_kind_array_leaves_mixes_and_misfits_to_the_general_path():
    from weave_lite.storage.values import known_kind_array

    assert known_kind_array([1, 2.5], frozenset([int, float])) is None  # the mix decides: float
    assert known_kind_array([1, 2], frozenset([int, float])) is None  # ... or int
    assert known_kind_array(["x", 1], frozenset([str])) is None  # not as known: column_to_array raises


def _packed_run(rows: list[dict]) -> tuple[FlatRows, list[tuple]]:
    flat = FlatRows()
    run = [flat.pack(r, i) or flat.learn(normalize_row(r), i) for i, r in enumerate(rows)]
    assert all(p is not None for p in run)
    return flat, run


class _Writer:
    """The attributes of a BackgroundWriter that ``_tuples_batch`` reads."""

    client_id = "0123456789abcdef"

    def __init__(self, column_kinds=None):
        self.column_kinds = column_kinds


def _assert_batches_equal(a: pa.RecordBatch, b: pa.RecordBatch) -> None:
    assert a.schema == b.schema
    assert a.equals(b)


@pytest.mark.parametrize("start", [0, 5, 19, 20])
def test_writer_columns_from_known_kinds_equal_inferred_ones(start):
    from weave_lite.writer import BackgroundWriter

    rows = [
        {
            "s": f"u{i}",
            "f": None if i % 20 == 0 else i / 3,
            "n": i,
            "b": i % 3 == 0,
            "z": None,
            "w": 1 if i < 7 else 1.5,
        }
        for i in range(60)
    ]
    flat, run = _packed_run(rows)
    known = _Writer(flat.column_kinds)
    # Every window of the run: columns that are all null in it, columns whose kinds widened
    # before it (`w`: int then float), one row.
    for stop in range(start + 1, len(run) + 1, 7):
        part = run[start:stop]
        inferred = BackgroundWriter._tuples_batch(_Writer(), part)
        assert inferred is not None
        _assert_batches_equal(BackgroundWriter._tuples_batch(known, part), inferred)


def test_threads_widening_one_column_lose_no_kind():
    import sys

    flat = FlatRows()
    flat.learn(normalize_row({"k": "a", "v": None}), 0)
    switch = sys.getswitchinterval()
    sys.setswitchinterval(1e-6)  # interleave the two learners as much as possible
    try:
        values = [1, 2.5, True, "s"]
        threads = [
            threading.Thread(target=lambda v=v: [flat.learn(normalize_row({"k": "a", "v": v}), 1) for _ in range(200)])
            for v in values
        ]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
    finally:
        sys.setswitchinterval(switch)
    text = flat.shape[1]
    assert flat.column_kinds(text)[1] == frozenset([type(None), int, float, bool, str])


def test_single_rows_with_all_null_runs_land_as_the_list_path(tmp_path):
    # A float column that is null for whole batches in between: those segments must type it
    # as the list path does (null), not as the float the shape once saw.
    rows = [{"m": "a", "x": (i / 2 if (i // 100) % 2 else None)} for i in range(1000)]
    single = StreamTable("t/t/nullruns", root=tmp_path, batch_rows=100, batch_interval=10)
    for i, row in enumerate(rows):
        single.log(row)
        if i % 100 == 99:
            single.flush()
    single.finish()
    listed = StreamTable("t/t/nullruns_list", root=tmp_path)
    for i in range(0, len(rows), 100):
        listed.log(rows[i : i + 100])
        listed.flush()
    listed.finish()
    a, b = single.snapshot(), listed.snapshot()
    assert [s.schema for s in a.segments] == [s.schema for s in b.segments]
    assert _data(single.to_arrow()).to_pylist() == _data(listed.to_arrow()).to_pylist()


@pytest.mark.skipif(not hasattr(os, "posix_fadvise"), reason="write-behind is a Linux hint")
def test_large_segment_write_starts_writeback_in_order_and_stays_exact(tmp_path, monkeypatch):
    import xxhash

    from weave_lite.storage import filesystem

    if filesystem._START_WRITEBACK is None:
        pytest.skip("write-behind is off on this platform")
    n = 400_000
    batch = pa.record_batch(
        {"a": list(range(n)), "s": [f"value-{i}" for i in range(n)], "f": [i / 7 for i in range(n)]}
    )
    hints: list[tuple[int, int]] = []
    real = os.posix_fadvise

    def record(fd, offset, length, advice):
        assert advice == filesystem._START_WRITEBACK
        hints.append((offset, length))
        return real(fd, offset, length, advice)

    monkeypatch.setattr(os, "posix_fadvise", record)
    path = str(tmp_path / "big.arrow")
    size, checksum = filesystem._write_segment_file(path, [batch], batch.schema)
    with open(path, "rb") as f:
        data = f.read()
    assert size == len(data) and checksum == xxhash.xxh3_64_hexdigest(data)
    assert pa.ipc.open_file(pa.py_buffer(data)).read_all().to_batches() == [batch]
    assert len(hints) >= 2  # ~13 MB: several hints, each over the bytes written since the last
    assert hints[0][0] == 0
    assert all(a[0] + a[1] == b[0] for a, b in itertools.pairwise(hints))
    assert hints[-1][0] + hints[-1][1] <= size
    assert all(length >= filesystem.WRITE_BEHIND_BYTES for _, length in hints)
