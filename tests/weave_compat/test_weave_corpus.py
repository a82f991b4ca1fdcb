"""Weave compatibility corpus (issue 16): cases taken from Weave's own tests, run on weave_lite.

Every case (``cases_*.py``) names the Weave test it comes from and keeps Weave's expected value.
Cases weave_lite cannot pass yet are listed in ``KNOWN_FAILURES`` with the missing feature; cases
where weave_lite differs from Weave on purpose are in ``KEPT_DIFFERENCES`` with why and Weave's
behaviour. Both are ``xfail(strict=True)``: a fix makes the case pass, the test then fails, and
the entry must be removed, so the lists only shrink.
"""

from __future__ import annotations

import pytest

from . import cases_lists, cases_numbers, cases_strings
from .runner import check

CASES = cases_strings.CASES + cases_numbers.CASES + cases_lists.CASES

# Reasons, one per missing feature (KNOWN_FAILURES) or kept difference (KEPT_DIFFERENCES).

_R = {
    'joinAll': 'op `joinAll` missing',
    'randomlyDownsample': 'op `randomlyDownsample` missing',
    'unnest': 'op `unnest` missing',
    'neg': 'negative index (`x[-1]`)',
    'star': '`*` pick wildcard (`x["*.a"]`, `arr.*.inner.*.b`)',
    'esc': 'escaped dot in a pick path (`x["a\\\\.b"]` picks key `a.b`)',
    'dictkey': 'per-row key into a constant dict (`{bc: 1}[x]`) fails at run time',
    'groupkey': 'groupkey tag survives concat of groups (`groups.concat.map(row => row.groupkey)`)',
    'concatmix': 'concat of lists whose elements are of different kinds (numbers with dicts or lists)',
}
_K = {
    'sortnull': "SPEC 3: `sort` puts nulls last in both directions (DuckDB/Polars default). Weave's list sort treats null as smaller than every value: first when ascending, last when descending (also inside a dict key).",
    'ornull': "We use Kleene logic as JavaScript/weave-js and SQL do: `null || true` is true. Weave's Python arrow `or` gives null when either side is null.",
    'tsdelta': "SPEC 3: timestamp - timestamp gives milliseconds (a number), as weave-js does. Weave's Python `datetime_sub` gives a timedelta.",
    'stradd': 'SPEC 3: arithmetic with null gives null, so `"foo" + null` is null, as Weave\'s Python `string-add`. weave-js\'s test expects "foo" (null treated as "").',
    'listeq': "SPEC 3: an op on scalars applied to lists maps over them, so `==` of two lists compares element by element and gives a list of booleans (as `+` does). Weave compares the two lists whole (one boolean).",
    'sumnull': "SPEC 3: reducers skip nulls, so `sum` of a list with no non-null values is the sum of nothing, 0 (as `count` is 0; docs/semantics.md). Weave's Python `sum` gives null.",
    'outernull': "Outer joins keep rows whose key is null, unmatched, as SQL does. Weave's `join` drops rows with a null key even from left/right outer joins.",
}

KNOWN_FAILURES: dict[str, str] = {
    'arrow_join_all_on_list': _R['joinAll'],
    'arrow_join_all_struct_val': _R['joinAll'],
    'join_all_inner': _R['joinAll'],
    'join_all_outer': _R['joinAll'],
    'js_join_all_complex': _R['joinAll'],
    'js_join_all_simple': _R['joinAll'],
    'opspec_join_all_0': _R['joinAll'],
    'opspec_join_all_1': _R['joinAll'],
    'js_sample_5': _R['randomlyDownsample'],
    'js_sample_all': _R['randomlyDownsample'],
    'js_sample_empty': _R['randomlyDownsample'],
    'js_sample_negative': _R['randomlyDownsample'],
    'js_sample_zero': _R['randomlyDownsample'],
    'sample_10_arrow': _R['randomlyDownsample'],
    'sample_10_list': _R['randomlyDownsample'],
    'sample_5_arrow': _R['randomlyDownsample'],
    'sample_5_list': _R['randomlyDownsample'],
    'sample_bad_arrow': _R['randomlyDownsample'],
    'sample_bad_list': _R['randomlyDownsample'],
    'sample_zero_empty': _R['randomlyDownsample'],
    'arrow_unnest': _R['unnest'],
    'arrow_unnest_two_list_cols': _R['unnest'],
    'index_negative_arrow': _R['neg'],
    'index_negative_list': _R['neg'],
    'pick_star_dict': _R['star'],
    'pick_star_list': _R['star'],
    'pick_star_nested': _R['star'],
    'pick_escaped_dot': _R['esc'],
    'vec_special_pick': _R['dictkey'],
    'vec_string_pick': _R['dictkey'],
    'arrow_groupby_concat_groupkey': _R['groupkey'],
    'concat_extend_05': _R['concatmix'],
    'concat_extend_07': _R['concatmix'],
}
KEPT_DIFFERENCES: dict[str, str] = {
    'compat_sort_mixed_types': _K['sortnull'],
    'compat_sort_const_then_row_arrow': _K['sortnull'],
    'compat_sort_const_then_row_list': _K['sortnull'],
    'compat_sort_null_asc_asc_arrow': _K['sortnull'],
    'compat_sort_null_asc_asc_list': _K['sortnull'],
    'compat_sort_null_asc_desc_arrow': _K['sortnull'],
    'compat_sort_null_asc_desc_list': _K['sortnull'],
    'vec_bool-or-scalar': _K['ornull'],
    'vec_date_sub': _K['tsdelta'],
    'js_opStringAdd_3': _K['stradd'],
    'join2_full_outer': _K['outernull'],
    'join2_left_outer': _K['outernull'],
    'join2_right_outer': _K['outernull'],
    'vec_list_equal_l1_l2': _K['listeq'],
    'vec_list_equal_l1_l3': _K['listeq'],
    'vec_list_equal_l4_l2': _K['listeq'],
    'vec_list_equal_l4_l5': _K['listeq'],
    'vec_list_equal_l6_l2': _K['listeq'],
    'vec_list_equal_l6_l7': _K['listeq'],
    'null_consuming_sum_allnull': _K['sumnull'],
    'null_consuming_sum_empty': _K['sumnull'],
}


def _params() -> list[object]:
    out = []
    for case in CASES:
        marks = []
        if case.id in KNOWN_FAILURES:
            marks.append(pytest.mark.xfail(strict=True, reason=f"known failure: {KNOWN_FAILURES[case.id]}"))
        elif case.id in KEPT_DIFFERENCES:
            marks.append(pytest.mark.xfail(strict=True, reason=f"kept difference: {KEPT_DIFFERENCES[case.id]}"))
        out.append(pytest.param(case, id=case.id, marks=marks))
    return out


def test_corpus_shape() -> None:
    ids = [c.id for c in CASES]
    assert len(ids) == len(set(ids)), "case ids must be unique"
    assert len(CASES) >= 250
    assert all(c.source and ("weave" in c.source) for c in CASES), "every case names its Weave source"
    stale = (set(KNOWN_FAILURES) | set(KEPT_DIFFERENCES)) - set(ids)
    assert not stale, f"entries for unknown cases: {sorted(stale)}"
    assert not set(KNOWN_FAILURES) & set(KEPT_DIFFERENCES)


@pytest.mark.parametrize("case", _params())
def test_weave_case(case) -> None:  # type: ignore[no-untyped-def]
    check(case)
