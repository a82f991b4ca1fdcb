"""A live group-by's update: the new rows grouped straight into the kept groups.

The generic update (:mod:`weave_lite.live`) computes a morsel partial of the new rows, which
groups them by themselves (a ``groupby``: codes, first-appearance renumbering, lazily gathered
keys), and then :class:`~weave_lite.execute.accumulate.MergedAggregate` looks the morsel's
group keys up among the kept ones.  For ``rows...groupby(f)`` with a one-parameter key
function, :func:`absorb_new_rows` instead evaluates the key function over the new rows, maps
them onto the kept groups through their distinct keys (:func:`~weave_lite.execute.row_groups.row_groups`),
builds the groups the leaves' partials read (order-free, as ``groupby`` builds them) and hands
each leaf's partial to the kept state with the kept group ids: no second grouping, no remap.
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np

from weave_lite.compile.physical import PartialAggregate, mentions
from weave_lite.compile.planner import PCall, PLambda
from weave_lite.execute.accumulate import MergedAggregate
from weave_lite.execute.columns import as_list, concat_vecs
from weave_lite.execute.executor import Frame, LambdaFn, Runtime, run
from weave_lite.execute.partials import KINDS, MorselPartial
from weave_lite.execute.row_groups import keep_new_groups, row_groups
from weave_lite.execute.vectors import ListVec


def direct_shape(aggregate: PartialAggregate) -> bool:
    """Whether the aggregate groups a list by a one-parameter key function (``groupby(f)``
    over rows, filtered or not), the shape :func:`absorb_new_rows` updates."""
    group = aggregate.group
    if not (isinstance(group, PCall) and group.key == "groupby" and len(group.args) == 2):
        return False
    fn = group.args[1]
    if not (isinstance(fn, PLambda) and len(fn.params) == 1 and aggregate.param is not None):
        return False
    # The groups built here carry no keys: a leaf reading its group's key takes the generic path.
    return not any(mentions(leaf.node, "groupkey") for leaf in aggregate.leaves)


def absorb_new_rows(state: MergedAggregate, piece, top: Frame, runtime: Runtime) -> bool:
    """Absorb one piece of new rows into ``state`` through its kept key index; False (and
    ``state`` unchanged) when that does not apply: the caller takes the generic path."""
    aggregate = state.operator.partial
    index = state.index
    if index is None or state.n_groups == 0 or not direct_shape(aggregate):
        return False
    group = aggregate.group
    assert isinstance(group, PCall) and isinstance(group.args[1], PLambda) and aggregate.param is not None
    runtime.budget.check()
    on_piece = replace(runtime, load_arrow=lambda *_: piece)
    frame = Frame(1, dict(top.vars), budget=runtime.budget)
    lists = as_list(run(group.args[0], frame, on_piece))
    if lists.length != 1:
        return False
    rows = lists.child
    if rows.length == 0:
        return True  # no new rows pass here: the state is unchanged
    keys = LambdaFn(group.args[1], frame, on_piece)([rows], lists.parent_index)
    mapped = row_groups(keys, index, state.n_groups)
    if mapped is None:
        return False
    n = mapped.n_local
    offsets = np.zeros(n + 1, dtype=np.int64)
    np.cumsum(mapped.sizes, out=offsets[1:])
    # The groups as ``groupby`` leaves them: order-free lists over the rows (keys are the
    # kept state's; the leaves read the rows by group id).
    groups = ListVec(offsets, None, None, None, view=(mapped.local, rows))
    leaf_frame = Frame(n, {aggregate.param: groups}, frame, lambda: np.zeros(n, dtype=np.int64))
    kinds = [KINDS["values" if leaf.partial.kind == "distinct" else leaf.partial.kind] for leaf in aggregate.leaves]
    leaves = [kind.update(leaf, leaf_frame, on_piece) for kind, leaf in zip(kinds, aggregate.leaves)]
    n_old = state.n_groups
    if mapped.new_keys is not None:
        assert state.keys is not None
        if not keep_new_groups(index, mapped, n_old):
            state.index = None  # a hash collision: the exact path from now on (the keys are kept)
        state.keys = concat_vecs([state.keys, mapped.new_keys])
        state.n_groups = n_old + mapped.new_keys.length
    state.absorb(MorselPartial(None, n, leaves), top, runtime, gid=mapped.gid)
    return True
