"""The ``weave-lite`` commands: the click group :func:`main` and one function a command (see
:mod:`weave_lite.cli` for a tour)."""

from __future__ import annotations

import json
import os
import sys
import time
from typing import Any

import click

from weave_lite.cli.common import FORMATS, ROOT_HELP, fail, resolve_root, run, skip_pandas_shim
from weave_lite.cli.json_lines import Progress, parse_lines
from weave_lite.cli.output import TABLE_FORMAT_LIMIT, format_table, print_result, write_result
from weave_lite.errors import WeaveError


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.option("--root", type=click.Path(file_okay=False), default=None, help=ROOT_HELP)
@click.version_option(package_name="weave_lite", prog_name="weave-lite")
@click.pass_context
def main(ctx: click.Context, root: str | None) -> None:
    """weave_lite: stream rows into tables on disk and query them with panel expressions."""
    ctx.obj = {"root": root}


def budget_options(what: str):
    """``--max-memory`` and ``--timeout``: the budgets of ``what`` (read by :func:`_query_budgets`)."""

    def attach(command):
        command = click.option(
            "--timeout",
            "timeout",
            metavar="SECONDS",
            default=None,
            help=f"seconds {what} may run; 0 or none: unlimited (default: $WEAVE_LITE_TIMEOUT, else 30)",
        )(command)
        return click.option(
            "--max-memory",
            "max_memory",
            metavar="BYTES",
            default=None,
            help=f"memory {what} may take, e.g. 512M or 2GiB; 0 or none: unlimited "
            "(default: $WEAVE_LITE_MAX_MEMORY, else 2 GiB)",
        )(command)

    return attach


@main.command()
@click.argument("expr")
@click.option("--root", type=click.Path(file_okay=False), default=None, help=ROOT_HELP)
@click.option(
    "--format",
    "-f",
    "fmt",
    type=click.Choice(FORMATS),
    default="table",
    show_default=True,
    help="table: readable text; json; csv; arrow: an Arrow IPC stream on stdout",
)
@click.option(
    "--limit",
    "-n",
    type=click.IntRange(min=0),
    default=None,
    help=f"at most N rows (table format: {TABLE_FORMAT_LIMIT} unless given; 0: all)",
)
@budget_options("the evaluation")
@click.option(
    "--scheduler",
    metavar="ADDRESS",
    default=None,
    help="run the scans' morsels on the Dask cluster of this scheduler (tcp://host:8786; "
    "needs the dask extra); its workers read the data root themselves",
)
@click.pass_context
def query(
    ctx: click.Context,
    expr: str,
    root: str | None,
    fmt: str,
    limit: int | None,
    max_memory: str | None,
    timeout: str | None,
    scheduler: str | None,
) -> None:
    """Evaluate the expression EXPR and print its result."""
    from weave_lite.cli.lean_imports import preload

    preload()  # before anything imports pyarrow or Lark: without their unused optional imports
    from weave_lite.api import evaluate
    from weave_lite.execute import kernel_choice

    skip_pandas_shim()
    kernel_choice.background = False  # a one-shot process: no Numba compiling behind the query

    root = resolve_root(ctx, root)
    budgets = _query_budgets(max_memory, timeout)
    if scheduler is None:
        print_result(lambda: evaluate(expr, root=root, **budgets), fmt, limit)
        return
    client = _dask_client(scheduler)
    try:
        print_result(lambda: evaluate(expr, root=root, client=client, **budgets), fmt, limit)
    finally:
        client.close()


def _dask_client(address: str) -> Any:
    """A Dask client of the scheduler at ``address`` (a clear error without the extra)."""
    try:
        from weave_lite.distributed import connect

        return connect(address)
    except ImportError as exc:
        fail(str(exc))
    except OSError as exc:  # no scheduler there (distributed raises OSError on a timeout)
        fail(f"could not reach the Dask scheduler at {address}: {exc}")


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
        fail(str(exc))
    return limits


@main.command()
@click.option("--root", type=click.Path(file_okay=False), default=None, help=ROOT_HELP)
@click.option("--format", "-f", "fmt", type=click.Choice(["table", "json"]), default="table", show_default=True)
@click.pass_context
def tables(ctx: click.Context, root: str | None, fmt: str) -> None:
    """List the tables under the data root with their row counts."""
    from weave_lite.storage import data_root, list_tables
    from weave_lite.storage.table import TableLog

    root = resolve_root(ctx, root)
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


@main.command()
@click.argument("table")
@click.option("--root", type=click.Path(file_okay=False), default=None, help=ROOT_HELP)
@click.option(
    "--batch-size",
    type=click.IntRange(min=1),
    default=10_000,
    show_default=True,
    help="rows per log() call (fewer when stdin is slow: whatever has arrived is logged)",
)
@click.option("--skip-bad", is_flag=True, help="skip lines that are not JSON objects (reported at the end)")
@click.pass_context
def log(ctx: click.Context, table: str, root: str | None, batch_size: int, skip_bad: bool) -> None:
    """Stream JSON lines from stdin into TABLE ("t", "p/t" or "e/p/t").

    Each line is one JSON object (one row). Rows are logged in batches as they arrive and are
    durable when the command ends. A string `timestamp` in ISO 8601 becomes a timestamp.
    """
    from weave_lite.stream_table import StreamTable

    root = resolve_root(ctx, root)
    st = run(lambda: StreamTable(table, root=root))
    progress = Progress()
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
            rows, error = parse_lines(lines, line_no, skip_bad, bad)
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
            rows, error = parse_lines([pending], line_no, skip_bad, bad)
            logged += log_rows(rows, logged + 1)
            if error:
                raise click.ClickException(error)
    except KeyboardInterrupt:
        run(st.finish)
        progress.done(f"interrupted: {logged:,} rows logged to {st.name}")
        sys.exit(130)
    except click.ClickException as exc:
        run(st.finish)
        exc.show()
        progress.done(f"stopped: the {logged:,} rows before it were logged to {st.name}")
        sys.exit(1)
    run(st.finish)
    elapsed = time.monotonic() - progress.started
    progress.done(f"logged {logged:,} rows to {st.name} in {elapsed:.1f} s")
    if bad:
        shown = ", ".join(str(b) for b in bad[:10]) + (" ..." if len(bad) > 10 else "")
        click.echo(f"skipped {len(bad):,} bad lines: {shown}", err=True)


@main.command()
@click.argument("table")
@click.option("--root", type=click.Path(file_okay=False), default=None, help=ROOT_HELP)
@click.option(
    "--retention",
    type=float,
    default=None,
    help="seconds before replaced segment files are deleted (default: the storage's, 1 hour)",
)
@click.pass_context
def compact(ctx: click.Context, table: str, root: str | None, retention: float | None) -> None:
    """Merge TABLE's small segments into large ones (safe while others write and read)."""
    from weave_lite.storage import compact as compact_table
    from weave_lite.storage import open_table

    root = resolve_root(ctx, root)
    log_ = run(lambda: open_table(table, root))
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

    kwargs: dict[str, Any] = {"progress": progress}
    if retention is not None:
        kwargs["retention_seconds"] = retention
    result = run(lambda: compact_table(log_, **kwargs))
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

    root = resolve_root(ctx, root)
    log_ = run(lambda: TableLog(TableName.parse(table), root))
    if not log_.exists():
        fail(f"no table `{log_.name}` under {log_.root}")
    report = run(lambda: check_table(log_, checksums=not no_checksums))
    for line in report.lines():
        click.echo(line)
    if report.ok:
        return
    if repair:
        lost = sum(d.segment.rows for d in report.damage if d.segment is not None)
        if not yes:
            click.confirm(f"repair {log_.name}: drop the damaged segments ({lost} rows) and damaged hints?", abort=True)
        version = run(lambda: repair_table(log_, report))
        click.echo(f"{log_.name}: repaired" + (f" (commit {version} drops {lost} rows)" if version else ""))
        if run(lambda: check_table(log_, checksums=not no_checksums)).ok:
            return
    sys.exit(1)


@main.command()
@click.argument("sql")
@click.option("--root", type=click.Path(file_okay=False), default=None, help=ROOT_HELP)
@click.option(
    "--format",
    "-f",
    "fmt",
    type=click.Choice(FORMATS),
    default="table",
    show_default=True,
    help="output format (as for `query`)",
)
@click.option(
    "--limit",
    "-n",
    type=click.IntRange(min=0),
    default=None,
    help="rows to print (table format: 100 unless given; 0: all)",
)
@click.pass_context
def sql(ctx: click.Context, sql: str, root: str | None, fmt: str, limit: int | None) -> None:
    """Run the DuckDB SQL query SQL over the stream tables (each a view named "entity/project/table")."""
    from weave_lite.embedding import run_sql

    root = resolve_root(ctx, root)
    print_result(lambda: run_sql(sql, root=root), fmt, limit)


PROFILE_SUMMARY = [
    "column",
    "count",
    "null_count",
    "min",
    "max",
    "mean",
    "stddev",
    "median",
    "distinct_est",
    "frequent_items",
]


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
        fail("profiles not available: this weave_lite has no weave_lite.profiles.profile_table")
    root = resolve_root(ctx, root)
    log_ = run(lambda: open_table(table, root))
    data = run(lambda: log_.snapshot().to_arrow())
    prof = run(lambda: profile_table(data, name=str(log_.name)))
    if not hasattr(prof, "to_arrow"):
        fail("profiles not available: the profile has no to_arrow()")
    summary = run(prof.to_arrow)
    if fmt == "table" and not all_metrics:
        summary = summary.select([c for c in PROFILE_SUMMARY if c in summary.schema.names])
        if "frequent_items" in summary.schema.names:
            import pyarrow as pa

            items = summary.column("frequent_items").to_pylist()
            short = [", ".join(f"{i.get('value')}:{i.get('est')}" for i in (v or [])[:3]) if v else None for v in items]
            idx = summary.schema.get_field_index("frequent_items")
            summary = summary.set_column(idx, "frequent_items", pa.array(short, type=pa.string()))
    if fmt == "table":
        click.echo(f"profile of {log_.name} ({data.num_rows:,} rows)", err=True)
    run(lambda: write_result(summary, fmt, sys.maxsize if fmt == "table" else None))


@main.command()
@click.option("--root", type=click.Path(file_okay=False), default=None, help=ROOT_HELP)
@click.option("--port", type=click.IntRange(0, 65535), default=None, help="port (default: $WEAVE_LITE_PORT, else 8765)")
@click.option(
    "--host",
    default="127.0.0.1",
    show_default=True,
    help="interface to listen on; anything but loopback exposes your data",
)
@budget_options("each panel evaluation")
@click.pass_context
def serve(
    ctx: click.Context, root: str | None, port: int | None, host: str, max_memory: str | None, timeout: str | None
) -> None:
    """Serve the panel web page and its JSON API (http://127.0.0.1:8765 by default)."""
    try:
        import starlette  # noqa: F401
        import uvicorn  # noqa: F401
    except ImportError:
        fail('the panel server needs the "serve" extra: pip install "weave_lite[serve]"')
    from weave_lite.server.app import serve as run_server
    from weave_lite.storage import data_root

    root = resolve_root(ctx, root)
    if port is None:
        port = int(os.environ.get("WEAVE_LITE_PORT") or 8765)
    shown_host = f"[{host}]" if ":" in host else host
    click.echo(
        f"weave_lite panels on http://{shown_host}:{port}/  (data root: {data_root(root)}; Ctrl+C stops)", err=True
    )
    run_server(root, host=host, port=port, **_query_budgets(max_memory, timeout))


from weave_lite.cli.drift import drift_command  # noqa: E402 - registered after main exists

main.add_command(drift_command)
