"""The sorted-runs kernels of the live exact quantile (weave_lite.kernels.sorted_runs) against
numpy's sort and np.quantile, and a watched per-minute p95 against cold runs."""

from __future__ import annotations

import datetime as dt
import tempfile

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from weave_lite import StreamTable, compile, evaluate, to_python
from weave_lite.execute.sorted_values import QuantileState
from weave_lite.kernels.sorted_runs import compact, group_runs, merge_runs


def test_group_runs_sorts_each_group_and_skips_nan():
    rng = np.random.default_rng(1)
    for n, groups in ((0, 3), (1, 1), (500, 7), (2000, 40)):
        local = rng.integers(0, groups, n)
        values = rng.normal(size=n)
        values[rng.random(n) < 0.1] = np.nan  # nulls arrive as NaN
        offsets, ordered = group_runs(local, values, groups)
        assert offsets[0] == 0 and len(offsets) == groups + 1
        for g in range(groups):
            mine = values[(local == g) & ~np.isnan(values)]
            assert ordered[offsets[g] : offsets[g + 1]].tolist() == np.sort(mine).tolist()


class _Slots:
    """A QuantileState's arrays driven by the kernels directly."""

    def __init__(self, n: int, share: int):
        self.buf = np.zeros(0)
        self.used = 0
        self.start, self.n_main, self.n_recent, self.cap = (np.zeros(n, dtype=np.int64) for _ in range(4))
        self.out, self.has = np.zeros(n), np.zeros(n, dtype=bool)
        self.share = share

    def add(self, local: np.ndarray, values: np.ndarray, gid: np.ndarray, q: float) -> None:
        offsets, ordered = group_runs(local, values, len(gid))
        need = 2 * int((self.n_main[gid] + self.n_recent[gid] + np.diff(offsets)).sum())
        if self.used + need > len(self.buf):
            live = int((self.n_main + self.n_recent).sum())
            self.buf, self.used = compact(self.buf, self.start, self.n_main, self.n_recent, self.cap, 2 * live + need)
        self.used = merge_runs(
            self.buf, self.used, self.start, self.n_main, self.n_recent, self.cap, gid, offsets, ordered,
            q, self.share, self.out, self.has,
        )  # fmt: skip


@pytest.mark.parametrize("share", [1, 4, 16])
@pytest.mark.parametrize("q", [0.0, 0.3, 0.5, 0.95, 1.0])
def test_merge_runs_gives_np_quantile_after_each_batch(share, q):
    rng = np.random.default_rng(int(q * 100) + share)
    n = 12
    state = _Slots(n, share)
    kept: list[list[float]] = [[] for _ in range(n)]
    for _ in range(25):
        k = int(rng.integers(1, 6))  # the batch's groups: distinct global ids
        gid = rng.choice(n, size=k, replace=False).astype(np.int64)
        size = int(rng.integers(0, 40))
        local = rng.integers(0, k, size)
        values = rng.choice([rng.normal(), 0.0, 1.0, np.inf, -np.inf, np.nan], size=size)
        values = np.where(rng.random(size) < 0.5, rng.normal(size=size), values)
        state.add(local, values, gid, q)
        for j, x in zip(local.tolist(), values.tolist()):
            if x == x:
                kept[int(gid[j])].append(x)
        for g in range(n):
            if not kept[g]:
                assert not state.has[g]  # an empty group (or only nulls): no value
                continue
            assert state.has[g]
            s, m, r = state.start[g], state.n_main[g], state.n_recent[g]
            assert np.sort(state.buf[s : s + m + r]).tolist() == sorted(kept[g])
            got, expected = state.out[g], _engine_quantile(kept[g], q)
            assert got == expected or (np.isnan(got) and np.isnan(expected)), (g, q)
            if np.isfinite(kept[g]).all():
                assert np.isclose(got, np.quantile(np.array(kept[g]), q), rtol=1e-12, atol=1e-12)


def _engine_quantile(values: list[float], q: float) -> float:
    """The engine's interpolation between the nearest ranks of the sorted values (numpy's
    linear method, but two equal ranks, infinities too, give that value, never inf - inf)."""
    ordered = np.sort(np.array(values))
    position = q * (len(ordered) - 1)
    below = int(np.floor(position))
    low, high = ordered[below], ordered[min(below + 1, len(ordered) - 1)]
    frac = position - below
    with np.errstate(invalid="ignore"):
        return float(low if frac == 0.0 or high == low else low + (high - low) * frac)


def test_single_values_and_all_null_groups():
    state = _Slots(3, 16)
    state.add(np.array([0, 1, 1]), np.array([5.0, np.nan, np.nan]), np.array([2, 0], dtype=np.int64), 0.95)
    assert state.has.tolist() == [False, False, True] and state.out[2] == 5.0
    state.add(np.array([0]), np.array([7.0]), np.array([0], dtype=np.int64), 0.5)
    assert state.has.tolist() == [True, False, True] and state.out[0] == 7.0


T = "e/live/bins"
Q5 = f'stream_table("{T}").rows.groupby(row => row["timestamp"].floor("m")).map(g => {{minute: g.groupkey, n: g.count, p95: g["latency"].quantile(0.95)}})'
START = dt.datetime(2024, 5, 1, tzinfo=dt.UTC)

batch = st.lists(
    st.tuples(
        st.integers(0, 9 * 60 - 1),  # seconds into the table: ~10 minutes, old ones too
        st.one_of(st.none(), st.floats(-1e3, 1e3, allow_nan=False), st.sampled_from([0.0, 1.5, float("inf")])),
    ),
    min_size=1,
    max_size=40,
)


@settings(max_examples=25, deadline=None)
@given(st.lists(batch, min_size=1, max_size=8), st.integers(0, 2))
def test_watched_minute_p95_equals_a_cold_run(batches, share_exp):
    with tempfile.TemporaryDirectory() as root:
        original = QuantileState.share
        QuantileState.share = 4**share_exp  # 1, 4, 16: the recent run folded at once or later
        try:
            table = StreamTable(T, root=root)
            live = None
            for rows in batches:
                table.log([{"timestamp": START + dt.timedelta(seconds=s), "latency": x} for s, x in rows])
                table.flush()
                if live is None:
                    live = compile(Q5).watch(root=root)
                    result = live.result
                else:
                    result = live.poll()
                assert to_python(result) == to_python(evaluate(Q5, root=root))
            assert live is not None and live.path == "incremental"
            table.finish()
        finally:
            QuantileState.share = original
