"""Drift between two profiles: is this window's data distributed like the reference's?

```python
from weave_lite.profiles import drift, read
report = drift(read("last_week.bin"), read("this_hour.bin"))     # a pyarrow.Table
report.filter(pc.field("drifted")).to_pandas()
```

One row per column (columns of either profile, the reference's order first; or ``columns=``):

========================  ==============================================================
``column``, ``kind``      ``numeric``, ``categorical`` (strings), ``boolean``, ``other``
                          (objects only) or ``missing`` (no values on one side)
``method``                the test deciding ``drifted``: ``ks``, ``wasserstein`` or
                          ``jensenshannon`` (``none`` when no test applies)
``statistic``             that test's statistic; ``threshold``: its threshold
``drifted``               ``statistic >= threshold`` (null when no test applies)
``n_reference``,          the values compared: finite numbers (numeric) or strings
``n_current``             (categorical); 0 for the other kinds
``ks_statistic``          Kolmogorov-Smirnov D = sup |F_ref - F_cur| (numeric)
``ks_error``              bound on ``|ks_statistic - exact D|`` from the sketches
``wasserstein``           the first Wasserstein distance, in the column's units
``wasserstein_iqr``       ``wasserstein`` / the reference's interquartile range
``jensen_shannon``        Jensen-Shannon distance (natural log, as ``scipy``) between the
                          frequent items' shares plus one "other" bucket (categorical)
``unseen_share``          share of the current strings whose value is not among the
                          reference's frequent items (categorical)
``null_rate_*``           null (or NaN) share on each side and ``null_rate_change``
                          (current - reference)
``type_mix_change``       total variation distance between the two mixes of inferred types
                          (integral / fractional / boolean / string / object), 0 to 1
``*_distribution``        each side's distribution to draw (``reference_distribution``,
                          ``current_distribution``): CDF knots or item shares, see
                          :mod:`.drift_distributions`
========================  ==============================================================

How the statistics are read from the sketches
---------------------------------------------

- **KS D**: both KLL sketches give a step CDF over their retained items; D is the largest gap
  between the two at every retained item of either (where the steps are). Each CDF is within
  the sketch's normalised rank error ``eps`` of the true one (0 while the sketch is exact, i.e.
  holds every value: up to ``k = 1024`` values; else Apache DataSketches' double-sided bound
  ``2.446 / k**0.9433``, 0.35% at k = 1024, 99% confidence), so
  ``|D - exact D| <= eps_ref + eps_cur`` = ``ks_error``. No p-value: at production sizes a
  p-value flags differences too small to matter (evidently#50, whylogs#461).
- **Wasserstein**: the integral of ``|F_ref - F_cur|`` over the same step CDFs (what
  ``scipy.stats.wasserstein_distance`` computes on raw samples; equal to it while both sketches
  are exact), divided by the reference's interquartile range (else its standard deviation,
  else 0.001, Evidently's floor) so that one threshold fits every column.
- **Jensen-Shannon**: each side's frequent items as shares of its strings, the rest in one
  "other" bucket; the distance over the union of both item lists. Exact while neither
  frequent-items sketch has purged (up to 1,536 distinct strings).

Defaults and where they come from
---------------------------------

- The method follows Evidently's default stattest choice (``_get_default_stattest`` in its
  stattest registry): a reference of at most 1,000 values is compared with **KS**, a larger one
  with the **normed Wasserstein distance** (numeric) or **Jensen-Shannon distance**
  (categorical, at any size here: no chi-square p-values).
- Thresholds: Wasserstein 0.1 and Jensen-Shannon 0.1 are Evidently's ``default_threshold`` of
  ``wasserstein_stat_test`` and ``jensenshannon_stat_test`` (Evidently norms Wasserstein by the
  reference's standard deviation; the IQR is the robust choice asked for here: for normal data
  it is 1.35 standard deviations, so 0.1 here is a slightly larger shift). KS uses the
  two-sample critical value at alpha = 0.05, ``1.358 * sqrt((n + m) / (n * m))``: the same
  decision as Evidently's KS default (p-value < 0.05) and whylogs' KS drift category
  ``DRIFT = (0, 0.05)`` (``whylogs.viz.drift.configs.KSTestConfig``), read as a D threshold
  so no p-value is needed.
- Override with ``method=`` (``"auto"``, ``"ks"``, ``"wasserstein"`` for numeric columns) and
  ``thresholds={"ks": 0.1, "wasserstein": 0.2, "jensenshannon": 0.2}``.

``drift`` takes two :class:`~.dataset.DatasetProfile` objects (or paths of profile files) and
reads their sketches. :func:`drift_tables` does the same from two profile *summary* tables
(``DatasetProfile.to_arrow()``, what ``rows.profile`` returns in expressions), from their nine
quantiles, min and max: coarser (its ``ks_error`` is the width of the quantile brackets at the
supremum), for an expression op that only sees summaries.
"""

from __future__ import annotations

import math
import os
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

import numpy as np
import pyarrow as pa

from .column import (
    _BOOL,
    _FRAC,
    _INT,
    _NULL,
    _OBJ,
    _STR,
    COUNTERS,
    QUANTILES,
    ColumnProfile,
)
from .dataset import DatasetProfile
from .drift_distributions import DISTRIBUTION_TYPE, cdf_knots, item_shares
from .sketches.kll import KLLSketch

#: Evidently's default thresholds (``default_threshold`` of its stattests); ``ks``: None means
#: the critical value at :data:`KS_ALPHA`
DEFAULT_THRESHOLDS: dict[str, float | None] = {"ks": None, "wasserstein": 0.1, "jensenshannon": 0.1}
#: significance level of the default KS threshold (Evidently's KS default, whylogs' DRIFT band)
KS_ALPHA = 0.05
#: a reference with at most this many values is compared with KS (Evidently's switch)
SMALL_REFERENCE = 1000
#: floor of the Wasserstein scale (Evidently's ``max(std, 0.001)``)
MIN_SCALE = 0.001

METHODS = ("auto", "ks", "wasserstein")

SCHEMA = pa.schema(
    [
        ("column", pa.string()),
        ("kind", pa.string()),
        ("method", pa.string()),
        ("statistic", pa.float64()),
        ("threshold", pa.float64()),
        ("drifted", pa.bool_()),
        ("n_reference", pa.int64()),
        ("n_current", pa.int64()),
        ("ks_statistic", pa.float64()),
        ("ks_error", pa.float64()),
        ("wasserstein", pa.float64()),
        ("wasserstein_iqr", pa.float64()),
        ("jensen_shannon", pa.float64()),
        ("unseen_share", pa.float64()),
        ("null_rate_reference", pa.float64()),
        ("null_rate_current", pa.float64()),
        ("null_rate_change", pa.float64()),
        ("type_mix_change", pa.float64()),
        ("reference_distribution", DISTRIBUTION_TYPE),
        ("current_distribution", DISTRIBUTION_TYPE),
    ]
)

_TYPE_SLOTS = (_INT, _FRAC, _BOOL, _STR, _OBJ)


def ks_critical_value(n: int, m: int, alpha: float = KS_ALPHA) -> float:
    """Asymptotic two-sample KS critical value of D at significance ``alpha``."""
    c = math.sqrt(-0.5 * math.log(alpha / 2.0))
    return c * math.sqrt((n + m) / (n * m))


def kll_rank_error(sketch: KLLSketch) -> float:
    """Normalised rank error of a KLL sketch's CDF: 0 while it holds every value it saw, else
    DataSketches' double-sided (PMF/CDF) bound ``2.446 / k**0.9433`` (99% confidence)."""
    if sketch.n == 0 or sketch.num_retained == sketch.n:
        return 0.0
    return 2.446 / sketch.k**0.9433


# --------------------------------------------------------------------------- distributions
class _StepCDF:
    """A step CDF: sorted support points and the CDF right after each (from a KLL sketch)."""

    def __init__(self, sketch: KLLSketch) -> None:
        self.n = sketch.n
        sv, cw = sketch._sorted_view()
        # collapse ties: the CDF at a value counts every retained item equal to it
        last = np.r_[sv[1:] != sv[:-1], True] if sv.shape[0] else np.zeros(0, dtype=bool)
        self.x = sv[last]
        self.f = cw[last] / float(self.n) if self.n else cw[last].astype(np.float64)
        self.eps = kll_rank_error(sketch)
        self.lo = sketch.min
        self.hi = sketch.max
        q25, q75 = sketch.quantiles([0.25, 0.75]) if self.n else (np.nan, np.nan)
        self.iqr = float(q75 - q25)

    def at(self, xs: np.ndarray) -> np.ndarray:
        i = np.searchsorted(self.x, xs, side="right")
        return np.where(i > 0, self.f[np.maximum(i - 1, 0)], 0.0)


def _ks_and_wasserstein(a: _StepCDF, b: _StepCDF) -> tuple[float, float]:
    xs = np.union1d(a.x, b.x)
    diff = np.abs(a.at(xs) - b.at(xs))
    d = float(diff.max()) if diff.shape[0] else 0.0
    w = float(np.sum(diff[:-1] * np.diff(xs))) if xs.shape[0] > 1 else 0.0
    return d, w


class _KnotCDF:
    """A piecewise-linear CDF through a summary's quantiles (min, q_01 ... q_99, max)."""

    LEVELS = np.array([0.0, *(q for _, q in QUANTILES), 1.0])

    def __init__(self, row: Mapping) -> None:
        vals = [row.get("min"), *(row.get(name) for name, _ in QUANTILES), row.get("max")]
        self.v = np.array([np.nan if v is None else float(v) for v in vals])
        self.n = _numeric_n_summary(row)
        self.eps = 0.0 if self.n <= 1024 else 2.446 / 1024**0.9433
        q25 = row.get("q_25")
        q75 = row.get("q_75")
        self.iqr = float(q75 - q25) if q25 is not None and q75 is not None else float("nan")
        self.std = row.get("stddev")

    def at(self, xs: np.ndarray) -> np.ndarray:
        v = np.maximum.accumulate(self.v)
        out = np.interp(xs, v, self.LEVELS, left=0.0, right=1.0)
        return out

    def gap(self, xs: np.ndarray) -> np.ndarray:
        """Width (in rank) of the quantile bracket holding each x: the interpolation's error."""
        v = np.maximum.accumulate(self.v)
        i = np.clip(np.searchsorted(v, xs, side="right"), 1, len(v) - 1)
        g = self.LEVELS[i] - self.LEVELS[i - 1]
        return np.where((xs < v[0]) | (xs >= v[-1]), 0.0, g)


def _knots_ks_and_wasserstein(a: _KnotCDF, b: _KnotCDF) -> tuple[float, float, float]:
    xs = np.union1d(a.v, b.v)
    diff = np.abs(a.at(xs) - b.at(xs))
    i = int(np.argmax(diff))
    d = float(diff[i])
    err = float(a.gap(xs[i : i + 1])[0] + b.gap(xs[i : i + 1])[0]) + a.eps + b.eps
    # W1 = integral over p of |Q_a(p) - Q_b(p)|; both quantile functions linear between levels
    p = np.linspace(0.0, 1.0, 2001)
    qa = np.interp(p, a.LEVELS, np.maximum.accumulate(a.v))
    qb = np.interp(p, b.LEVELS, np.maximum.accumulate(b.v))
    y = np.abs(qa - qb)
    w = float(np.sum((y[1:] + y[:-1]) * np.diff(p)) / 2.0)  # the trapezoid rule
    return d, min(1.0, err), w


def jensen_shannon(p: np.ndarray, q: np.ndarray) -> float:
    """Jensen-Shannon distance (natural log) of two (unnormalised) distributions, as
    ``scipy.spatial.distance.jensenshannon``."""
    p = np.asarray(p, dtype=np.float64)
    q = np.asarray(q, dtype=np.float64)
    sp, sq = p.sum(), q.sum()
    if sp <= 0 or sq <= 0:
        return float("nan")
    p = p / sp
    q = q / sq
    m = (p + q) / 2.0

    def kl(x: np.ndarray) -> float:
        nz = x > 0
        return float(np.sum(x[nz] * np.log(x[nz] / m[nz])))

    return math.sqrt(max(0.0, (kl(p) + kl(q)) / 2.0))


def _shares(items: Mapping[str, float], n: float, keys: list[str]) -> np.ndarray:
    """Shares of ``keys`` among ``n`` strings, plus the "other" bucket (last)."""
    counts = np.array([float(items.get(k, 0.0)) for k in keys] + [0.0])
    total = counts.sum()
    if n <= 0:
        return counts
    if total > n:  # estimates (count + offset) may overshoot: no room left for "other"
        return counts / total
    counts[-1] = n - total
    return counts / n


# --------------------------------------------------------------------------- per column
@dataclass
class _Side:
    """What the drift of one column needs from one side, from a sketch or from a summary."""

    counters: np.ndarray
    numeric: _StepCDF | _KnotCDF | None
    items: dict[str, float] | None
    n_strings: int
    stddev: float | None

    @property
    def n_numeric(self) -> int:
        return 0 if self.numeric is None else int(self.numeric.n)


def _side_from_column(col: ColumnProfile | None) -> _Side | None:
    if col is None:
        return None
    numeric = _StepCDF(col.kll) if col.kll.n > 0 else None
    items = None
    if col.freq is not None:
        items = {d["value"]: float(d["est"]) for d in col.freq.items()}
    return _Side(
        col.counters, numeric, items, int(col.counters[_STR]), col.moments.stddev if col.moments.n > 1 else None
    )


def _numeric_n_summary(row: Mapping) -> int:
    # finite numbers: ints and floats, less the infinities (NaNs are counted as nulls)
    return max(
        0, int(row.get("type_integral") or 0) + int(row.get("type_fractional") or 0) - int(row.get("inf_count") or 0)
    )


def _side_from_summary(row: Mapping | None) -> _Side | None:
    if row is None:
        return None
    counters = np.array([int(row.get(name) or 0) for name in COUNTERS], dtype=np.int64)
    numeric = _KnotCDF(row) if row.get("min") is not None and _numeric_n_summary(row) > 0 else None
    fi = row.get("frequent_items")
    items = None if fi is None else {d["value"]: float(d["est"]) for d in fi}
    return _Side(counters, numeric, items, int(counters[_STR]), row.get("stddev"))


def _kind(ref: _Side | None, cur: _Side | None) -> str:
    sides = [s for s in (ref, cur) if s is not None]
    num = sum(s.n_numeric for s in sides)
    strs = sum(s.n_strings for s in sides)
    if num > 0 and num >= strs:
        return "numeric"
    if strs > 0:
        return "categorical"
    if sum(int(s.counters[_BOOL]) for s in sides) > 0:
        return "boolean"
    if sum(int(s.counters[_OBJ]) for s in sides) > 0:
        return "other"
    return "missing"


def _null_rate(s: _Side | None) -> float | None:
    if s is None or s.counters[0] == 0:
        return None
    return float(s.counters[_NULL]) / float(s.counters[0])


def _type_mix(s: _Side | None) -> np.ndarray | None:
    if s is None:
        return None
    v = np.array([s.counters[i] for i in _TYPE_SLOTS], dtype=np.float64)
    t = v.sum()
    return v / t if t > 0 else None


def _column_row(
    name: str, ref: _Side | None, cur: _Side | None, method: str, thresholds: Mapping[str, float | None]
) -> dict:
    row: dict = {f.name: None for f in SCHEMA}
    row["column"] = name
    kind = _kind(ref, cur)
    row["kind"] = kind
    row["method"] = "none"
    row["n_reference"] = 0
    row["n_current"] = 0
    nr_ref, nr_cur = _null_rate(ref), _null_rate(cur)
    row["null_rate_reference"] = nr_ref
    row["null_rate_current"] = nr_cur
    if nr_ref is not None and nr_cur is not None:
        row["null_rate_change"] = nr_cur - nr_ref
    mix_ref, mix_cur = _type_mix(ref), _type_mix(cur)
    if mix_ref is not None and mix_cur is not None:
        row["type_mix_change"] = float(0.5 * np.abs(mix_ref - mix_cur).sum())

    if kind == "numeric":
        a = ref.numeric if ref is not None else None
        b = cur.numeric if cur is not None else None
        row["n_reference"] = 0 if a is None else int(a.n)
        row["n_current"] = 0 if b is None else int(b.n)
        for key, c in (("reference_distribution", a), ("current_distribution", b)):
            if c is not None and c.n > 0:
                row[key] = cdf_knots(_as_knots(c).v, _KnotCDF.LEVELS)
        if a is None or b is None or a.n == 0 or b.n == 0:
            return row
        if isinstance(a, _StepCDF) and isinstance(b, _StepCDF):
            d, w = _ks_and_wasserstein(a, b)
            err = a.eps + b.eps
        else:
            d, err, w = _knots_ks_and_wasserstein(_as_knots(a), _as_knots(b))
        scale = a.iqr
        if not (scale > 0):
            std = None if ref is None else ref.stddev
            scale = std if std is not None and std > 0 else 0.0
        scale = max(scale, MIN_SCALE)
        row["ks_statistic"] = d
        row["ks_error"] = err
        row["wasserstein"] = w
        row["wasserstein_iqr"] = w / scale
        chosen = method
        if chosen == "auto":
            chosen = "ks" if a.n <= SMALL_REFERENCE else "wasserstein"
        row["method"] = chosen
        if chosen == "ks":
            thr = thresholds.get("ks")
            row["threshold"] = ks_critical_value(a.n, b.n) if thr is None else float(thr)
            row["statistic"] = d
        else:
            row["threshold"] = _threshold(thresholds, "wasserstein")
            row["statistic"] = row["wasserstein_iqr"]
        row["drifted"] = bool(row["statistic"] >= row["threshold"])
        return row

    if kind == "categorical":
        ia = (ref.items or {}) if ref is not None else {}
        ib = (cur.items or {}) if cur is not None else {}
        na = ref.n_strings if ref is not None else 0
        nb = cur.n_strings if cur is not None else 0
        row["n_reference"] = na
        row["n_current"] = nb
        dist_ref, dist_cur = item_shares(ia, na, ib, nb)
        row["reference_distribution"] = dist_ref if na > 0 else None
        row["current_distribution"] = dist_cur if nb > 0 else None
        if na == 0 or nb == 0:
            return row
        keys = list(dict.fromkeys([*ia, *ib]))
        js = jensen_shannon(_shares(ia, na, keys), _shares(ib, nb, keys))
        row["jensen_shannon"] = js
        row["unseen_share"] = min(1.0, sum(v for k, v in ib.items() if k not in ia) / nb)
        row["method"] = "jensenshannon"
        row["statistic"] = js
        row["threshold"] = _threshold(thresholds, "jensenshannon")
        row["drifted"] = bool(js >= row["threshold"])
    return row


def _threshold(thresholds: Mapping[str, float | None], method: str) -> float:
    v = thresholds.get(method)
    if v is None:
        v = DEFAULT_THRESHOLDS[method]
    assert v is not None
    return float(v)


def _as_knots(c: _StepCDF | _KnotCDF) -> _KnotCDF:
    if isinstance(c, _KnotCDF):
        return c
    k = _KnotCDF.__new__(_KnotCDF)
    lv = _KnotCDF.LEVELS
    i = np.minimum(np.searchsorted(c.f, np.maximum(lv, 1e-300), side="left"), c.x.shape[0] - 1)
    v = c.x[i]
    v[0], v[-1] = c.lo, c.hi
    k.v = v
    k.n = c.n
    k.eps = c.eps
    k.iqr = c.iqr
    k.std = None
    return k


# --------------------------------------------------------------------------- entry points
def _check_options(method: str, thresholds: Mapping | None) -> dict:
    if method not in METHODS:
        msg = f"unknown drift method {method!r}: expected one of {', '.join(METHODS)}"
        raise ValueError(msg)
    th = dict(DEFAULT_THRESHOLDS)
    for k, v in (thresholds or {}).items():
        if k not in th:
            msg = f"unknown drift threshold {k!r}: expected some of {', '.join(th)}"
            raise ValueError(msg)
        th[k] = None if v is None else float(v)
    return th


def _column_order(ref_cols: Iterable[str], cur_cols: Iterable[str], columns) -> list[str]:
    if columns is not None:
        if isinstance(columns, str):
            columns = [columns]
        return list(columns)
    return list(dict.fromkeys([*ref_cols, *cur_cols]))


def _metadata(th: Mapping) -> dict:
    return {
        "thresholds": ", ".join(f"{k}={'critical value at alpha 0.05' if v is None else v}" for k, v in th.items()),
        "sources": "Evidently stattest defaults (wasserstein 0.1, jensenshannon 0.1, ks p<0.05; "
        "KS for references of <= 1000 values); whylogs KSTestConfig DRIFT=(0, 0.05)",
    }


def _as_profile(x, label: str):
    if isinstance(x, (DatasetProfile, pa.Table)):
        return x
    if isinstance(x, pa.RecordBatch):
        return pa.Table.from_batches([x])
    if isinstance(x, (str, os.PathLike)):
        from .dataset import read

        return read(x)
    if hasattr(x, "__arrow_c_stream__"):
        return pa.table(x)
    msg = (
        f"drift: the {label} must be a DatasetProfile, a profile file's path or a profile "
        f"summary table, not a `{type(x).__name__}`"
    )
    raise TypeError(msg)


def drift(
    reference, current, *, columns=None, method: str = "auto", thresholds: Mapping[str, float] | None = None
) -> pa.Table:
    """Per-column drift of ``current`` from ``reference`` (see the module docstring).

    ``reference`` and ``current``: :class:`DatasetProfile` objects, paths of profile files, or
    profile summary tables (``DatasetProfile.to_arrow()``; then :func:`drift_tables` is used).
    ``columns``: the columns to compare (default: every column of either).
    """
    th = _check_options(method, thresholds)
    reference = _as_profile(reference, "reference")
    current = _as_profile(current, "current")
    if isinstance(reference, pa.Table) or isinstance(current, pa.Table):
        ref_t = reference if isinstance(reference, pa.Table) else reference.to_arrow()
        cur_t = current if isinstance(current, pa.Table) else current.to_arrow()
        return drift_tables(ref_t, cur_t, columns=columns, method=method, thresholds=thresholds)
    names = _column_order(reference.columns, current.columns, columns)
    rows = [
        _column_row(
            n, _side_from_column(reference.columns.get(n)), _side_from_column(current.columns.get(n)), method, th
        )
        for n in names
    ]
    return pa.Table.from_pylist(rows, schema=SCHEMA).replace_schema_metadata(_metadata(th))


def drift_tables(
    reference: pa.Table,
    current: pa.Table,
    *,
    columns=None,
    method: str = "auto",
    thresholds: Mapping[str, float] | None = None,
) -> pa.Table:
    """:func:`drift` from two profile summary tables (one row per column, the columns of
    ``DatasetProfile.to_arrow()``), as ``rows.profile`` gives them in expressions.

    Numeric statistics come from the nine quantiles, min and max (piecewise-linear CDFs), so
    they are coarser than from sketches: ``ks_error`` adds the widths of the two quantile
    brackets at the supremum. This is the kernel of the ``profile.drift(other)`` op.
    """
    th = _check_options(method, thresholds)
    ref_rows = {r["column"]: r for r in reference.to_pylist()}
    cur_rows = {r["column"]: r for r in current.to_pylist()}
    names = _column_order(ref_rows, cur_rows, columns)
    rows = [
        _column_row(n, _side_from_summary(ref_rows.get(n)), _side_from_summary(cur_rows.get(n)), method, th)
        for n in names
    ]
    return pa.Table.from_pylist(rows, schema=SCHEMA).replace_schema_metadata(_metadata(th))


def column_drift(
    reference: ColumnProfile,
    current: ColumnProfile,
    *,
    method: str = "auto",
    thresholds: Mapping[str, float] | None = None,
) -> dict:
    """The drift row (a dict) of one pair of column profiles."""
    th = _check_options(method, thresholds)
    return _column_row(reference.name, _side_from_column(reference), _side_from_column(current), method, th)
