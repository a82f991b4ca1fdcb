"""The fused scan (``scan:count`` / ``scan:sum`` ..., weave_lite/kernels/scan.py) against the
op-by-op path (``optimize=False``) and DuckDB, over random int and float columns with nulls,
several morsels and several chunks; and proof that the fused kernel is the path taken."""

from __future__ import annotations

import math

import duckdb
import pyarrow as pa
import pyarrow.compute as pc
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.reference.interpreter import values_equal
from weave_lite import api
from weave_lite.execute import morsels
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
    f = table["f"]
    want_f = pc.sum(pc.filter(f, pc.greater(f, 0)), min_count=0).as_py() or 0.0
    assert values_equal(got, want_f)


def test_the_fused_kernel_is_the_path_taken(monkeypatch: pytest.MonkeyPatch):
    """Fails if the rewrite or the kernel is disabled: explain shows the fused op, and the
    kernel's counter counts one whole-table scan (or every morsel, on the morsel path)."""
    table = _table([{"f": float(k), "g": None, "i": k, "j": 1} for k in range(100)], 10)
    text = (
        'table("t").rows.filter(row => row["f"] > 10 && row["g"].isNone).map(row => row["f"] * 2 + row["i"] / 10).sum'
    )
    plan = api.compile(text).explain(tables={"t": table})
    assert "kernel=scan:sum" in plan and "fuse_scan x1" in plan
    before = dict(SCAN_RUNS)
    got = api.to_python(api.evaluate(text, tables={"t": table}, morsel_rows=20))
    assert SCAN_RUNS["fused"] - before["fused"] == 1  # the whole table at once (morsels.py)
    monkeypatch.setattr(morsels, "_scans_whole", lambda *_: False)
    by_morsel = api.to_python(api.evaluate(text, tables={"t": table}, morsel_rows=20))
    assert SCAN_RUNS["fused"] - before["fused"] == 1 + 5  # 100 rows in morsels of 20
    assert SCAN_RUNS["fallback"] == before["fallback"]
    assert got == pytest.approx(sum(2.0 * k + k / 10 for k in range(11, 100)))
    assert by_morsel == pytest.approx(got)
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
    """`filter(row => row[c] OP k).count` by the block kernel equals Arrow's comparison (the
    path while Numba is not ready: numpy forced, for all but `!=`), and DuckDB's where NaN is
    absent."""
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
        patch.setenv("WEAVE_LITE_KERNELS", "numpy")
        arrow = api.to_python(api.evaluate(text, tables={"t": table}))
        assert arrow == got
    if not any(v is not None and math.isnan(v) for v in values):
        sql_op = {"==": "IS NOT DISTINCT FROM", "!=": "IS DISTINCT FROM"}.get(op, op)
        con = duckdb.connect()
        con.register("t", table)
        want = con.execute(
            f"SELECT count(*) FROM t WHERE f {sql_op} {constant!r}::DOUBLE".replace("inf", "'inf'")
        ).fetchone()
        assert got == want[0]


# -- the kernel's fast paths: fused loads, lane sums, pieces on threads ------------------------

# Values and predicates whose load fuses with the next instruction (LOAD + constant op or
# ordering comparison, LOADI + TOF), next to ones that do not.
FUSED_VALUES = [
    'row["f"] + 1.5',
    'row["f"] - 3',
    'row["f"] * 2',
    'row["f"] / 4',
    '10 - row["f"]',
    '10 / row["f"]',
    'row["i"] / 10',
    'row["i"] * 0.5 + row["f"]',
    'row["f"]',
    'row["i"]',
]
FUSED_PREDICATES = [
    'row["f"] < 2',
    'row["f"] <= 2',
    'row["f"] > 2',
    'row["f"] >= 2',
    'row["f"] == 2',
    'row["f"] != 2',
    'row["i"] > 100',
    'row["i"] / 4 > 10',
]


def _big_table(n: int, chunk: int, seed: int, null_rate: float = 0.1) -> pa.Table:
    """``n`` rows with nulls, NaN, infinities, zeros and negative zeros, in chunks."""
    import numpy as np

    rng = np.random.default_rng(seed)
    f = rng.normal(0, 50, n)
    f[rng.random(n) < 0.02] = np.nan
    f[rng.random(n) < 0.01] = 0.0
    f[rng.random(n) < 0.01] = -0.0
    g = rng.normal(0, 1e6, n)
    i = rng.integers(-1000, 1000, n)
    j = rng.integers(-5, 5, n)
    columns = {
        "f": pa.array(f, mask=rng.random(n) < null_rate),
        "g": pa.array(g, mask=rng.random(n) < null_rate),
        "i": pa.array(i, mask=rng.random(n) < null_rate),
        "j": pa.array(j),
    }
    whole = pa.table(columns)
    batches = [b for lo in range(0, n, chunk) for b in whole.slice(lo, chunk).to_batches()]
    return pa.Table.from_batches(batches, schema=whole.schema)


@pytest.mark.parametrize("piece", [1 << 18, 2048, 1000, 7])
@pytest.mark.parametrize("value", FUSED_VALUES)
@pytest.mark.parametrize("reducer", ["sum", "avg", "min", "max"])
def test_fused_loads_and_pieces_match_the_old_path(monkeypatch, piece, value, reducer):
    """Thousands of rows (blocks of 2,048 and their tails, several chunks, morsels cut inside
    chunks), nulls and NaN: the kernel's answer equals the op-by-op path's, whatever the piece
    size (the bitmaps are read at an offset inside a chunk)."""
    monkeypatch.setattr(fused_ops, "SCAN_PIECE_ROWS", piece)
    table = _big_table(9_001, 2_500, seed=len(value) + piece)
    for p in (None, 'row["g"] > 0', 'row["i"] > 100'):
        chain = 'table("t").rows' + (f".filter(row => {p})" if p else "")
        _, ran = _both(f"{chain}.map(row => {value}).{reducer}", table, 4_000)
        assert ran >= 1


@pytest.mark.parametrize("null_rate", [0.1, 0.0])  # 0.0: a lone comparison's one-pass count
@pytest.mark.parametrize("piece", [1 << 18, 1000, 7])
@pytest.mark.parametrize("p", FUSED_PREDICATES)
def test_fused_comparisons_count_as_duckdb(monkeypatch, piece, p, null_rate):
    monkeypatch.setattr(fused_ops, "SCAN_PIECE_ROWS", piece)
    table = _big_table(9_001, 2_500, seed=piece, null_rate=null_rate).drop_columns(["g"])
    table = table.set_column(0, "f", pc.if_else(pc.is_nan(table["f"]), 1.0, table["f"]))  # DuckDB orders NaN
    got, ran = _both(f'table("t").rows.filter(row => {p}).count', table, 4_000)
    assert ran >= 1
    con = duckdb.connect()
    con.register("t", table)
    where = (
        p.replace('row["', "").replace('"]', "").replace("==", "IS NOT DISTINCT FROM").replace("!=", "IS DISTINCT FROM")
    )
    assert got == con.execute(f"SELECT count(*) FROM t WHERE {where}").fetchone()[0]


@pytest.mark.parametrize("threads", [1, 2])
def test_pieces_on_threads_give_the_same_bits(monkeypatch, threads):
    """A one-morsel table scanned in pieces on 1 or 2 threads: the same float sum to the bit
    (pieces merge in row order, and the cut depends on the rows only), close to DuckDB's."""
    monkeypatch.setattr(fused_ops, "SCAN_PIECE_ROWS", 4096)
    table = _big_table(50_000, 50_000, seed=3)
    texts = [
        'table("t").rows.map(row => row["g"] * 2 + row["i"] / 10).sum',
        'table("t").rows.filter(row => row["i"] > 0).map(row => row["g"]).avg',
        'table("t").rows.filter(row => row["g"] > 0).count',
    ]
    for text in texts:
        one = api.to_python(api.evaluate(text, tables={"t": table}, threads=1))
        got = api.to_python(api.evaluate(text, tables={"t": table}, threads=threads))
        assert got == one, text
    con = duckdb.connect()
    con.register("t", table)
    want = con.execute("SELECT sum(g * 2 + i / 10) FROM t").fetchone()[0]
    got = api.to_python(api.evaluate(texts[0], tables={"t": table}, threads=threads))
    assert got == pytest.approx(want, rel=1e-9)


def test_lane_sums_are_exact_on_integers_in_floats_and_skip_what_is_not_kept():
    """Sums of whole numbers in floats are exact in any order; rows not kept (predicate false,
    null value) add nothing, and a NaN or an infinity kept is kept."""
    n = 10_007
    table = pa.table(
        {
            "f": pa.array([float(k % 97) for k in range(n)], mask=[k % 13 == 0 for k in range(n)]),
            "j": pa.array([k % 3 for k in range(n)]),
        }
    )
    text = 'table("t").rows.filter(row => row["j"] != 0).map(row => row["f"]).sum'
    want = float(sum(k % 97 for k in range(n) if k % 13 and k % 3))
    assert api.to_python(api.evaluate(text, tables={"t": table})) == want
    nan = pa.table({"f": pa.array([1.0] * 5000 + [math.nan] + [2.0] * 5000)})
    assert math.isnan(api.to_python(api.evaluate('table("t").rows.map(row => row["f"]).sum', tables={"t": nan})))
    inf = pa.table({"f": pa.array([1.0] * 4099 + [math.inf, -1.0])})
    assert api.to_python(api.evaluate('table("t").rows.map(row => row["f"]).sum', tables={"t": inf})) == math.inf
    neg = pa.table({"f": pa.array([-0.0] * 9)})
    assert api.to_python(api.evaluate('table("t").rows.map(row => row["f"]).sum', tables={"t": neg})) == 0.0


@pytest.mark.parametrize("n", [0, 1, 7, 2048, 2049])
def test_empty_one_row_and_block_edges(n):
    table = _big_table(n, 1000, seed=n, null_rate=0.0) if n else _big_table(0, 1, seed=0)
    for text in (
        'table("t").rows.filter(row => row["f"] > 0).count',
        'table("t").rows.map(row => row["f"] * 2 + row["i"] / 10).sum',
        'table("t").rows.filter(row => row["i"] < 0).map(row => row["g"]).max',
    ):
        _both(text, table, 1 << 20)


def test_a_one_morsel_table_is_scanned_in_pieces_on_every_thread(monkeypatch):
    """Proof that the split runs: the kernel's pieces of one morsel go to the evaluation's
    threads (fails if a morsel is scanned as one piece on one thread)."""
    monkeypatch.setattr(fused_ops, "SCAN_PIECE_ROWS", 4096)
    seen = []
    real = fused_ops.map_in_order

    def spy(fn, items, threads):
        seen.append((len(items), threads))
        return real(fn, items, threads)

    monkeypatch.setattr(fused_ops, "map_in_order", spy)
    table = _big_table(10_000, 10_000, seed=5)
    api.evaluate('table("t").rows.map(row => row["f"] * 2).sum', tables={"t": table}, threads=2)
    assert seen == [(3, 2)]  # 10,000 rows: pieces of 4,096, 4,096 and 1,808, on 2 threads
