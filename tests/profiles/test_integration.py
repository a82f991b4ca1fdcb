"""The profile op in expressions and the StreamTable option that keeps rotating profiles."""

from __future__ import annotations

import datetime as dt
import re

import numpy as np
import pyarrow as pa
import pytest

from weave_lite import StreamTable, evaluate, to_python
from weave_lite.profiles import profile_table, read


def test_profile_op_equals_profile_table():
    rng = np.random.default_rng(3)
    table = pa.table({"lat": rng.lognormal(3, 1, 5000), "model": rng.choice(["a", "b", "c"], 5000), "n": rng.integers(0, 9, 5000)})
    got = {r["column"]: r for r in to_python(evaluate('table("t").rows.profile', tables={"t": table}))}
    want = {r["column"]: r for r in profile_table(table).to_arrow().to_pylist()}
    assert set(got) == {"lat", "model", "n"}
    for column, row in want.items():
        for metric in ("count", "null_count", "min", "max", "mean", "stddev", "distinct_est"):
            assert got[column][metric] == pytest.approx(row[metric], rel=1e-9, nan_ok=True) if isinstance(row[metric], float) else got[column][metric] == row[metric]
    assert got["lat"]["median"] == pytest.approx(np.median(table["lat"]), rel=0.02)


def test_profile_per_group_and_over_a_stream_table(root):
    st = StreamTable("e/p/t")
    st.log([{"model": m, "lat": float(i)} for i, m in enumerate(["a", "b"] * 50)])
    st.finish()
    per_group = to_python(
        evaluate(
            'stream_table("e/p/t").rows.groupby(r => r["model"]).map(g => {m: g.groupkey, p: g.profile.filter(c => c["column"] == "lat")[0]["count"]})'
        )
    )
    assert per_group == [{"m": "a", "p": 50}, {"m": "b", "p": 50}]


def test_stream_table_keeps_rotating_profiles(root):
    st = StreamTable("e/p/t", profile_rotation="h")
    st.log([{"x": float(i), "s": str(i % 3)} for i in range(300)])
    st.finish()
    files = sorted(p.name for p in st.profile_folder.iterdir())
    hour = dt.datetime.now(dt.UTC).strftime("%Y-%m-%d_%H")
    assert len(files) == 1 and re.fullmatch(rf"e\.p\.t_profile\.{hour}\.bin", files[0]), files
    profile = {r["column"]: r for r in read(st.profile_folder / files[0]).to_arrow().to_pylist()}
    assert profile["x"]["count"] == 300 and profile["x"]["max"] == 299.0
    assert "_client_id" not in profile and "timestamp" in profile


def test_bad_rotation_is_refused_at_once(root):
    with pytest.raises(ValueError):
        StreamTable("e/p/t", profile_rotation="5 minutes")
