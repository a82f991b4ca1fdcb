"""Hypothesis strategies for rows as applications log them."""

from __future__ import annotations

import datetime as dt

from hypothesis import strategies as st

offsets = st.integers(min_value=-14 * 60, max_value=14 * 60).map(lambda m: dt.timezone(dt.timedelta(minutes=m)))
aware_datetimes = st.datetimes(
    min_value=dt.datetime(1900, 1, 1), max_value=dt.datetime(2200, 1, 1), timezones=offsets
)
naive_datetimes = st.datetimes(min_value=dt.datetime(1900, 1, 1), max_value=dt.datetime(2200, 1, 1))

scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**63), max_value=2**63 - 1),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=12),
    st.binary(max_size=8),
    aware_datetimes,
    naive_datetimes,
    st.dates(),
)

keys = st.sampled_from(["a", "b", "c", "model", "lat", "ünï", "x.y", ""]) | st.text(max_size=5)

values = st.recursive(
    scalars,
    lambda children: st.one_of(
        st.lists(children, max_size=4),
        st.dictionaries(st.sampled_from(["p", "q", "r"]), children, max_size=3),
    ),
    max_leaves=12,
)

rows = st.dictionaries(st.sampled_from(["a", "b", "c", "model", "lat", "ünï", "x.y"]), values, max_size=5)
