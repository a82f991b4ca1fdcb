"""Differential check against whylogs 1.6.4, run in its own venv (benchmarks/whylogs_env.sh).

whylogs needs numpy<2 and pandas<2.3, so it is not a project dependency: this test is skipped
unless ``benchmarks/.whylogs-venv`` exists. Both sides profile the same seeded 1M-row table
(as a pandas DataFrame, which is what whylogs takes):

- exact metrics must be equal: counts (a NaN counts as a null and as a NaN on both sides),
  types, min, max (exactly), mean and stddev (1e-9 relative; both report the sample stddev);
- quantiles: each side's quantiles are within its rank error of the exact ones (weave_lite
  0.5%, whylogs' KLL k=1024 also checked at 0.5%), hence within both errors of each other;
- distinct counts: each side within its bound of the exact count (weave_lite 2%; whylogs'
  HLL lg_k=12 within 3 of its reported standard deviations) and of each other;
- frequent strings: both report every item above 1%, with estimates within both errors.
"""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.feather as feather
import pytest
from profiles_testdata import QS, finite_sorted, rank_error

from weave_lite.profiles import profile_table

REPO = Path(__file__).resolve().parents[2]
VENV_PY = REPO / "benchmarks" / ".whylogs-venv" / "bin" / "python"
SCRIPT = REPO / "benchmarks" / "whylogs_profile.py"
QNAMES = ["q_01", "q_05", "q_10", "q_25", "median", "q_75", "q_90", "q_95", "q_99"]

pytestmark = pytest.mark.skipif(
    not VENV_PY.exists(),
    reason="whylogs venv missing: run `bash benchmarks/whylogs_env.sh` to build "
    "benchmarks/.whylogs-venv (whylogs 1.6.4 needs numpy<2, pandas<2.3)",
)


@pytest.fixture(scope="module")
def both(tmp_path_factory, table):
    path = tmp_path_factory.mktemp("whylogs") / "data.arrow"
    feather.write_feather(table, path, compression="uncompressed")
    out = subprocess.run(
        [str(VENV_PY), str(SCRIPT), "--input", str(path), "--mode", "dataframe"],
        capture_output=True, text=True, timeout=600, check=False,
    )
    assert out.returncode == 0, out.stderr[-3000:]
    why = json.loads(out.stdout)
    assert why["whylogs_version"] == "1.6.4"
    df = table.to_pandas()  # the 10% nulls of column "nulls" become NaN, as whylogs sees them
    assert df["nulls"].isna().sum() == table.column("nulls").null_count > 0
    ours = profile_table(df).summary()
    return ours, why["columns"]


NUMERIC = ["uniform", "lognormal", "ties", "nulls"]


@pytest.mark.parametrize("name", [*NUMERIC, "strings"])
def test_counts_and_types_equal(both, name):
    ours, why = both
    o, w = ours[name], why[name]
    assert o["count"] == w["counts/n"]
    assert o["null_count"] == w["counts/null"]
    assert o["nan_count"] == w["counts/nan"]
    assert o["inf_count"] == w["counts/inf"]
    assert o["type_integral"] == w["types/integral"]
    assert o["type_fractional"] == w["types/fractional"]
    assert o["type_boolean"] == w["types/boolean"]
    assert o["type_string"] == w["types/string"]
    assert o["type_object"] == w["types/object"]


@pytest.mark.parametrize("name", NUMERIC)
def test_moments_equal(both, name):
    ours, why = both
    o, w = ours[name], why[name]
    assert o["min"] == w["distribution/min"]
    assert o["max"] == w["distribution/max"]
    assert o["mean"] == pytest.approx(w["distribution/mean"], rel=1e-9)
    assert o["stddev"] == pytest.approx(w["distribution/stddev"], rel=1e-9)


@pytest.mark.parametrize("name", NUMERIC)
def test_quantiles_within_both_errors(both, columns, name):
    ours, why = both
    exact = finite_sorted(columns[name])
    o = [ours[name][q] for q in QNAMES]
    w = [why[name][f"distribution/{q}"] for q in QNAMES]
    assert rank_error(exact, o, QS) <= 0.005
    assert rank_error(exact, w, QS) <= 0.005
    n = exact.shape[0]
    for ov, wv in zip(o, w):
        ro = np.searchsorted(exact, ov, side="right") / n
        rw = np.searchsorted(exact, wv, side="right") / n
        lo_o = np.searchsorted(exact, ov, side="left") / n
        lo_w = np.searchsorted(exact, wv, side="left") / n
        assert min(abs(ro - rw), abs(lo_o - lo_w), abs(ro - lo_w), abs(lo_o - rw)) <= 0.01


@pytest.mark.parametrize("name", [*NUMERIC, "strings"])
def test_distinct_within_both_errors(both, columns, name):
    ours, why = both
    arr = columns[name]
    if name == "strings":
        exact = len(set(arr.to_pylist()))
    else:
        exact = np.unique(finite_sorted(arr)).shape[0]
    o = ours[name]["distinct_est"]
    w = why[name]["cardinality/est"]
    w_sigma = max(why[name]["cardinality/upper_1"] - w, w - why[name]["cardinality/lower_1"])
    assert abs(o - exact) <= 0.02 * exact
    assert ours[name]["distinct_lower"] <= exact <= ours[name]["distinct_upper"]
    assert abs(w - exact) <= 3 * w_sigma + 1e-9
    assert abs(o - w) <= 0.02 * exact + 3 * w_sigma + 1e-9


def test_frequent_strings_within_both_errors(both, columns):
    ours, why = both
    values = pa.array(columns["strings"]).to_pylist()
    n = len(values)
    from collections import Counter

    counts = Counter(values)
    heavy = {v for v, c in counts.items() if c > 0.01 * n}
    o = {d["value"]: d["est"] for d in ours["strings"]["frequent_items"]}
    w = {d["value"]: d for d in why["strings"]["frequent_items/frequent_strings"]}
    assert heavy <= set(o) and heavy <= set(w)
    for v in heavy:
        assert abs(o[v] - counts[v]) <= n / 768
        assert w[v]["lower"] <= counts[v] <= w[v]["upper"]
        assert abs(o[v] - w[v]["est"]) <= n / 768 + (w[v]["upper"] - w[v]["lower"])
