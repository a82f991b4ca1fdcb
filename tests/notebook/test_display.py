"""Notebook HTML: a StreamTable's repr right after ``log``, empty tables, profiles, drift
reports, and the live view polled by hand (no kernel: see test_notebook_run.py for one)."""

from __future__ import annotations

import re
import time

import pyarrow as pa
import pytest

import weave_lite
from weave_lite import StreamTable
from weave_lite.display import DriftView, table_html
from weave_lite.profiles import drift, profile_table


def slow_table(tmp_path, name: str = "e/p/t") -> StreamTable:
    """A table whose writer would wait a minute before committing on its own."""
    return StreamTable(name, root=tmp_path, batch_rows=1_000_000, batch_interval=60)


def body_rows(html: str) -> list[str]:
    return re.findall(r"<tr>(.*?)</tr>", html.split("<tbody>", 1)[1])


def test_repr_right_after_log_shows_the_rows(tmp_path):
    st = slow_table(tmp_path)
    st.log([{"model": "m1", "latency": 1.5}, {"model": "m2", "latency": 2.5}, {"model": "m3", "latency": 3.5}])
    assert st.pending_rows == 3 and "pending_rows=3" in repr(st)
    html = st._repr_html_()
    assert "e/p/t (3 rows)" in html
    assert all(f"<td>m{i}</td>" in html for i in (1, 2, 3))
    assert st.pending_rows == 0 and "pending" not in repr(st)
    st.finish()


def test_an_empty_table_says_no_rows(tmp_path):
    st = slow_table(tmp_path)
    html = st._repr_html_()
    assert "(0 rows)" in html and ">no rows<" in html
    assert "<td></td>" not in html and len(re.findall("<tr", html)) == 1  # one line, not blank rows
    empty = table_html(pa.schema([("a", pa.int64()), ("b", pa.string())]).empty_table(), title="t")
    assert "<th>a</th><th>b</th>" in empty and 'colspan="2">no rows<' in empty
    assert body_rows(empty) == ['<td class="empty" colspan="2">no rows</td>']  # one line, no blank rows


def test_repr_shows_the_newest_rows_of_a_long_table(tmp_path):
    st = slow_table(tmp_path)
    for start in range(0, 300, 100):  # three segments
        st.log([{"i": i} for i in range(start, start + 100)])
        st.flush()
    html = st._repr_html_()
    assert "(300 rows)" in html and "showing the last 50 of 300 rows" in html
    cells = [re.search(r"<td>(\d+)</td>", r).group(1) for r in body_rows(html)]
    assert cells == [str(i) for i in range(250, 300)]
    st.finish()
    # It reads only the newest segment: with the older segments' files gone, a fresh object
    # still renders (reading the whole table would fail).
    segments = StreamTable("e/p/t", root=tmp_path).snapshot().segments
    for segment in segments[:-1]:
        (st.path / segment.path).unlink()
    fresh = StreamTable("e/p/t", root=tmp_path)
    assert "(300 rows)" in fresh._repr_html_()
    with pytest.raises(Exception):  # noqa: B017 - any read error: the file is missing
        fresh.to_arrow()


def test_profile_html_per_column(tmp_path):
    table = pa.table({"latency": [1.0, 2.0, 3.0, 4.0, None], "model": ["a", "b", "a", "a", "c"]})
    profile = profile_table(table, name="preds")
    html = profile._repr_html_()
    assert "profile preds (5 rows, 2 columns)" in html
    latency = next(r for r in body_rows(html) if r.startswith("<td>latency</td>"))
    # column, count, nulls, distinct, mean, stddev, min, p5, p25, median, p75, p95, max, items
    cells = re.findall(r"<td>(.*?)</td>", latency)
    assert cells[1:5] == ["5", "1", "4", "2.5"] and cells[6] == "1" and cells[12] == "4"
    model = next(r for r in body_rows(html) if r.startswith("<td>model</td>"))
    assert "a (3), b (1), c (1)" in model
    assert "model" in profile["model"]._repr_html_() and "column profile" in profile["model"]._repr_html_()
    # the same table from an expression (`rows.profile`) renders through show()
    assert "a (3), b (1), c (1)" in weave_lite.show(profile.to_arrow())._repr_html_()


def test_drift_html_highlights_drifted_columns():
    ref = profile_table(pa.table({"x": [float(i) for i in range(200)], "s": ["a", "b"] * 100}))
    cur = profile_table(pa.table({"x": [float(i) + 500 for i in range(200)], "s": ["a", "b"] * 100}))
    report = drift(ref, cur)
    view = DriftView(report)
    html = view._repr_html_()
    assert view.drifted == ["x"]
    assert "1 of 2 columns drifted: x" in html
    assert re.search(r'<tr class="drifted"><td>x</td><td>DRIFT</td>', html)
    assert re.search(r'<tr class="steady"><td>s</td><td>no</td>', html)
    assert weave_lite.show(report)._repr_html_() == html  # show() recognises a drift report


def test_live_view_of_a_table_before_and_after_rows(tmp_path):
    st = slow_table(tmp_path)
    view = st.panel(max_rows=5)
    assert "no rows yet" in view.html() and view.updates == 0
    st.log([{"i": i} for i in range(8)])
    st.flush()
    assert view.refresh() and view.updates == 1
    html = view.html()
    assert "(8 rows)" in html and "showing the last 5 of 8 rows" in html
    assert not view.refresh()  # nothing new: no update
    st.finish()


def test_live_view_thread_follows_an_expression(tmp_path):
    st = slow_table(tmp_path)
    st.log({"latency": 1.0})
    st.flush()
    view = st.panel('.map(r => r["latency"]).sum', interval=0.05)
    assert "<code>1.0</code>" in view.html()
    view.start()
    try:
        st.log([{"latency": 2.0}, {"latency": 3.0}])
        st.flush()
        deadline = time.monotonic() + 30
        while view.value != 6.0 and time.monotonic() < deadline:
            time.sleep(0.05)
        assert view.value == 6.0 and "<code>6.0</code>" in view.html() and "live ·" in view.html()
    finally:
        view.stop()
    assert not view.running and "stopped ·" in view.html()
    st.finish()


@pytest.mark.parametrize("expr", ['stream_table("e/p/nothing").rows.count'])
def test_live_view_waits_for_a_table_that_does_not_exist_yet(tmp_path, expr):
    from weave_lite.live_view import LiveView

    view = LiveView.of_expression(expr, root=tmp_path)
    assert "no rows yet" in view.html()
    st = slow_table(tmp_path, "e/p/nothing")
    st.log({"a": 1})
    st.flush()
    assert view.refresh() and view.value == 1
    st.finish()
