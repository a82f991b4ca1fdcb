"""Issue 16's crash list: what a Weave user tries first, each must work or fail cleanly.

Every test here failed before the fix (a raw Arrow error, an endless loop, a run-time error
that should be a plan-time one, a pandas crash, a whylogs-style call refused)."""

from __future__ import annotations

import datetime as dt
import threading

import pandas as pd
import pyarrow as pa
import pytest

import weave_lite
from weave_lite import StreamTable
from weave_lite.api import evaluate, to_python
from weave_lite.errors import WeaveTypeError
from weave_lite.profiles.session import get_or_create_session

MIXED = [1, "a", None, 2.0, {"a": 1}]


def ev(expr: str, **kw):
    return to_python(evaluate(expr, **kw))


# -- values of mixed kinds ----------------------------------------------------------------------


def test_mixed_vars_become_union_values():
    assert ev("x", vars={"x": MIXED}) == [1, "a", None, 2.0, {"a": 1}]
    assert ev("x.count", vars={"x": MIXED}) == 5
    assert ev("x.map(v => v == 1)", vars={"x": MIXED}) == [True, False, False, False, False]
    assert ev('x.map(v => v == "a")', vars={"x": MIXED}) == [False, True, False, False, False]
    assert ev("x.map(v => v != null)", vars={"x": MIXED}) == [True, True, False, True, True]
    assert ev("x.map(v => v == {a: 1})", vars={"x": MIXED}) == [False, False, False, False, True]


def test_list_literal_with_a_conditional_of_another_kind():
    assert ev('[1, 2, false ? "a" : 2]') == [1, 2, 2]
    assert ev('[1, 2, true ? "a" : 2]') == [1, 2, "a"]
    assert ev('x.map(v => [1, v > 1 ? "a" : 2])', vars={"x": [1, 2]}) == [[1, 2], [1, "a"]]


# -- sorting keys Arrow cannot sort -------------------------------------------------------------


def test_sort_by_a_list_valued_key():
    rows = [{"a": [2, 1]}, {"a": [1]}, {"a": None}, {"a": [1, 0]}]
    got = ev('x.sort(r => [r["a"]], ["asc"])', vars={"x": rows})
    assert [r["a"] for r in got] == [[1], [1, 0], [2, 1], None]
    got = ev('x.sort(r => [r["a"]], ["desc"])', vars={"x": rows})
    assert [r["a"] for r in got] == [[2, 1], [1, 0], [1], None]


def test_sort_by_a_dict_key_and_a_mixed_key():
    assert ev("x.sort(r => [r], [\"asc\"])", vars={"x": MIXED}) == [1, 2.0, "a", {"a": 1}, None]
    got = ev('x.sort(r => [r], ["asc"])', vars={"x": [{"a": 2}, {"a": None}, {"a": 1}]})
    assert got == [{"a": None}, {"a": 1}, {"a": 2}]  # inside a dict, null is the smallest value


def test_sort_a_mixed_type_stream_table_column(root):
    st = StreamTable("e/p/mixed", root=root)
    st.log([{"v": 3}, {"v": "b"}, {"v": None}, {"v": 1.5}, {"v": "a"}])
    st.finish()
    got = ev('stream_table("e/p/mixed").rows.sort(r => [r["v"]], ["asc"])["v"]', root=root)
    assert got == [1.5, 3, "a", "b", None]
    got = ev('stream_table("e/p/mixed").rows.sort(r => [r["v"]], ["desc"])["v"]', root=root)
    assert got == ["b", "a", 3, 1.5, None]


# -- plan-time errors ----------------------------------------------------------------------------


def test_join_with_string_flags_is_a_type_error_before_running():
    x = [{"k": 1}]
    with pytest.raises(WeaveTypeError, match=r"leftOuter must be true or false.*without quotes"):
        evaluate('x.join(y, r => r["k"], r => r["k"], "a", "b", "false", "false")', vars={"x": x, "y": x})
    got = ev('x.join(y, r => r["k"], r => r["k"], "a", "b", false, false)', vars={"x": x, "y": x})
    assert got == [{"a": {"k": 1}, "b": {"k": 1}}]


# -- the Python builder ---------------------------------------------------------------------------


def test_an_expression_is_not_iterable(root):
    st = StreamTable("e/p/it", root=root)
    st.log([{"x": 1}])
    st.finish()
    done: list[BaseException] = []

    def loop():
        try:
            for _ in st.rows():
                pass
        except TypeError as exc:
            done.append(exc)

    worker = threading.Thread(target=loop, daemon=True)
    worker.start()
    worker.join(5)
    assert not worker.is_alive(), "iterating an expression never ends"
    assert done and "not iterable" in str(done[0])
    with pytest.raises(TypeError):
        list(st.rows()["x"])
    with pytest.raises(TypeError):
        1 in st.rows()["x"]  # noqa: B015


def test_builder_compares_with_none_null_safely(root):
    st = StreamTable("e/p/none", root=root)
    st.log([{"model": "m1"}, {"model": None}, {"x": 1}])
    st.finish()
    assert st.rows().filter(lambda row: row["model"] != None).count().to_python() == 1  # noqa: E711
    assert st.rows().filter(lambda row: row["model"] == None).count().to_python() == 2  # noqa: E711


# -- pandas ----------------------------------------------------------------------------------------


def test_to_pandas_turns_mixed_columns_into_object_columns(root):
    st = StreamTable("e/p/pd", root=root)
    st.log([{"v": 1, "n": 1.5}, {"v": "a", "n": None}, {"v": None, "n": 2.0}, {"v": {"a": 1}, "n": 3.0}])
    st.finish()
    with pytest.raises((pa.ArrowException, NotImplementedError, TypeError)):
        st.snapshot().to_arrow().to_pandas()  # what users tried: Arrow cannot convert unions
    for df in (st.to_pandas(), st.snapshot().to_pandas()):
        assert isinstance(df, pd.DataFrame)
        assert df["v"].dtype == object
        assert df["v"].tolist()[:3] == [1, "a", None] and df["v"][3] == {"a": 1}
        assert df["n"].dtype == "float64"
    assert list(st.snapshot().to_pandas(columns=["n"]).columns) == ["n"]


def test_to_pandas_of_a_table_never_written(root):
    st = StreamTable("e/p/empty", root=root)
    assert len(st.to_pandas()) == 0


# -- whylogs-style code ----------------------------------------------------------------------------


def test_logger_logs_a_pandas_row(tmp_path):
    session = get_or_create_session(tmp_path / "profiles")
    df = pd.DataFrame({"a": [1, 2, 3], "b": ["x", None, "y"], "c": [1.5, float("nan"), 2.5]})
    with session.logger("rows") as lg:
        for _, row in df.iterrows():
            lg.log(row)
        prof = lg.profile()
    assert prof.rows == 3
    assert set(prof.columns) == {"a", "b", "c"}


def test_logger_takes_a_dataset_timestamp(tmp_path):
    session = get_or_create_session(tmp_path / "profiles")
    when = dt.datetime(2024, 1, 1, 12, tzinfo=dt.UTC)
    with session.logger("ds", dataset_timestamp=when) as lg:
        lg.log({"a": 1})
    files = lg.close()
    assert len(files) == 1 and "2024-01-01_12-00-00" in files[0].name
    with pytest.raises(ValueError):
        session.logger("ds", dataset_timestamp=when, with_rotation_time="1h")


def test_weave_lite_exports_still_work():
    assert weave_lite.evaluate("1 + 1") == 2


# -- segment pruning with null-safe == ------------------------------------------------------------


def test_pruning_keeps_all_null_segments_for_eq_null(root):
    st = StreamTable("e/p/prune", root=root)
    st.log([{"model": None, "i": k} for k in range(5)])
    st.flush()
    st.log([{"model": "m1", "i": k} for k in range(5, 8)])
    st.flush()
    st.finish()
    rows = 'stream_table("e/p/prune").rows'
    for optimize in (True, False):

        def run(e: str, optimize: bool = optimize):
            return to_python(evaluate(e, root=root, optimize=optimize))

        assert run(f'{rows}.filter(row => row["model"] == null).count') == 5
        assert run(f'{rows}.filter(row => null == row["model"]).count') == 5
        assert run(f'{rows}.filter(row => row["model"] != null).count') == 3
        assert run(f'{rows}.filter(row => row["model"] == "m1" && row["i"] >= 0).count') == 3
        assert run(f'{rows}.filter(row => row["model"] != "m1").count') == 5
