"""Page timings of a sorted N-row table through the worker's run_job: every page evaluated
anew (before) against pages cut from the worker's kept result (after). Also the first open and
a group-by. ``python benchmarks/sorted_paging.py [N]``"""

from __future__ import annotations

import sys
import tempfile
import time

import pyarrow as pa

from weave_lite import StreamTable
from weave_lite.api import evaluate
from weave_lite.server.result_cache import ResultCache
from weave_lite.server.worker import Engine, EvalJob, run_job


def main(n: int) -> None:
    root = tempfile.mkdtemp()
    st = StreamTable("e/p/t", root=root)
    st.log(pa.table({"x": pa.array(range(n)), "g": pa.array([i % 50 for i in range(n)])}))
    st.flush()
    engine = Engine(evaluate)
    sort = 'stream_table("e/p/t").rows.sort((r) => [r["x"]], ["desc"])'
    group = 'stream_table("e/p/t").rows.groupby((r) => r["g"])'

    def ms(expr, offset, cache):
        t = time.perf_counter()
        status, body = run_job(engine, EvalJob(0, expr, offset, 50), root, cache=cache)
        assert status == 200, body
        return (time.perf_counter() - t) * 1000

    rows = 'stream_table("e/p/t").rows'
    print(f"open rows: {ms(rows, 0, None):.1f} ms")
    print(f"group-by page 1: {ms(group, 0, None):.1f} ms")
    before = [ms(sort, 50 * i, None) for i in range(3)]
    cache = ResultCache()
    after = [ms(sort, 50 * i, cache) for i in range(3)]
    print(f"sorted pages 1-3, no kept result: {', '.join(f'{t:.1f}' for t in before)} ms")
    print(f"sorted pages 1-3, kept result:    {', '.join(f'{t:.1f}' for t in after)} ms")
    print(f"page-2 ratio before/after: {before[1] / after[1]:.0f}x")


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 1_000_000)
