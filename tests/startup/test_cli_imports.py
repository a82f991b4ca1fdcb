"""A fresh ``weave-lite query`` process loads neither Numba nor pandas for a count or a
per-group quantile (issue 15): kernels are registered per op area on first use, the group-by
kernels run in numpy until Numba is ready, and pyarrow's pandas shim is primed without pandas."""

from __future__ import annotations

from pathlib import Path

import pyarrow as pa

from tests.startup.cli_process import run_cli
from weave_lite import StreamTable


def _heavy(modules: list[str]) -> list[str]:
    return [m for m in modules if m.split(".")[0] in ("numba", "llvmlite", "pandas")]


def _log(tmp_path: Path) -> None:
    with StreamTable("e/p/t", root=tmp_path / "data") as st:
        st.log(pa.table({"m": [f"m{i % 3}" for i in range(300)], "x": [float(i) for i in range(300)]}))


def test_a_count_loads_no_numba_and_no_pandas(tmp_path: Path) -> None:
    _log(tmp_path)
    result, modules = run_cli(tmp_path, 'stream_table("e/p/t").rows.count')
    assert result == 300
    assert _heavy(modules) == []


def test_a_per_group_quantile_loads_no_numba_and_no_pandas(tmp_path: Path) -> None:
    _log(tmp_path)
    expr = 'stream_table("e/p/t").rows.groupby(r => r["m"]).map(g => {m: g.groupkey, p: g["x"].quantile(0.95)}).sort(r => [r["m"]])'
    result, modules = run_cli(tmp_path, expr)
    import numpy as np

    expected = [{"m": f"m{k}", "p": float(np.quantile(np.arange(k, 300, 3, dtype=float), 0.95))} for k in range(3)]
    assert result == expected
    assert _heavy(modules) == []
