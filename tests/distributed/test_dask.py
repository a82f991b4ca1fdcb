"""Queries on a Dask cluster (a 2-process LocalCluster) equal local runs, bit for bit.

The DuckDB differential corpus runs over a stream table of uneven, multi-batch segments, on a
local root and on an ``s3://`` root served by moto on loopback: every result from the cluster
(workers reading the segments themselves) must equal the local run with the same
``morsel_rows``.  Also: row order of Concat, TopK, a Limit that stops submitting morsels once the
first wave has its rows, and ``now()`` inside tasks being the client's clock.
"""

from __future__ import annotations

import datetime as dt
import logging
import os
import socket
import uuid

import pyarrow as pa
import pytest

distributed = pytest.importorskip("distributed")
boto3 = pytest.importorskip("boto3")

import weave_lite  # noqa: E402
from tests.engine.duckdb_corpus import CASES, R, make_tables  # noqa: E402
from weave_lite.execute.morsel_sources import segment_morsels  # noqa: E402
from weave_lite.storage.compaction import _merge_run  # noqa: E402
from weave_lite.storage.table import TableLog  # noqa: E402

NAME = "e/p/t"
ST = f'stream_table("{NAME}").rows'
MORSEL_ROWS = 400
# (rows, record batch size) of each segment appended: uneven, several batches in some.
SEGMENTS = [(130, 40), (370, 370), (1, 1), (499, 100), (600, 77), (55, 10), (345, 345)]
EXPRESSIONS = [c.weave.replace(R, ST) for c in CASES]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def s3_env():
    """moto's S3 server on loopback, and the AWS_* variables pointing at it (set before the
    cluster starts: its worker processes inherit them)."""
    server_mod = pytest.importorskip("moto.server")
    logging.getLogger("werkzeug").setLevel(logging.ERROR)
    port = _free_port()
    server = server_mod.ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    endpoint = f"http://127.0.0.1:{port}"
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("AWS_ENDPOINT_URL", endpoint)
        mp.setenv("AWS_ACCESS_KEY_ID", "testing")
        mp.setenv("AWS_SECRET_ACCESS_KEY", "testing")
        mp.setenv("AWS_DEFAULT_REGION", "us-east-1")
        for name in ("AWS_ENDPOINT_URL_S3", "AWS_PROFILE", "AWS_SESSION_TOKEN", "AWS_REGION"):
            mp.delenv(name, raising=False)
        try:
            yield endpoint
        finally:
            server.stop()


@pytest.fixture(scope="module")
def client(s3_env):
    cluster = distributed.LocalCluster(
        n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None, silence_logs=logging.ERROR
    )
    dask_client = distributed.Client(cluster)
    try:
        yield dask_client
    finally:
        dask_client.close()
        cluster.close()


def _write(root) -> None:
    t = make_tables()["t"]
    log = TableLog(NAME, root)
    start = 0
    for n, chunk in SEGMENTS:
        log.append(pa.Table.from_batches(t.slice(start, n).to_batches(max_chunksize=chunk)))
        start += n
    assert start == t.num_rows


@pytest.fixture(scope="module")
def local_root(tmp_path_factory):
    root = tmp_path_factory.mktemp("dask") / "data"
    _write(root)
    log = TableLog(NAME, root)
    assert _merge_run(log, list(log.snapshot().segments[1:4]))  # one compacted segment too
    return str(root)


@pytest.fixture(scope="module")
def s3_root(s3_env):
    bucket = f"wl-{uuid.uuid4().hex[:12]}"
    boto3.client("s3", endpoint_url=s3_env).create_bucket(Bucket=bucket)
    root = f"s3://{bucket}/data"
    _write(root)
    return root


@pytest.fixture(scope="module")
def models():
    return {"models": make_tables()["models"]}


def _same(a, b) -> bool:
    """Bit-identical: Arrow results equal with the same type (and chunking of a table's
    columns), other values with the same repr (floats to the last bit, NaN equal to NaN)."""
    if isinstance(a, pa.Table):
        return isinstance(b, pa.Table) and a.schema == b.schema and a.equals(b)
    if isinstance(a, (pa.Array, pa.ChunkedArray)):
        return type(a) is type(b) and a.type == b.type and a.equals(b)
    return repr(a) == repr(b)


def _outcome(expr, **kwargs):
    try:
        return "ok", weave_lite.evaluate(expr, morsel_rows=MORSEL_ROWS, **kwargs)
    except weave_lite.errors.WeaveError as exc:
        return type(exc).__name__, str(exc)


def _differential(root, client, models, expressions):
    assert len(weave_lite.storage.open_table(NAME, root).snapshot().segments) >= 5
    mismatches = []
    for expr in expressions:
        local = _outcome(expr, root=root, tables=models, threads=1)
        remote = _outcome(expr, root=root, tables=models, client=client)
        if local[0] != remote[0] or not _same(local[1], remote[1]):
            mismatches.append(f"{expr}\n  local  {local!r}\n  remote {remote!r}")
    assert not mismatches, "\n".join(mismatches[:5])


def test_corpus_on_a_local_root(local_root, client, models):
    _differential(local_root, client, models, EXPRESSIONS)


def test_corpus_on_an_s3_root(s3_root, client, models):
    # Every other case (the store changes where segments are read from, not what runs on them).
    _differential(s3_root, client, models, EXPRESSIONS[::2])


def _counting(client, monkeypatch) -> list:
    """The morsels the evaluations submit to the cluster from now on."""
    submitted: list = []
    real = client.map

    def submit(fn, blobs, morsels, *args, **kwargs):
        submitted.extend(morsels)
        return real(fn, blobs, morsels, *args, **kwargs)

    monkeypatch.setattr(client, "map", submit)
    return submitted


def test_concat_streams_rows_back_in_order(local_root, client, monkeypatch):
    submitted = _counting(client, monkeypatch)
    got = weave_lite.evaluate(f'{ST}.map(r => r["idx"] * 2)', root=local_root, morsel_rows=100, client=client)
    assert got.to_pylist() == [2 * i for i in range(2000)]
    assert len(submitted) >= 20  # one task per morsel


def test_topk_runs_on_every_morsel_and_keeps_ties_in_row_order(local_root, client, monkeypatch):
    submitted = _counting(client, monkeypatch)
    expr = f'{ST}.sort(r => [r["tokens"] % 7, r["model"]], ["asc", "desc"]).limit(25)["idx"]'
    local = weave_lite.evaluate(expr, root=local_root, morsel_rows=MORSEL_ROWS)
    assert weave_lite.evaluate(expr, root=local_root, morsel_rows=MORSEL_ROWS, client=client).equals(local)
    assert len(submitted) == len(
        segment_morsels(weave_lite.storage.open_table(NAME, local_root).snapshot(), MORSEL_ROWS)
    )


def test_limit_stops_once_the_first_wave_has_its_rows(local_root, client, monkeypatch):
    submitted = _counting(client, monkeypatch)
    expr = f'{ST}.filter(r => r["tokens"] > 0).map(r => r["idx"]).limit(5)'
    got = weave_lite.evaluate(expr, root=local_root, morsel_rows=100, client=client)
    assert got.to_pylist() == weave_lite.evaluate(expr, root=local_root, morsel_rows=100).to_pylist()
    morsels = segment_morsels(weave_lite.storage.open_table(NAME, local_root).snapshot(), 100)
    assert len(morsels) > 20 and len(submitted) == 2  # the first wave (2 worker threads)
    submitted.clear()
    expr = f'{ST}.filter(r => r["idx"] >= 1950).limit(30)["idx"]'  # the rows are in the last morsel
    got = weave_lite.evaluate(expr, root=local_root, morsel_rows=100, optimize=False, client=client)
    assert got.to_pylist() == list(range(1950, 1980)) and len(submitted) == len(morsels)


def test_now_in_tasks_is_the_clients_clock(local_root, client):
    expr = f"{ST}.map(r => now())"
    before = dt.datetime.now(dt.UTC)
    got = weave_lite.evaluate(expr, root=local_root, morsel_rows=MORSEL_ROWS, client=client).to_pylist()
    after = dt.datetime.now(dt.UTC)
    assert len(got) == 2000 and len(set(got)) == 1 and before <= got[0] <= after
    fixed = {"now": dt.datetime(2024, 5, 2, 0, 30, tzinfo=dt.UTC)}
    expr = f'{ST}.filter(r => r["timestamp"] < now()).groupby(r => r["model"]).map(g => {{m: g.groupkey, n: g.count, age: g.map(r => now() - r["timestamp"]).max}})'
    local = weave_lite.evaluate(expr, root=local_root, vars=fixed, morsel_rows=MORSEL_ROWS)
    remote = weave_lite.evaluate(expr, root=local_root, vars=fixed, morsel_rows=MORSEL_ROWS, client=client)
    assert remote.equals(local) and 0 < sum(local["n"].to_pylist()) < 2000


def test_compiled_execute_takes_a_client(local_root, client):
    compiled = weave_lite.compile(f'{ST}["latency"].sum')
    local = compiled.execute(root=local_root, morsel_rows=MORSEL_ROWS)
    assert repr(compiled.execute(root=local_root, morsel_rows=MORSEL_ROWS, client=client)) == repr(local)


def test_workers_read_the_segments_themselves(local_root, client):
    """What a task carries is the descriptor, not rows: a few kilobytes however big the morsel."""
    import pickle

    morsels = segment_morsels(weave_lite.storage.open_table(NAME, local_root).snapshot(), 10**6)
    assert len(morsels) == 1 and len(pickle.dumps(morsels[0])) < 20_000
    assert os.path.isabs(morsels[0].root)


def test_cli_query_on_a_scheduler(local_root, client):
    from click.testing import CliRunner

    from weave_lite.cli import main

    expr = f'{ST}.groupby(r => r["model"]).map(g => {{m: g.groupkey, n: g.count}})'
    args = ["query", expr, "--root", local_root, "--format", "json"]
    local = CliRunner().invoke(main, args)
    remote = CliRunner().invoke(main, [*args, "--scheduler", client.scheduler.address])
    assert local.exit_code == 0 and remote.exit_code == 0, remote.output
    assert remote.output == local.output and '"n"' in local.output
