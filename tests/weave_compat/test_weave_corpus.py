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
}
_K = {
    'sortnull': "SPEC 3: `sort` puts nulls last in both directions (DuckDB/Polars default). Weave's list sort treats null as smaller than every value: first when ascending, last when descending (also inside a dict key).",
    'ornull': "We use Kleene logic as JavaScript/weave-js and SQL do: `null || true` is true. Weave's Python arrow `or` gives null when either side is null.",
    'tsdelta': "SPEC 3: timestamp - timestamp gives milliseconds (a number), as weave-js does. Weave's Python `datetime_sub` gives a timedelta.",
    'stradd': 'SPEC 3: arithmetic with null gives null, so `"foo" + null` is null, as Weave\'s Python `string-add`. weave-js\'s test expects "foo" (null treated as "").',
    'listeq': "SPEC 3: an op on scalars applied to lists maps over them, so `==` of two lists compares element by element and gives a list of booleans (as `+` does). Weave compares the two lists whole (one boolean).",
    'sumnull': "SPEC 3: reducers skip nulls, so `sum` of a list with no non-null values is the sum of nothing, 0 (as `count` is 0; docs/semantics.md). Weave's Python `sum` gives null.",
    'outernull': "Outer joins keep rows whose key is null, unmatched, as SQL does. Weave's `join` drops rows with a null key even from left/right outer joins.",
    'groupkey': "The group key belongs to the group (a list; SPEC 3: `g.groupkey`), not to its rows: `concat` of groups gives plain rows, and `row.groupkey` on a row is a type error. Weave tags every row with its group's key, so `groups.concat.map(row => row.groupkey)` reads it back.",
}

KNOWN_FAILURES: dict[str, str] = {
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
    'arrow_groupby_concat_groupkey': _K['groupkey'],
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
