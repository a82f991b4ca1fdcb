"""Cached dictionary encodings of string chunks give the same groups as encoding afresh."""

from __future__ import annotations

import numpy as np
import pyarrow as pa

from weave_lite import evaluate, to_python
from weave_lite.execute.encodings import string_codes


def _same_partition(codes: np.ndarray, values: list) -> bool:
    seen: dict = {}
    back: dict = {}
    return all(seen.setdefault(v, c) == c and back.setdefault(c, v) == v for v, c in zip(values, codes.tolist()))


def test_codes_group_equal_strings_across_chunks_and_runs():
    rng = np.random.default_rng(1)
    words = np.array(["a", "b", "ünï", "", "zz"])
    chunks = [pa.array(words[rng.integers(0, 5, 70_000)], mask=rng.random(70_000) < 0.1) for _ in range(3)]
    column = pa.chunked_array(chunks)
    first = string_codes(column)
    again = string_codes(column)  # served from the cache
    assert (first == again).all()
    assert _same_partition(first, column.to_pylist())
    # A new chunk (a new segment) joins the same code space consistently.
    grown = pa.chunked_array([*chunks, pa.array(["zz", "new", None] * 30_000)])
    assert _same_partition(string_codes(grown), grown.to_pylist())


def test_groupby_on_large_chunked_strings_matches_python():
    rng = np.random.default_rng(2)
    names = np.array(["m1", "m2", "m3"])
    parts = [pa.table({"m": pa.array(names[rng.integers(0, 3, 80_000)], mask=rng.random(80_000) < 0.05)}) for _ in range(2)]
    table = pa.concat_tables(parts)
    for _ in range(2):
        got = to_python(evaluate('table("t").rows.groupby(r => r["m"]).map(g => {k: g.groupkey, n: g.count})', tables={"t": table}))
        values = table.column("m").to_pylist()
        order = list(dict.fromkeys(values))
        assert got == [{"k": k, "n": values.count(k)} for k in order]
