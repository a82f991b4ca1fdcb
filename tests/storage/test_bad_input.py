"""Bad input raises at once in the caller, names the problem, and never reaches the table."""

from __future__ import annotations

import datetime as dt
import decimal
import threading

import pytest

from weave_lite import StreamTable


class Opaque:
    pass


BAD_VALUES = [
    (decimal.Decimal("1.5"), "Decimal"),
    ({1, 2}, "set"),
    (frozenset([1]), "frozenset"),
    (1 + 2j, "complex"),
    (object(), "object"),
    (Opaque(), "Opaque"),
    (dt.timedelta(seconds=1), "timedelta"),
    (dt.time(12, 0), "time"),
    (lambda: 1, "function"),
    (threading.Lock(), "lock"),
    (2**64, "64 bits"),
    (-(2**63) - 1, "64 bits"),
    (["ok", {1, 2}], "set"),
    ({"nested": decimal.Decimal(1)}, "Decimal"),
    ("\ud800", "surrogate"),
]


@pytest.fixture
def table(root):
    st = StreamTable("e/p/t")
    st.log({"good": 1})
    st.flush()
    yield st
    st.finish()


@pytest.mark.parametrize("value,needle", BAD_VALUES, ids=[n for _, n in BAD_VALUES])
def test_unsupported_value_raises_in_caller_and_logs_nothing(table, value, needle):
    with pytest.raises(TypeError) as info:
        table.log([{"good": 2}, {"bad_key": value}])
    message = str(info.value)
    assert "bad_key" in message and needle.lower() in message.lower()
    table.log({"good": 3})  # later calls work
    table.finish()
    assert [r["good"] for r in table.to_arrow().to_pylist()] == [1, 3]
    assert "bad_key" not in table.to_arrow().column_names


@pytest.mark.parametrize(
    "call",
    [
        {1: "int key"},
        {("t",): "tuple key"},
        {"nested": {2: "int key below"}},
    ],
)
def test_non_str_keys(table, call):
    with pytest.raises(TypeError, match="keys must be str"):
        table.log(call)
    table.finish()
    assert table.to_arrow().num_rows == 1


@pytest.mark.parametrize("call", ["a string", 42, None, [{"ok": 1}, "not a dict"], [{"ok": 1}, [1, 2]]])
def test_non_dict_rows(table, call):
    with pytest.raises(TypeError):
        table.log(call)
    table.finish()
    assert table.to_arrow().column("good").to_pylist() == [1]


def test_too_deep_nesting_is_refused(table):
    deep: list = []
    cur = deep
    for _ in range(200):
        nxt: list = []
        cur.append(nxt)
        cur = nxt
    with pytest.raises(TypeError, match="nesting"):
        table.log({"deep": deep})
    cycle: list = []
    cycle.append(cycle)
    with pytest.raises(TypeError, match="nesting"):
        table.log({"cycle": cycle})


def test_bad_rows_in_other_threads_never_block_good_rows(root):
    st = StreamTable("e/p/t")
    errors = []

    def good():
        for i in range(500):
            st.log({"i": i})

    def bad():
        for _ in range(500):
            try:
                st.log({"i": Opaque()})
            except TypeError as exc:
                errors.append(exc)

    threads = [threading.Thread(target=good), threading.Thread(target=bad)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    st.finish()
    assert len(errors) == 500
    assert st.to_arrow().num_rows == 500


@pytest.mark.parametrize(
    "name",
    ["..", "a/b/c/d", "", "a" * 300, "nul\x00byte", "e/../t", "/abs", "e/p/", "_private/p/t", "sp ace", "a\\b"],
)
def test_bad_names(root, name):
    with pytest.raises(ValueError) as info:
        StreamTable(name)
    assert "name" in str(info.value)
    assert not root.exists() or not any(root.iterdir())


def test_conflicting_name_parts(root):
    with pytest.raises(ValueError, match="project"):
        StreamTable("e/p/t", project_name="other")
    with pytest.raises(ValueError, match="entity"):
        StreamTable("e/p/t", entity_name="other")
    assert str(StreamTable("e/p/t", project_name="p", entity_name="e").name) == "e/p/t"
    assert str(StreamTable("t", "p", "e").name) == "e/p/t"
    with pytest.raises(ValueError, match="project"):
        StreamTable("t", project_name="..")


def test_background_failure_is_reported_not_silent(root, monkeypatch):
    st = StreamTable("e/p/t", batch_interval=10.0)
    st.log({"i": 1})
    st.flush()
    from weave_lite.storage.table import TableLog

    original = TableLog.commit_append
    monkeypatch.setattr(TableLog, "commit_append", lambda self, pending: (_ for _ in ()).throw(OSError("disk full")))
    st.log({"i": 2})
    with pytest.raises(Exception, match="disk full"):
        st.flush()
    with pytest.raises(Exception, match="disk full"):
        st.log({"i": 3})  # the caller hears about it
    monkeypatch.setattr(TableLog, "commit_append", original)
    st.flush()  # the kept rows are retried and land
    st.log({"i": 4})
    st.finish()
    assert [r["i"] for r in st.to_arrow().to_pylist()] == [1, 2, 4]


def test_pending_row_count_drains_rows_not_items(root):
    """The writer counted rows when queuing but subtracted items when draining: after one
    10,000-row list every single row woke it (25 segments for 200 rows)."""
    import time

    from weave_lite.storage.table import TableLog

    st = StreamTable("e/p/t", batch_rows=10_000, batch_interval=30.0)
    st.log([{"i": i} for i in range(10_000)])  # reaches batch_rows: wakes the writer once
    deadline = time.monotonic() + 10
    while TableLog.open("e/p/t").snapshot().num_rows < 10_000 and time.monotonic() < deadline:
        time.sleep(0.01)
    for i in range(200):
        st.log({"i": i})
        time.sleep(0.001)
    st.finish()
    snap = TableLog.open("e/p/t").snapshot()
    assert snap.num_rows == 10_200
    assert len(snap.segments) <= 3, f"{len(snap.segments)} segments: single rows woke the writer"
