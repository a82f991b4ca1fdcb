"""The ``weave-lite`` command line.

::

    weave-lite query 'stream_table("acme/prod/predictions").rows.count'
    weave-lite query EXPR --format table|json|csv|arrow [--limit N]
    weave-lite tables
    consumer | weave-lite log acme/prod/predictions      # JSON lines from stdin
    weave-lite compact acme/prod/predictions
    weave-lite profile acme/prod/predictions
    weave-lite serve --port 8765

Every command takes ``--root DIR`` (else ``$WEAVE_LITE_ROOT``, else ``~/.weave_lite``), before or
after the command's name.  Errors print a readable message on stderr and exit with status 1.
"""

from __future__ import annotations

import csv
import datetime as _dt
import json
import os
import sys
import time
from typing import Any, Callable, Iterable

import click

from weave_lite.errors import WeaveError

FORMATS = ["table", "json", "csv", "arrow"]
TABLE_FORMAT_LIMIT = 100
MAX_CELL_CHARS = 40


# -- helpers ------------------------------------------------------------------------------------


def _root(ctx: click.Context, root: str | None) -> str | None:
    if root is not None:
        return root
    obj = ctx.find_root().obj or {}
    return obj.get("root")


def _fail(message: str, code: int = 1) -> None:
    click.echo(f"error: {message}" if "\n" not in message else message, err=True)
    sys.exit(code)


def _run(fn: Callable[[], Any]) -> Any:
    """Run ``fn``, turning weave_lite's errors into a message and exit status 1."""
    try:
        return fn()
    except WeaveError as exc:
        _fail(str(exc))
    except BrokenPipeError:
        # `weave-lite query ... | head`: stop quietly.
        try:
            sys.stdout = open(os.devnull, "w")
        except OSError:
            pass
        sys.exit(0)


def cell(value: Any, limit: int = MAX_CELL_CHARS) -> str:
    """A value as one short table cell."""
    if value is None:
        text = "null"
    elif isinstance(value, bool):
        text = "true" if value else "false"
    elif isinstance(value, float):
        if value != value:
            text = "NaN"
        elif value in (float("inf"), float("-inf")):
            text = "Infinity" if value > 0 else "-Infinity"
        else:
            text = repr(value)
            if len(text) > 12:  # 98.61149226741131 -> 98.6115
                text = f"{value:.6g}"
    elif isinstance(value, _dt.datetime):
        from weave_lite.server.results import iso

        text = iso(value)
    elif isinstance(value, (_dt.date, _dt.time)):
        text = value.isoformat()
    elif isinstance(value, (bytes, bytearray)):
        text = f"<{len(value)} bytes>"
    elif isinstance(value, (dict, list, tuple)):
        from weave_lite.server.results import jsonable

        text = json.dumps(jsonable(value), ensure_ascii=False, separators=(", ", ": "))
    else:
        text = str(value)
    text = text.replace("\n", "\\n").replace("\t", " ")
    if limit and len(text) > limit:
        text = text[: limit - 1] + "…"
    return text


def format_table(names: list[str], rows: Iterable[Iterable[Any]], numeric: set[str] | None = None) -> str:
    """An aligned plain-text table with a header line and a rule under it."""
    numeric = numeric or set()
    cells = [[cell(v) for v in row] for row in rows]
    widths = [len(n) for n in names]
    for row in cells:
        for i, c in enumerate(row):
            widths[i] = max(widths[i], len(c))

    def line(values: list[str]) -> str:
        out = []
        for i, v in enumerate(values):
            out.append(v.rjust(widths[i]) if names[i] in numeric else v.ljust(widths[i]))
        return "  ".join(out).rstrip()

    parts = [line(names), "  ".join("-" * w for w in widths)]
    parts.extend(line(row) for row in cells)
    return "\n".join(parts)


def _numeric_columns(table) -> set[str]:
    import pyarrow as pa

    return {
        f.name
        for f in table.schema
        if pa.types.is_integer(f.type) or pa.types.is_floating(f.type) or pa.types.is_decimal(f.type)
    }


def _write_result(result: Any, fmt: str, limit: int | None) -> None:
    import pyarrow as pa

    from weave_lite.server.results import as_table, jsonable, result_kind

    kind = result_kind(result)
    if fmt == "arrow":
        table = as_table(result)
        if limit is not None:
            table = table.slice(0, limit)
        out = sys.stdout.buffer
        with pa.ipc.new_stream(out, table.schema) as writer:
            writer.write_table(table)
        out.flush()
        return
    if kind == "scalar":
        value = result.as_py() if isinstance(result, pa.Scalar) else result
        if fmt == "json":
            click.echo(json.dumps(jsonable(value), ensure_ascii=False))
        elif fmt == "csv":
            writer = csv.writer(sys.stdout, lineterminator="\n")
            writer.writerow(["value"])
            writer.writerow([_csv_value(value)])
        else:
            click.echo(cell(value, limit=0))
        return
    table = as_table(result)
    total = table.num_rows
    shown = table.slice(0, limit) if limit is not None else table
    if fmt == "json":
        from weave_lite.api import to_python

        out = shown.column("value").to_pylist() if kind == "values" else to_python(shown)
        sys.stdout.write(json.dumps(jsonable(out), ensure_ascii=False))
        sys.stdout.write("\n")
        return
    if fmt == "csv":
        writer = csv.writer(sys.stdout, lineterminator="\n")
        writer.writerow(table.schema.names)
        for batch in shown.to_batches(max_chunksize=10_000):
            for row in batch.to_pylist():
                writer.writerow([_csv_value(v) for v in row.values()])
        return
    # table
    if limit is None:
        limit = TABLE_FORMAT_LIMIT
        shown = table.slice(0, limit)
    names = table.schema.names
    if kind == "groups":
        import pyarrow.compute as pc

        counts = pc.list_value_length(shown.column("rows")).to_pylist()
        keys = shown.column("groupkey").to_pylist()
        text = format_table(["groupkey", "count"], zip(keys, counts), {"count"})
    else:
        rows = (row.values() for row in shown.to_pylist())
        text = format_table(names, rows, _numeric_columns(table))
    click.echo(text)
    noun = {"groups": "group", "values": "value"}.get(kind, "row")
    footer = f"({total:,} {noun}{'' if total == 1 else 's'}"
    if shown.num_rows < total:
        footer += f", showing the first {shown.num_rows:,}; use --limit N or --limit 0 for all"
    click.echo(footer + ")")


def _csv_value(value: Any) -> Any:
    from weave_lite.server.results import iso, jsonable

    if value is None:
        return ""
    if isinstance(value, _dt.datetime):
        return iso(value)
    if isinstance(value, (dict, list, tuple, bytes, bytearray)):
        return json.dumps(jsonable(value), ensure_ascii=False)
    if isinstance(value, float) and value != value:
        return "NaN"
    return value


# -- commands -----------------------------------------------------------------------------------

ROOT_HELP = "data root (default: $WEAVE_LITE_ROOT, else ~/.weave_lite)"


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.option("--root", type=click.Path(file_okay=False), default=None, help=ROOT_HELP)
@click.version_option(package_name="weave_lite", prog_name="weave-lite")
@click.pass_context
def main(ctx: click.Context, root: str | None) -> None:
    """weave_lite: stream rows into tables on disk and query them with panel expressions."""
    ctx.obj = {"root": root}


@main.command()
@click.argument("expr")
@click.option("--root", type=click.Path(file_okay=False), default=None, help=ROOT_HELP)
@click.option("--format", "-f", "fmt", type=click.Choice(FORMATS), default="table", show_default=True,
              help="table: readable text; json; csv; arrow: an Arrow IPC stream on stdout")
@click.option("--limit", "-n", type=click.IntRange(min=0), default=None,
              help=f"at most N rows (table format: {TABLE_FORMAT_LIMIT} unless given; 0: all)")
@click.option("--max-memory", "max_memory", metavar="BYTES", default=None,
              help="memory the evaluation may take, e.g. 512M or 2GiB; 0 or none: unlimited "
                   "(default: $WEAVE_LITE_MAX_MEMORY, else 2 GiB)")
@click.option("--timeout", "timeout", metavar="SECONDS", default=None,
              help="seconds the evaluation may run; 0 or none: unlimited (default: $WEAVE_LITE_TIMEOUT, else 30)")
@click.pass_context
def query(
    ctx: click.Context, expr: str, root: str | None, fmt: str, limit: int | None,
    max_memory: str | None, timeout: str | None,
) -> None:
    """Evaluate the expression EXPR and print its result."""
    from weave_lite.api import evaluate

    root = _root(ctx, root)
    budgets = _query_budgets(max_memory, timeout)
    _print_result(lambda: evaluate(expr, root=root, **budgets), fmt, limit)


def _print_result(compute: Callable[[], Any], fmt: str, limit: int | None) -> None:
    """Compute a result and print it in ``fmt`` (``query`` and ``sql``); ``--limit 0`` is all."""
    if fmt == "arrow" and sys.stdout.isatty():
        _fail("refusing to write binary Arrow IPC to a terminal; redirect stdout to a file or a pipe")
    if limit == 0:
        limit = None if fmt != "table" else sys.maxsize
    result = _run(compute)
    _run(lambda: _write_result(result, fmt, limit))


def _query_budgets(max_memory: str | None, timeout: str | None) -> dict:
    """``--max-memory`` / ``--timeout`` as given, else the service defaults (environment)."""
    from weave_lite.budgets import parse_bytes, parse_seconds, service_defaults

    try:
        limits = dict(service_defaults())
        if max_memory is not None:
            limits["max_memory"] = parse_bytes(max_memory, name="--max-memory")
        if timeout is not None:
            limits["timeout"] = parse_seconds(timeout, name="--timeout")
    except ValueError as exc:
        _fail(str(exc))
    return limits


@main.command()
@click.option("--root", type=click.Path(file_okay=False), default=None, help=ROOT_HELP)
@click.option("--format", "-f", "fmt", type=click.Choice(["table", "json"]), default="table", show_default=True)
@click.pass_context
def tables(ctx: click.Context, root: str | None, fmt: str) -> None:
    """List the tables under the data root with their row counts."""
    from weave_lite.storage import data_root, list_tables
    from weave_lite.storage.table import TableLog

    root = _root(ctx, root)
    out = []
    for name in list_tables(root):
        try:
            snap = TableLog(name, root).snapshot()
            out.append({"table": str(name), "rows": snap.num_rows, "version": snap.version})
        except WeaveError as exc:
            out.append({"table": str(name), "rows": None, "version": None, "error": str(exc)})
    if fmt == "json":
        click.echo(json.dumps(out))
        return
    if not out:
        click.echo(f"no tables under {data_root(root)}", err=True)
        return
    click.echo(format_table(["table", "rows"], ([t["table"], t["rows"]] for t in out), {"rows"}))


def _parse_lines(lines: list[bytes], first_line: int, skip_bad: bool, bad: list[int]) -> tuple[list[dict], str | None]:
    """JSON lines -> (row dicts, error). ``first_line`` is the 1-based number of ``lines[0]``.

    Without ``skip_bad`` the rows stop before the first bad line and ``error`` names it.
    """
    body = [raw for raw in lines if raw.strip()]
    rows = None
    try:  # fast path: one C-level parse for the whole chunk
        rows = json.loads(b"[" + b",".join(body) + b"]") if body else []
        if len(rows) != len(body) or not all(type(r) is dict for r in rows):
            rows = None
    except ValueError:
        rows = None
    if rows is None:
        rows = []
        for i, raw in enumerate(lines):
            if not raw.strip():
                continue
            try:
                row = json.loads(raw)
                if not isinstance(row, dict):
                    raise ValueError(f"expected a JSON object, got {type(row).__name__}")
            except ValueError as exc:
                if skip_bad:
                    bad.append(first_line + i)
                    continue
                error = f"stdin line {first_line + i}: not a JSON object row: {exc}"
                return _with_timestamps(rows), error
            rows.append(row)
    return _with_timestamps(rows), None


def _with_timestamps(rows: list[dict]) -> list[dict]:
    for row in rows:
        ts = row.get("timestamp")
        if isinstance(ts, str):
            row["timestamp"] = _parse_timestamp(ts)
    return rows


def _parse_timestamp(text: str) -> Any:
    try:
        value = _dt.datetime.fromisoformat(text)
    except ValueError:
        return text
    if value.tzinfo is None:
        value = value.replace(tzinfo=_dt.timezone.utc)
    return value


class _Progress:
    """A progress line on stderr: redrawn in place on a terminal, a line a second otherwise."""

    def __init__(self, stream=None):
        self.stream = stream or sys.stderr
        self.tty = self.stream.isatty()
        self.started = time.monotonic()
        self.last = 0.0
        self.drawn = False

    def update(self, text: str, force: bool = False) -> None:
        now = time.monotonic()
        if not force and now - self.last < (0.2 if self.tty else 1.0):
            return
        self.last = now
        if self.tty:
            self.stream.write("\r\033[K" + text)
            self.drawn = True
        else:
            self.stream.write(text + "\n")
        self.stream.flush()

    def done(self, text: str) -> None:
        if self.tty and self.drawn:
            self.stream.write("\r\033[K")
        self.stream.write(text + "\n")
        self.stream.flush()


@main.command()
@click.argument("table")
@click.option("--root", type=click.Path(file_okay=False), default=None, help=ROOT_HELP)
@click.option("--batch-size", type=click.IntRange(min=1), default=10_000, show_default=True,
              help="rows per log() call (fewer when stdin is slow: whatever has arrived is logged)")
@click.option("--skip-bad", is_flag=True, help="skip lines that are not JSON objects (reported at the end)")
@click.pass_context
def log(ctx: click.Context, table: str, root: str | None, batch_size: int, skip_bad: bool) -> None:
    """Stream JSON lines from stdin into TABLE ("t", "p/t" or "e/p/t").

    Each line is one JSON object (one row). Rows are logged in batches as they arrive and are
    durable when the command ends. A string `timestamp` in ISO 8601 becomes a timestamp.
    """
    from weave_lite.stream_table import StreamTable

    root = _root(ctx, root)
    st = _run(lambda: StreamTable(table, root=root))
    progress = _Progress()
    fd = sys.stdin.fileno()
    if os.isatty(fd):
        click.echo("reading JSON lines from stdin (one object per line; Ctrl+D ends)", err=True)
    pending = b""
    line_no = 1
    logged = 0
    since_flush = 0
    bad: list[int] = []

    def log_rows(rows: list[dict], first: int) -> int:
        for start in range(0, len(rows), batch_size):
            chunk = rows[start : start + batch_size]
            try:
                st.log(chunk)
            except TypeError:
                # Find the offending row: log one by one so its line can be named.
                for j, row in enumerate(chunk):
                    try:
                        st.log(row)
                    except TypeError as exc:
                        if not skip_bad:
                            raise click.ClickException(f"stdin row {first + start + j}: {exc}") from None
                        bad.append(first + start + j)
        return len(rows)

    try:
        while True:
            chunk = os.read(fd, 1 << 20)
            if not chunk:
                break
            pending += chunk
            lines = pending.split(b"\n")
            pending = lines.pop()
            if not lines:
                continue
            rows, error = _parse_lines(lines, line_no, skip_bad, bad)
            line_no += len(lines)
            n = log_rows(rows, logged + 1)
            logged += n
            if error:
                raise click.ClickException(error)
            since_flush += n
            if since_flush >= 500_000:  # bound the queue when stdin outruns the disk
                st.flush()
                since_flush = 0
            elapsed = max(time.monotonic() - progress.started, 1e-9)
            progress.update(f"logged {logged:,} rows to {st.name} ({logged / elapsed:,.0f} rows/s)")
        if pending.strip():
            rows, error = _parse_lines([pending], line_no, skip_bad, bad)
            logged += log_rows(rows, logged + 1)
            if error:
                raise click.ClickException(error)
    except KeyboardInterrupt:
        _run(st.finish)
        progress.done(f"interrupted: {logged:,} rows logged to {st.name}")
        sys.exit(130)
    except click.ClickException as exc:
        _run(st.finish)
        exc.show()
        progress.done(f"stopped: the {logged:,} rows before it were logged to {st.name}")
        sys.exit(1)
    _run(st.finish)
    elapsed = time.monotonic() - progress.started
    progress.done(f"logged {logged:,} rows to {st.name} in {elapsed:.1f} s")
    if bad:
        shown = ", ".join(str(b) for b in bad[:10]) + (" ..." if len(bad) > 10 else "")
        click.echo(f"skipped {len(bad):,} bad lines: {shown}", err=True)


@main.command()
@click.argument("table")
@click.option("--root", type=click.Path(file_okay=False), default=None, help=ROOT_HELP)
@click.option("--retention", type=float, default=None,
              help="seconds before replaced segment files are deleted (default: the storage's, 1 hour)")
@click.pass_context
def compact(ctx: click.Context, table: str, root: str | None, retention: float | None) -> None:
    """Merge TABLE's small segments into large ones (safe while others write and read)."""
    from weave_lite.storage import compact as compact_table
    from weave_lite.storage import open_table

    root = _root(ctx, root)
    log_ = _run(lambda: open_table(table, root))
    tty = sys.stderr.isatty()
    width = 30

    def progress(done: int, total: int) -> None:
        filled = int(width * done / total) if total else width
        bar = "#" * filled + "-" * (width - filled)
        line = f"compacting {log_.name} [{bar}] {done}/{total} runs"
        if tty:
            sys.stderr.write("\r\033[K" + line)
            if done == total:
                sys.stderr.write("\n")
        else:
            sys.stderr.write(line + "\n")
        sys.stderr.flush()

    kwargs = {"progress": progress}
    if retention is not None:
        kwargs["retention_seconds"] = retention
    result = _run(lambda: compact_table(log_, **kwargs))
    if result.runs_merged == 0 and result.segments_before == result.segments_after:
        click.echo(f"{log_.name}: nothing to compact ({result.segments_after} segments)")
    else:
        click.echo(
            f"{log_.name}: {result.segments_before} segments -> {result.segments_after} "
            f"({result.runs_merged} runs merged, {result.files_deleted} old files deleted)"
        )


@main.command()
@click.argument("table")
@click.option("--root", type=click.Path(file_okay=False), default=None, help=ROOT_HELP)
@click.option("--repair", is_flag=True, help="commit a repair that drops unreadable segments (asks first)")
@click.option("--yes", "-y", is_flag=True, help="with --repair: do not ask for confirmation")
@click.option("--no-checksums", is_flag=True, help="skip reading every segment for its checksum (faster)")
@click.pass_context
def check(ctx: click.Context, table: str, root: str | None, repair: bool, yes: bool, no_checksums: bool) -> None:
    """Verify every commit, checkpoint and segment of TABLE; exit 1 if anything is damaged."""
    from weave_lite.storage.check import check_table
    from weave_lite.storage.check import repair as repair_table
    from weave_lite.storage.names import TableName
    from weave_lite.storage.table import TableLog

    root = _root(ctx, root)
    log_ = _run(lambda: TableLog(TableName.parse(table), root))
    if not log_.exists():
        _fail(f"no table `{log_.name}` under {log_.root}")
    report = _run(lambda: check_table(log_, checksums=not no_checksums))
    for line in report.lines():
        click.echo(line)
    if report.ok:
        return
    if repair:
        lost = sum(d.segment.rows for d in report.damage if d.segment is not None)
        if not yes:
            click.confirm(f"repair {log_.name}: drop the damaged segments ({lost} rows) and damaged hints?", abort=True)
        version = _run(lambda: repair_table(log_, report))
        click.echo(f"{log_.name}: repaired" + (f" (commit {version} drops {lost} rows)" if version else ""))
        if _run(lambda: check_table(log_, checksums=not no_checksums)).ok:
            return
    sys.exit(1)


@main.command()
@click.argument("sql")
@click.option("--root", type=click.Path(file_okay=False), default=None, help=ROOT_HELP)
@click.option("--format", "-f", "fmt", type=click.Choice(FORMATS), default="table", show_default=True,
              help="output format (as for `query`)")
@click.option("--limit", "-n", type=click.IntRange(min=0), default=None,
              help="rows to print (table format: 100 unless given; 0: all)")
@click.pass_context
def sql(ctx: click.Context, sql: str, root: str | None, fmt: str, limit: int | None) -> None:
    """Run the DuckDB SQL query SQL over the stream tables (each a view named "entity/project/table")."""
    from weave_lite.embedding import run_sql

    root = _root(ctx, root)
    _print_result(lambda: run_sql(sql, root=root), fmt, limit)


PROFILE_SUMMARY = ["column", "count", "null_count", "min", "max", "mean", "stddev", "median", "distinct_est", "frequent_items"]


@main.command()
@click.argument("table")
@click.option("--root", type=click.Path(file_okay=False), default=None, help=ROOT_HELP)
@click.option("--format", "-f", "fmt", type=click.Choice(FORMATS), default="table", show_default=True)
@click.option("--all", "all_metrics", is_flag=True, help="table format: every metric, not a summary")
@click.pass_context
def profile(ctx: click.Context, table: str, root: str | None, fmt: str, all_metrics: bool) -> None:
    """Print a per-column statistical profile of TABLE (counts, types, min/max, quantiles...)."""
    from weave_lite.storage import open_table

    try:
        from weave_lite.profiles import profile_table
    except ImportError:
        profile_table = None
    if profile_table is None:
        _fail("profiles not available: this weave_lite has no weave_lite.profiles.profile_table")
    root = _root(ctx, root)
    log_ = _run(lambda: open_table(table, root))
    data = _run(lambda: log_.snapshot().to_arrow())
    prof = _run(lambda: profile_table(data, name=str(log_.name)))
    if not hasattr(prof, "to_arrow"):
        _fail("profiles not available: the profile has no to_arrow()")
    summary = _run(prof.to_arrow)
    if fmt == "table" and not all_metrics:
        summary = summary.select([c for c in PROFILE_SUMMARY if c in summary.schema.names])
        if "frequent_items" in summary.schema.names:
            import pyarrow as pa

            items = summary.column("frequent_items").to_pylist()
            short = [
                ", ".join(f"{i.get('value')}:{i.get('est')}" for i in (v or [])[:3]) if v else None for v in items
            ]
            idx = summary.schema.get_field_index("frequent_items")
            summary = summary.set_column(idx, "frequent_items", pa.array(short, type=pa.string()))
    if fmt == "table":
        click.echo(f"profile of {log_.name} ({data.num_rows:,} rows)", err=True)
    _run(lambda: _write_result(summary, fmt, sys.maxsize if fmt == "table" else None))


@main.command()
@click.option("--root", type=click.Path(file_okay=False), default=None, help=ROOT_HELP)
@click.option("--port", type=click.IntRange(0, 65535), default=None,
              help="port (default: $WEAVE_LITE_PORT, else 8765)")
@click.option("--host", default="127.0.0.1", show_default=True,
              help="interface to listen on; anything but loopback exposes your data")
@click.pass_context
def serve(ctx: click.Context, root: str | None, port: int | None, host: str) -> None:
    """Serve the panel web page and its JSON API (http://127.0.0.1:8765 by default)."""
    try:
        import starlette  # noqa: F401
        import uvicorn  # noqa: F401
    except ImportError:
        _fail('the panel server needs the "serve" extra: pip install "weave_lite[serve]"')
    from weave_lite.server.app import serve as run_server
    from weave_lite.storage import data_root

    root = _root(ctx, root)
    if port is None:
        port = int(os.environ.get("WEAVE_LITE_PORT") or 8765)
    shown_host = f"[{host}]" if ":" in host else host
    click.echo(f"weave_lite panels on http://{shown_host}:{port}/  (data root: {data_root(root)}; Ctrl+C stops)", err=True)
    run_server(root, host=host, port=port)


from weave_lite.cli_drift import drift_command  # noqa: E402 - registered after main exists

main.add_command(drift_command)

if __name__ == "__main__":
    main()
