"""The fused scan (``scan:count`` / ``scan:sum`` ..., weave_lite/kernels/scan.py) against the
op-by-op path (``optimize=False``) and DuckDB, over random int and float columns with nulls,
several morsels and several chunks; and proof that the fused kernel is the path taken."""

from __future__ import annotations

import math

import duckdb
import pyarrow as pa
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.reference.interpreter import values_equal
from weave_lite import api
from weave_lite.execute.ops import fused as fused_ops
from weave_lite.execute.ops.fused import SCAN_RUNS

FLOATS = st.one_of(st.none(), st.floats(-1e6, 1e6, allow_nan=False), st.sampled_from([0.0, -0.0, 1.5, math.nan]))
INTS = st.one_of(st.none(), st.integers(-1000, 1000), st.sampled_from([0, 7, 2**40]))
ROW = st.fixed_dictionaries({"f": FLOATS, "g": FLOATS, "i": INTS, "j": INTS})
SCHEMA = pa.schema([("f", pa.float64()), ("g", pa.float64()), ("i", pa.int64()), ("j", pa.int64())])

# (predicate, DuckDB's WHERE; None: no DuckDB check) - nulls never pass a filter.
PREDICATES = [
    ('row["f"] > 1', "f > 1"),
    ('row["i"] <= 7', "i <= 7"),
    ('row["i"] < row["j"]', "i < j"),
    ('row["f"] >= row["i"]', "f >= i"),
    ('row["f"] > 0 && row["i"] != 7', None),
    ('row["f"] < 0.5 || row["j"] > 3', "f < 0.5 OR j > 3"),
    ('!(row["g"] > 2)', "NOT (g > 2)"),
    ('row["g"].isNone || row["i"] == 0', None),
    ('row["f"] == row["g"]', None),
    ('row["f"] * 2 + row["i"] / 4 > 10', None),
    ('row["i"] / row["j"] < 1', None),
]
VALUES = ['row["f"]', 'row["i"]', 'row["f"] * 2 + row["i"] / 10', 'row["g"] - row["f"]', '1 / row["f"]']


@pytest.fixture(autouse=True)
def numba_now(monkeypatch: pytest.MonkeyPatch) -> None:
    """The fused kernel runs at once (small inputs would otherwise take the op-by-op path until
    a background thread has compiled it: see test_a_small_scan_answers_before_numba_is_ready)."""
    monkeypatch.setenv("WEAVE_LITE_KERNELS", "numba")


def _table(rows: list[dict], chunk: int) -> pa.Table:
    batches = [pa.RecordBatch.from_pylist(rows[k : k + chunk], schema=SCHEMA) for k in range(0, len(rows), chunk)]
    return pa.Table.from_batches(batches, schema=SCHEMA)


def _both(text: str, table: pa.Table, morsel_rows: int):
    before = SCAN_RUNS["fused"]
    fused = api.to_python(api.evaluate(text, tables={"t": table}, morsel_rows=morsel_rows))
    ran = SCAN_RUNS["fused"] - before
    old = api.to_python(api.evaluate(text, tables={"t": table}, morsel_rows=morsel_rows, optimize=False))
    assert values_equal(fused, old), f"{text}\n fused: {fused!r}\n old:   {old!r}"
    return fused, ran


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    rows=st.lists(ROW, min_size=0, max_size=60),
    chunk=st.integers(1, 25),
    morsel_rows=st.sampled_from([7, 16, 1 << 20]),
    p=st.sampled_from(PREDICATES),
)
def test_filter_count_matches_old_path_and_duckdb(rows, chunk, morsel_rows, p):
    table = _table(rows, chunk)
    got, ran = _both(f'table("t").rows.filter(row => {p[0]}).count', table, morsel_rows)
    assert ran >= 1 or not rows  # the fused kernel ran (an empty table has no morsel)
    has_nan = any(isinstance(v, float) and math.isnan(v) for r in rows for v in r.values())
    if p[1] is not None and not has_nan:  # DuckDB orders NaN above every number; IEEE (we) not
        con = duckdb.connect()
        con.register("t", table)
        assert got == con.execute(f"SELECT count(*) FROM t WHERE {p[1]}").fetchone()[0]


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    rows=st.lists(ROW, min_size=0, max_size=60),
    chunk=st.integers(1, 25),
    morsel_rows=st.sampled_from([7, 16, 1 << 20]),
    p=st.one_of(st.none(), st.sampled_from([q for q, _ in PREDICATES])),
    value=st.sampled_from(VALUES),
    reducer=st.sampled_from(["sum", "avg", "min", "max"]),
)
def test_map_reduce_matches_old_path(rows, chunk, morsel_rows, p, value, reducer):
    table = _table(rows, chunk)
    chain = 'table("t").rows' + (f".filter(row => {p})" if p else "")
    _, ran = _both(f"{chain}.map(row => {value}).{reducer}", table, morsel_rows)
    assert ran >= 1 or not rows


@settings(max_examples=40, deadline=None)
@given(rows=st.lists(ROW, min_size=1, max_size=60), chunk=st.integers(1, 25))
def test_sums_match_duckdb_and_pyarrow(rows, chunk):
    table = _table(rows, chunk)
    con = duckdb.connect()
    con.register("t", table)
    got = api.to_python(api.evaluate('table("t").rows.map(row => row["i"]).sum', tables={"t": table}, morsel_rows=16))
    want = con.execute("SELECT coalesce(sum(i), 0) FROM t").fetchone()[0]
    if all(abs(r["i"] or 0) < 2**40 for r in rows):  # DuckDB's sum is a HUGEINT; ours wraps
        assert got == want
    got = api.to_python(
        api.evaluate('table("t").rows.filter(row => row["f"] > 0).map(row => row["f"]).sum', tables={"t": table})
    )
    import pyarrow.compute as pc

    f = table["f"]
    want_f = pc.sum(pc.filter(f, pc.greater(f, 0)), min_count=0).as_py() or 0.0
    assert values_equal(got, want_f)


def test_the_fused_kernel_is_the_path_taken():
    """Fails if the rewrite or the kernel is disabled: explain shows the fused op, and the
    kernel's counter counts every morsel."""
    table = _table([{"f": float(k), "g": None, "i": k, "j": 1} for k in range(100)], 10)
    text = (
        'table("t").rows.filter(row => row["f"] > 10 && row["g"].isNone).map(row => row["f"] * 2 + row["i"] / 10).sum'
    )
    plan = api.compile(text).explain(tables={"t": table})
    assert "kernel=scan:sum" in plan and "fuse_scan x1" in plan
    before = dict(SCAN_RUNS)
    got = api.to_python(api.evaluate(text, tables={"t": table}, morsel_rows=20))
    assert SCAN_RUNS["fused"] - before["fused"] == 5  # 100 rows in morsels of 20
    assert SCAN_RUNS["fallback"] == before["fallback"]
    assert got == pytest.approx(sum(2.0 * k + k / 10 for k in range(11, 100)))
    count = 'table("t").rows.filter(row => row["f"] > 10).count'
    assert "kernel=scan:count" in api.compile(count).explain(tables={"t": table})


def test_rows_the_kernel_cannot_read_fall_back_to_the_op_by_op_path():
    """The table read once per element of an outer list (many lists, not one): the fallback."""
    table = pa.table({"f": [1.0, 2.0, None, 40.0]})
    before = dict(SCAN_RUNS)
    text = '[1, 2].map(x => table("t").rows.filter(row => row["f"] > 1).count)'
    assert "kernel=scan:count" in api.compile(text).explain(tables={"t": table})
    assert api.to_python(api.evaluate(text, tables={"t": table})) == [2, 2]
    assert SCAN_RUNS["fused"] == before["fused"]
    assert SCAN_RUNS["fallback"] > before["fallback"]


def test_unsupported_shapes_keep_the_old_plan():
    table = pa.table({"s": ["a", "b"], "f": [1.0, 2.0]})
    for text in (
        'table("t").rows.filter(row => row["s"] == "a").count',
        'table("t").rows.map(row => row["f"] * 2).median',
    ):
        assert "kernel=scan:" not in api.compile(text).explain(tables={"t": table})


def test_int_comparisons_are_exact_past_two_to_the_53():
    table = pa.table({"i": [2**62 + 1, 2**62, 5], "j": [2**62, 2**62, 5]})
    for text, want in (('row["i"] > row["j"]', 1), ('row["i"] == 4611686018427387904', 1), ('row["i"] != row["j"]', 1)):
        query = f'table("t").rows.filter(row => {text}).count'
        assert "kernel=scan:count" in api.compile(query).explain(tables={"t": table})
        assert api.to_python(api.evaluate(query, tables={"t": table})) == want
    total = api.to_python(api.evaluate('table("t").rows.map(row => row["i"]).sum', tables={"t": table}))
    assert total == (2**62 + 1 + 2**62 + 5) - 2**64  # int64 wraps, as the sum kernel does


def test_a_small_scan_answers_before_numba_is_ready(monkeypatch: pytest.MonkeyPatch):
    """While the scan kernel is not compiled (here: numpy forced), a small scan takes the
    op-by-op path, with the same answer as the fused kernel."""
    table = _table([{"f": float(k), "g": None, "i": k, "j": 1} for k in range(100)], 10)
    text = 'table("t").rows.filter(row => row["f"] > 10).map(row => row["f"] * 2 + row["i"] / 10).sum'
    fused = api.to_python(api.evaluate(text, tables={"t": table}))
    monkeypatch.setenv("WEAVE_LITE_KERNELS", "numpy")
    before = dict(SCAN_RUNS)
    assert api.to_python(api.evaluate(text, tables={"t": table})) == fused
    assert SCAN_RUNS["fallback"] > before["fallback"] and SCAN_RUNS["fused"] == before["fused"]


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    values=st.lists(st.one_of(st.none(), st.floats(allow_nan=True, allow_infinity=True, width=64)), max_size=60),
    constant=st.sampled_from([0.0, -0.0, 1.5, float("inf"), -1e300]),
    op=st.sampled_from(["<", "<=", ">", ">=", "==", "!="]),
    chunk=st.integers(1, 25),
)
def test_a_lone_comparison_counts_as_the_kernel_does(values, constant, op, chunk):
    """`filter(row => row[c] OP k).count` (Arrow's comparison for all but `!=`) equals the
    block kernel's count with the Arrow path switched off, and DuckDB's where NaN is absent."""
    table = pa.Table.from_batches(
        [
            pa.RecordBatch.from_pydict({"f": pa.array(values[k : k + chunk], pa.float64())})
            for k in range(0, len(values), chunk)
        ],
        schema=pa.schema([("f", pa.float64())]),
    )
    text = f'table("t").rows.filter(row => row["f"] {op} {constant!r}).count'.replace("inf", "1e309")
    got = api.to_python(api.evaluate(text, tables={"t": table}))
    old = api.to_python(api.evaluate(text, tables={"t": table}, optimize=False))
    assert got == old
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(fused_ops, "_compare_count", lambda call: None)
        assert api.to_python(api.evaluate(text, tables={"t": table})) == got
    if not any(v is not None and math.isnan(v) for v in values):
        sql_op = {"==": "IS NOT DISTINCT FROM", "!=": "IS DISTINCT FROM"}.get(op, op)
        con = duckdb.connect()
        con.register("t", table)
        want = con.execute(
            f"SELECT count(*) FROM t WHERE f {sql_op} {constant!r}::DOUBLE".replace("inf", "'inf'")
        ).fetchone()
        assert got == want[0]
