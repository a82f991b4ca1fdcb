"""A fresh ``weave-lite query`` for a count or a per-group quantile imports neither
``pyarrow.compute`` (~45 ms: its ~300 Python wrappers), ``pyarrow.fs`` (with ssl), nor the
optional modules pyarrow and Lark import just in case (``cloudpickle``, ``regex``); and the
Arrow calls made instead of ``pyarrow.compute``'s give its answers."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pytest

from tests.startup.cli_process import ROOT, run_cli
from weave_lite import StreamTable
from weave_lite.cli import lean_imports
from weave_lite.execute.encodings import string_codes
from weave_lite.execute.vectors import take_rows
from weave_lite.lazy import call_compute
from weave_lite.storage.filesystem import LogFileSystem

UNUSED = ("pyarrow.compute", "pyarrow.fs", "pyarrow.dataset", "ssl", "cloudpickle", "regex")


def _log(tmp_path: Path) -> None:
    with StreamTable("e/p/t", root=tmp_path / "data") as st:
        st.log(pa.table({"m": [f"m{i % 3}" for i in range(300)], "x": [float(i) for i in range(300)]}))
        st.log(pa.table({"m": ["m1", None, "m0"], "x": [1000.0, 5.0, None]}))  # a second segment, a null key


@pytest.mark.parametrize(
    ("expr", "want"),
    [
        ('stream_table("e/p/t").rows.count', 303),
        (
            'stream_table("e/p/t").rows.groupby(r => r["m"]).map(g => {m: g.groupkey, n: g.count, '
            'p: g["x"].quantile(0.95)})',
            None,
        ),
    ],
)
def test_a_query_loads_none_of_the_unused_modules(tmp_path: Path, expr: str, want: object) -> None:
    _log(tmp_path)
    result, modules = run_cli(tmp_path, expr)
    if want is None:  # the group-by: against numpy
        xs = {f"m{k}": [float(i) for i in range(k, 300, 3)] for k in range(3)}
        xs["m1"].append(1000.0)
        want = [{"m": k, "n": len(v) + (k == "m0"), "p": float(np.quantile(v, 0.95))} for k, v in sorted(xs.items())]
        want.append({"m": None, "n": 1, "p": 5.0})
        result = sorted(result, key=lambda r: (r["m"] is None, r["m"] or ""))
    assert result == want
    assert [m for m in modules if m in UNUSED] == []


def test_hidden_modules_stay_importable_afterwards() -> None:
    code = (
        "import sys; from weave_lite.cli import lean_imports; lean_imports.preload(); "
        "assert 'pyarrow' in sys.modules and 'lark' in sys.modules; "
        "import importlib.util as u; print(all(u.find_spec(m) is not None for m in ('regex', 'cloudpickle') "
        "if m in {'regex', 'cloudpickle'}) and not any(type(f).__name__ == '_Hide' for f in sys.meta_path))"
    )
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "True"


def test_hidden_refuses_only_inside_and_only_names_not_yet_imported() -> None:
    with lean_imports.hidden("json", "weave_lite_no_such_module"):
        import json as again  # already imported: unaffected

        assert again is json
        with pytest.raises(ImportError):
            import weave_lite_no_such_module  # noqa: F401
    assert not any(isinstance(f, lean_imports._Hide) for f in sys.meta_path)


def _strings(n: int, seed: int, nulls: bool) -> pa.Array:
    rng = np.random.default_rng(seed)
    values = [f"k{v}" for v in rng.integers(0, 5, n)]
    mask = rng.random(n) < 0.2 if nulls else np.zeros(n, bool)
    return pa.array([None if m else v for v, m in zip(values, mask)], type=pa.string())


@pytest.mark.parametrize("n", [0, 1, 7, 70_000])
@pytest.mark.parametrize("nulls", [False, True])
def test_call_compute_gives_pyarrow_computes_answers(n: int, nulls: bool) -> None:
    array = _strings(n, n, nulls)
    assert call_compute("dictionary_encode", array).equals(pc.dictionary_encode(array))
    indices = pa.array(np.random.default_rng(1).integers(0, max(n, 1), 50) if n else [], type=pa.int64())
    assert call_compute("take", array, indices).equals(pc.take(array, indices))
    if n:
        with pytest.raises(IndexError):  # bounds are checked, as pc.take does
            call_compute("take", array, pa.array([n], type=pa.int64()))


@pytest.mark.parametrize("chunks", [1, 3])
def test_take_rows_and_string_codes_match_pyarrow_compute(chunks: int) -> None:
    parts = [_strings(n, n, True) for n in (70_000, 5, 1000)[:chunks]]
    column = pa.chunked_array(parts, type=pa.string())
    indices = np.random.default_rng(2).permutation(len(column))[:500]
    assert take_rows(column, indices).to_pylist() == pc.take(column, pa.array(indices)).to_pylist()
    codes = string_codes(column)
    values = column.to_pylist()
    assert len(codes) == len(values)
    by_value: dict = {}
    for v, c in zip(values, codes):
        assert by_value.setdefault(v, c) == c  # equal strings share a code
    assert len(set(by_value.values())) == len(by_value)
    assert by_value.get(None, 0) == 0  # nulls are code 0


def test_log_file_system_makes_its_arrow_file_system_on_first_use(tmp_path: Path) -> None:
    fs = LogFileSystem(tmp_path)
    assert "arrow_fs" not in vars(fs)
    arrow = fs.arrow_filesystem()
    assert type(arrow).__name__ == "LocalFileSystem"
    assert fs.arrow_fs is arrow
