"""Drift statistics against exact values on the raw samples (scipy)."""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pytest
from scipy import stats
from scipy.spatial.distance import jensenshannon

from weave_lite.profiles import drift, drift_tables, profile_table
from weave_lite.profiles.drift import SCHEMA, ks_critical_value

N = 200_000


def prof(**cols):
    return profile_table(pa.table(cols))


def row(table, column):
    return next(r for r in table.to_pylist() if r["column"] == column)


def test_schema_and_one_row_per_column():
    rng = np.random.default_rng(0)
    a = prof(x=rng.normal(size=100), s=["a"] * 100)
    b = prof(x=rng.normal(size=100), t=[True] * 100)
    out = drift(a, b)
    assert out.schema.equals(SCHEMA)
    assert out.column("column").to_pylist() == ["x", "s", "t"]
    assert row(out, "s")["n_current"] == 0 and row(out, "s")["drifted"] is None
    assert row(out, "t")["kind"] == "boolean" and row(out, "t")["method"] == "none"
    assert b"Evidently" in out.schema.metadata[b"sources"]
    assert drift(a, b, columns=["x"]).num_rows == 1


def test_same_distribution_not_drifted_at_large_n():
    rng = np.random.default_rng(1)
    cats = ["a", "b", "c", "d"]
    p = [0.4, 0.3, 0.2, 0.1]
    a = prof(x=rng.normal(5, 2, N), c=rng.choice(cats, N, p=p))
    b = prof(x=rng.normal(5, 2, N), c=rng.choice(cats, N, p=p))
    out = drift(a, b)
    assert not any(out.column("drifted").to_pylist())
    assert row(out, "x")["method"] == "wasserstein"
    assert row(out, "c")["method"] == "jensenshannon"
    assert row(out, "c")["unseen_share"] == 0.0


@pytest.mark.parametrize("shift", [0.3, 1.0])
def test_shifted_numeric_drifted(shift):
    rng = np.random.default_rng(2)
    out = drift(prof(x=rng.normal(0, 1, N)), prof(x=rng.normal(shift, 1, N)))
    r = row(out, "x")
    assert r["drifted"] is True
    assert r["statistic"] == r["wasserstein_iqr"] > r["threshold"] == 0.1


def test_scale_change_drifted_and_small_samples_use_ks():
    rng = np.random.default_rng(3)
    a, b = rng.normal(0, 1, 800), rng.normal(0, 2.5, 800)
    r = row(drift(prof(x=a), prof(x=b)), "x")
    assert r["method"] == "ks" and r["drifted"] is True
    assert r["threshold"] == pytest.approx(ks_critical_value(800, 800))
    # exact sketches (<= 1024 values): D and W are scipy's exactly, and the error bound is 0
    assert r["ks_error"] == 0.0
    assert r["ks_statistic"] == pytest.approx(stats.ks_2samp(a, b).statistic, abs=1e-12)
    assert r["wasserstein"] == pytest.approx(stats.wasserstein_distance(a, b), rel=1e-9)
    same = row(drift(prof(x=a), prof(x=rng.normal(0, 1, 800))), "x")
    assert same["drifted"] is False


def test_shifted_categorical_drifted_with_unseen_share():
    rng = np.random.default_rng(4)
    a = rng.choice(["a", "b", "c"], N, p=[0.5, 0.3, 0.2])
    b = rng.choice(["a", "b", "c", "new"], N, p=[0.3, 0.3, 0.2, 0.2])
    r = row(drift(prof(c=a), prof(c=b)), "c")
    assert r["drifted"] is True and r["kind"] == "categorical"
    assert r["unseen_share"] == pytest.approx(np.mean(b == "new"), abs=1e-12)


@pytest.mark.parametrize("dist", ["normal", "lognormal", "mixture"])
def test_ks_within_twice_its_sketch_error_of_exact(dist):
    rng = np.random.default_rng(5)
    n = 300_000
    if dist == "normal":
        a, b = rng.normal(0, 1, n), rng.normal(0.02, 1.05, n)
    elif dist == "lognormal":
        a, b = rng.lognormal(0, 1, n), rng.lognormal(0.05, 1, n // 3)
    else:
        a = np.r_[rng.normal(-2, 1, n // 2), rng.normal(2, 1, n // 2)]
        b = rng.normal(0, 2, n)
    r = row(drift(prof(x=a), prof(x=b)), "x")
    exact = stats.ks_2samp(a, b).statistic
    assert r["ks_error"] > 0
    assert abs(r["ks_statistic"] - exact) <= 2 * r["ks_error"], (r["ks_statistic"], exact, r["ks_error"])


def test_wasserstein_against_scipy_at_large_n():
    rng = np.random.default_rng(6)
    a, b = rng.normal(0, 1, N), rng.normal(0.5, 1.2, N)
    r = row(drift(prof(x=a), prof(x=b)), "x")
    exact = stats.wasserstein_distance(a, b)
    assert r["wasserstein"] == pytest.approx(exact, rel=0.03)
    iqr = np.quantile(a, 0.75) - np.quantile(a, 0.25)
    assert r["wasserstein_iqr"] == pytest.approx(exact / iqr, rel=0.04)


def test_jensen_shannon_against_scipy():
    rng = np.random.default_rng(7)
    vals = [f"v{i}" for i in range(40)]
    pa_ = rng.dirichlet(np.ones(40))
    pb = rng.dirichlet(np.ones(40))
    a = rng.choice(vals, 50_000, p=pa_)
    b = rng.choice(vals, 70_000, p=pb)
    r = row(drift(prof(c=a), prof(c=b)), "c")
    ca = [np.sum(a == v) for v in vals]
    cb = [np.sum(b == v) for v in vals]
    assert r["jensen_shannon"] == pytest.approx(jensenshannon(ca, cb), rel=1e-9)


def test_jensen_shannon_other_bucket_past_the_sketch():
    rng = np.random.default_rng(8)
    # 20 heavy values and a long tail of 5,000 rare ones: the tail goes to "other"
    heavy = [f"h{i}" for i in range(20)]
    tail = [f"t{i}" for i in range(5000)]
    a = np.r_[rng.choice(heavy, 80_000), rng.choice(tail, 20_000)]
    b = np.r_[rng.choice(heavy, 60_000), rng.choice(tail, 40_000)]
    r = row(drift(prof(c=a), prof(c=b)), "c")
    # exact JS over (heavy values, one "tail" bucket), which is what the sketch can see
    ca = [np.sum(a == v) for v in heavy] + [20_000]
    cb = [np.sum(b == v) for v in heavy] + [40_000]
    assert r["jensen_shannon"] == pytest.approx(jensenshannon(ca, cb), abs=0.02)


def test_null_rate_and_type_mix_change():
    a = prof(x=pa.array([1.0, 2.0, None, 4.0] * 250))
    b = prof(x=pa.array([1.0, None, None, None] * 250))
    r = row(drift(a, b), "x")
    assert r["null_rate_reference"] == 0.25 and r["null_rate_current"] == 0.75
    assert r["null_rate_change"] == 0.5
    c = profile_table([{"x": 1}, {"x": "a"}, {"x": "b"}, {"x": 2}])
    r2 = row(drift(prof(x=[1, 2, 3, 4]), c), "x")
    assert r2["type_mix_change"] == pytest.approx(0.5)


def test_from_summary_tables_and_thresholds():
    rng = np.random.default_rng(9)
    a, b = prof(x=rng.normal(0, 1, N)), prof(x=rng.normal(1, 1, N))
    t = drift_tables(a.to_arrow(), b.to_arrow())
    r = row(t, "x")
    assert r["drifted"] is True
    # D of N(0,1) vs N(1,1) is 2*Phi(0.5) - 1 = 0.3829; the summary's bound must hold it
    assert abs(r["ks_statistic"] - 0.3829) <= r["ks_error"]
    assert r["wasserstein"] == pytest.approx(1.0, abs=0.05)
    assert row(drift(a.to_arrow(), b), "x")["drifted"] is True  # a table on one side
    loose = row(drift(a, b, thresholds={"wasserstein": 5.0}), "x")
    assert loose["threshold"] == 5.0 and loose["drifted"] is False
    ks = row(drift(a, b, method="ks", thresholds={"ks": 0.5}), "x")
    assert ks["method"] == "ks" and ks["drifted"] is False
    with pytest.raises(ValueError, match="method"):
        drift(a, b, method="psi")
    with pytest.raises(ValueError, match="threshold"):
        drift(a, b, thresholds={"psi": 1})
    with pytest.raises(TypeError):
        drift(a, 3)


def test_drift_reads_profile_files(tmp_path):
    rng = np.random.default_rng(10)
    pa_, pb = tmp_path / "a.bin", tmp_path / "b.bin"
    prof(x=rng.normal(size=2000)).write(pa_)
    prof(x=rng.normal(3, 1, 2000)).write(pb)
    assert row(drift(str(pa_), pb), "x")["drifted"] is True


# --------------------------------------------------------------------------- distributions
def check_knots(knots, raw):
    xs = [k["x"] for k in knots]
    ps = [k["p"] for k in knots]
    assert xs == sorted(xs) and ps == sorted(ps)
    assert ps[0] == 0.0 and ps[-1] == 1.0 and len(knots) == 11
    assert xs[0] == raw.min() and xs[-1] == raw.max()
    spread = np.quantile(raw, 0.75) - np.quantile(raw, 0.25)
    for x, p in zip(xs[1:-1], ps[1:-1]):
        assert abs(x - np.quantile(raw, p)) < 0.05 * spread, (p, x)


@pytest.mark.parametrize("summaries", [False, True])
def test_distributions_numeric_are_cdf_knots_of_the_raw_samples(summaries):
    rng = np.random.default_rng(11)
    a, b = rng.normal(0, 1, N), rng.normal(1, 2, N)
    pa_, pb = prof(x=a), prof(x=b)
    out = drift_tables(pa_.to_arrow(), pb.to_arrow()) if summaries else drift(pa_, pb)
    r = row(out, "x")
    check_knots(r["reference_distribution"], a)
    check_knots(r["current_distribution"], b)
    assert all(k["label"] is None for k in r["current_distribution"])


@pytest.mark.parametrize("summaries", [False, True])
def test_distributions_categorical_are_shares_with_other_bucket(summaries):
    rng = np.random.default_rng(12)
    cats = [f"c{i}" for i in range(14)]
    p = np.r_[np.full(4, 0.2), np.full(10, 0.02)]
    ca = rng.choice(cats, 50_000, p=p)
    cb = np.r_[ca[:40_000], np.full(10_000, "new")]
    pa_, pb = prof(c=ca), prof(c=cb)
    out = drift_tables(pa_.to_arrow(), pb.to_arrow()) if summaries else drift(pa_, pb)
    r = row(out, "c")
    ref, cur = r["reference_distribution"], r["current_distribution"]
    assert [d["label"] for d in ref] == [d["label"] for d in cur]
    assert ref[-1]["label"] == "other" and len(ref) == 11
    assert "new" in [d["label"] for d in cur]
    for dist, raw in ((ref, ca), (cur, cb)):
        assert abs(sum(d["p"] for d in dist) - 1.0) < 1e-9
        vals, counts = np.unique(raw, return_counts=True)
        exact = dict(zip(vals.tolist(), (counts / raw.shape[0]).tolist()))
        for d in dist[:-1]:
            assert d["p"] == pytest.approx(exact.get(d["label"], 0.0), abs=1e-9)
        assert dist[-1]["p"] == pytest.approx(1 - sum(exact.get(d["label"], 0.0) for d in dist[:-1]), abs=1e-9)


def test_distributions_null_for_other_kinds_and_empty_sides():
    a = prof(t=[True] * 10, x=[1.0] * 10)
    b = prof(t=[False] * 10)
    out = drift(a, b)
    assert row(out, "t")["reference_distribution"] is None
    assert row(out, "x")["current_distribution"] is None
    assert row(out, "x")["reference_distribution"][-1] == {"label": None, "x": 1.0, "p": 1.0}
