"""The kept keys of live aggregates (weave_lite.execute.key_index): lookups equal a dict's for
new and repeated keys, nulls, NUL bytes and long strings; a hash collision falls back to the
exact path (live results still equal a cold run); the state is kept across polls, not rebuilt."""

from __future__ import annotations

import tempfile

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
from hypothesis import given, settings
from hypothesis import strategies as st

import weave_lite.execute.key_index as key_index
from weave_lite import StreamTable, compile, evaluate, to_python
from weave_lite.execute.key_index import KeyIndex, hashed_strings, string_hashes


def _with_hash(hash_of):
    """hashed_strings with a weak hash (the words and lengths stay right)."""
    return lambda keys: (hash_of(keys), *hashed_strings(keys)[1:])


def _length_hash(keys):
    return np.asarray(pc.binary_length(keys).to_numpy(zero_copy_only=False), dtype=np.uint64)

TRICKY = ["a", "a\x00", "\x00", "", "\x00a", "ü", "x" * 70, "x" * 70 + "\x00", "user-000001", "user-000010"]
keys = st.one_of(st.none(), st.sampled_from(TRICKY), st.text(max_size=12))


def test_hashes_depend_on_the_string_alone():
    one = [int(string_hashes(pa.array([v]))[0]) for v in TRICKY]
    together = string_hashes(pa.array(TRICKY)).tolist()
    large_sliced = string_hashes(pa.array(["zz", *TRICKY], type=pa.large_string()).slice(1)).tolist()
    assert one == together == large_sliced
    assert len(set(one)) == len(TRICKY)  # trailing NULs and lengths count


@settings(max_examples=60)
@given(batches=st.lists(st.lists(keys, max_size=15), min_size=1, max_size=6), large=st.booleans())
def test_find_and_add_equal_a_dict(batches, large):
    kind = pa.large_string() if large else pa.string()
    index = KeyIndex(pa.array([], type=kind))
    reference: dict = {}
    for batch in batches:
        distinct = list(dict.fromkeys(batch))
        array = pa.array(distinct, type=kind)
        found = index.find(array)
        assert found is not None
        assert found.tolist() == [reference.get(k, -1) for k in distinct]
        new = [k for k in distinct if k not in reference]
        gids = np.arange(len(reference), len(reference) + len(new), dtype=np.int64)
        assert index.add(pa.array(new, type=kind), gids)
        reference.update(zip(new, gids.tolist()))


def test_a_collision_is_detected_not_wrong(monkeypatch):
    monkeypatch.setattr(key_index, "hashed_strings", _with_hash(lambda keys: np.zeros(len(keys), dtype=np.uint64)))
    for kept, other in (("a", "b"), ("x" * 70, "y" * 70), ("a", "a\x00")):  # words; Arrow strings; lengths
        index = KeyIndex(pa.array([kept]))
        assert index.find(pa.array([kept])).tolist() == [0]
        assert index.find(pa.array([other])) is None  # same hash, another string
        assert not index.add(pa.array([other]), np.array([1]))


T = 'stream_table("k/e/y").rows'
QUERIES = [
    f'{T}["user"].countDistinct',
    f'{T}.groupby(r => r["user"]).map(g => {{user: g.groupkey, n: g.count, s: g["v"].sum}})',
    f'{T}.filter(r => r["v"] > 0).groupby(r => r["user"]).map(g => {{user: g.groupkey, n: g.count}})'
    '.sort(r => [r["n"]], ["desc"]).limit(3)',
]


def _run_appends(batches, root):
    table = StreamTable("k/e/y", root=root)
    table.log([{"user": "a", "v": 1}, *batches[0]])
    table.flush()
    lives = [compile(q).watch(root=root, morsel_rows=4) for q in QUERIES]
    for batch in batches[1:]:
        table.log(batch)
        table.flush()
        for query, live in zip(QUERIES, lives):
            assert to_python(live.poll()) == to_python(evaluate(query, root=root, morsel_rows=4)), query
            assert live.last_update.path == "incremental"
    table.finish()
    return lives


rows = st.fixed_dictionaries({"user": keys, "v": st.one_of(st.none(), st.integers(-3, 3))})
appends = st.lists(st.lists(rows, min_size=1, max_size=10), min_size=2, max_size=5)


@settings(max_examples=20, deadline=None)
@given(batches=appends)
def test_live_string_keys_equal_a_cold_run(batches):
    with tempfile.TemporaryDirectory() as root:
        _run_appends(batches, root)


@settings(max_examples=15, deadline=None)
@given(batches=appends)
def test_live_results_survive_hash_collisions(batches):
    # A hash of the length alone: most keys collide, and every collision must be caught.
    strong = key_index.hashed_strings
    key_index.hashed_strings = _with_hash(_length_hash)
    try:
        with tempfile.TemporaryDirectory() as root:
            _run_appends(batches, root)
    finally:
        key_index.hashed_strings = strong


def test_the_kept_keys_are_kept_across_polls():
    with tempfile.TemporaryDirectory() as root:
        table = StreamTable("k/e/y", root=root)
        table.log([{"user": f"u{i}", "v": 1} for i in range(50)])
        table.flush()
        live = compile(QUERIES[1]).watch(root=root)
        (keeper,) = live._keepers
        index = keeper.state.index
        assert isinstance(index, KeyIndex)
        table.log([{"user": "u3", "v": 2}, {"user": "new\x00", "v": 5}])
        table.flush()
        result = to_python(live.poll())
        assert keeper.state.index is index  # updated in place, not rebuilt from all keys
        assert len(index) == 51
        assert result == to_python(evaluate(QUERIES[1], root=root))
        table.finish()


def test_a_collision_moves_distinct_values_to_the_exact_path(monkeypatch):
    monkeypatch.setattr(key_index, "hashed_strings", _with_hash(_length_hash))
    with tempfile.TemporaryDirectory() as root:
        table = StreamTable("k/e/y", root=root)
        table.log([{"user": "ab", "v": 1}, {"user": None, "v": 1}, {"user": "abc", "v": 1}])
        table.flush()
        live = compile(QUERIES[0]).watch(root=root)
        (state,) = live._keepers[0].state.leaves
        assert state._sorted is not None
        table.log([{"user": "cd", "v": 1}, {"user": "ab", "v": 1}, {"user": None, "v": 1}])  # "cd" hashes as "ab"
        table.flush()
        assert to_python(live.poll()) == 3 == to_python(evaluate(QUERIES[0], root=root))
        assert state._sorted is None  # the kept values moved to value blocks
        table.log([{"user": "ef", "v": 1}, {"user": "abc", "v": 1}])
        table.flush()
        assert to_python(live.poll()) == 4 == to_python(evaluate(QUERIES[0], root=root))
        table.finish()
