"""``import weave_lite`` loads no kernels: Numba, the compiled kernel modules and
``pyarrow.dataset`` (which loads pandas) are imported on the first query that needs them.

Each check runs in a fresh interpreter: in this process other tests have loaded everything."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

# Modules a fresh ``import weave_lite`` must not load (prefix match), and why.
HEAVY = (
    "numba",  # ~0.3 s, with llvmlite
    "llvmlite",
    "weave_lite.execute.ops.",  # the op areas' kernels (some import Numba); the package is empty
    "pyarrow.dataset",  # loads pandas (~0.2 s)
    "pandas",
    "lark",  # the parser's library (~0.1 s): loaded on the first parse
    "pyarrow.compute",  # ~0.1 s: loaded by the first query (weave_lite.lazy)
    "pyarrow.fs",  # with ssl: loaded when a table is first opened
)
# weave_lite.kernels.* are Numba modules, apart from the fused kernel's plain opcodes (which the
# planner's fusing rewrite reads).
NUMBA_FREE_KERNEL_MODULES = {"weave_lite.kernels", "weave_lite.kernels.opcodes", "weave_lite.kernels.numpy_grouping"}

CHILD = r"""
import json, sys
import weave_lite
loaded = sorted(sys.modules)
from weave_lite import StreamTable, evaluate
after_names = sorted(sys.modules)
root = sys.argv[1]
with StreamTable("e/p/t", root=root) as st:
    for i in range(100):
        st.log({"m": "a" if i % 3 else "b", "x": float(i)})
count = evaluate('stream_table("e/p/t").rows().count()', root=root)
total = evaluate('stream_table("e/p/t").rows().map(r => r["x"] * 2 + 1).sum()', root=root)
groups = evaluate('stream_table("e/p/t").rows().groupby(r => r["m"]).map(g => {m: g.groupkey, n: g.count}).sort(r => [r["m"]])', root=root)
print(json.dumps({"loaded": loaded, "after_names": after_names, "count": count, "total": total,
                  "groups": groups.to_pylist(), "numba": "numba" in sys.modules}))
"""


def _child(tmp_path: Path) -> dict:
    env = dict(os.environ, PYTHONPATH=str(ROOT), NUMBA_CACHE_DIR=str(tmp_path / "numba"))
    out = subprocess.run(
        [sys.executable, "-c", CHILD, str(tmp_path / "data")], env=env, capture_output=True, text=True, check=True
    )
    return json.loads(out.stdout)


def test_import_loads_no_kernels_and_a_query_then_loads_them(tmp_path: Path) -> None:
    result = _child(tmp_path)
    for names in (result["loaded"], result["after_names"]):  # also after `from weave_lite import ...`
        heavy = [
            m
            for m in names
            if any(m.startswith(h) if h.endswith(".") else m == h or m.startswith(h + ".") for h in HEAVY)
        ]
        assert heavy == []
        kernels = {m for m in names if m.startswith("weave_lite.kernels")}
        assert kernels <= NUMBA_FREE_KERNEL_MODULES
    # Logging and querying still work, kernels loaded on demand.
    assert result["count"] == 100
    assert result["total"] == sum(2.0 * i + 1 for i in range(100))
    assert result["groups"] == [{"m": "a", "n": 66}, {"m": "b", "n": 34}]
    assert result["numba"]
