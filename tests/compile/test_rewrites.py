"""Golden tests of the plan rewrites: each rule's effect on ``explain()``, and unchanged results."""

from __future__ import annotations

import datetime as dt

import pyarrow as pa
import pytest

from tests.reference.interpreter import values_equal
from weave_lite import StreamTable, compile, evaluate, to_python

TABLES = {
    "t": pa.table(
        {
            "lat": [1.0, 2.0, 70000.0, None],
            "m": ["a", "b", "a", None],
            "n": [1, 2, 3, 4],
        }
    )
}


def explain(expr: str, **kw) -> str:
    return compile(expr).explain(tables=TABLES, **kw)


def test_constant_folding():
    plan = explain('table("t").rows.filter(r => r["lat"] > 60 * 1000).count')
    assert "const 60000 : int" in plan and "mul" not in plan
    # Lists, tables and the clock are not folded; failures are left for run time.
    assert "kernel=now" in explain("now()")
    assert "kernel=list" in explain("[1, 2].count")
    assert "kernel=findAll" in explain('"abc".findAll("(")')


def test_common_subexpressions_are_computed_once():
    plan = explain('table("t").rows.map(r => {a: r["n"] * 2, b: r["n"] * 2 + 1})')
    assert plan.count("kernel=mul") == 1
    assert "mul -> int  (shared, computed once)" in plan


def test_count_of_a_filter_counts_the_mask():
    plan = explain('table("t").rows.map(r => [r["lat"]]).filter(r => r[0] > 1).count')
    assert plan.splitlines()[0] == "count -> int  kernel=count:where"
    assert "kernel=filter" not in plan


def test_count_of_a_filter_of_table_rows_is_one_fused_scan():
    plan = explain('table("t").rows.filter(r => r["lat"] > 1).count')
    assert plan.splitlines()[0].startswith("count -> int  kernel=scan:count scan=ScanProgram(")
    assert "kernel=filter" not in plan


def test_sort_then_limit_is_a_top_k():
    plan = explain('table("t").rows.sort(r => [r["lat"]], ["desc"]).limit(2)')
    assert plan.splitlines()[0].endswith("kernel=limit:sorted")


def test_filters_on_a_stream_table_prune_segments(root):
    st = StreamTable("e/p/t")
    start = dt.datetime(2024, 1, 1, tzinfo=dt.UTC)
    for day in range(5):  # one segment per day
        st.log([{"timestamp": start + dt.timedelta(days=day, hours=h), "v": day} for h in range(24)])
        st.flush()
    st.finish()
    expr = 'stream_table("e/p/t").rows.filter(r => r["timestamp"] >= Date("2024-01-03T00:00:00Z") && r["v"] < 4).count'
    plan = compile(expr).explain(root=root)
    assert "predicates=(('timestamp', 'ge'" in plan and "('v', 'lt', 4)" in plan
    # The scan reads only the segments whose statistics allow a match: days 2 and 3.
    from weave_lite.sources import TableSources
    from weave_lite.storage.segments import may_match

    snap = TableSources(root, None, expr).snapshot("e/p/t", None)
    predicates = (("timestamp", "ge", dt.datetime(2024, 1, 3, tzinfo=dt.UTC)), ("v", "lt", 4))
    assert [s.stats["v"].min for s in snap.segments if may_match(s, predicates)] == [2, 3]
    assert evaluate(expr, root=root) == evaluate(expr, root=root, optimize=False) == 48


@pytest.mark.parametrize(
    "expr",
    [
        'table("t").rows.filter(r => r["lat"] > 60 * 1000).count',
        'table("t").rows.map(r => {a: r["lat"] * 2, b: r["lat"] * 2 + 1})',
        'table("t").rows.sort(r => [r["lat"]], ["desc"]).limit(2)',
        'table("t").rows.groupby(r => r["m"]).map(g => {m: g.groupkey, s: g["n"].sum, c: g["n"].sum / g.count})',
        '(1 + 2) * table("t").rows["n"].sum',
    ],
)
def test_rewrites_never_change_results(expr):
    assert to_python(evaluate(expr, tables=TABLES)) == to_python(evaluate(expr, tables=TABLES, optimize=False))


@pytest.mark.parametrize("direction", ["asc", "desc"])
@pytest.mark.parametrize("limit", [1, 7, 50])
def test_top_k_equals_a_full_sort_with_ties_nulls_and_nan(direction, limit):
    import numpy as np

    rng = np.random.default_rng(limit)
    n = 5000
    values = rng.integers(0, 20, n).astype(float)  # many ties
    values[rng.random(n) < 0.05] = np.nan
    table = pa.table(
        {
            "v": pa.array(values, mask=rng.random(n) < 0.05),
            "s": pa.array([f"s{x}" for x in rng.integers(0, 30, n)]),
            "i": np.arange(n),
        }
    )
    tables = {"t": table}
    for key in ('r["v"]', 'r["s"]'):
        expr = f'table("t").rows.sort(r => [{key}, r["i"]], ["{direction}"]).limit({limit})'
        fast = to_python(evaluate(expr, tables=tables))
        full = to_python(evaluate(expr, tables=tables, optimize=False))
        assert len(fast) == limit and values_equal(fast, full)  # NaN equals NaN here
        assert compile(expr).explain(tables=tables).splitlines()[0].endswith("kernel=limit:sorted")


def test_float_arithmetic_is_fused_into_one_kernel():
    plan = explain('table("t").rows.map(r => r["lat"] * 2 + r["n"] / 10 - r["lat"])')
    lines = [line.strip() for line in plan.splitlines()]
    fused = [line for line in lines if "kernel=fused:arith" in line]
    assert len(fused) == 1 and not any(
        f"kernel={op} " in line or line.endswith(f"kernel={op}")
        for op in ("add", "sub", "mul", "div")
        for line in lines
    )
    # lat is read once although used twice; the constants are folded into their ops.
    assert sum("getitem -> float  kernel=getitem:pick" in line for line in lines) == 1
    # Integer arithmetic keeps its own kernels (it wraps at 64 bits; floats do not).
    assert "kernel=fused:arith" not in explain('table("t").rows.map(r => r["n"] * 2 + r["n"])')
    # A lone op is left to Arrow.
    assert "kernel=fused:arith" not in explain('table("t").rows.map(r => r["lat"] * 2)')


@pytest.mark.parametrize(
    "body",
    [
        'r["lat"] * 2 + r["n"] / 10',
        '2 / r["lat"] - (1 - r["n"] / 0) + 3 * r["lat"]',
        '-r["lat"] / (r["n"] - 2) + null',
        '(r["lat"] - 1.5) * (r["lat"] + 1.5) / 1e300 / 1e300',
    ],
)
def test_fused_arithmetic_equals_op_by_op(body):
    expr = f'table("t").rows.map(r => {body})'
    assert "kernel=fused:arith" in explain(expr)
    assert repr(to_python(evaluate(expr, tables=TABLES))) == repr(
        to_python(evaluate(expr, tables=TABLES, optimize=False))
    )


def test_common_subexpressions_tell_zero_from_negative_zero():
    # 0.0 == -0.0 in Python: interning constants by value alone merged them.
    assert evaluate('[0.0, -0.0].joinToStr(";")') == "0;-0"
