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


@kernel("drift")
def drift(call: KernelCall) -> Vec:
    """Each current profile against its reference, column by column (``drift_tables``: the
    statistics read off the two profiles' quantiles and frequent items)."""
    from weave_lite.profiles.drift import drift_tables

    current, reference = as_list(call.args[0]), as_list(call.args[1])
    cur_rows, ref_rows = as_struct(current.child), as_struct(reference.child)
    tables = []
    for i in range(current.length):
        call.budget.check()
        cur = cur_rows.slice(int(current.offsets[i]), int(current.offsets[i + 1])).to_table()
        ref = ref_rows.slice(int(reference.offsets[i]), int(reference.offsets[i + 1])).to_table()
        tables.append(StructVec.from_table(drift_tables(ref, cur)))
    counts = np.array([t.length for t in tables], dtype=np.int64)
    offsets = np.zeros(current.length + 1, dtype=np.int64)
    np.cumsum(counts, out=offsets[1:])
    child = concat_vecs(tables) if tables else StructVec({}, 0)
    valid = (
        current.valid
        if reference.valid is None
        else reference.valid
        if current.valid is None
        else current.valid & reference.valid
    )
    return ListVec(offsets, child, valid)
