"""Kernel of ``rows.profile``: the whylogs-style profile of each list of rows (SPEC section 5)."""

from __future__ import annotations

import numpy as np
import pyarrow as pa

from weave_lite.execute.columns import as_list, as_struct, concat_vecs
from weave_lite.execute.executor import KernelCall, kernel
from weave_lite.execute.vectors import ListVec, StructVec, Vec

# Bytes of one column's summary row in a profile (27 statistics), about.
PROFILE_ROW_BYTES = 512


@kernel("profile")
def profile(call: KernelCall) -> Vec:
    from weave_lite.profiles import profile_table

    lists = as_list(call.args[0])
    rows = as_struct(lists.child)
    call.admit(lists.length * max(1, len(rows.fields)) * PROFILE_ROW_BYTES, f"`profile` of {lists.length:,} lists")
    budget = call.budget
    tables = []
    # One profile per list: a profile is a sketch built over whole columns, so each list costs
    # one vectorized pass over its rows (for a table: one list, one pass), and a few
    # milliseconds at least: per group of a groupby that adds up, so the deadline is checked.
    for i in range(lists.length):
        budget.check()
        lo, hi = int(lists.offsets[i]), int(lists.offsets[i + 1])
        part = rows.slice(lo, hi).to_table() if rows.fields else pa.table({})
        tables.append(StructVec.from_table(profile_table(part).to_arrow()))
    counts = np.array([t.length for t in tables], dtype=np.int64)
    offsets = np.zeros(lists.length + 1, dtype=np.int64)
    np.cumsum(counts, out=offsets[1:])
    child = concat_vecs(tables) if tables else StructVec({}, 0)
    return ListVec(offsets, child, lists.valid)
