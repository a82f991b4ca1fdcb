"""``weave-lite drift TABLE --reference RANGE --current RANGE`` (run in-process with click)."""

from __future__ import annotations

import datetime as dt
import json

import numpy as np
import pyarrow as pa
import pytest
from click.testing import CliRunner

from weave_lite import StreamTable
from weave_lite.cli import main
from weave_lite.cli.drift import parse_range

DAY1 = dt.datetime(2024, 5, 1, tzinfo=dt.UTC)


@pytest.fixture
def root(tmp_path):
    rng = np.random.default_rng(0)
    st = StreamTable("e/p/t", root=tmp_path)
    n = 3000
    for day, mu, cats in ((0, 0.0, ["a", "b"]), (1, 1.0, ["a", "b", "z"])):
        ts = pa.array([DAY1 + dt.timedelta(days=day, seconds=i) for i in range(n)], pa.timestamp("us", tz="UTC"))
        st.log(pa.table({"timestamp": ts, "x": rng.normal(mu, 1, n), "c": rng.choice(cats, n)}))
    st.finish()
    return tmp_path


def run(root, *args):
    return CliRunner().invoke(main, ["--root", str(root), "drift", "e/p/t", *args])


def test_drift_between_two_days(root):
    r = run(root, "--reference", "2024-05-01..2024-05-02", "--current", "2024-05-02..", "-f", "json")
    assert r.exit_code == 0, r.output
    rows = {d["column"]: d for d in json.loads(r.stdout)}
    assert set(rows) == {"x", "c"}
    assert rows["x"]["drifted"] is True and rows["x"]["n_reference"] == 3000
    assert rows["c"]["drifted"] is True and rows["c"]["unseen_share"] > 0.25


def test_same_range_not_drifted_and_fail_on_drift(root):
    same = run(root, "--reference", "2024-05-01..2024-05-02", "--current", "2024-05-01..2024-05-02",
               "--fail-on-drift", "--columns", "x")
    assert same.exit_code == 0, same.output
    assert "wasserstein" in same.stdout and "false" in same.stdout
    moved = run(root, "--reference", "2024-05-01..2024-05-02", "--current", "2024-05-02..", "--fail-on-drift")
    assert moved.exit_code == 2


def test_bad_ranges_and_columns(root):
    assert run(root, "--reference", "yesterday", "--current", "..").exit_code == 1
    assert run(root, "--reference", "2024-06-01..", "--current", "..").exit_code == 1  # no rows
    r = run(root, "--reference", "..", "--current", "..", "--columns", "nope")
    assert r.exit_code == 1 and "nope" in r.output


def test_parse_range():
    now = dt.datetime(2024, 5, 10, 12, tzinfo=dt.UTC)
    assert parse_range("-1d..now", now) == (now - dt.timedelta(days=1), now)
    assert parse_range("2024-05-01..", now) == (DAY1, None)
    assert parse_range("..-90s", now) == (None, now - dt.timedelta(seconds=90))
