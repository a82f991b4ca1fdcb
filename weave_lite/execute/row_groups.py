"""The new rows of a live group-by mapped straight to the kept groups.

A live aggregate's update used to group the new rows by themselves (a morsel partial:
dictionary codes, first-appearance renumbering) and then look the morsel's group keys up among
the kept ones.  :func:`row_groups` looks every new row's key up in the kept
:class:`~weave_lite.execute.key_index.KeyIndex` at once (a hash probe per row, no dictionary
encoding), and numbers the *local* groups by marking the touched kept groups.  Only keys not
kept yet (usually none) are grouped among themselves: they become new groups numbered after
the kept ones in the order they first appear, which is the order a cold run numbers them in.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pyarrow as pa

from weave_lite.execute.key_index import KeyIndex, lookup_array
from weave_lite.execute.vectors import Vec
from weave_lite.lazy import call_compute


@dataclass
class RowGroups:
    """The new rows' groups: ``local[i]`` is row i's local group, ``gid[g]`` the kept (or
    new) group of local group g, ``sizes[g]`` its rows; ``new_keys`` are the keys of the new
    groups (``Vec``, in group order) and ``new_index_keys`` the same as the index keeps them."""

    local: np.ndarray
    gid: np.ndarray
    sizes: np.ndarray
    new_keys: Vec | None
    new_index_keys: pa.Array | None

    @property
    def n_local(self) -> int:
        return len(self.gid)


def row_groups(keys: Vec, index: KeyIndex, n_old: int) -> RowGroups | None:
    """Map the new rows' ``keys`` onto the groups kept in ``index`` (``n_old`` of them);
    None when the keys cannot be looked up there (another type, a hash collision): the caller
    groups the rows the generic way.  ``index`` is not changed (see :func:`keep_new_groups`)."""
    array = lookup_array(keys)
    if array is None or array.type != index.type:
        return None
    row_gid = index.find(array)
    if row_gid is None:
        return None
    new_rows = np.flatnonzero(row_gid < 0)
    new_keys: Vec | None = None
    new_index_keys: pa.Array | None = None
    n = n_old
    if len(new_rows):  # keys not kept yet (usually none): grouped among themselves
        from weave_lite.execute.kernel_choice import renumber_first_appearance  # numpy or Numba

        fresh = array.take(pa.array(new_rows))
        encoded = call_compute("dictionary_encode", fresh)
        n_codes = len(encoded.dictionary) + 1
        codes = encoded.indices
        if codes.null_count:
            codes = call_compute("coalesce", codes, pa.scalar(n_codes - 1, codes.type))
        codes = np.asarray(codes.to_numpy(zero_copy_only=False), dtype=np.int64)
        group_of, first = renumber_first_appearance(codes, n_codes)
        row_gid[new_rows] = n_old + group_of
        new_keys = keys.take(new_rows[first])
        new_index_keys = fresh.take(pa.array(first))
        n += len(first)
    # The touched groups, ascending, are the local groups (a dense mark: no sort of the rows).
    if n <= 8 * len(row_gid):
        mark = np.zeros(n, dtype=bool)
        mark[row_gid] = True
        gid = np.flatnonzero(mark)
        local_of = np.empty(n, dtype=np.int64)
        local_of[gid] = np.arange(len(gid), dtype=np.int64)
        local = local_of[row_gid]
    else:  # many more groups than rows
        gid, local = np.unique(row_gid, return_inverse=True)
    sizes = np.bincount(local, minlength=len(gid)).astype(np.int64)
    return RowGroups(local, gid, sizes, new_keys, new_index_keys)


def keep_new_groups(index: KeyIndex, groups: RowGroups, n_old: int) -> bool:
    """Add the new groups' keys to ``index`` (groups ``n_old``...); False on a hash
    collision (the index is then unusable and the caller drops it)."""
    keys = groups.new_index_keys
    if keys is None:
        return True
    return index.add(keys, n_old + np.arange(len(keys), dtype=np.int64))
