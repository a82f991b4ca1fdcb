"""Session/logger API and rotation with an injected clock (no sleeping)."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta

import numpy as np
import pandas as pd
import pyarrow as pa
import pytest

from weave_lite.profiles import get_or_create_session, parse_rotation, read
from weave_lite.profiles.rotation import RotatingProfileWriter


class Clock:
    def __init__(self, t: datetime):
        self.t = t

    def __call__(self) -> datetime:
        return self.t

    def advance(self, **kw) -> None:
        self.t = self.t + timedelta(**kw)


T0 = datetime(2021, 3, 26, 16, 23, 11, 500_000, tzinfo=UTC)


def names(folder) -> list[str]:
    return sorted(p.name for p in folder.iterdir() if not p.name.startswith("."))


@pytest.mark.parametrize(
    ("spec", "steps", "expected"),
    [
        ("30s", [{"seconds": 0}, {"seconds": 10}, {"seconds": 9}, {"seconds": 40}, {"seconds": 30}],
         ["ds_profile.2021-03-26_16-23-00.bin", "ds_profile.2021-03-26_16-23-30.bin",
          "ds_profile.2021-03-26_16-24-00.bin", "ds_profile.2021-03-26_16-24-30.bin"]),
        ("m", [{"seconds": 0}, {"seconds": 30}, {"minutes": 1}, {"minutes": 5}],
         ["ds_profile.2021-03-26_16-23.bin", "ds_profile.2021-03-26_16-24.bin",
          "ds_profile.2021-03-26_16-29.bin"]),
        ("h", [{"seconds": 0}, {"minutes": 40}, {"hours": 3}],
         ["ds_profile.2021-03-26_16.bin", "ds_profile.2021-03-26_17.bin",
          "ds_profile.2021-03-26_20.bin"]),
        ("24h", [{"seconds": 0}, {"hours": 7}, {"hours": 1}, {"hours": 24}],
         ["ds_profile.2021-03-26_00.bin", "ds_profile.2021-03-27_00.bin",
          "ds_profile.2021-03-28_00.bin"]),
        ("d", [{"seconds": 0}, {"hours": 7}, {"hours": 1}, {"days": 2}],
         ["ds_profile.2021-03-26.bin", "ds_profile.2021-03-27.bin", "ds_profile.2021-03-29.bin"]),
    ],
)
def test_rotation_file_names(tmp_path, spec, steps, expected):
    clock = Clock(T0)
    session = get_or_create_session(path=tmp_path)
    logged = 0
    with session.logger(dataset_name="ds", with_rotation_time=spec, clock=clock) as logger:
        for step in steps:
            clock.advance(**step)
            logger.log({"x": logged, "s": "v"})
            logger.log([{"x": logged + 0.5}])
            logged += 1
    assert names(tmp_path) == expected  # one file per non-empty window, none for empty ones
    total = sum(read(tmp_path / n).rows for n in expected)
    assert total == 2 * logged


def test_windows_hold_their_records_and_bounds(tmp_path):
    clock = Clock(datetime(2021, 3, 26, 16, 0, 0, tzinfo=UTC))
    session = get_or_create_session(path=tmp_path)
    with session.logger("w", with_rotation_time="m", clock=clock) as logger:
        for minute in range(3):
            for i in range(100 * (minute + 1)):
                logger.log({"minute": minute, "i": i})
            clock.advance(minutes=1)
            assert len(logger.written_files) == minute  # written when the clock passes the end
            logger.log(pa.table({"minute": [minute + 1]}))  # first record of the next window
    files = sorted(tmp_path.glob("w_profile.*.bin"))
    assert [read(f).rows for f in files] == [100, 201, 301, 1]
    p0 = read(files[0])
    assert p0.start == datetime(2021, 3, 26, 16, 0, tzinfo=UTC)
    assert p0.end == datetime(2021, 3, 26, 16, 1, tzinfo=UTC)
    assert p0["minute"].summary()["max"] == 0.0
    assert read(files[1])["i"].count == 200 and read(files[1])["minute"].count == 201


def test_epoch_seconds_clock_and_batches(tmp_path):
    t = {"now": 1_616_775_791.25}  # 2021-03-26 16:23:11.25 UTC
    session = get_or_create_session(path=tmp_path)
    with session.logger("e", with_rotation_time="s", clock=lambda: t["now"]) as logger:
        logger.log(pa.record_batch({"a": [1, 2, 3]}))
        t["now"] += 1
        logger.log(pd.DataFrame({"a": [4.0, 5.0]}))
        t["now"] += 1
        logger.log({"a": 6})
    assert names(tmp_path) == ["e_profile.2021-03-26_16-23-11.bin", "e_profile.2021-03-26_16-23-12.bin",
                               "e_profile.2021-03-26_16-23-13.bin"]


def test_no_rotation_writes_one_profile_on_close(tmp_path):
    clock = Clock(T0)
    session = get_or_create_session(path=tmp_path)
    logger = session.logger("once", clock=clock)
    for i in range(1000):
        logger.log({"i": i})
        clock.advance(hours=1)  # no rotation: time does not matter
    assert names(tmp_path) == []
    logger.close()
    logger.close()  # idempotent
    assert names(tmp_path) == ["once_profile.2021-03-26_16-23-11.bin"]
    assert read(tmp_path / "once_profile.2021-03-26_16-23-11.bin")["i"].count == 1000
    with pytest.raises(ValueError, match="closed"):
        logger.log({"i": 1})


def test_empty_logger_writes_nothing(tmp_path):
    with get_or_create_session(path=tmp_path).logger("none", with_rotation_time="h"):
        pass
    assert names(tmp_path) == []


def test_default_folder_under_root(tmp_path, monkeypatch):
    clock = Clock(T0)
    with get_or_create_session(root=tmp_path).logger("ds", with_rotation_time="h", clock=clock) as lg:
        lg.log({"a": 1})
    assert (tmp_path / "_profiles" / "ds" / "ds_profile.2021-03-26_16.bin").exists()
    env_root = tmp_path / "envroot"
    monkeypatch.setenv("WEAVE_LITE_ROOT", str(env_root))
    session = get_or_create_session()
    assert session is get_or_create_session()
    with session.logger("ds2", clock=clock) as lg:
        lg.log({"a": 1})
    assert (env_root / "_profiles" / "ds2" / "ds2_profile.2021-03-26_16-23-11.bin").exists()


@pytest.mark.parametrize("bad", ["", "x", "10", "1.5h", "-1h", "0s", "h1", "30 s", "30sec", "1w",
                                 " h", "hh", "٣h", None, 30])
def test_bad_rotation_strings_rejected(tmp_path, bad):
    with pytest.raises(ValueError, match="with_rotation_time"):
        parse_rotation(bad)
    if bad is not None:
        with pytest.raises(ValueError, match="with_rotation_time"):
            get_or_create_session(path=tmp_path).logger("ds", with_rotation_time=bad)


def test_good_rotation_strings():
    assert parse_rotation("30s").seconds == 30
    assert parse_rotation("m").seconds == 60
    assert parse_rotation("24h").seconds == 86400
    assert parse_rotation("d").fmt == "%Y-%m-%d"
    assert parse_rotation("H").seconds == 3600  # case-insensitive, as whylogs v0


@pytest.mark.parametrize("bad", ["../x", "", ".hidden", "a/b", "x" * 200])
def test_bad_dataset_names_rejected(tmp_path, bad):
    with pytest.raises(ValueError, match="dataset_name"):
        get_or_create_session(path=tmp_path).logger(bad)


def test_reopened_window_is_merged(tmp_path):
    clock = Clock(T0)
    session = get_or_create_session(path=tmp_path)
    for _ in range(2):
        with session.logger("re", with_rotation_time="h", clock=clock) as lg:
            lg.log([{"a": 1}, {"a": 2}])
    assert names(tmp_path) == ["re_profile.2021-03-26_16.bin"]
    assert read(tmp_path / "re_profile.2021-03-26_16.bin").rows == 4


def test_idle_window_written_by_background_ticker(tmp_path):
    clock = Clock(T0)
    w = RotatingProfileWriter(tmp_path, "idle", "s", clock=clock, tick=0.02)
    try:
        w.log({"a": 1})
        clock.advance(seconds=5)  # no more logging: the ticker closes the window
        deadline = time.monotonic() + 5
        while not w.written and time.monotonic() < deadline:
            time.sleep(0.01)
        assert [p.name for p in w.written] == ["idle_profile.2021-03-26_16-23-11.bin"]
    finally:
        w.close()


def test_writer_from_background_threads(tmp_path):
    import threading

    clock = Clock(T0)
    w = RotatingProfileWriter(tmp_path, "thr", "h", clock=clock)
    batch = pa.record_batch({"x": np.arange(1000, dtype=np.float64)})

    def work():
        for _ in range(20):
            w.log_arrow(batch)
            w.log_row({"x": 1.0})

    threads = [threading.Thread(target=work) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    w.close()
    p = read(tmp_path / "thr_profile.2021-03-26_16.bin")
    assert p.rows == 4 * 20 * 1001 and p["x"].count == 4 * 20 * 1001


def test_single_dicts_are_batched_fast(tmp_path):
    rows = [{"a": float(i), "b": i % 7, "s": f"k{i % 100}"} for i in range(100_000)]
    session = get_or_create_session(path=tmp_path)
    with session.logger("fast", with_rotation_time="h") as lg:
        t0 = time.perf_counter()
        for r in rows:
            lg.log(r)
        elapsed = time.perf_counter() - t0
    p = read(next(tmp_path.glob("fast_profile.*.bin")))
    assert p["a"].count == 100_000 and p["s"].distinct() == 100
    assert elapsed < 5.0  # ~0.5 s here; whylogs needs ~13 s for 100k single dicts


def test_session_clock_and_patched_time(tmp_path, monkeypatch):
    clock = Clock(T0)
    session = get_or_create_session(path=tmp_path / "a", clock=clock)
    with session.logger("sc", with_rotation_time="h") as lg:
        lg.log({"a": 1})
    assert names(tmp_path / "a") == ["sc_profile.2021-03-26_16.bin"]
    session2 = get_or_create_session(path=tmp_path / "b")
    with session2.logger("pt", with_rotation_time="d") as lg:
        monkeypatch.setattr(time, "time", lambda: 86400.0 * 3 + 5)  # 1970-01-04
        lg.log({"a": 1})
    assert names(tmp_path / "b") == ["pt_profile.1970-01-04.bin"]
