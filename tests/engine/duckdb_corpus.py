"""A fixed corpus of (weave expression, DuckDB SQL) pairs over the same Arrow data.

One source of truth for ``tests/engine/test_duckdb_differential.py`` (correctness: the two must
agree) and ``benchmarks/language.py`` (speed: weave against DuckDB on the same table).

The data (``make_tables``) is a seeded table ``t`` of LLM-call-like rows plus a small dimension
table ``models`` for joins:

* ``idx``      int64, 0..n-1 (the row's position: SQL orders by it to match weave's list order)
* ``model``    string, 5 values with distinct frequencies, ~5% null
* ``latency``  float64, lognormal, ~5% null
* ``tokens``   int64, 0..2047, ~3% exactly 0 (zero divisors)
* ``ok``       bool, ~80% true, ~3% null
* ``user``     string, 42 values (some upper case, some non-ASCII), ~4% null
* ``timestamp`` timestamp[us, UTC], spread over 5 hours across midnight, in random order
* ``score``    float64, normal(0, 10), ~10% null

Each ``Case`` says what shape the SQL result has (``kind``):

* ``"scalar"``: one row, one column -> that value (weave returns a scalar);
* ``"column"``: one column -> its values in order (weave returns a list of scalars);
* ``"rows"``:   a table -> its rows as dicts in order (weave returns a list of dicts).

SQL results are always ordered to match weave's defined order (row order = ``idx``; groupby =
first appearance, i.e. ``ORDER BY min(idx)``; sorts = ``NULLS LAST`` plus ``idx`` for
stability; joins = left row order then right row order, unmatched right rows last).
``ordered=False`` marks the few cases compared as multisets.
"""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import numpy as np
import pyarrow as pa

SEED = 20240501
N_ROWS = 2000

MODELS = ["gpt-4o", "claude-3", "llama-3", "Mistral-7B", "gemini"]
MODEL_P = [0.36, 0.25, 0.19, 0.12, 0.08]
USERS = [f"user_{k:02d}" for k in range(36)] + ["Admin_1", "ADMIN_2", "zoë", "José_R", "ops-bot", "ünïcode_β"]
START = dt.datetime(2024, 5, 1, 21, 30, 7, 123456, tzinfo=dt.UTC)
SPAN_US = 5 * 3600 * 1_000_000

EPOCH = "TIMESTAMPTZ '1970-01-01 00:00:00+00'"


def make_table(n: int = N_ROWS, seed: int = SEED) -> pa.Table:
    """The seeded main table ``t`` (vectorized: 1M rows take well under a second)."""
    rng = np.random.default_rng(seed)
    idx = np.arange(n, dtype=np.int64)

    model_codes = rng.choice(len(MODELS), size=n, p=MODEL_P)
    model = pa.array(np.array(MODELS, dtype=object)[model_codes], pa.string(), mask=rng.random(n) < 0.05)

    latency = pa.array(rng.lognormal(mean=0.0, sigma=0.75, size=n), pa.float64(), mask=rng.random(n) < 0.05)

    tokens = rng.integers(0, 2048, size=n, dtype=np.int64)
    tokens[rng.random(n) < 0.03] = 0

    ok = pa.array(rng.random(n) < 0.8, pa.bool_(), mask=rng.random(n) < 0.03)

    user_codes = rng.integers(0, len(USERS), size=n)
    user = pa.array(np.array(USERS, dtype=object)[user_codes], pa.string(), mask=rng.random(n) < 0.04)

    start_us = int(START.timestamp()) * 1_000_000 + START.microsecond
    ts_us = start_us + rng.integers(0, SPAN_US, size=n, dtype=np.int64)
    timestamp = pa.array(ts_us, pa.int64()).cast(pa.timestamp("us", tz="UTC"))

    score = pa.array(rng.normal(0.0, 10.0, size=n), pa.float64(), mask=rng.random(n) < 0.10)

    return pa.table(
        {
            "idx": pa.array(idx),
            "model": model,
            "latency": latency,
            "tokens": pa.array(tokens),
            "ok": ok,
            "user": user,
            "timestamp": timestamp,
            "score": score,
        }
    )


def make_models() -> pa.Table:
    """The join's right side: one model twice (many matches), one unused, one null key."""
    return pa.table(
        {
            "ridx": pa.array([0, 1, 2, 3, 4, 5], pa.int64()),
            "model": pa.array(["claude-3", "gpt-4o", "llama-3", "unused-model", None, "llama-3"], pa.string()),
            "provider": pa.array(["anthropic", "openai", "meta", "nobody", "null-key", "meta-hosted"], pa.string()),
            "price": pa.array([3.0, 5.0, 0.5, 1.0, 0.0, 0.7], pa.float64()),
        }
    )


def make_tables(n: int = N_ROWS, seed: int = SEED) -> dict[str, pa.Table]:
    return {"t": make_table(n, seed), "models": make_models()}


def duckdb_connection(tables: dict[str, pa.Table], threads: int | None = None):
    """A DuckDB connection scanning the Arrow tables in place, with the session time zone UTC."""
    import duckdb

    con = duckdb.connect()
    con.execute("SET TimeZone = 'UTC'")
    if threads:
        con.execute(f"SET threads = {int(threads)}")
    for name, table in tables.items():
        con.register(name, table)
    return con


def bench_sql(sql: str) -> str:
    """``sql`` without a final ``ORDER BY idx`` where DuckDB gives row order anyway.

    A plain projection or filter of ``t`` (no GROUP BY, window or join) keeps the scan order,
    since DuckDB preserves insertion order by default; the final sort is then pure overhead
    the weave side does not pay. The differential test checks both forms agree.
    """
    suffix = " FROM t ORDER BY idx"
    if any(word in sql for word in (" GROUP BY ", " OVER ", " JOIN ", " LIMIT ", " OFFSET ")):
        return sql
    if sql.endswith(suffix):
        return sql[: -len(" ORDER BY idx")]
    if sql.endswith(" ORDER BY idx") and " FROM t WHERE " in sql:
        return sql[: -len(" ORDER BY idx")]
    return sql


def run_sql(con, sql: str) -> pa.Table:
    rel = con.sql(sql)
    fetch = getattr(rel, "to_arrow_table", None) or rel.fetch_arrow_table
    return fetch()


@dataclass(frozen=True)
class Case:
    id: str
    weave: str
    sql: str
    kind: str  # "scalar" | "column" | "rows"
    ordered: bool = True


R = 'table("t").rows'
M = 'table("models").rows'

# SQL snippets reused below.
POS = "(SELECT *, row_number() OVER (PARTITION BY model ORDER BY idx) - 1 AS pos FROM t)"
LEFT30 = "(SELECT * FROM t WHERE idx < 30)"


def _bucket(width: str, col: str = '"timestamp"') -> str:
    return f"time_bucket(INTERVAL '{width}', {col}, {EPOCH})"


def _pymod(x: str, d: str) -> str:
    """Python's ``%`` (sign of the divisor) on top of DuckDB's C-style ``%``."""
    return f"(CASE WHEN ({d}) = 0 THEN NULL ELSE ((({x}) % ({d})) + ({d})) % ({d}) END)"


CASES: list[Case] = [
    # --- filters -------------------------------------------------------------------------------
    Case("filter_gt_count", f'{R}.filter(row => row["latency"] > 1.5).count',
         "SELECT count(*) FROM t WHERE latency > 1.5", "scalar"),
    Case("filter_and_idx", f'{R}.filter(row => row["latency"] > 1.0 && row["tokens"] < 500)["idx"]',
         "SELECT idx FROM t WHERE latency > 1.0 AND tokens < 500 ORDER BY idx", "column"),
    Case("filter_not_or_kleene", f'{R}.filter(row => !(row["ok"] || row["score"] > 5))["idx"]',
         "SELECT idx FROM t WHERE NOT (ok OR score > 5) ORDER BY idx", "column"),
    Case("filter_not_and_kleene", f'{R}.filter(row => !(row["ok"] && row["latency"] > 2)).count',
         "SELECT count(*) FROM t WHERE NOT (ok AND latency > 2)", "scalar"),
    Case("filter_and_or_words", f'{R}.filter(row => row["tokens"] > 1500 and (row["ok"] or row["score"] < -5)).count',
         "SELECT count(*) FROM t WHERE tokens > 1500 AND (ok OR score < -5)", "scalar"),
    Case("filter_eq_string", f'{R}.filter(row => row["model"] == "claude-3")["idx"]',
         "SELECT idx FROM t WHERE model IS NOT DISTINCT FROM 'claude-3' ORDER BY idx", "column"),
    # `==`/`!=` are null-safe (SPEC section 3): `==` is IS NOT DISTINCT FROM, `!=` IS DISTINCT FROM.
    Case("filter_ne_string_keeps_null", f'{R}.filter(row => row["model"] != "claude-3").count',
         "SELECT count(*) FROM t WHERE model IS DISTINCT FROM 'claude-3'", "scalar"),
    Case("filter_ne_null", f'{R}.filter(row => row["model"] != null)["idx"]',
         "SELECT idx FROM t WHERE model IS DISTINCT FROM NULL ORDER BY idx", "column"),
    Case("filter_eq_null", f'{R}.filter(row => row["score"] == null).count',
         "SELECT count(*) FROM t WHERE score IS NOT DISTINCT FROM NULL", "scalar"),
    Case("eq_two_columns_with_nulls", f'{R}.map(row => row["model"] == row["user"])',
         "SELECT model IS NOT DISTINCT FROM \"user\" FROM t ORDER BY idx", "column"),
    Case("ne_number_with_nulls", f'{R}.map(row => row["latency"] != 1.0)',
         "SELECT latency IS DISTINCT FROM 1.0 FROM t ORDER BY idx", "column"),
    Case("filter_isnone", f'{R}.filter(row => row["model"].isNone)["idx"]',
         "SELECT idx FROM t WHERE model IS NULL ORDER BY idx", "column"),
    Case("filter_not_isnone_le", f'{R}.filter(row => !row["score"].isNone && row["score"] <= 0).count',
         "SELECT count(*) FROM t WHERE score IS NOT NULL AND score <= 0", "scalar"),
    Case("filter_bool_column", f'{R}.filter(row => row["ok"]).count',
         "SELECT count(*) FROM t WHERE ok", "scalar"),
    Case("filter_not_bool_column", f'{R}.filter(row => !row["ok"]).count',
         "SELECT count(*) FROM t WHERE NOT ok", "scalar"),
    Case("filter_mixed_int_float", f'{R}.filter(row => row["score"] * 2 > row["tokens"] / 100)["idx"]',
         "SELECT idx FROM t WHERE score * 2 > tokens / 100 ORDER BY idx", "column"),
    Case("filter_startswith", f'{R}.filter(row => row["user"].startsWith("user_1")).count',
         "SELECT count(*) FROM t WHERE starts_with(\"user\", 'user_1')", "scalar"),
    Case("filter_contains", f'{R}.filter(row => row["user"].contains("min"))["idx"]',
         "SELECT idx FROM t WHERE contains(\"user\", 'min') ORDER BY idx", "column"),
    Case("filter_endswith", f'{R}.filter(row => row["model"].endsWith("-3")).count',
         "SELECT count(*) FROM t WHERE ends_with(model, '-3')", "scalar"),
    Case("filter_lower_eq", f'{R}.filter(row => row["user"].lower == "admin_2").count',
         "SELECT count(*) FROM t WHERE lower(\"user\") IS NOT DISTINCT FROM 'admin_2'", "scalar"),
    Case("filter_index_param", f'{R}.filter((row, index) => index % 100 == 0)["latency"]',
         "SELECT latency FROM t WHERE idx % 100 IS NOT DISTINCT FROM 0 ORDER BY idx", "column"),
    Case("filter_timestamp_ge", f'{R}.filter(row => row["timestamp"] >= Date("2024-05-02T00:00:00Z")).count',
         "SELECT count(*) FROM t WHERE \"timestamp\" >= TIMESTAMPTZ '2024-05-02 00:00:00+00'", "scalar"),
    # --- reducers over the whole table ----------------------------------------------------------
    Case("count_rows", f"{R}.count", "SELECT count(*) FROM t", "scalar"),
    Case("count_counts_nulls", f'{R}["score"].count', "SELECT count(*) FROM t", "scalar"),
    Case("dropna_count", f'{R}["score"].dropna.count', "SELECT count(score) FROM t", "scalar"),
    Case("dropna_ratio", f'{R}["latency"].dropna.count / {R}.count',
         "SELECT count(latency) / count(*) FROM t", "scalar"),
    Case("sum_float", f'{R}["latency"].sum', "SELECT coalesce(sum(latency), 0) FROM t", "scalar"),
    Case("sum_int", f'{R}["tokens"].sum', "SELECT sum(tokens)::BIGINT FROM t", "scalar"),
    Case("avg", f'{R}["latency"].avg', "SELECT avg(latency) FROM t", "scalar"),
    Case("min_float", f'{R}["score"].min', "SELECT min(score) FROM t", "scalar"),
    Case("max_int", f'{R}["tokens"].max', "SELECT max(tokens) FROM t", "scalar"),
    Case("stddev_pop", f'{R}["latency"].stddev', "SELECT stddev_pop(latency) FROM t", "scalar"),
    Case("variance_pop", f'{R}["score"].variance', "SELECT var_pop(score) FROM t", "scalar"),
    Case("median", f'{R}["latency"].median', "SELECT quantile_cont(latency, 0.5) FROM t", "scalar"),
    Case("quantile_95", f'{R}["latency"].quantile(0.95)', "SELECT quantile_cont(latency, 0.95) FROM t", "scalar"),
    Case("quantile_int_column", f'{R}["tokens"].quantile(0.25)', "SELECT quantile_cont(tokens, 0.25) FROM t", "scalar"),
    Case("count_distinct", f'{R}["user"].countDistinct', "SELECT count(DISTINCT \"user\") FROM t", "scalar"),
    Case("mode_string", f'{R}["model"].mode', "SELECT mode(model) FROM t", "scalar"),
    Case("argmax", f'{R}["latency"].argmax', "SELECT arg_max(idx, latency) FROM t", "scalar"),
    Case("argmin", f'{R}["score"].argmin', "SELECT arg_min(idx, score) FROM t", "scalar"),
    Case("quantile_0_and_1", f'[{R}["score"].quantile(0), {R}["score"].quantile(1)]',
         "SELECT list_value(quantile_cont(score, 0.0), quantile_cont(score, 1.0)) FROM t", "scalar"),
    Case("avg_int_gives_float", f'{R}["tokens"].avg', "SELECT avg(tokens) FROM t", "scalar"),
    Case("sum_all_null_is_0", f'{R}.filter(row => row["score"].isNone)["score"].sum',
         "SELECT coalesce(sum(score), 0.0) FROM t WHERE score IS NULL", "scalar"),
    Case("avg_empty_is_null", f'{R}.filter(row => row["tokens"] > 5000)["latency"].avg',
         "SELECT avg(latency) FROM t WHERE tokens > 5000", "scalar"),
    Case("index_in_and_out_of_range", f'[{R}["latency"][5], {R}["latency"][-1], {R}["latency"][100000]]',
         "SELECT list_value((SELECT latency FROM t WHERE idx = 5), (SELECT latency FROM t ORDER BY idx DESC LIMIT 1), NULL::DOUBLE)",
         "scalar"),  # SPEC 3: a negative index counts from the end
    Case("list_membership", f'[{R}["model"].contains("gemini"), {R}["model"].contains("nope"), {R}["model"].contains(null)]',
         "SELECT list_value(bool_or(model = 'gemini'), bool_or(coalesce(model = 'nope', false)), bool_or(model IS NULL)) FROM t",
         "scalar"),
    Case("flatten_pairs", f'{R}.limit(4).map(row => [row["tokens"], row["idx"]]).flatten',
         "SELECT flatten(list(list_value(tokens, idx) ORDER BY idx)) FROM t WHERE idx < 4", "scalar"),
    Case("avg_of_cond", f'{R}.map(row => row["ok"] ? 1 : 0).avg',
         "SELECT avg(CASE WHEN ok THEN 1 ELSE 0 END) FROM t", "scalar"),
    # --- group-bys ------------------------------------------------------------------------------
    Case("groupby_count", f'{R}.groupby(row => row["model"]).map(g => {{model: g.groupkey, n: g.count}})',
         "SELECT model, count(*) AS n FROM t GROUP BY model ORDER BY min(idx)", "rows"),
    Case("groupby_sum_avg",
         f'{R}.groupby(row => row["model"]).map(g => {{model: g.groupkey, s: g["latency"].sum, a: g["latency"].avg, '
         f'tok: g["tokens"].sum}})',
         "SELECT model, coalesce(sum(latency), 0) AS s, avg(latency) AS a, sum(tokens)::BIGINT AS tok "
         "FROM t GROUP BY model ORDER BY min(idx)", "rows"),
    Case("groupby_min_max",
         f'{R}.groupby(row => row["model"]).map(g => {{model: g.groupkey, lo: g["score"].min, hi: g["score"].max, '
         f'tmax: g["tokens"].max, tmin: g["tokens"].min}})',
         "SELECT model, min(score) AS lo, max(score) AS hi, max(tokens) AS tmax, min(tokens) AS tmin "
         "FROM t GROUP BY model ORDER BY min(idx)", "rows"),
    Case("groupby_stddev_variance",
         f'{R}.groupby(row => row["model"]).map(g => {{model: g.groupkey, sd: g["latency"].stddev, '
         f'var: g["score"].variance}})',
         "SELECT model, stddev_pop(latency) AS sd, var_pop(score) AS var FROM t GROUP BY model ORDER BY min(idx)",
         "rows"),
    Case("groupby_median_quantiles",
         f'{R}.groupby(row => row["model"]).map(g => {{model: g.groupkey, p50: g["latency"].median, '
         f'p90: g["latency"].quantile(0.9), p10: g["score"].quantile(0.1)}})',
         "SELECT model, quantile_cont(latency, 0.5) AS p50, quantile_cont(latency, 0.9) AS p90, "
         "quantile_cont(score, 0.1) AS p10 FROM t GROUP BY model ORDER BY min(idx)", "rows"),
    Case("groupby_count_distinct",
         f'{R}.groupby(row => row["model"]).map(g => {{model: g.groupkey, users: g["user"].countDistinct}})',
         "SELECT model, count(DISTINCT \"user\") AS users FROM t GROUP BY model ORDER BY min(idx)", "rows"),
    Case("groupby_mode",
         f'{R}.groupby(row => row["ok"]).map(g => {{ok: g.groupkey, m: g["model"].mode}})',
         "SELECT ok, mode(model) AS m FROM t GROUP BY ok ORDER BY min(idx)", "rows"),
    Case("groupby_mode_bool",
         f'{R}.groupby(row => row["model"]).map(g => {{model: g.groupkey, m: g["ok"].mode}})',
         "SELECT model, mode(ok) AS m FROM t GROUP BY model ORDER BY min(idx)", "rows"),
    Case("groupby_argmax_argmin",
         f'{R}.groupby(row => row["model"]).map(g => {{model: g.groupkey, amax: g["latency"].argmax, '
         f'amin: g["score"].argmin}})',
         f"SELECT model, arg_max(pos, latency) AS amax, arg_min(pos, score) AS amin FROM {POS} "
         "GROUP BY model ORDER BY min(idx)", "rows"),
    Case("groupby_dropna_count",
         f'{R}.groupby(row => row["model"]).map(g => {{model: g.groupkey, n: g["score"].dropna.count}})',
         "SELECT model, count(score) AS n FROM t GROUP BY model ORDER BY min(idx)", "rows"),
    Case("groupby_bool_key",
         f'{R}.groupby(row => row["ok"]).map(g => {{ok: g.groupkey, n: g.count, tok: g["tokens"].sum}})',
         "SELECT ok, count(*) AS n, sum(tokens)::BIGINT AS tok FROM t GROUP BY ok ORDER BY min(idx)", "rows"),
    Case("groupby_multi_key",
         f'{R}.groupby(row => {{model: row["model"], ok: row["ok"]}}).map(g => {{model: g.groupkey["model"], '
         f'ok: g.groupkey["ok"], n: g.count, a: g["latency"].avg}})',
         "SELECT model, ok, count(*) AS n, avg(latency) AS a FROM t GROUP BY model, ok ORDER BY min(idx)", "rows"),
    Case("groupby_multi_key_groupkey",
         f'{R}.groupby(row => {{u: row["user"], m: row["model"]}}).map(g => g.groupkey)',
         "SELECT struct_pack(u := \"user\", m := model) AS k FROM t GROUP BY \"user\", model ORDER BY min(idx)",
         "column"),
    Case("groupby_group_count", f'{R}.groupby(row => row["user"]).count',
         "SELECT count(*) FROM (SELECT DISTINCT \"user\" FROM t)", "scalar"),
    Case("groupby_sorted_desc",
         f'{R}.groupby(row => row["user"]).map(g => {{user: g.groupkey, n: g.count}})'
         '.sort(r => [r["n"], r["user"]], ["desc", "asc"]).limit(10)',
         "SELECT \"user\", count(*) AS n FROM t GROUP BY \"user\" ORDER BY n DESC, \"user\" ASC NULLS LAST LIMIT 10",
         "rows"),
    Case("groupby_computed_key",
         f'{R}.groupby(row => row["tokens"] % 4).map(g => {{k: g.groupkey, n: g.count, hi: g["latency"].max}})',
         "SELECT tokens % 4 AS k, count(*) AS n, max(latency) AS hi FROM t GROUP BY k ORDER BY min(idx)", "rows"),
    Case("groupby_having",
         f'{R}.groupby(row => row["user"]).filter(g => g.count > 50).map(g => {{user: g.groupkey, n: g.count}})',
         "SELECT \"user\", count(*) AS n FROM t GROUP BY \"user\" HAVING count(*) > 50 ORDER BY min(idx)", "rows"),
    Case("groupby_mapped_reducer",
         f'{R}.groupby(row => row["model"]).map(g => {{model: g.groupkey, cost: g.map(r => r["tokens"] * 2 + 1).sum, '
         f'slow: g.filter(r => r["latency"] > 2).count}})',
         "SELECT model, sum(tokens * 2 + 1)::BIGINT AS cost, count(*) FILTER (WHERE latency > 2) AS slow "
         "FROM t GROUP BY model ORDER BY min(idx)", "rows"),
    Case("groupby_dashboard_idiom",
         f'{R}.groupby(row => row["model"]).map(g => {{model: g.groupkey, n: g.count, p95: g["latency"].quantile(0.95), '
         f'ok: g["ok"].map(o => o ? 1 : 0).avg, users: g["user"].countDistinct, tok: g["tokens"].avg}})'
         '.sort(r => [r["p95"]], ["desc"])',
         "SELECT model, count(*) AS n, quantile_cont(latency, 0.95) AS p95, avg(CASE WHEN ok THEN 1 ELSE 0 END) AS ok, "
         "count(DISTINCT \"user\") AS users, avg(tokens) AS tok FROM t GROUP BY model ORDER BY p95 DESC NULLS LAST, min(idx)",
         "rows"),
    Case("groupby_all_null_group",
         f'{R}.groupby(row => row["score"].isNone).map(g => {{k: g.groupkey, s: g["score"].sum, a: g["score"].avg, '
         f'lo: g["score"].min, sd: g["score"].stddev, p50: g["score"].median, d: g["score"].countDistinct, '
         f'm: g["score"].mode, am: g["score"].argmax}})',
         "SELECT score IS NULL AS k, coalesce(sum(score), 0.0) AS s, avg(score) AS a, min(score) AS lo, "
         "stddev_pop(score) AS sd, quantile_cont(score, 0.5) AS p50, count(DISTINCT score) AS d, "
         # every score is distinct, so weave's mode (ties -> smallest value) is the minimum
         "min(score) AS m, "
         "arg_max(pos, score) AS am "
         "FROM (SELECT *, row_number() OVER (PARTITION BY score IS NULL ORDER BY idx) - 1 AS pos FROM t) "
         "GROUP BY k ORDER BY min(idx)", "rows"),
    Case("groupby_raw_groups", f'{R}.filter(row => row["idx"] < 25).groupby(row => row["model"])',
         "SELECT model AS groupkey, list(t ORDER BY idx) AS rows FROM t WHERE idx < 25 GROUP BY model ORDER BY min(idx)",
         "rows"),
    # --- sorts, limit, offset ------------------------------------------------------------------
    Case("sort_asc_nulls_last", f'{R}.sort(row => [row["score"]], ["asc"])["idx"]',
         "SELECT idx FROM t ORDER BY score ASC NULLS LAST, idx", "column"),
    Case("sort_desc_nulls_last", f'{R}.sort(row => [row["score"]], ["desc"])["idx"]',
         "SELECT idx FROM t ORDER BY score DESC NULLS LAST, idx", "column"),
    Case("sort_two_keys",
         f'{R}.sort(row => [row["model"], row["latency"]], ["asc", "desc"])["idx"]',
         "SELECT idx FROM t ORDER BY model ASC NULLS LAST, latency DESC NULLS LAST, idx", "column"),
    Case("sort_missing_dir_is_asc", f'{R}.sort(row => [row["user"], row["tokens"]], ["desc"])["idx"]',
         "SELECT idx FROM t ORDER BY \"user\" DESC NULLS LAST, tokens ASC NULLS LAST, idx", "column"),
    Case("sort_computed_key", f'{R}.sort(row => [row["latency"] * row["tokens"]], ["desc"]).limit(50)["idx"]',
         "SELECT idx FROM t ORDER BY latency * tokens DESC NULLS LAST, idx LIMIT 50", "column"),
    Case("sort_bool_key", f'{R}.sort(row => [row["ok"]], ["desc"])["idx"]',
         "SELECT idx FROM t ORDER BY ok DESC NULLS LAST, idx", "column"),
    Case("sort_limit", f'{R}.sort(row => [row["latency"]], ["desc"]).limit(10)["latency"]',
         "SELECT latency FROM t ORDER BY latency DESC NULLS LAST, idx LIMIT 10", "column"),
    Case("sort_offset_limit", f'{R}.sort(row => [row["timestamp"]], ["asc"]).offset(20).limit(15)["idx"]',
         "SELECT idx FROM t ORDER BY \"timestamp\" NULLS LAST, idx LIMIT 15 OFFSET 20", "column"),
    Case("limit_rows", f"{R}.limit(7)", "SELECT * FROM t ORDER BY idx LIMIT 7", "rows"),
    Case("offset_past_end", f'{R}.offset(5000)["idx"]', "SELECT idx FROM t ORDER BY idx OFFSET 5000", "column"),
    Case("limit_zero_count", f"{R}.limit(0).count", "SELECT 0::BIGINT", "scalar"),
    Case("offset_count", f"{R}.offset(1990).count", "SELECT count(*) FROM (SELECT * FROM t OFFSET 1990)", "scalar"),
    Case("first_last", f'[{R}["latency"].first, {R}["latency"].last]',
         "SELECT list_value(first(latency ORDER BY idx), last(latency ORDER BY idx)) FROM t", "scalar"),
    # --- joins ---------------------------------------------------------------------------------
    Case("join_inner_count",
         f'{R}.join({M}, a => a["model"], b => b["model"], "a", "b", false, false).count',
         "SELECT count(*) FROM t l JOIN models r ON l.model = r.model", "scalar"),
    Case("join_inner_pairs",
         f'{R}.join({M}, a => a["model"], b => b["model"], "a", "b", false, false)'
         '.map(r => {i: r["a"]["idx"], p: r["b"]["provider"]})',
         "SELECT l.idx AS i, r.provider AS p FROM t l JOIN models r ON l.model = r.model ORDER BY l.idx, r.ridx",
         "rows"),
    Case("join_left",
         f'{R}.join({M}, a => a["model"], b => b["model"], "a", "b", true, false)'
         '.map(r => {i: r["a"]["idx"], p: r["b"]["price"]})',
         "SELECT l.idx AS i, r.price AS p FROM t l LEFT JOIN models r ON l.model = r.model ORDER BY l.idx, r.ridx",
         "rows"),
    Case("join_right",
         f'{R}.join({M}, a => a["model"], b => b["model"], "a", "b", false, true)'
         '.map(r => {i: r["a"]["idx"], p: r["b"]["provider"]})',
         "SELECT l.idx AS i, r.provider AS p FROM t l RIGHT JOIN models r ON l.model = r.model "
         "ORDER BY l.idx NULLS LAST, r.ridx", "rows"),
    Case("join_full",
         f'{R}.join({M}, a => a["model"], b => b["model"], "a", "b", true, true)'
         '.map(r => {i: r["a"]["idx"], j: r["b"]["ridx"]})',
         "SELECT l.idx AS i, r.ridx AS j FROM t l FULL JOIN models r ON l.model = r.model "
         "ORDER BY l.idx NULLS LAST, r.ridx", "rows"),
    Case("join_full_whole_rows",
         f'{R}.filter(row => row["idx"] < 30).join({M}, a => a["model"], b => b["model"], "a", "b", true, true)',
         f"SELECT CASE WHEN l.idx IS NULL THEN NULL ELSE l END AS a, CASE WHEN r.ridx IS NULL THEN NULL ELSE r END AS b "
         f"FROM {LEFT30} l FULL JOIN models r ON l.model = r.model ORDER BY l.idx NULLS LAST, r.ridx", "rows"),
    Case("join_self_many_to_many",
         f'{R}.limit(120).join({R}.limit(120), x => x["user"], y => y["user"], "x", "y", false, false)'
         '.map(r => {x: r["x"]["idx"], y: r["y"]["idx"]})',
         "WITH s AS (SELECT * FROM t WHERE idx < 120) SELECT x.idx AS x, y.idx AS y FROM s x JOIN s y "
         "ON x.\"user\" = y.\"user\" ORDER BY x.idx, y.idx", "rows"),
    Case("join_then_groupby",
         f'{R}.join({M}, a => a["model"], b => b["model"], "a", "b", false, false)'
         '.groupby(r => r["b"]["provider"]).map(g => {p: g.groupkey, cost: g.map(r => r["a"]["tokens"] * r["b"]["price"]).sum})',
         "SELECT r.provider AS p, sum(l.tokens * r.price) AS cost FROM t l JOIN models r ON l.model = r.model "
         "GROUP BY r.provider ORDER BY min(l.idx * 10 + r.ridx)", "rows"),
    # --- timestamps ----------------------------------------------------------------------------
    Case("floor_5m", f'{R}["timestamp"].floor("5m")',
         f"SELECT {_bucket('5 minutes')} FROM t ORDER BY idx", "column"),
    Case("floor_h", f'{R}.map(row => row["timestamp"].floor("h"))',
         f"SELECT {_bucket('1 hour')} FROM t ORDER BY idx", "column"),
    Case("floor_d", f'{R}["timestamp"].floor("d")',
         f"SELECT {_bucket('1 day')} FROM t ORDER BY idx", "column"),
    Case("floor_90s", f'{R}["timestamp"].floor("90s")',
         f"SELECT {_bucket('90 seconds')} FROM t ORDER BY idx", "column"),
    Case("floor_2h", f'{R}["timestamp"].floor("2h")',
         f"SELECT {_bucket('2 hours')} FROM t ORDER BY idx", "column"),
    Case("ceil_h", f'{R}["timestamp"].ceil("h")',
         f"SELECT CASE WHEN {_bucket('1 hour')} = \"timestamp\" THEN \"timestamp\" "
         f"ELSE {_bucket('1 hour')} + INTERVAL '1 hour' END FROM t ORDER BY idx", "column"),
    Case("to_timestamp", f'{R}["tokens"].toTimestamp', "SELECT epoch_ms(tokens) FROM t ORDER BY idx", "column"),
    Case("timestamp_compare_floor", f'{R}.filter(row => row["timestamp"].floor("h") == Date("2024-05-02T00:00:00Z")).count',
         f"SELECT count(*) FROM t WHERE {_bucket('1 hour')} IS NOT DISTINCT FROM TIMESTAMPTZ '2024-05-02 00:00:00+00'",
         "scalar"),
    Case("ceil_15m", f'{R}["timestamp"].ceil("15m")',
         f"SELECT CASE WHEN {_bucket('15 minutes')} = \"timestamp\" THEN \"timestamp\" "
         f"ELSE {_bucket('15 minutes')} + INTERVAL '15 minutes' END FROM t ORDER BY idx", "column"),
    Case("groupby_time_bucket",
         f'{R}.groupby(row => row["timestamp"].floor("5m")).map(g => {{bucket: g.groupkey, n: g.count, '
         f'p50: g["latency"].median}})',
         f"SELECT {_bucket('5 minutes')} AS bucket, count(*) AS n, quantile_cont(latency, 0.5) AS p50 "
         "FROM t GROUP BY bucket ORDER BY min(idx)", "rows"),
    Case("groupby_hour_sorted",
         f'{R}.groupby(row => row["timestamp"].floor("h")).map(g => {{h: g.groupkey, tok: g["tokens"].sum}})'
         '.sort(r => [r["h"]], ["asc"])',
         f"SELECT {_bucket('1 hour')} AS h, sum(tokens)::BIGINT AS tok FROM t GROUP BY h ORDER BY h", "rows"),
    Case("timestamp_minus_ms", f'{R}.map(row => row["timestamp"] - Date("2024-05-01T21:00:00Z"))',
         "SELECT (epoch_us(\"timestamp\") - epoch_us(TIMESTAMPTZ '2024-05-01 21:00:00+00')) / 1000.0 "
         "FROM t ORDER BY idx", "column"),
    Case("timestamp_range_ms", f'{R}["timestamp"].max - {R}["timestamp"].min',
         "SELECT (epoch_us(max(\"timestamp\")) - epoch_us(min(\"timestamp\"))) / 1000.0 FROM t", "scalar"),
    Case("timestamp_to_number", f'{R}["timestamp"].toNumber',
         "SELECT epoch_us(\"timestamp\") / 1000.0 FROM t ORDER BY idx", "column"),
    Case("timestamp_max", f'{R}["timestamp"].max', "SELECT max(\"timestamp\") FROM t", "scalar"),
    # --- strings -------------------------------------------------------------------------------
    Case("str_lower", f'{R}["model"].lower', "SELECT lower(model) FROM t ORDER BY idx", "column"),
    Case("str_upper", f'{R}["user"].upper', "SELECT upper(\"user\") FROM t ORDER BY idx", "column"),
    Case("str_len", f'{R}["user"].len', "SELECT length(\"user\") FROM t ORDER BY idx", "column"),
    # On a list, `contains` is list membership; the string op needs a map.
    Case("str_contains", f'{R}.map(row => row["model"].contains("l"))',
         "SELECT contains(model, 'l') FROM t ORDER BY idx", "column"),
    Case("str_compare", f'{R}.map(row => row["user"] < "user_10")',
         "SELECT \"user\" < 'user_10' FROM t ORDER BY idx", "column"),
    Case("int_to_string", f'{R}["tokens"].toString', "SELECT CAST(tokens AS VARCHAR) FROM t ORDER BY idx", "column"),
    Case("join_to_str_null_as_empty", f'{R}.limit(40)["user"].joinToStr(",")',
         "SELECT string_agg(coalesce(\"user\", ''), ',' ORDER BY idx) FROM t WHERE idx < 40", "scalar"),
    Case("str_startswith_lower", f'{R}["model"].lower.startsWith("gpt")',
         "SELECT starts_with(lower(model), 'gpt') FROM t ORDER BY idx", "column"),
    Case("str_replace", f'{R}["user"].replace("_", "-")',
         "SELECT replace(\"user\", '_', '-') FROM t ORDER BY idx", "column"),
    Case("str_slice", f'{R}["user"].slice(0, 4)', "SELECT substring(\"user\", 1, 4) FROM t ORDER BY idx", "column"),
    Case("str_slice_negative", f'{R}["user"].slice(1, -1)',
         "SELECT substring(\"user\", 2, greatest(length(\"user\") - 2, 0)) FROM t ORDER BY idx", "column"),
    Case("str_slice_negative_start", f'{R}["user"].slice(-3, 100)',
         "SELECT right(\"user\", 3) FROM t ORDER BY idx", "column"),
    Case("str_strip", f'{R}.map(row => (" " + row["user"] + "  ").strip)',
         "SELECT trim(' ' || \"user\" || '  ') FROM t ORDER BY idx", "column"),
    Case("str_split", f'{R}["user"].split("_")', "SELECT string_split(\"user\", '_') FROM t ORDER BY idx", "column"),
    Case("str_find_all", f'{R}["user"].findAll("[0-9]+|[A-Z]")',
         "SELECT regexp_extract_all(\"user\", '[0-9]+|[A-Z]') FROM t ORDER BY idx", "column"),
    Case("str_to_number", f'{R}["user"].slice(5, 7).toNumber',
         "SELECT TRY_CAST(substring(\"user\", 6, 2) AS DOUBLE) FROM t ORDER BY idx", "column"),
    Case("groupby_upper_key",
         f'{R}.groupby(row => row["user"].upper.slice(0, 3)).map(g => {{k: g.groupkey, n: g.count}})',
         "SELECT upper(substring(\"user\", 1, 3)) AS k, count(*) AS n FROM t GROUP BY k ORDER BY min(idx)", "rows"),
    Case("str_concat", f'{R}.map(row => row["user"] + "@" + row["model"])',
         "SELECT \"user\" || '@' || model FROM t ORDER BY idx", "column"),
    Case("str_len_avg", f'{R}["user"].len.avg', "SELECT avg(length(\"user\")) FROM t", "scalar"),
    # --- arithmetic ----------------------------------------------------------------------------
    Case("div_by_zero_null", f'{R}.map(row => row["latency"] / row["tokens"])',
         "SELECT latency / nullif(tokens, 0) FROM t ORDER BY idx", "column"),
    Case("int_div_float", f'{R}["tokens"] / 8', "SELECT tokens / 8 FROM t ORDER BY idx", "column"),
    Case("mod_positive_divisor", f'{R}.map(row => (row["tokens"] - 1000) % 7)',
         f"SELECT {_pymod('tokens - 1000', '7')} FROM t ORDER BY idx", "column"),
    Case("mod_negative_divisor", f'{R}.map(row => (row["tokens"] - 1000) % -7)',
         f"SELECT {_pymod('tokens - 1000', '-7')} FROM t ORDER BY idx", "column"),
    Case("mod_zero_divisor", f'{R}.map(row => row["tokens"] % (row["tokens"] % 5))',
         f"SELECT {_pymod('tokens', 'tokens % 5')} FROM t ORDER BY idx", "column"),
    Case("mod_float", f'{R}["score"] % 1.5',
         "SELECT CASE WHEN fmod(score, 1.5) < 0 THEN fmod(score, 1.5) + 1.5 ELSE fmod(score, 1.5) END "
         "FROM t ORDER BY idx", "column"),
    Case("pow_gives_float", f'{R}["tokens"] ** 2', "SELECT pow(tokens, 2) FROM t ORDER BY idx", "column"),
    Case("arith_nulls", f'{R}.map(row => row["score"] * 2 + row["latency"] - row["tokens"] / 3)',
         "SELECT score * 2 + latency - tokens / 3 FROM t ORDER BY idx", "column"),
    Case("unary_minus_precedence", f'{R}.map(row => -row["tokens"] + row["tokens"] * 2 % 7 ** 2)',
         f"SELECT -tokens + {_pymod('tokens * 2', '49.0::DOUBLE')} FROM t ORDER BY idx", "column"),
    Case("round_half_away", f'{R}.map(row => ((row["tokens"] - 1000) / 8).round)',
         "SELECT round((tokens - 1000) / 8) FROM t ORDER BY idx", "column"),
    Case("round_digits", f'{R}["score"].round(2)', "SELECT round(score, 2) FROM t ORDER BY idx", "column"),
    Case("abs_floor_ceil", f'{R}.map(row => [row["score"].abs, row["score"].floor, row["score"].ceil])',
         "SELECT list_value(abs(score), floor(score), ceil(score)) FROM t ORDER BY idx", "column"),
    Case("floor_int_stays_int", f'({R}["tokens"] - 1000).floor', "SELECT tokens - 1000 FROM t ORDER BY idx", "column"),
    Case("sqrt_log_exp", f'{R}.map(row => [row["latency"].sqrt, row["latency"].log, (row["score"] / 10).exp])',
         "SELECT list_value(sqrt(latency), ln(latency), exp(score / 10)) FROM t ORDER BY idx", "column"),
    Case("deviation_squared_sum", f'(({R}["latency"] - {R}["latency"].avg) ** 2).sum',
         "SELECT coalesce(sum(pow(latency - (SELECT avg(latency) FROM t), 2)), 0) FROM t", "scalar"),
    Case("kleene_or_column", f'{R}.map(row => row["ok"] || row["score"] > 0)',
         "SELECT ok OR score > 0 FROM t ORDER BY idx", "column"),
    Case("kleene_and_column", f'{R}.map(row => row["ok"] && row["latency"] < 1)',
         "SELECT ok AND latency < 1 FROM t ORDER BY idx", "column"),
    Case("not_column", f'{R}.map(row => !row["ok"])', "SELECT NOT ok FROM t ORDER BY idx", "column"),
    Case("compare_with_nulls", f'{R}.map(row => row["latency"] > row["score"])',
         "SELECT latency > score FROM t ORDER BY idx", "column"),
    Case("eq_with_nulls", f'{R}.map(row => row["model"] == "gemini")',
         "SELECT model IS NOT DISTINCT FROM 'gemini' FROM t ORDER BY idx", "column"),
    Case("isnone_column", f'{R}["user"].isNone', "SELECT \"user\" IS NULL FROM t ORDER BY idx", "column"),
    # --- coalesce, cond, unique ----------------------------------------------------------------
    Case("coalesce_chain", f'{R}.map(row => row["score"] ?? row["latency"] ?? -1.0)',
         "SELECT coalesce(score, latency, -1.0) FROM t ORDER BY idx", "column"),
    Case("coalesce_string", f'{R}["model"] ?? "unknown"',
         "SELECT coalesce(model, 'unknown') FROM t ORDER BY idx", "column"),
    Case("cond_null_is_false", f'{R}.map(row => row["ok"] ? row["tokens"] : -1)',
         "SELECT CASE WHEN ok THEN tokens ELSE -1 END FROM t ORDER BY idx", "column"),
    Case("cond_strings", f'{R}.map(row => row["latency"] > 1 ? "slow" : "fast")',
         "SELECT CASE WHEN latency > 1 THEN 'slow' ELSE 'fast' END FROM t ORDER BY idx", "column"),
    Case("unique_keeps_null_first_order", f'{R}["model"].unique',
         "SELECT model FROM t GROUP BY model ORDER BY min(idx)", "column"),
    Case("unique_count", f'{R}["user"].unique.count',
         "SELECT count(*) FROM (SELECT DISTINCT \"user\" FROM t)", "scalar"),
    Case("unique_as_set", f'{R}.map(row => row["tokens"] % 10).unique',
         "SELECT DISTINCT tokens % 10 FROM t", "column", ordered=False),
    # --- windows and bins ----------------------------------------------------------------------
    Case("rolling_avg", f'{R}["latency"].rolling(w => w.avg, 5)',
         "SELECT avg(latency) OVER (ORDER BY idx ROWS BETWEEN 4 PRECEDING AND CURRENT ROW) FROM t ORDER BY idx",
         "column"),
    Case("rolling_sum_all_null_window_is_0", f'{R}["score"].rolling(w => w.sum, 3)',
         "SELECT coalesce(sum(score) OVER (ORDER BY idx ROWS BETWEEN 2 PRECEDING AND CURRENT ROW), 0) "
         "FROM t ORDER BY idx", "column"),
    Case("rolling_window_1", f'{R}["score"].rolling(w => w.avg, 1)', "SELECT score FROM t ORDER BY idx", "column"),
    Case("rolling_max_int", f'{R}["tokens"].rolling(w => w.max, 10)',
         "SELECT max(tokens) OVER (ORDER BY idx ROWS BETWEEN 9 PRECEDING AND CURRENT ROW) FROM t ORDER BY idx",
         "column"),
    Case("rolling_min_sorted", f'{R}.sort(row => [row["timestamp"]], ["asc"])["latency"].rolling(w => w.min, 4)',
         "SELECT min(latency) OVER (ORDER BY \"timestamp\", idx ROWS BETWEEN 3 PRECEDING AND CURRENT ROW) AS m "
         "FROM t ORDER BY \"timestamp\", idx", "column"),
    Case("bin_fixed", f'{R}["latency"].bin(binsfixed(0.5))',
         "SELECT CASE WHEN latency IS NULL THEN NULL ELSE struct_pack(start := floor(latency / 0.5) * 0.5, "
         "stop := floor(latency / 0.5) * 0.5 + 0.5) END FROM t ORDER BY idx", "column"),
    Case("bin_equal", f'{R}["latency"].bin(binsequal(10))',
         "WITH b AS (SELECT min(latency) AS lo, (max(latency) - min(latency)) / 10 AS w FROM t) "
         "SELECT CASE WHEN latency IS NULL THEN NULL ELSE struct_pack("
         "start := lo + least(floor((latency - lo) / w), 9) * w, "
         "stop := lo + (least(floor((latency - lo) / w), 9) + 1) * w) END FROM t, b ORDER BY idx", "column"),
    Case("groupby_bin_start",
         f'{R}.groupby(row => row["latency"].bin(binsfixed(0.5))["start"]).map(g => {{b: g.groupkey, n: g.count}})',
         "SELECT floor(latency / 0.5) * 0.5 AS b, count(*) AS n FROM t GROUP BY b ORDER BY min(idx)", "rows"),
]


# -- comparison ------------------------------------------------------------------------------------


def _is_int(x: Any) -> bool:
    return isinstance(x, int) and not isinstance(x, bool)


def _num(x: Any) -> bool:
    return (_is_int(x) or isinstance(x, (float, Decimal))) and not isinstance(x, bool)


def _us(x: dt.datetime) -> int:
    if x.tzinfo is None:
        x = x.replace(tzinfo=dt.UTC)
    delta = x - dt.datetime(1970, 1, 1, tzinfo=dt.UTC)
    return (delta.days * 86400 + delta.seconds) * 1_000_000 + delta.microseconds


def diff(got: Any, expected: Any, path: str = "$", rel: float = 1e-9, abs_tol: float = 1e-12) -> str | None:
    """None if equal, else a description of the first difference (with its path).

    Floats within ``rel`` relative (``abs_tol`` near zero), NaN equals NaN; ints must be ints
    where the SQL gives ints and floats where it gives floats (``3`` vs ``3.0`` is a type
    difference: the semantics fix which ops give ints); booleans are not numbers; datetimes
    compare by instant; dict key order is ignored.
    """
    if got is None or expected is None:
        return None if got is None and expected is None else f"{path}: got {got!r}, expected {expected!r}"
    if isinstance(got, bool) or isinstance(expected, bool):
        ok = isinstance(got, bool) and isinstance(expected, bool) and got == expected
        return None if ok else f"{path}: got {got!r}, expected {expected!r}"
    if _num(got) and _num(expected):
        if isinstance(expected, Decimal):  # DuckDB decimal literals; the SQL casts where the type matters
            expected = float(expected)
        if _is_int(got) != _is_int(expected):
            return f"{path}: got {got!r} ({type(got).__name__}), expected {expected!r} ({type(expected).__name__})"
        if _is_int(got):
            return None if got == expected else f"{path}: got {got!r}, expected {expected!r}"
        fg, fe = float(got), float(expected)
        if math.isnan(fg) or math.isnan(fe):
            return None if math.isnan(fg) and math.isnan(fe) else f"{path}: got {got!r}, expected {expected!r}"
        if math.isinf(fg) or math.isinf(fe):
            return None if fg == fe else f"{path}: got {got!r}, expected {expected!r}"
        if abs(fg - fe) <= max(rel * max(abs(fg), abs(fe)), abs_tol):
            return None
        return f"{path}: got {got!r}, expected {expected!r}"
    if isinstance(got, dt.datetime) and isinstance(expected, dt.datetime):
        return None if _us(got) == _us(expected) else f"{path}: got {got.isoformat()}, expected {expected.isoformat()}"
    if isinstance(got, (list, tuple)) and isinstance(expected, (list, tuple)):
        if len(got) != len(expected):
            return f"{path}: got {len(got)} elements, expected {len(expected)}"
        for i, (g, e) in enumerate(zip(got, expected)):
            d = diff(g, e, f"{path}[{i}]", rel, abs_tol)
            if d:
                return d
        return None
    if isinstance(got, dict) and isinstance(expected, dict):
        if set(got) != set(expected):
            return f"{path}: got keys {sorted(got)}, expected keys {sorted(expected)}"
        for k in expected:
            d = diff(got[k], expected[k], f"{path}[{k!r}]", rel, abs_tol)
            if d:
                return d
        return None
    if type(got) is type(expected) and got == expected:
        return None
    return f"{path}: got {got!r} ({type(got).__name__}), expected {expected!r} ({type(expected).__name__})"


def sql_expected(case: Case, table: pa.Table) -> Any:
    """The SQL result in the shape weave gives for ``case.kind``."""
    if case.kind == "scalar":
        assert table.num_rows == 1 and table.num_columns == 1, f"scalar SQL gave {table.shape}"
        return table.column(0)[0].as_py()
    if case.kind == "column":
        assert table.num_columns == 1, f"column SQL gave {table.num_columns} columns"
        return table.column(0).to_pylist()
    if case.kind == "rows":
        return table.to_pylist()
    raise ValueError(f"unknown kind {case.kind!r}")


def sort_key(value: Any) -> tuple:
    """A total order over plain values, for the ``ordered=False`` cases."""
    if value is None:
        return (0,)
    if isinstance(value, bool):
        return (1, value)
    if _num(value):
        f = float(value)
        return (2, math.isnan(f), 0.0 if math.isnan(f) else f)
    if isinstance(value, dt.datetime):
        return (3, _us(value))
    if isinstance(value, str):
        return (4, value)
    if isinstance(value, dict):
        return (5, tuple((k, sort_key(v)) for k, v in sorted(value.items())))
    if isinstance(value, (list, tuple)):
        return (6, tuple(sort_key(v) for v in value))
    return (7, repr(value))
