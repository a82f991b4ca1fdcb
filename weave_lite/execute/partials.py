"""Mergeable partial aggregates: what one morsel leaves behind, and how morsels merge.

For an aggregate (``rows.count``, or each reducer in ``groupby(k).map(g => {...})``), every
morsel keeps, per group it saw, the partial its reducer's spec declares
(:class:`weave_lite.graph.registry.Partial`); each kind below is DuckDB's aggregate triple in
one class: ``update`` (one morsel's partial), ``merge`` (all morsels' partials, in morsel
order, into the groups' lists) and the reducer itself finalizing them:

* ``fold``: the reducer's own result, merged by another reducer (counts and sums add up,
  minima take the minimum).  Exact; float sums add the morsels' sums in morsel order.
* ``moments``: count, sum, shift and shifted mean, M2, merged with Chan et al.'s pairwise
  update (``avg``, ``variance``, ``stddev``).  Exact up to float rounding (relative error of
  order 1e-15 on well-conditioned data).
* ``distinct``: the distinct values of each group (``countDistinct``).  Exact.
* ``values``: every value of each group's list, in order (``median``, ``quantile``, ``mode``,
  ``argmax``, ``argmin``): an exact merge, whose memory grows with the values kept.

Groups are numbered by first appearance in each morsel; merging numbers them by first
appearance across morsels in order, which is the order a single pass gives.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

import numpy as np
import pyarrow as pa

from weave_lite.compile.physical import KEY_VAR, Leaf, Merge, PartialAggregate
from weave_lite.compile.planner import PLambda
from weave_lite.execute.columns import as_list, concat_vecs, first_appearance_groups, key_codes
from weave_lite.execute.encodings import distinct_strings
from weave_lite.execute.executor import Frame, LambdaFn, Runtime, apply, run
from weave_lite.execute.string_groups import keys_of, merged_codes
from weave_lite.execute.vectors import ArrayVec, ConstVec, GatheredVec, ListVec, StructVec, Vec
from weave_lite.lazy import lazy_module

pc = lazy_module("pyarrow.compute")  # loaded by the first query, not at import weave_lite

MOMENT_FIELDS = ("count", "total", "shift", "shifted_mean", "m2")


@dataclass
class MorselPartial:
    """One morsel's partial aggregate: its groups' keys (None when ungrouped) and one partial
    per leaf (plain numpy arrays and Vecs: picklable, so a morsel may run elsewhere)."""

    keys: Vec | None
    n_groups: int
    leaves: list[Any]


@dataclass
class GroupMap:
    """Where the morsels' local groups go: ``global_of[starts[m] + g]`` is the global group of
    morsel m's group g."""

    global_of: np.ndarray
    starts: np.ndarray
    n_groups: int

    def of_elements(self, partials: list[tuple[np.ndarray, Vec]]) -> np.ndarray:
        """The global group of each element of per-morsel (local group, elements) partials."""
        return np.concatenate([self.global_of[self.starts[m] + local] for m, (local, _) in enumerate(partials)])


class PartialKind:
    """One way of merging a reducer across morsels: ``update`` computes one morsel's partial
    of ``leaf`` (per group of the frame), ``merge`` the groups' results from every morsel's."""

    def update(self, leaf: Leaf, frame: Frame, runtime: Runtime) -> Any:
        raise NotImplementedError

    def merge(self, leaf: Leaf, partials: list, groups: GroupMap, frame: Frame, runtime: Runtime) -> Vec:
        raise NotImplementedError


class Fold(PartialKind):
    """The reducer's own result per group, merged by the reducer ``merge_with``."""

    def update(self, leaf: Leaf, frame: Frame, runtime: Runtime) -> Any:
        return run(leaf.node, frame, runtime)

    def merge(self, leaf: Leaf, partials: list, groups: GroupMap, frame: Frame, runtime: Runtime) -> Vec:
        merge_with = leaf.partial.merge_with
        assert merge_with is not None
        return reduce_groups(leaf, merge_with, groups.global_of, concat_vecs(partials), groups.n_groups, frame, runtime)


class Moments(PartialKind):
    """Count, sum, shift, shifted mean and M2 per group, merged pairwise."""

    def update(self, leaf: Leaf, frame: Frame, runtime: Runtime) -> Any:
        # Imported here, not at module level: the kernels load Numba (registered by op area on first use).
        from weave_lite.execute.ops.reducers import list_elements, numpy_values
        from weave_lite.kernels.grouping import grouped_moment_partials

        if leaf.node.key == "scan:avg":  # a fused scan (one list): its kernel gives the moments
            moments = run(replace(leaf.node, key="scan:moments"), frame, runtime)
            assert isinstance(moments, StructVec)
            return tuple(moments.fields[k].to_arrow().to_numpy() for k in MOMENT_FIELDS)
        lists = as_list(run(leaf.node.args[0], frame, runtime))
        group_of, values = list_elements(lists, as_float=True)
        data, valid = numpy_values(values)
        if leaf.node.key == "avg":  # count and sum suffice (zero deviations merge to zero M2)
            from weave_lite.kernels.grouping import grouped_count_sum

            count, total = grouped_count_sum(group_of, data, valid, lists.length)
            zeros = np.zeros(lists.length, dtype=np.float64)
            return count, total, zeros, zeros, zeros
        return grouped_moment_partials(group_of, data, valid, lists.length)

    def merge(self, leaf: Leaf, partials: list, groups: GroupMap, frame: Frame, runtime: Runtime) -> Vec:
        from weave_lite.execute.ops.reducers import finish_moments
        from weave_lite.kernels.grouping import merge_moment_partials

        n = groups.n_groups
        count, total, shift, shifted_mean, m2 = (np.concatenate(column) for column in zip(*partials))
        count, total, mean, m2 = merge_moment_partials(groups.global_of, count, total, shift, shifted_mean, m2, n)
        return finish_moments(leaf.node.key.removeprefix("scan:"), count, total, mean, m2, np.ones(n, dtype=bool))


class Values(PartialKind):
    """Every element of each group's list, in order; the reducer runs on them all."""

    def update(self, leaf: Leaf, frame: Frame, runtime: Runtime) -> Any:
        return _elements(as_list(run(leaf.node.args[0], frame, runtime)))

    def merge(self, leaf: Leaf, partials: list, groups: GroupMap, frame: Frame, runtime: Runtime) -> Vec:
        quantile = _constant_quantile(leaf, frame, runtime)
        if quantile is not None:
            return _merged_quantiles(partials, groups, quantile, runtime)
        group_of = groups.of_elements(partials)
        elements = concat_vecs([elements for _, elements in partials])
        return reduce_groups(leaf, leaf.node.key, group_of, elements, groups.n_groups, frame, runtime)


def _constant_quantile(leaf: Leaf, frame: Frame, runtime: Runtime) -> float | None:
    """q of a ``median`` or a ``quantile`` with a constant q in [0, 1], else None (the reducer
    itself then runs on the merged values, and reports a bad q)."""
    node = leaf.node
    if node.key == "median":
        return 0.5
    if node.key != "quantile" or len(node.args) < 2 or node.args[1] is None or isinstance(node.args[1], PLambda):
        return None
    q = run(node.args[1], frame, runtime)
    if not isinstance(q, ConstVec) or isinstance(q.value, bool) or not isinstance(q.value, (int, float)):
        return None
    return float(q.value) if 0 <= q.value <= 1 else None


def _merged_quantiles(partials: list, groups: GroupMap, q: float, runtime: Runtime) -> Vec:
    """Exact per-group quantiles straight from the morsels' (local group, values) partials:
    each morsel's values are placed into their global groups through the morsel's slice of
    the group map, so neither the global group ids nor the values are gathered first."""
    from weave_lite.execute.kernel_choice import grouped_quantile  # numpy or Numba
    from weave_lite.execute.ops.reducers import float_pieces, float_values

    pieces = []
    for m, (local, elements) in enumerate(partials):
        mapping = groups.global_of[groups.starts[m] : groups.starts[m + 1]]
        pieces.extend(float_pieces(local, float_values(elements), mapping))
    out, has = grouped_quantile(pieces, groups.n_groups, q, runtime.threads)
    return ArrayVec(pa.array(out, type=pa.float64(), mask=~has))


class Distinct(Values):
    """Each group's first occurrence of each value (the reducer counts them after merging)."""

    def update(self, leaf: Leaf, frame: Frame, runtime: Runtime) -> Any:
        lists = as_list(run(leaf.node.args[0], frame, runtime))
        if lists.length == 1 and lists.view is None:
            distinct = _distinct_of_one_list(lists.child)
            if distinct is not None:
                return np.zeros(len(distinct), dtype=np.int64), ArrayVec(distinct)
        group_of, elements = _elements(lists)
        _, first = first_appearance_groups(group_of, key_codes(elements))
        first.sort()
        return group_of[first], elements.take(first)


# The implementation of each kind of Partial a spec may declare (the completeness test checks
# that every declared kind is here).
KINDS: dict[str, PartialKind] = {"fold": Fold(), "moments": Moments(), "values": Values(), "distinct": Distinct()}


def morsel_partial(aggregate: PartialAggregate, frame: Frame, runtime: Runtime, raw: bool = False) -> MorselPartial:
    """Run one morsel: group it (if grouped) and compute each leaf's partial.  ``raw`` (a
    live query's new rows): ``distinct`` leaves keep every value, repeats too, as ``values``
    do; the live state finds the new ones itself, cheaper than deduplicating them first."""
    if aggregate.group is not None:
        assert aggregate.param is not None
        groups = as_list(run(aggregate.group, frame, runtime)).child  # one list: this morsel's groups
        assert isinstance(groups, ListVec)  # each group is a list (groupby's result)
        n = groups.length
        frame = Frame(n, {aggregate.param: groups}, frame, lambda: np.zeros(n, dtype=np.int64))
        keys = groups.keys
    else:
        n, keys = 1, None
    kinds = [
        KINDS["values" if raw and leaf.partial.kind == "distinct" else leaf.partial.kind] for leaf in aggregate.leaves
    ]
    return MorselPartial(keys, n, [kind.update(leaf, frame, runtime) for kind, leaf in zip(kinds, aggregate.leaves)])


def _distinct_of_one_list(values: Vec) -> pa.Array | None:
    """The distinct values of one list of strings or numbers (None for other types)."""
    if not isinstance(values, ArrayVec) or isinstance(values, GatheredVec):
        return None
    column = values.array
    if pa.types.is_string(column.type) or pa.types.is_large_string(column.type):
        return distinct_strings(column)  # from the segments' cached dictionaries
    if pa.types.is_integer(column.type) or pa.types.is_floating(column.type) or pa.types.is_boolean(column.type):
        return pc.unique(column)
    return None


def _elements(lists: ListVec) -> tuple[np.ndarray, Vec]:
    """(list id of each element, the elements), order-free when the lists allow."""
    if lists.view is not None:
        return lists.view
    return lists.parent_index(), lists.child


def merge(operator: Merge, parts: list[MorselPartial], top: Frame, runtime: Runtime) -> Vec:
    """The aggregate's result from the morsels' partials (in morsel order)."""
    aggregate = operator.partial
    if aggregate.group is not None:
        from weave_lite.execute.kernel_choice import renumber_first_appearance, renumber_gathered  # numpy or Numba

        part_keys = [p.keys for p in parts if p.keys is not None]
        merged = merged_codes(part_keys)  # string keys: the segments' dictionaries, unified once
        if merged is not None:
            codes, n_codes, dictionary = merged
            global_of, first, _ = renumber_gathered(codes, None, n_codes)
            keys: Vec | None = keys_of(dictionary, codes[first])
        else:
            all_keys = concat_vecs(part_keys)
            codes = key_codes(all_keys)
            global_of, first = renumber_first_appearance(codes, int(codes.max()) + 1 if len(codes) else 0)
            keys = all_keys.take(first)
        n_groups = len(first)
    else:
        global_of, n_groups, keys = np.zeros(len(parts), dtype=np.int64), 1, None
    # Where each morsel's local group ids start in global_of.
    starts = np.zeros(len(parts) + 1, dtype=np.int64)
    np.cumsum([p.n_groups for p in parts], out=starts[1:])
    groups = GroupMap(global_of, starts, n_groups)
    values: dict[str, Vec] = {}
    frame = Frame(n_groups, values, top, lambda: np.zeros(n_groups, dtype=np.int64))
    for i, leaf in enumerate(aggregate.leaves):
        partials = [p.leaves[i] for p in parts]
        values[leaf.var] = KINDS[leaf.partial.kind].merge(leaf, partials, groups, frame, runtime)
    if keys is not None:
        values[KEY_VAR] = keys
    result = run(operator.body, frame, runtime)
    return ListVec.single(result) if aggregate.group is not None else result


def reduce_groups(
    leaf: Leaf, key: str, group_of: np.ndarray, elements: Vec, n_groups: int, frame: Frame, runtime: Runtime
) -> Vec:
    """Reducer ``key`` over each group's merged elements (``group_of[i]``: element i's group)."""
    node = leaf.node
    sizes = np.bincount(group_of, minlength=n_groups).astype(np.int64)
    offsets = np.zeros(n_groups + 1, dtype=np.int64)
    np.cumsum(sizes, out=offsets[1:])
    lists = ListVec(offsets, None, view=(group_of, elements))
    args: list[Any] = [lists]
    if key == node.key:  # the reducer itself: its other arguments (quantile's q) as written
        for a in node.args[1:]:
            args.append(
                None if a is None else LambdaFn(a, frame, runtime) if isinstance(a, PLambda) else run(a, frame, runtime)
            )
    return apply(replace(node, key=key), args, n_groups, runtime, 0)
