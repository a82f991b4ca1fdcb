"""``weave-lite drift TABLE --reference RANGE --current RANGE``: drift between two time ranges.

A RANGE is ``START..END`` over the rows' ``timestamp`` (START inclusive, END exclusive; either
may be left out), each an ISO 8601 time (``2024-05-01``, ``2024-05-01T16:00``, UTC unless it
says otherwise) or a time relative to now (``-1h``, ``-30m``, ``-7d``, ``-90s``; ``now``).
Examples::

    weave-lite drift acme/prod/predictions --reference -8d..-7d --current -1d..
    weave-lite drift acme/prod/predictions --reference 2024-05-01..2024-05-02 \\
        --current 2024-05-08..2024-05-09 --columns latency_ms,model --fail-on-drift

Both ranges are profiled (``weave_lite.profiles.profile_table``) and compared with
``weave_lite.profiles.drift``; one row per column. ``--fail-on-drift`` exits with status 2 when
a column drifted (for CI and cron jobs).
"""

from __future__ import annotations

import datetime as _dt
import re
import sys

import click

_REL = re.compile(r"-(\d+(?:\.\d+)?)([smhdw])")
_UNIT = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 7 * 86400}
SUMMARY = [
    "column",
    "kind",
    "method",
    "statistic",
    "threshold",
    "drifted",
    "n_reference",
    "n_current",
    "ks_error",
    "null_rate_change",
    "unseen_share",
]


def parse_time(text: str, now: _dt.datetime) -> _dt.datetime | None:
    """One end of a range (``""`` is open)."""
    text = text.strip()
    if not text:
        return None
    if text == "now":
        return now
    m = _REL.fullmatch(text)
    if m:
        return now - _dt.timedelta(seconds=float(m.group(1)) * _UNIT[m.group(2)])
    try:
        t = _dt.datetime.fromisoformat(text)
    except ValueError:
        msg = (
            f"cannot read the time {text!r}: use ISO 8601 (2024-05-01T16:00) or a time relative to now (-1h, -30m, -7d)"
        )
        raise click.BadParameter(msg) from None
    return t if t.tzinfo is not None else t.replace(tzinfo=_dt.UTC)


def parse_range(text: str, now: _dt.datetime | None = None) -> tuple[_dt.datetime | None, _dt.datetime | None]:
    """``START..END`` as two aware datetimes (``None``: open end)."""
    now = now or _dt.datetime.now(_dt.UTC)
    if ".." not in text:
        msg = f"a range is START..END (either end may be empty), not {text!r}"
        raise click.BadParameter(msg)
    a, b = text.split("..", 1)
    start, end = parse_time(a, now), parse_time(b, now)
    if start is not None and end is not None and end <= start:
        msg = f"the range {text!r} ends before it starts"
        raise click.BadParameter(msg)
    return start, end


def _rows(log_, start, end):
    import pyarrow.dataset as ds

    dataset = log_.snapshot().to_dataset()
    names = [n for n in dataset.schema.names if n != "_client_id"]
    cond = None
    if "timestamp" in dataset.schema.names:
        t = ds.field("timestamp")
        for bound, op in ((start, "ge"), (end, "lt")):
            if bound is not None:
                c = (t >= bound) if op == "ge" else (t < bound)
                cond = c if cond is None else cond & c
    table = dataset.to_table(columns=names, filter=cond)
    keep = [n for n in table.schema.names if n != "timestamp"]
    return table.select(keep), table.num_rows


@click.command("drift")
@click.argument("table")
@click.option(
    "--reference",
    "reference",
    required=True,
    metavar="RANGE",
    help="the reference rows: START..END over timestamp (ISO 8601 or -7d, -1h, now)",
)
@click.option("--current", "current", required=True, metavar="RANGE", help="the rows compared with it")
@click.option("--columns", default=None, help="comma-separated columns (default: all)")
@click.option(
    "--root",
    type=click.Path(file_okay=False),
    default=None,
    help="data root (default: $WEAVE_LITE_ROOT, else ~/.weave_lite)",
)
@click.option(
    "--format", "-f", "fmt", type=click.Choice(["table", "json", "csv", "arrow"]), default="table", show_default=True
)
@click.option("--all", "all_columns", is_flag=True, help="table format: every statistic, not a summary")
@click.option("--fail-on-drift", is_flag=True, help="exit with status 2 when a column drifted")
@click.pass_context
def drift_command(
    ctx: click.Context,
    table: str,
    reference: str,
    current: str,
    columns: str | None,
    root: str | None,
    fmt: str,
    all_columns: bool,
    fail_on_drift: bool,
) -> None:
    """Compare the distribution of TABLE's columns in two time ranges (drift per column)."""
    from weave_lite.cli.common import fail, resolve_root, run
    from weave_lite.cli.output import write_result
    from weave_lite.profiles import drift, profile_table
    from weave_lite.storage import open_table

    root = resolve_root(ctx, root)
    now = _dt.datetime.now(_dt.UTC)
    try:
        ref_range = parse_range(reference, now)
        cur_range = parse_range(current, now)
    except click.BadParameter as e:
        fail(e.message)
    log_ = run(lambda: open_table(table, root))
    ref_rows, n_ref = run(lambda: _rows(log_, *ref_range))
    cur_rows, n_cur = run(lambda: _rows(log_, *cur_range))
    if n_ref == 0:
        fail(f"no rows of {log_.name} in the reference range {reference}")
    if n_cur == 0:
        fail(f"no rows of {log_.name} in the current range {current}")
    cols = None if columns is None else [c.strip() for c in columns.split(",") if c.strip()]
    if cols is not None:
        unknown = [c for c in cols if c not in ref_rows.schema.names and c not in cur_rows.schema.names]
        if unknown:
            fail(f"no column {', '.join(map(repr, unknown))} in {log_.name}")
    result = drift(profile_table(ref_rows), profile_table(cur_rows), columns=cols)
    shown = result
    if fmt == "table":
        click.echo(
            f"drift of {log_.name}: {n_cur:,} current rows ({current}) against {n_ref:,} reference rows ({reference})",
            err=True,
        )
        if not all_columns:
            shown = result.select(SUMMARY)
    run(lambda: write_result(shown, fmt, sys.maxsize if fmt == "table" else None))
    if fail_on_drift and any(result.column("drifted").to_pylist()):
        sys.exit(2)
