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
    'eqnull': 'null-safe `==`/`!=` (SPEC 3): comparing with null must give true/false, not null',
    'in': 'op string `in` missing (`a.in(b)`: substring of b, or element of a list of strings)',
    'append': 'op string `append` missing',
    'prepend': 'op string `prepend` missing',
    'partition': 'op string `partition` missing',
    'isAlpha': 'op string `isAlpha` missing',
    'isAlnum': 'op string `isAlnum` missing',
    'lStrip': 'op string `lStrip` missing',
    'rStrip': 'op string `rStrip` missing',
    'levenshtein': 'op `levenshtein` missing (method and root-call forms)',
    'tsnum': 'timestamp + number of milliseconds',
    'binsnice': "per-row bin with `timestampBinsNice([start, stop], n)` (Weave's two-argument form)",
    'sortmixed': "sorting by a mixed-type (union) key leaks Arrow's 'Unsupported type for RecordBatch sorting'",
    'startsnull': '`startsWith(null)` / `endsWith(null)` is true (Weave: null prefix/suffix = "")',
    'isnumexp': '`isNumeric` must reject exponents (`"42e10"` is false in Weave)',
    'tsfrac': '`toTimestamp` drops fractional milliseconds in Weave',
    'sumnull': '`sum` of no non-null values is null in Weave (we give 0)',
    'jts': '`joinToStr` writes null as "" (Weave0 rule)',
    'jtsmap': '`joinToStr` auto-maps over a list of lists',
    'listeq': '`==` on two lists compares whole lists (Weave), not element-wise',
}
_K = {
    'groupkey': "The group key belongs to the group (a list; SPEC 3: `g.groupkey`), not to its rows: `concat` of groups gives plain rows, and `row.groupkey` on a row is a type error. Weave tags every row with its group's key, so `groups.concat.map(row => row.groupkey)` reads it back.",
    'sortnull': "SPEC 3: `sort` puts nulls last in both directions (DuckDB/Polars default). Weave's list sort treats null as smaller than every value: first when ascending, last when descending (also inside a dict key).",
    'ornull': "We use Kleene logic as JavaScript/weave-js and SQL do: `null || true` is true. Weave's Python arrow `or` gives null when either side is null.",
    'tsdelta': "SPEC 3: timestamp - timestamp gives milliseconds (a number), as weave-js does. Weave's Python `datetime_sub` gives a timedelta.",
    'stradd': 'SPEC 3: arithmetic with null gives null, so `"foo" + null` is null, as Weave\'s Python `string-add`. weave-js\'s test expects "foo" (null treated as "").',
    'outernull': "Outer joins keep rows whose key is null, unmatched, as SQL does. Weave's `join` drops rows with a null key even from left/right outer joins.",
}

KNOWN_FAILURES: dict[str, str] = {
    'opspec_boolean_equal_2': _R['eqnull'],
    'opspec_boolean_equal_3': _R['eqnull'],
    'opspec_boolean_equal_4': _R['eqnull'],
    'opspec_number_equal_2': _R['eqnull'],
    'opspec_number_equal_3': _R['eqnull'],
    'opspec_number_equal_4': _R['eqnull'],
    'opspec_string_equal_2': _R['eqnull'],
    'opspec_string_equal_3': _R['eqnull'],
    'opspec_string_equal_4': _R['eqnull'],
    'vec_equal_boxed_null': _R['eqnull'],
    'vec_not_equal_boxed_null': _R['eqnull'],
    'vec_number_nullable_eq': _R['eqnull'],
    'vec_number_nullable_ne': _R['eqnull'],
    'vec_string_nullable_eq-scalar': _R['eqnull'],
    'vec_string_nullable_ne-scalar': _R['eqnull'],
    'js_opStringIn_1': _R['in'],
    'js_opStringIn_2': _R['in'],
    'vec_string_in-scalar': _R['in'],
    'vec_string_in-vector': _R['in'],
    'vec_string_nullable_in-scalar': _R['in'],
    'basic_string_06': _R['append'],
    'js_opStringAppend_1': _R['append'],
    'js_opStringAppend_2': _R['append'],
    'vec_string_append-scalar': _R['append'],
    'vec_string_append-vector': _R['append'],
    'vec_string_nullable_append-scalar': _R['append'],
    'basic_string_07': _R['prepend'],
    'js_opStringPrepend_1': _R['prepend'],
    'js_opStringPrepend_2': _R['prepend'],
    'vec_string_nullable_prepend-scalar': _R['prepend'],
    'vec_string_prepend-scalar': _R['prepend'],
    'vec_string_prepend-vector': _R['prepend'],
    'basic_string_14': _R['partition'],
    'js_opStringPartition_1': _R['partition'],
    'vec_string_nullable_partition-scalar': _R['partition'],
    'vec_string_partition-scalar': _R['partition'],
    'vec_string_partition-vector': _R['partition'],
    'basic_string_19': _R['isAlpha'],
    'basic_string_22': _R['isAlpha'],
    'js_opStringIsAlpha_1': _R['isAlpha'],
    'js_opStringIsAlpha_2': _R['isAlpha'],
    'js_opStringIsAlpha_3': _R['isAlpha'],
    'js_opStringIsAlpha_4': _R['isAlpha'],
    'vec_string_isAlpha-scalar': _R['isAlpha'],
    'basic_string_21': _R['isAlnum'],
    'basic_string_24': _R['isAlnum'],
    'js_opStringIsAlnum_1': _R['isAlnum'],
    'js_opStringIsAlnum_2': _R['isAlnum'],
    'js_opStringIsAlnum_3': _R['isAlnum'],
    'js_opStringIsAlnum_4': _R['isAlnum'],
    'js_opStringIsAlnum_5': _R['isAlnum'],
    'js_opStringIsAlnum_6': _R['isAlnum'],
    'vec_string_isAlnum-scalar': _R['isAlnum'],
    'basic_string_26': _R['lStrip'],
    'js_opStringLeftStrip_1': _R['lStrip'],
    'vec_string_lstrip-scalar': _R['lStrip'],
    'basic_string_27': _R['rStrip'],
    'js_opStringRightStrip_1': _R['rStrip'],
    'vec_string_rstrip-scalar': _R['rStrip'],
    'js_levenshtein_fitting_fitting': _R['levenshtein'],
    'js_levenshtein_fitting_kitty': _R['levenshtein'],
    'js_levenshtein_fitting_mitten': _R['levenshtein'],
    'js_levenshtein_fitting_smitten': _R['levenshtein'],
    'js_levenshtein_fitting_written': _R['levenshtein'],
    'js_levenshtein_kitty_fitting': _R['levenshtein'],
    'js_levenshtein_kitty_kitty': _R['levenshtein'],
    'js_levenshtein_kitty_mitten': _R['levenshtein'],
    'js_levenshtein_kitty_smitten': _R['levenshtein'],
    'js_levenshtein_kitty_written': _R['levenshtein'],
    'js_levenshtein_mitten_fitting': _R['levenshtein'],
    'js_levenshtein_mitten_kitty': _R['levenshtein'],
    'js_levenshtein_mitten_mitten': _R['levenshtein'],
    'js_levenshtein_mitten_smitten': _R['levenshtein'],
    'js_levenshtein_mitten_written': _R['levenshtein'],
    'js_levenshtein_smitten_fitting': _R['levenshtein'],
    'js_levenshtein_smitten_kitty': _R['levenshtein'],
    'js_levenshtein_smitten_mitten': _R['levenshtein'],
    'js_levenshtein_smitten_smitten': _R['levenshtein'],
    'js_levenshtein_smitten_written': _R['levenshtein'],
    'js_levenshtein_written_fitting': _R['levenshtein'],
    'js_levenshtein_written_kitty': _R['levenshtein'],
    'js_levenshtein_written_mitten': _R['levenshtein'],
    'js_levenshtein_written_smitten': _R['levenshtein'],
    'js_levenshtein_written_written': _R['levenshtein'],
    'levenshtein_00': _R['levenshtein'],
    'levenshtein_01': _R['levenshtein'],
    'levenshtein_02': _R['levenshtein'],
    'levenshtein_03': _R['levenshtein'],
    'levenshtein_04': _R['levenshtein'],
    'levenshtein_05': _R['levenshtein'],
    'levenshtein_06': _R['levenshtein'],
    'levenshtein_07': _R['levenshtein'],
    'levenshtein_08': _R['levenshtein'],
    'levenshtein_09': _R['levenshtein'],
    'levenshtein_10': _R['levenshtein'],
    'levenshtein_11': _R['levenshtein'],
    'vec_date_add_one_day': _R['tsnum'],
    'timestamp_bin_vector': _R['binsnice'],
    'timestamp_bin_vector_mapped': _R['binsnice'],
    'timestamp_bins_nice_scalar': _R['binsnice'],
    'compat_sort_mixed_types': _R['sortmixed'],
    'js_opStringEndsWith_1': _R['startsnull'],
    'js_opStringEndsWith_2': _R['startsnull'],
    'js_opStringStartsWith_1': _R['startsnull'],
    'js_opStringStartsWith_2': _R['startsnull'],
    'js_opStringIsNumeric_4': _R['isnumexp'],
    'opspec_number_to_timestamp_4': _R['tsfrac'],
    'null_consuming_sum_allnull': _R['sumnull'],
    'null_consuming_sum_empty': _R['sumnull'],
    'join_to_str_list': _R['jts'],
    'join_to_str_arrow': _R['jtsmap'],
    'vec_list_equal_l1_l2': _R['listeq'],
    'vec_list_equal_l1_l3': _R['listeq'],
    'vec_list_equal_l4_l2': _R['listeq'],
    'vec_list_equal_l4_l5': _R['listeq'],
    'vec_list_equal_l6_l2': _R['listeq'],
    'vec_list_equal_l6_l7': _R['listeq'],
}
KEPT_DIFFERENCES: dict[str, str] = {
    'arrow_groupby_concat_groupkey': _K['groupkey'],
    'compat_sort_by_dict_arrow': _K['sortnull'],
    'compat_sort_const_then_row_arrow': _K['sortnull'],
    'compat_sort_const_then_row_list': _K['sortnull'],
    'compat_sort_null_asc_asc_arrow': _K['sortnull'],
    'compat_sort_null_asc_asc_list': _K['sortnull'],
    'compat_sort_null_asc_desc_arrow': _K['sortnull'],
    'compat_sort_null_asc_desc_list': _K['sortnull'],
    'compat_sort_null_desc_asc_arrow': _K['sortnull'],
    'compat_sort_null_desc_asc_list': _K['sortnull'],
    'vec_bool-or-scalar': _K['ornull'],
    'vec_date_sub': _K['tsdelta'],
    'js_opStringAdd_3': _K['stradd'],
    'join2_full_outer': _K['outernull'],
    'join2_left_outer': _K['outernull'],
    'join2_right_outer': _K['outernull'],
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
