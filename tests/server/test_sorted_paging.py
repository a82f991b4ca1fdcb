"""Paging a sorted result evaluates (and sorts) it once, not once per page, and a commit makes
the next page see the new data."""

from __future__ import annotations

from weave_lite import StreamTable
from weave_lite.api import evaluate
from weave_lite.server.result_cache import ResultCache
from weave_lite.server.worker import Engine, EvalJob, run_job

EXPR = 'stream_table("e/p/t").rows.sort((r) => [r["x"]], ["desc"])'


def _table(root, n):
    st = StreamTable("e/p/t", root=root)
    st.log([{"x": i} for i in range(n)])
    st.flush()
    return st


def test_pages_of_a_sorted_result_sort_once(tmp_path):
    _table(tmp_path, 1000)
    sorts = []

    def counting(expr, *, root=None, budget=None):
        sorts.append(expr)  # each call runs the whole query, its sort included
        return evaluate(expr, root=root, budget=budget)

    engine, cache = Engine(counting), ResultCache()
    pages = [run_job(engine, EvalJob(i, EXPR, i * 100, 100), str(tmp_path), cache=cache) for i in range(3)]
    assert [status for status, _ in pages] == [200, 200, 200]
    assert [body["rows"][0]["x"] for _, body in pages] == [999, 899, 799]
    assert len(sorts) == 1 and cache.evaluations == 1


def test_a_commit_makes_the_next_page_evaluate_again(tmp_path):
    st = _table(tmp_path, 10)
    engine, cache = Engine(evaluate), ResultCache()
    _, first = run_job(engine, EvalJob(1, EXPR, 0, 5), str(tmp_path), cache=cache)
    st.log([{"x": 100}])
    st.flush()
    _, second = run_job(engine, EvalJob(2, EXPR, 0, 5), str(tmp_path), cache=cache)
    assert first["rows"][0]["x"] == 9 and second["rows"][0]["x"] == 100
    assert cache.evaluations == 2 and second["total"] == 11
