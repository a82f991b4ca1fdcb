"""Property tests of the sketches (hypothesis): invariants under updates, merges, round trips."""

from __future__ import annotations

from collections import Counter

import numpy as np
import pyarrow as pa
from hypothesis import given, settings
from hypothesis import strategies as st

from weave_lite.profiles.column import ColumnProfile
from weave_lite.profiles.sketches import FrequentItemsSketch, HLLSketch, KLLSketch
from weave_lite.profiles.sketches.hashing import hash_int64s, hash_string_array

floats = st.floats(allow_nan=True, allow_infinity=True, width=64)
batches = st.lists(st.lists(floats, max_size=300), min_size=1, max_size=6)


@settings(max_examples=60, deadline=None)
@given(batches=batches, k=st.sampled_from([8, 16, 64]), split=st.integers(0, 6))
def test_kll_invariants(batches, k, split):
    a, b = KLLSketch(k=k), KLLSketch(k=k)
    for i, batch in enumerate(batches):
        (a if i < split else b).update(np.array(batch, dtype=np.float64))
    a = KLLSketch.from_bytes(a.to_bytes())
    a.merge(b)
    finite = np.sort(np.array([v for batch in batches for v in batch if np.isfinite(v)]))
    assert a.n == finite.shape[0]
    if a.n == 0:
        assert a.quantile(0.5) is None
        return
    values, cum = a._sorted_view()
    assert cum[-1] == a.n and np.all(np.diff(values) >= 0)
    assert a.min == finite[0] and a.max == finite[-1]
    qs = a.quantiles(np.linspace(0, 1, 21))
    assert np.all(np.diff(qs) >= 0) and qs[0] == finite[0] and qs[-1] == finite[-1]
    if a.n <= k:  # nothing compacted yet: exact
        idx = np.maximum(np.ceil(np.linspace(0, 1, 21) * a.n).astype(int) - 1, 0)
        assert np.array_equal(qs[1:-1], finite[idx][1:-1])


@settings(max_examples=60, deadline=None)
@given(xs=st.lists(st.integers(-(2**63), 2**63 - 1), max_size=400),
       ys=st.lists(st.integers(-(2**63), 2**63 - 1), max_size=400))
def test_hll_exact_for_small_sets_and_merge_is_union(xs, ys):
    a, b = HLLSketch(), HLLSketch()
    a.update_hashes(hash_int64s(np.array(xs, dtype=np.int64)))
    b.update_hashes(hash_int64s(np.array(ys, dtype=np.int64)))
    assert a.estimate() == len(set(xs))
    a = HLLSketch.from_bytes(a.to_bytes())
    a.merge(b)
    assert a.estimate() == len(set(xs) | set(ys))


words = st.text(alphabet="abcé😀\x00", max_size=6)


@settings(max_examples=60, deadline=None)
@given(xs=st.lists(st.one_of(words, st.none()), max_size=300),
       ys=st.lists(words, max_size=300))
def test_frequent_items_exact_below_capacity_and_merge(xs, ys):
    a, b = ColumnProfile("s"), ColumnProfile("s")
    a.update_array(pa.array(xs, type=pa.string()))
    b.update_array(pa.array(ys, type=pa.large_string()))
    m = ColumnProfile.from_bytes(a.to_bytes()).merge(b)
    counts = Counter([x for x in xs if x is not None] + ys)
    got = {d["value"]: d["est"] for d in (m.frequent_items() or [])}
    assert got == dict(counts)
    assert m.distinct() == len(counts)
    assert m.counters[1] == xs.count(None)


def test_string_hash_ignores_array_offsets_and_kind():
    arr = pa.array(["x", "yy", None, "zzz", "x"])
    h1, rows1 = hash_string_array(arr)
    h2, rows2 = hash_string_array(arr.slice(1).cast(pa.large_string()))
    assert list(rows1) == [0, 1, 3, 4] and list(rows2) == [0, 2, 3]
    assert list(h1[1:]) == list(h2) and h1[0] == h1[3]


def test_frequent_sketch_weighted_merge_keeps_error_bound():
    rng = np.random.default_rng(1)
    parts = [pa.array([f"v{i}" for i in rng.zipf(1.3, 20_000) % 5000]) for _ in range(4)]
    merged = FrequentItemsSketch()
    total: Counter = Counter()
    for p in parts:
        s = FrequentItemsSketch()
        h, rows = hash_string_array(p)
        s.update(h, rows, lambda i, p=p: p[i].as_py())
        merged.merge(s)
        total.update(p.to_pylist())
    n = sum(total.values())
    assert merged.n == n
    got = {d["value"]: d["est"] for d in merged.items()}
    for v, c in total.items():
        if c > 0.01 * n:
            assert v in got and c <= got[v] <= c + merged.offset
    assert merged.offset <= n / 768 * 4  # each merged part may add its own offset
