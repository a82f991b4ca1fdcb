"""The engine against DuckDB: a fixed corpus of (weave expression, SQL) pairs on the same Arrow data.

The corpus and the seeded data live in ``tests/engine/duckdb_corpus.py`` (shared with
``benchmarks/language.py``). DuckDB scans the same ``pyarrow.Table`` objects the engine gets in
``tables=``; each SQL query is written to give the weave result's order (row order = ``idx``,
groupby = first appearance, sorts = ``NULLS LAST``), so lists compare in order; floats compare
within 1e-9 relative.

Cases whose kernel does not exist yet are strict xfails (``raises=ExecutionError``): a wrong
result still fails, and a kernel landing turns the case into an XPASS failure, i.e. a reminder
to drop it from ``MISSING_KERNEL``.
"""

from __future__ import annotations

from collections import Counter

import pytest

from tests.engine import duckdb_corpus as corpus
from weave_lite.api import evaluate, to_python
from weave_lite.execute.executor import ExecutionError

# id -> reason, for cases that fail only because a kernel is not written yet (strict xfails,
# raises=ExecutionError). Empty: every kernel the corpus uses exists (strings, timestamps,
# join, rolling and bins all landed while this corpus was written).
MISSING_KERNEL: dict[str, str] = {}

# id -> "engine bug: ...", for real engine bugs (wrong results); kept as strict xfails.
ENGINE_BUGS: dict[str, str] = {}


def _params():
    for case in corpus.CASES:
        marks = []
        if case.id in MISSING_KERNEL:
            marks.append(pytest.mark.xfail(strict=True, raises=ExecutionError, reason=MISSING_KERNEL[case.id]))
        elif case.id in ENGINE_BUGS:
            marks.append(pytest.mark.xfail(strict=True, reason=ENGINE_BUGS[case.id]))
        yield pytest.param(case, id=case.id, marks=marks)


@pytest.fixture(scope="module")
def tables():
    return corpus.make_tables()


@pytest.fixture(scope="module")
def con(tables):
    connection = corpus.duckdb_connection(tables)
    yield connection
    connection.close()


# (threads, morsel_rows): the whole table at once, and morsels of 97 rows on 1 and 2 threads.
EXECUTIONS = {"whole": (None, None), "morsels-1-thread": (1, 97), "morsels-2-threads": (2, 97)}


@pytest.mark.parametrize("execution", list(EXECUTIONS))
@pytest.mark.parametrize("case", list(_params()))
def test_weave_equals_duckdb(case: corpus.Case, execution: str, tables, con):
    expected = corpus.sql_expected(case, corpus.run_sql(con, case.sql))
    threads, morsel_rows = EXECUTIONS[execution]
    got = to_python(evaluate(case.weave, tables=tables, threads=threads, morsel_rows=morsel_rows))
    if not case.ordered:
        assert isinstance(got, list), f"expected a list, got {got!r}"
        got = sorted(got, key=corpus.sort_key)
        expected = sorted(expected, key=corpus.sort_key)
    difference = corpus.diff(got, expected)
    assert difference is None, f"{difference}\n  weave: {case.weave}\n  sql:   {case.sql}"


def test_corpus_is_large_and_ids_are_unique():
    ids = [case.id for case in corpus.CASES]
    assert len(ids) >= 60
    assert len(set(ids)) == len(ids), [i for i, n in Counter(ids).items() if n > 1]
    assert set(MISSING_KERNEL) <= set(ids) and set(ENGINE_BUGS) <= set(ids)


def test_data_exercises_the_edge_cases(tables, con):
    """The seeded data has what the corpus relies on (nulls, zero divisors, midnight, ...)."""
    t = tables["t"]
    assert t.num_rows == corpus.N_ROWS
    for column in ("model", "latency", "ok", "user", "score"):
        assert t.column(column).null_count > 0, column
    (row,) = corpus.run_sql(
        con,
        "SELECT count(*) FILTER (WHERE tokens = 0), count(DISTINCT model), "
        "count(DISTINCT \"timestamp\"::DATE), count(DISTINCT score) = count(score), "
        "count(*) FILTER (WHERE tokens < 1000) FROM t",
    ).to_pylist()
    zero_tokens, models, days, scores_distinct, negative_after_shift = row.values()
    assert zero_tokens > 0 and models == len(corpus.MODELS) and days == 2 and scores_distinct
    assert negative_after_shift > 0  # `tokens - 1000` has both signs, for % and round


@pytest.mark.parametrize(
    "group_by",
    ["", "GROUP BY ok", "GROUP BY model"],
)
def test_mode_inputs_have_no_ties(con, group_by):
    """DuckDB's mode breaks ties differently from weave's (smallest value): the data must have none."""
    column = "ok" if group_by == "GROUP BY model" else "model"
    keys = group_by.removeprefix("GROUP BY ").strip()
    partition = f"PARTITION BY {keys}" if keys else ""
    select_keys = f"{keys}, " if keys else ""
    sql = (
        f"SELECT {select_keys}{column} AS v, count(*) AS n, "
        f"max(count(*)) OVER ({partition}) AS top FROM t WHERE {column} IS NOT NULL "
        f"GROUP BY {select_keys}{column} QUALIFY n = top"
    )
    winners = corpus.run_sql(con, sql).to_pylist()
    per_group = Counter(tuple(row[k] for k in ([keys] if keys else [])) for row in winners)
    assert all(n == 1 for n in per_group.values()), winners


@pytest.mark.parametrize(
    "case", [c for c in corpus.CASES if corpus.bench_sql(c.sql) != c.sql], ids=lambda c: c.id
)
def test_benchmark_sql_without_order_by_gives_the_same_rows(case: corpus.Case, con):
    """benchmarks/language.py drops a final ORDER BY idx that DuckDB's scan order makes redundant."""
    assert corpus.run_sql(con, corpus.bench_sql(case.sql)).equals(corpus.run_sql(con, case.sql))


# A few cases again on the same data cut into many record batches (as a table read back from
# several segments would be): DuckDB and the engine must not care.
CHUNKED = [
    "filter_and_idx", "groupby_median_quantiles", "groupby_argmax_argmin", "sort_two_keys",
    "join_full", "rolling_avg", "unique_keeps_null_first_order", "limit_rows", "first_last",
]


@pytest.fixture(scope="module")
def chunked_tables(tables):
    return {name: table.from_batches(table.to_batches(max_chunksize=173)) for name, table in tables.items()}


@pytest.mark.parametrize("case", [c for c in corpus.CASES if c.id in CHUNKED], ids=lambda c: c.id)
def test_chunked_input(case: corpus.Case, chunked_tables):
    assert chunked_tables["t"].column("idx").num_chunks > 1
    connection = corpus.duckdb_connection(chunked_tables)
    try:
        expected = corpus.sql_expected(case, corpus.run_sql(connection, case.sql))
    finally:
        connection.close()
    got = to_python(evaluate(case.weave, tables=chunked_tables))
    difference = corpus.diff(got, expected)
    assert difference is None, f"{difference}\n  weave: {case.weave}\n  sql:   {case.sql}"
