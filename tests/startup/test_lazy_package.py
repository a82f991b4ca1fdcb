"""``import weave_lite`` imports none of its dependencies (issue 15: <= 0.25 s): every public
name is imported from its module on first use (the package's module ``__getattr__``)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import weave_lite

ROOT = Path(__file__).resolve().parents[2]


def _fresh(code: str) -> dict:
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def test_import_loads_no_dependency() -> None:
    result = _fresh(
        "import json, sys; import weave_lite; "
        "print(json.dumps(sorted(m for m in sys.modules if m.split('.')[0] in "
        "('numpy', 'pyarrow', 'numba', 'llvmlite', 'lark', 'pandas', 'click') or m.startswith('weave_lite.'))))"
    )
    assert result == []


def test_public_names_still_import_and_work(tmp_path: Path) -> None:
    code = f"""
import json, sys
from weave_lite import StreamTable, evaluate, to_python, WeaveError, ParseError
import weave_lite
root = {str(tmp_path)!r}
with StreamTable("e/p/t", root=root) as st:
    st.log({{"x": 1.5}})
    st.log({{"x": 2.5}})
n = evaluate('stream_table("e/p/t").rows.count', root=root)
try:
    evaluate("1 +", root=root)
    parse_error = None
except ParseError as e:
    parse_error = isinstance(e, WeaveError)
# the subpackage weave_lite.compile is loaded by now: weave_lite.compile is still the function
import weave_lite.compile.planner
compiled = weave_lite.compile('stream_table("e/p/t").rows["x"].sum')
print(json.dumps({{"n": n, "parse_error": parse_error, "callable": callable(weave_lite.compile),
                  "sum": to_python(compiled.execute(root=root))}}))
"""
    assert _fresh(code) == {"n": 2, "parse_error": True, "callable": True, "sum": 4.0}


def test_every_exported_name_resolves_and_the_lazy_map_agrees() -> None:
    lazy = weave_lite._LAZY  # type: ignore[attr-defined]
    assert set(lazy) | {"show", "serve"} == set(weave_lite.__all__)
    for name in weave_lite.__all__:
        assert getattr(weave_lite, name) is not None
        assert name in dir(weave_lite)
    assert callable(weave_lite.compile)
    from weave_lite.api import compile as api_compile
    from weave_lite.storage.table import open_dataset
    from weave_lite.stream_table import StreamTable

    assert weave_lite.compile is api_compile
    assert weave_lite.dataset is open_dataset
    assert weave_lite.StreamTable is StreamTable


def test_an_unknown_name_is_an_attribute_error() -> None:
    try:
        weave_lite.no_such_name  # type: ignore[attr-defined]  # noqa: B018
    except AttributeError as exc:
        assert "no_such_name" in str(exc)
    else:
        raise AssertionError("expected AttributeError")


def test_the_op_catalog_is_complete_whichever_module_reads_it_first() -> None:
    """The server lists ops without having planned anything (the planner used to load them)."""
    result = _fresh(
        "import json; from weave_lite.graph.registry import all_ops; "
        "from weave_lite.server.app import ops_listing; "
        "print(json.dumps([len(all_ops()), sorted(set(ops_listing()['names']) & "
        "{'count', 'filter', 'groupby', 'quantile', 'stream_table'})]))"
    )
    assert result[0] > 50
    assert result[1] == ["count", "filter", "groupby", "quantile", "stream_table"]


def test_a_dask_worker_finds_kernels_without_importing_the_api() -> None:
    """A worker imports weave_lite.distributed to run a task (not weave_lite.api, which sets
    the area loader for the processes that evaluate)."""
    result = _fresh(
        "import json, sys; import weave_lite.distributed; from weave_lite.execute import executor; "
        "from weave_lite.graph.registry import lookup; "
        "keys = [o.key for o in lookup('count').overloads]; "
        "print(json.dumps([any(executor.kernel_for(k) is not None for k in keys), 'weave_lite.api' in sys.modules]))"
    )
    assert result == [True, False]
