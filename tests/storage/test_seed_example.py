"""The example of the docs: four rows logged as one dict then a list, read back oldest first."""

from __future__ import annotations

import datetime as dt

import pyarrow as pa

from weave_lite import StreamTable


def test_seed_example(root):
    st = StreamTable("my_entity_name/my_project_name/my_table_name")
    before = dt.datetime.now(dt.UTC)
    url = st.log({"col_a": "1", "col_b": 1.0, "col_c": True})
    st.log(
        [
            {"col_a": "2", "col_b": 2.0, "col_c": False},
            {"col_a": "3", "col_b": 3.0, "col_c": True},
            {"col_a": "4", "col_b": 4.0, "col_c": False},
        ]
    )
    st.finish()
    after = dt.datetime.now(dt.UTC)

    assert url is not None and "my_entity_name/my_project_name/my_table_name" in url
    assert (root / "my_entity_name" / "my_project_name" / "my_table_name").is_dir()
    table = st.to_arrow()
    assert table.column_names == ["col_a", "col_b", "col_c", "timestamp", "_client_id"]
    assert table.schema.field("timestamp").type == pa.timestamp("us", tz="UTC")
    rows = table.to_pylist()
    assert [r["col_a"] for r in rows] == ["1", "2", "3", "4"]
    assert [r["col_b"] for r in rows] == [1.0, 2.0, 3.0, 4.0]
    assert [r["col_c"] for r in rows] == [True, False, True, False]
    assert len({r["_client_id"] for r in rows}) == 1
    stamps = [r["timestamp"] for r in rows]
    assert stamps == sorted(stamps)
    assert all(before - dt.timedelta(seconds=1) <= t <= after for t in stamps)


def test_defaults_from_environment(root, monkeypatch):
    monkeypatch.setenv("WEAVE_LITE_ENTITY", "ent")
    monkeypatch.setenv("WEAVE_LITE_PROJECT", "proj")
    st = StreamTable("tbl")
    assert str(st.name) == "ent/proj/tbl"
    st.log({"x": 1})
    st.finish()
    assert st.path == root / "ent" / "proj" / "tbl"
    assert st.to_arrow().num_rows == 1
    monkeypatch.delenv("WEAVE_LITE_PROJECT")
    assert str(StreamTable("tbl").name) == "ent/default/tbl"


def test_own_timestamp_is_kept_and_each_object_has_its_own_client_id(root):
    mine = dt.datetime(2024, 5, 1, 12, tzinfo=dt.UTC)
    a = StreamTable("e/p/t")
    b = StreamTable("e/p/t")
    a.log({"v": 1, "timestamp": mine})
    a.log({"v": 2})
    a.finish()
    b.log({"v": 3})
    b.finish()
    rows = a.to_arrow().to_pylist()
    assert rows[0]["timestamp"] == mine
    assert rows[1]["timestamp"] > mine
    assert rows[0]["_client_id"] == rows[1]["_client_id"] != rows[2]["_client_id"]


def test_context_manager_finish_is_idempotent_and_log_restarts(root):
    with StreamTable("e/p/t") as st:
        st.log({"i": 0})
    st.finish()
    st.finish()
    st.log({"i": 1})  # starts the writer again
    st.flush()
    st.log({"i": 2})
    st.finish()
    assert [r["i"] for r in st.to_arrow().to_pylist()] == [0, 1, 2]


def test_flush_is_a_durability_barrier_that_keeps_logging(root):
    st = StreamTable("e/p/t", batch_interval=10.0)  # only flush commits
    st.log([{"i": i} for i in range(5)])
    st.flush()
    assert st.to_arrow().num_rows == 5
    st.log({"i": 5})
    st.flush()
    assert st.to_arrow().num_rows == 6
    st.finish()


def test_caller_may_mutate_its_row_after_log(root):
    st = StreamTable("e/p/t", batch_interval=10.0)
    row = {"v": 1, "tags": ["a"]}
    st.log(row)
    row["v"] = 2
    row["tags"].append("b")
    st.finish()
    assert st.to_arrow().to_pylist()[0]["v"] == 1
    assert st.to_arrow().to_pylist()[0]["tags"] == ["a"]


def test_bulk_paths_arrow_and_pandas(root):
    import pandas as pd

    st = StreamTable("e/p/t")
    st.log(pa.table({"x": pa.array([1, 2], pa.int32()), "s": ["a", "b"]}))
    st.log(pa.record_batch({"x": [3.5]}))
    st.log(pd.DataFrame({"x": [4, 5], "s": ["d", None]}))
    st.log({"x": 6})
    st.finish()
    t = st.to_arrow()
    assert t.column("x").to_pylist() == [1.0, 2.0, 3.5, 4.0, 5.0, 6.0]
    assert t.column("s").to_pylist() == ["a", "b", None, "d", None, None]
    assert t.column("_client_id").unique().to_pylist() == [st.client_id]
    assert t.column("timestamp").null_count == 0


def test_numpy_values(root):
    import numpy as np

    st = StreamTable("e/p/t")
    st.log({"i": np.int32(3), "f": np.float32(1.5), "b": np.bool_(True), "arr": np.arange(3), "s": np.str_("z")})
    st.finish()
    row = st.to_arrow().to_pylist()[0]
    assert row["i"] == 3 and type(row["i"]) is int
    assert row["f"] == 1.5 and row["b"] is True and row["arr"] == [0, 1, 2] and row["s"] == "z"


def test_notebook_html(root):
    st = StreamTable("e/p/t")
    st.log({"x": "<b>"})
    st.finish()
    html = st._repr_html_()
    assert "&lt;b&gt;" in html and "<table" in html
