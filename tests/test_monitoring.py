"""Weave-style monitors: @mon.trace() on sync, async, raising and unloggable-argument
functions, and many threads tracing at once."""

from __future__ import annotations

import asyncio
import datetime as dt
import threading

import pytest

import weave_lite
from weave_lite.monitoring import Monitor, StatusCode, deinit_monitor


@pytest.fixture
def mon(tmp_path):
    m = weave_lite.init_monitor("acme/prod/calls", root=tmp_path, batch_interval=0.01)
    yield m
    deinit_monitor()


def rows(mon):
    mon.flush()
    return mon.streamtable.to_arrow().to_pylist()


def test_sync_call_logged_by_parameter_name(mon):
    @mon.trace(static_attributes={"env": "test"})
    def predict(prompt, temperature=0.7, *extra, top_k=5, **options):
        return f"{prompt}!"

    before = dt.datetime.now(dt.UTC)
    assert predict("hi") == "hi!"
    assert predict("yo", 0.1, 1, 2, top_k=1, seed=3, monitor_attributes={"user": "u1"}) == "yo!"
    after = dt.datetime.now(dt.UTC)
    r1, r2 = rows(mon)
    assert r1["name"].endswith("predict") and r1["status_code"] == StatusCode.SUCCESS
    assert r1["inputs"]["prompt"] == "hi" and r1["inputs"]["temperature"] == 0.7
    assert r1["inputs"]["top_k"] == 5 and r1["output"] == "hi!"
    assert r2["inputs"]["extra"] == [1, 2] and r2["inputs"]["options"] == {"seed": 3}
    assert r2["attributes"] == {"env": "test", "user": "u1"}
    assert r1["attributes"]["env"] == "test" and r1["attributes"]["user"] is None
    assert r1["exception"] is None and r1["exception_type"] is None
    assert before - dt.timedelta(seconds=1) <= r1["start_time"] <= r1["end_time"] <= after
    assert r1["latency_ms"] >= 0 and r1["parent_id"] is None
    assert predict.__name__ == "predict"


def test_async_call(mon):
    @mon.trace()
    async def fetch(x):
        await asyncio.sleep(0.01)
        return {"y": x * 2}

    assert asyncio.run(fetch(21)) == {"y": 42}
    (r,) = rows(mon)
    assert r["inputs"] == {"x": 21} and r["output"] == {"y": 42}
    assert r["latency_ms"] >= 10


def test_raising_call_reraised_unchanged(mon):
    err = ValueError("bad input 7")

    @mon.trace()
    def boom(x):
        raise err

    with pytest.raises(ValueError) as info:
        boom(7)
    assert info.value is err
    assert info.traceback[-1].name == "boom"  # the traceback ends in the traced function

    @mon.trace()
    async def aboom():
        raise KeyError("k")

    with pytest.raises(KeyError):
        asyncio.run(aboom())
    r, ra = rows(mon)
    assert r["status_code"] == StatusCode.ERROR and r["output"] is None
    assert r["exception"] == "ValueError: bad input 7"
    assert (r["exception_type"], r["exception_message"]) == ("ValueError", "bad input 7")
    assert ra["exception_type"] == "KeyError"


class Opaque:
    def __repr__(self) -> str:
        return "<Opaque>"


class BadRepr:
    def __repr__(self) -> str:
        raise RuntimeError("no repr")


def test_unloggable_values_become_repr(mon):
    @mon.trace()
    def f(o, s, d, nested, bad):
        return Opaque()

    f(Opaque(), {1}, {1: "int key"}, {"a": [Opaque(), 1]}, BadRepr())
    (r,) = rows(mon)
    assert r["inputs"]["o"] == "<Opaque>"
    assert r["inputs"]["s"] == "{1}"
    assert r["inputs"]["d"] == "{1: 'int key'}"
    assert r["inputs"]["nested"] == {"a": ["<Opaque>", 1]}  # only the unloggable item
    assert "BadRepr" in r["inputs"]["bad"]
    assert r["output"] == "<Opaque>"


def test_nested_calls_and_attribute_blocks(mon):
    @mon.trace()
    def inner(x):
        return x + 1

    @mon.trace()
    def outer(x):
        return inner(x) * 2

    with mon.attributes({"release": "v2"}):
        assert outer(1) == 4
    r_inner, r_outer = rows(mon)  # the inner call finishes first
    assert r_inner["parent_id"] == r_outer["span_id"]
    assert r_inner["attributes"] == r_outer["attributes"] == {"release": "v2"}


def test_a_failing_table_never_raises_into_the_caller(tmp_path, capsys):
    class Broken:
        def log(self, rows):
            raise OSError("disk full")

        def flush(self):
            pass

        def finish(self):
            pass

    m = Monitor(Broken())

    @m.trace()
    def f(x):
        return x

    assert [f(i) for i in range(10)] == list(range(10))
    m.finish()
    assert m.dropped == 10
    assert "disk full" in capsys.readouterr().err


def test_many_threads_tracing_at_once(mon):
    @mon.trace()
    def work(t, i):
        return t * 1000 + i

    def run(t):
        for i in range(500):
            assert work(t, i) == t * 1000 + i

    threads = [threading.Thread(target=run, args=(t,)) for t in range(8)]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    got = rows(mon)
    assert len(got) == 4000
    assert sorted(r["output"] for r in got) == sorted(t * 1000 + i for t in range(8) for i in range(500))
    assert len({r["span_id"] for r in got}) == 4000
    assert all(r["inputs"]["t"] * 1000 + r["inputs"]["i"] == r["output"] for r in got)


def test_stream_key_and_global_monitor(tmp_path):
    with pytest.raises(ValueError, match="stream_key"):
        weave_lite.init_monitor("just-a-name", root=tmp_path)
    from weave_lite.monitoring import default_monitor, trace

    @trace()
    def g(x):
        return x

    g(1)  # the default monitor logs nowhere yet: still no error
    m = weave_lite.init_monitor("e/p/g", root=tmp_path)
    assert m is default_monitor()
    g(2)
    assert [r["output"] for r in rows(m)] == [2]
    deinit_monitor()
