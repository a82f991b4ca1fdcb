"""A live group-by's new rows grouped straight into the kept groups (weave_lite.live_groups):
random appends of rows with kept and new keys and null keys, watched group-bys (strings,
integers, timestamps, filtered, sorted and limited over ~many groups) equal a cold run, and
the updates took the direct path."""

from __future__ import annotations

import datetime as dt
import tempfile

from hypothesis import given, settings
from hypothesis import strategies as st

from weave_lite import StreamTable, compile, evaluate, to_python
from weave_lite.execute.key_index import KeyIndex
from weave_lite.execute.row_groups import row_groups
from weave_lite.execute.vectors import ArrayVec

from .test_live import close

T = 'stream_table("g/live/t").rows'
SHAPES = {
    "string groups": f'{T}.groupby(r => r["m"]).map(g => {{m: g.groupkey, n: g.count, s: g["i"].sum, '
    f'a: g["lat"].avg, lo: g["lat"].min, hi: g["lat"].max, d: g["i"].countDistinct, p: g["lat"].quantile(0.5)}})',
    "int groups": f'{T}.groupby(r => r["i"]).map(g => {{i: g.groupkey, n: g.count, hi: g["lat"].max}})',
    "computed int groups": f'{T}.groupby(r => r["i"] % 7).map(g => {{k: g.groupkey, n: g.count}})',
    "filtered top groups": f'{T}.filter(r => r["ok"]).groupby(r => r["u"]).map(g => {{u: g.groupkey, n: g.count}})'
    '.sort(r => [r["n"]], ["desc"]).limit(5)',
    "top groups ties": f'{T}.groupby(r => r["u"]).map(g => {{u: g.groupkey, n: g.count}}).sort(r => [r["n"]], ["asc"]).limit(3)',
    "time groups": f'{T}.groupby(r => r["t"]).map(g => {{t: g.groupkey, n: g.count, s: g["i"].sum}})',
}

T0 = dt.datetime(2024, 1, 1, tzinfo=dt.UTC)
rows = st.fixed_dictionaries(
    {
        "i": st.none() | st.integers(-20, 20),
        "lat": st.none() | st.floats(-1e3, 1e3, allow_nan=False),
        "m": st.none() | st.sampled_from(["a", "b", "c", "a\x00", "", "long-" + "x" * 70]),
        "u": st.none() | st.integers(0, 300).map(lambda k: f"user-{k:04d}"),
        "ok": st.booleans(),
        "t": st.integers(0, 5).map(lambda s: T0 + dt.timedelta(seconds=s)),
    }
)
# A first row with every column typed: a column that was all null changes the schema (a full run).
TYPED = {"i": 1, "lat": 1.0, "m": "a", "u": "user-0000", "ok": True, "t": T0}
first = st.lists(rows, max_size=30).map(lambda rs: [TYPED, *rs])
steps = st.lists(st.lists(rows, min_size=1, max_size=25), min_size=1, max_size=4)


@settings(max_examples=12, deadline=None)
@given(first=first, steps=steps, morsel_rows=st.sampled_from([3, 16, 1 << 16]))
def test_direct_group_updates_equal_a_cold_run(first, steps, morsel_rows):
    with tempfile.TemporaryDirectory() as root:
        table = StreamTable("g/live/t", root=root)
        table.log(first)
        table.flush()
        watched = {name: compile(expr).watch(root=root, morsel_rows=morsel_rows) for name, expr in SHAPES.items()}
        for batch in steps:
            table.log(batch)
            table.flush()
            for name, live in watched.items():
                got = live.poll()
                assert live.last_update is not None and live.last_update.path == "incremental", name
                assert close(to_python(got), to_python(evaluate(SHAPES[name], root=root))), name
                assert live._keepers[0].direct_pieces >= 1, name  # the new rows went straight to the kept groups
        table.finish()


def test_updates_take_the_direct_path_and_keep_the_index():
    with tempfile.TemporaryDirectory() as root:
        table = StreamTable("g/live/t", root=root)
        table.log([{"m": f"k{i % 40}", "v": i} for i in range(200)])
        table.flush()
        expr = f'{T}.groupby(r => r["m"]).map(g => {{m: g.groupkey, n: g.count, v: g["v"].max}}).sort(r => [r["n"]], ["desc"]).limit(4)'
        live = compile(expr).watch(root=root)
        (keeper,) = live._keepers
        index = keeper.state.index
        assert isinstance(index, KeyIndex) and len(index) == 40
        table.log([{"m": "k3", "v": 1000}] * 9 + [{"m": "fresh", "v": 1}, {"m": None, "v": 2}])
        table.flush()
        result = to_python(live.poll())
        assert keeper.direct_pieces == 1  # grouped into the kept groups, not a morsel partial
        assert keeper.state.index is index and len(index) == 41 and index.null_gid == 41
        assert keeper.state.n_groups == 42
        assert result[0] == {"m": "k3", "n": 14, "v": 1000}
        assert result == to_python(evaluate(expr, root=root))
        table.finish()


def test_row_groups_numbers_new_keys_by_first_appearance():
    import pyarrow as pa

    index = KeyIndex(pa.array(["a", "b", "c"]))
    keys = ArrayVec(pa.array(["c", "z", None, "a", "y", "z", None, "c"]))
    mapped = row_groups(keys, index, 3)
    assert mapped is not None
    # Local groups are the touched groups in ascending order: a(0) c(2) z(3) null(4) y(5).
    assert mapped.gid.tolist() == [0, 2, 3, 4, 5]
    assert mapped.gid[mapped.local].tolist() == [2, 3, 4, 0, 5, 3, 4, 2]
    assert mapped.sizes.tolist() == [1, 2, 2, 2, 1]
    assert mapped.new_index_keys is not None and mapped.new_index_keys.to_pylist() == ["z", None, "y"]
    assert row_groups(ArrayVec(pa.array([1, 2])), index, 3) is None  # another type: the generic path
