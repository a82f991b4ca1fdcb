"""Budgets: ``evaluate(..., max_memory=, timeout=)`` stop what would take the machine.

One test per class of resource exhaustion, each run in a child process that measures its own
resident memory while it evaluates (a thread samples ``/proc/self/statm``): the evaluation must
raise a ResourceLimitError, its memory must stay within the budget and its time within the
timeout plus a small margin.  Then the Budget object itself, the service defaults, the command
line options, and queries that must *not* be refused.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
import threading
import time
from pathlib import Path

import numpy as np
import pyarrow as pa
import pytest
from click.testing import CliRunner

import weave_lite
from weave_lite import budgets
from weave_lite.budgets import Budget, parse_bytes, parse_seconds, service_defaults
from weave_lite.errors import (
    EvaluationCancelled,
    MemoryLimitError,
    ResourceLimitError,
    TimeLimitError,
    WeaveError,
)

MiB = 1024**2
REPO = Path(__file__).resolve().parents[2]
LINUX = Path("/proc/self/statm").exists()

# A child process: build the table, warm up, evaluate under the budget while a thread samples
# the resident memory, print what happened as JSON.
_CHILD = textwrap.dedent(
    """
    import json, os, resource, sys, threading, time
    import numpy as np, pyarrow as pa
    resource.setrlimit(resource.RLIMIT_AS, (12 * 1024**3, 12 * 1024**3))  # a failure must not take the machine
    import weave_lite
    from weave_lite.budgets import memory_in_use

    spec = json.loads(sys.argv[1])
    n = spec["rows"]
    rng = np.random.default_rng(0)
    table = pa.table({
        "lat": rng.random(n),
        "model": pa.array([f"m{i % 5}" for i in range(n)]),
        "i": np.arange(n, dtype=np.int64),
        "k": np.zeros(n, dtype=np.int64),
    })
    tables = {"t": table}
    for warm in spec.get("warm", []):
        weave_lite.to_python(weave_lite.evaluate(warm, tables=tables))

    peak = [0]
    done = threading.Event()
    def sample():
        while not done.is_set():
            peak[0] = max(peak[0], memory_in_use())
            time.sleep(0.002)
    base = memory_in_use()
    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    start = time.perf_counter()
    try:
        result = weave_lite.evaluate(spec["expr"], tables=tables, max_memory=spec.get("max_memory"), timeout=spec.get("timeout"))
        outcome = {"result": repr(weave_lite.to_python(result))[:200]}
    except weave_lite.WeaveError as exc:
        outcome = {"error": type(exc).__name__, "message": str(exc), "limit_error": isinstance(exc, weave_lite.ResourceLimitError)}
    elapsed = time.perf_counter() - start
    done.set()
    sampler.join()
    outcome.update(elapsed=elapsed, growth=max(0, max(peak[0], memory_in_use()) - base))
    print(json.dumps(outcome))
    """
)

T = 'table("t").rows'


def _run_child(expr: str, rows: int, *, max_memory: int | None = None, timeout: float | None = None, warm=()) -> dict:
    spec = {"expr": expr, "rows": rows, "max_memory": max_memory, "timeout": timeout, "warm": list(warm)}
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    proc = subprocess.run(
        [sys.executable, "-c", _CHILD, json.dumps(spec)], capture_output=True, text=True, timeout=300, env=env
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    return json.loads(proc.stdout.strip().splitlines()[-1])


def _assert_stopped(outcome: dict, error: type[ResourceLimitError], *, max_memory: int, seconds: float) -> None:
    assert outcome.get("limit_error"), outcome
    assert outcome["error"] == error.__name__, outcome
    assert outcome["growth"] <= max_memory, f"memory grew by {outcome['growth'] / MiB:.0f} MiB: {outcome}"
    assert outcome["elapsed"] <= seconds, outcome


# -- the resource-limit classes -------------------------------------------------------------------


@pytest.mark.skipif(not LINUX, reason="measures resident memory through /proc")
def test_flatten_of_a_nested_map_is_refused_before_allocating():
    """The 88-character expression that reached 6 GiB in 1.7 s: 20k x 20k values."""
    outcome = _run_child(f'{T}.map(a => {T}["lat"]).flatten.count', 20_000, max_memory=256 * MiB, timeout=10)
    _assert_stopped(outcome, MemoryLimitError, max_memory=256 * MiB, seconds=10 + 0.5)
    assert "`table` read again for each of 20,000 elements" in outcome["message"]
    assert "max_memory is 256 MiB" in outcome["message"]


@pytest.mark.skipif(not LINUX, reason="measures resident memory through /proc")
@pytest.mark.parametrize(
    "expr",
    [
        f'{T}.map(a => {T}.filter(b => b["lat"] > a["lat"]).count).sum',
        f'{T}.filter(a => {T}.map(b => b["i"]).contains(a["i"])).count',
        f'{T}.map(a => {T}.map(b => b["lat"] + a["lat"]).max).avg',
    ],
    ids=["filter-in-map", "map-in-filter", "map-in-map"],
)
def test_nested_maps_and_filters_over_the_whole_table_are_refused(expr):
    outcome = _run_child(expr, 20_000, max_memory=256 * MiB, timeout=10)
    _assert_stopped(outcome, MemoryLimitError, max_memory=256 * MiB, seconds=10 + 0.5)


@pytest.mark.skipif(not LINUX, reason="measures resident memory through /proc")
@pytest.mark.parametrize(
    "key",
    ["1", '"same"', 'r["k"]', 'r["model"]'],
    ids=["constant", "constant-string", "constant-column", "five-values"],
)
def test_joins_on_a_constant_or_low_cardinality_key_are_refused(key):
    """The output is counted from the key buckets before anything is built: 400M (or 80M) rows."""
    expr = f'{T}.join({T}, r => {key}, r => {key}, "a", "b").count'
    outcome = _run_child(expr, 20_000, max_memory=256 * MiB, timeout=10)
    _assert_stopped(outcome, MemoryLimitError, max_memory=256 * MiB, seconds=10 + 0.5)
    assert "`join` (" in outcome["message"] and "rows)" in outcome["message"]


@pytest.mark.skipif(not LINUX, reason="measures resident memory through /proc")
def test_a_profile_per_group_stops_at_the_deadline():
    """``groupby(...).map(g => g.profile)`` took 133 s of CPU on 60k rows: the deadline is
    checked between groups."""
    expr = f'{T}.groupby(r => r["i"]).map(g => g.profile).count'
    warm = [f'{T}.limit(50).groupby(r => r["i"]).map(g => g.profile).count']
    outcome = _run_child(expr, 60_000, max_memory=256 * MiB, timeout=2, warm=warm)
    _assert_stopped(outcome, TimeLimitError, max_memory=256 * MiB, seconds=2 + 1.0)
    assert outcome["elapsed"] >= 2
    assert "the timeout is 2 s" in outcome["message"]


@pytest.mark.skipif(not LINUX, reason="measures resident memory through /proc")
@pytest.mark.parametrize(
    "expr",
    [
        "{a: " * 10_000 + "1" + "}" * 10_000,
        "[" * 10_000 + "]" * 10_000,
        "-" * 10_000 + "1",
        "x => " * 10_000 + "x",
        "[1]" + ".abs" * 10_000,
    ],
    ids=["dicts", "lists", "unary", "lambdas", "members"],
)
def test_deep_nesting_is_refused(expr):
    outcome = _run_child(expr, 10, max_memory=256 * MiB, timeout=5)
    _assert_stopped(outcome, ResourceLimitError, max_memory=256 * MiB, seconds=5 + 0.5)
    assert "nested too deeply" in outcome["message"]


@pytest.mark.parametrize(
    "text",
    [
        "{a: " * 199 + "1" + "}" * 199,
        "[" * 200 + "1" + "]" * 200,
        "-" * 199 + "1",
        "!" * 199 + "true",
        "(" * 200 + "1" + ")" * 200,
        "1" + " + 1" * 198,
        "true ? 1 : " * 199 + "0",
        "[1]" + ".abs" * 198,
        "[1].map(x0 => " + "".join(f"[x{i}].map(x{i + 1} => " for i in range(65)) + "x0" + ")" * 66,
        "{a: " * 100 + "1" + "}" * 100 + '["a"]' * 99,
    ],
    ids=["dicts", "lists", "neg", "not", "parens", "adds", "conds", "members", "lambdas", "picks"],
)
def test_nesting_below_the_limit_gives_a_result_in_every_layer(text, monkeypatch):
    """``{a:`` nested 199 deep raised RecursionError (printing its type in explain); every layer
    must work below the limit, even with a stack already deep (a web server, a test runner)."""
    monkeypatch.setattr(sys, "getrecursionlimit", sys.getrecursionlimit)  # restored afterwards

    def deep(levels: int):
        if levels:
            return deep(levels - 1)
        compiled = weave_lite.compile(text)
        compiled.explain()
        result = weave_lite.to_python(weave_lite.evaluate(text, max_memory=256 * MiB, timeout=10))
        weave_lite.graph.printer.render(weave_lite.lang.parse(text))
        return result

    deep(300)


# -- what must not be refused ---------------------------------------------------------------------


def test_ordinary_queries_fit_in_a_small_budget():
    n = 200_000
    rng = np.random.default_rng(1)
    t = pa.table({"lat": rng.random(n), "model": pa.array([f"m{i % 7}" for i in range(n)]), "i": np.arange(n)})
    u = pa.table({"i": np.arange(0, n, 2), "w": rng.random(n // 2)})
    small = pa.table({"w": rng.random(500)})
    tables = {"t": t, "u": u, "small": small}
    limits = {"max_memory": 256 * MiB, "timeout": 30}
    queries = [
        f'{T}.filter(r => r["lat"] > 0.5).count',
        f'{T}.groupby(r => r["model"]).map(g => {{m: g.groupkey, n: g.count, p: g["lat"].quantile(0.95)}})',
        f'{T}.join(table("u").rows, a => a["i"], b => b["i"], "a", "b").count',
        f'{T}.map(r => r["model"] + "-" + r["i"].toString).unique.count',
        f'{T}.sort(r => [r["lat"]], ["desc"]).limit(5)["i"]',
        f'{T}.limit(2000).map(a => table("small").rows.filter(b => b["w"] > a["lat"]).count).sum',
        f'{T}.groupby(r => r["model"]).map(g => g.profile).count',
    ]
    # Numba compiles each kernel once per install (seconds, the GIL held): not the query's cost.
    # A first unbudgeted pass and its background compiles leave the steady state measured.
    for q in queries:
        weave_lite.evaluate(q, tables=tables)
    for thread in threading.enumerate():
        if thread.name == "weave-lite-jit":
            thread.join()
    for q in queries:
        assert weave_lite.to_python(weave_lite.evaluate(q, tables=tables, **limits)) is not None, q


def test_no_budget_by_default():
    budget = Budget()
    assert not budget.limited and not budget.tracks_memory
    budget.admit(10**15, "anything")
    budget.charge(10**15, "anything")
    budget.check()


# -- the Budget object ----------------------------------------------------------------------------


def test_admit_refuses_what_does_not_fit_and_names_the_estimate():
    budget = Budget(max_memory=64 * MiB)
    budget.admit(1 * MiB, "a little")
    with pytest.raises(MemoryLimitError) as info:
        budget.admit(3 * 1024**3, "`join` (400,000,000 rows)")
    error = info.value
    assert error.limit == 64 * MiB and error.estimate >= 3 * 1024**3
    assert str(error).startswith("expression needs too much memory: `join` (400,000,000 rows) would allocate about 3 GiB")
    assert "max_memory is 64 MiB" in str(error)
    with pytest.raises(MemoryLimitError):  # once stopped, every later check stops too
        budget.check()


def test_charge_measures_what_is_really_in_use():
    budget = Budget(max_memory=64 * MiB)
    budget.charge(1 * MiB, "`map`")
    with pytest.raises(MemoryLimitError, match="in use after `big`"):
        budget.charge(65 * MiB, "`big`")  # one result larger than the budget
    if LINUX:
        budget = Budget(max_memory=64 * MiB)
        held = np.ones(128 * MiB // 8)  # touched: resident
        with pytest.raises(MemoryLimitError):
            budget.charge(0, "`held`")
        assert budget.peak >= 100 * MiB
        del held


def test_the_deadline():
    budget = Budget(timeout=0.05)
    budget.check()
    time.sleep(0.06)
    with pytest.raises(TimeLimitError) as info:
        budget.check()
    assert info.value.limit == 0.05 and info.value.elapsed >= 0.05
    assert "the timeout is 0.05 s" in str(info.value)


def test_bad_limits_are_value_errors():
    for bad in (-1, 0, float("nan"), float("inf"), "1G", True):
        with pytest.raises(ValueError):
            Budget(max_memory=bad)
        with pytest.raises(ValueError):
            Budget(timeout=bad)
    with pytest.raises(ValueError, match="not both"):
        weave_lite.evaluate("1", budget=Budget(), timeout=1)


def test_cancel_from_another_thread_stops_an_evaluation():
    n = 20_000
    tables = {"t": pa.table({"i": np.arange(n), "lat": np.random.default_rng(0).random(n)})}
    budget = Budget(timeout=60)
    errors: list[BaseException] = []

    def evaluate() -> None:
        try:
            weave_lite.evaluate(f'{T}.groupby(r => r["i"]).map(g => g.profile).count', tables=tables, budget=budget)
        except BaseException as exc:  # examined below
            errors.append(exc)

    worker = threading.Thread(target=evaluate)
    worker.start()
    time.sleep(0.3)
    cancelled = time.perf_counter()
    budget.cancel("the client disconnected")
    worker.join(10)
    assert not worker.is_alive()
    assert time.perf_counter() - cancelled < 3.0  # a few milliseconds; generous: CI machines are shared
    assert len(errors) == 1 and isinstance(errors[0], EvaluationCancelled), errors
    assert "evaluation cancelled: the client disconnected" in str(errors[0])


def test_the_deadline_is_checked_between_morsels():
    n = 400_000
    tables = {"t": pa.table({"i": np.arange(n), "s": pa.array([f"row {i}" for i in range(n)])})}
    expr = f'{T}.map(r => r["s"].upper.lower.replace("o", "0").split(" ")).flatten.count'
    start = time.perf_counter()
    with pytest.raises(TimeLimitError):
        weave_lite.evaluate(expr, tables=tables, morsel_rows=2_000, threads=2, timeout=0.02)
    assert time.perf_counter() - start < 5.0  # generous: CI machines are shared
    assert weave_lite.evaluate(expr, tables={"t": tables["t"].slice(0, 2_000)}, morsel_rows=500, timeout=30) == 4_000


def test_second_line_of_defence_stops_growth_no_estimate_foresaw():
    """Strings doubled by chained maps: each step's output is estimated, and the memory in use
    is measured after every kernel."""
    expr = '["ab"]' + ".map(s => s + s)" * 40
    with pytest.raises(MemoryLimitError):
        weave_lite.evaluate(expr, max_memory=128 * MiB, timeout=30)
    expr = '"ab"' + '.replace("a", "aa")' * 60
    with pytest.raises(ResourceLimitError):
        weave_lite.evaluate(expr, max_memory=128 * MiB, timeout=30)


def test_a_constant_materialised_over_a_large_frame_is_refused():
    n = 100_000
    tables = {"t": pa.table({"i": np.arange(n)})}
    expr = f'{T}.map(r => r["i"] > 0 ? "{"y" * 50_000}" : "").count'
    with pytest.raises(MemoryLimitError, match="`cond` would allocate"):
        weave_lite.evaluate(expr, tables=tables, max_memory=256 * MiB)


def test_a_list_variable_broadcast_into_every_row_is_refused():
    n = 50_000
    tables = {"t": pa.table({"i": np.arange(n)})}
    values = list(range(50_000))
    with pytest.raises(MemoryLimitError, match="`xs` repeated for 50,000 elements"):
        weave_lite.evaluate(f'{T}.map(r => xs.map(x => x + r["i"]).sum).sum', tables=tables, vars={"xs": values}, max_memory=256 * MiB)


def test_budget_errors_point_at_the_op():
    tables = {"t": pa.table({"k": np.zeros(20_000, dtype=np.int64)})}
    with pytest.raises(MemoryLimitError) as info:
        weave_lite.evaluate(f'{T}.join({T}, a => a["k"], b => b["k"], "a", "b").count', tables=tables, max_memory=64 * MiB)
    lines = str(info.value).splitlines()
    assert lines[0].startswith("expression needs too much memory: `join` (400,000,000 rows) would allocate about")
    assert lines[1].strip().startswith('table("t").rows.join(') and set(lines[2].strip()) == {"^"}


# -- service defaults and the command line --------------------------------------------------------


def test_service_defaults_come_from_the_environment():
    assert service_defaults({}) == {"max_memory": 2 * 1024**3, "timeout": 30.0}
    env = {"WEAVE_LITE_MAX_MEMORY": "512M", "WEAVE_LITE_TIMEOUT": "1.5"}
    assert service_defaults(env) == {"max_memory": 512 * MiB, "timeout": 1.5}
    assert service_defaults({"WEAVE_LITE_MAX_MEMORY": "none", "WEAVE_LITE_TIMEOUT": "0"}) == {"max_memory": None, "timeout": None}
    with pytest.raises(ValueError, match="WEAVE_LITE_MAX_MEMORY"):
        service_defaults({"WEAVE_LITE_MAX_MEMORY": "lots"})
    with pytest.raises(ValueError, match="WEAVE_LITE_TIMEOUT"):
        service_defaults({"WEAVE_LITE_TIMEOUT": "-3"})
    assert weave_lite.evaluate("1 + 1", **service_defaults({})) == 2


def test_parse_bytes_and_seconds():
    assert parse_bytes("2147483648") == 2**31
    assert parse_bytes("2GiB") == parse_bytes("2G") == parse_bytes("2 gb") == 2 * 1024**3
    assert parse_bytes("1.5k") == 1536
    assert parse_bytes("") is None and parse_bytes(None, 7) == 7
    assert parse_seconds("30") == 30.0 and parse_seconds("unlimited") is None
    assert budgets.format_bytes(256 * MiB) == "256 MiB" and budgets.format_bytes(6.4e9) == "6.0 GiB"


def test_query_command_takes_budgets(monkeypatch, tmp_path):
    from weave_lite.cli import main

    runner = CliRunner()
    monkeypatch.delenv("WEAVE_LITE_MAX_MEMORY", raising=False)
    monkeypatch.delenv("WEAVE_LITE_TIMEOUT", raising=False)
    root = ["--root", str(tmp_path)]
    ok = runner.invoke(main, ["query", "[1, 2].map(x => x * 2)", "--format", "json", "--max-memory", "1G", "--timeout", "5", *root])
    assert ok.exit_code == 0 and ok.output.strip() == "[2, 4]", ok.output
    expr = "[1]" + ".map(x => [x, x, x, x]).flatten" * 14 + ".count"
    refused = runner.invoke(main, ["query", expr, "--max-memory", "8M", *root])
    assert refused.exit_code == 1 and "max_memory is 8 MiB" in refused.output, refused.output
    monkeypatch.setenv("WEAVE_LITE_MAX_MEMORY", "8M")
    from_env = runner.invoke(main, ["query", expr, *root])
    assert from_env.exit_code == 1 and "max_memory is 8 MiB" in from_env.output, from_env.output
    bad = runner.invoke(main, ["query", "1", "--timeout", "soon", *root])
    assert bad.exit_code == 1 and "--timeout must be a number of seconds" in bad.output


def test_evaluate_and_execute_take_the_same_budget_keywords():
    import inspect

    for fn in (weave_lite.evaluate, weave_lite.api.CompiledExpression.execute):
        params = inspect.signature(fn).parameters
        assert params["max_memory"].default is None and params["timeout"].default is None
    compiled = weave_lite.compile("[1].map(x => [x, x, x, x]).flatten" + ".map(x => [x, x, x, x]).flatten" * 13 + ".count")
    with pytest.raises(MemoryLimitError):
        compiled.execute(max_memory=8 * MiB)
    assert isinstance(MemoryLimitError("x"), WeaveError)
