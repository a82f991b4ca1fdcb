"""Constraints checked on profile windows: callbacks, reports beside the profiles, timers,
and no window written twice (kill -9 around a rotation too)."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
import threading
from pathlib import Path

import pytest

from weave_lite import StreamTable
from weave_lite.profiles import RotatingProfileWriter, get_or_create_session, read
from weave_lite.profiles.constraints.factories import (
    no_missing_values,
    smaller_than_number,
)
from weave_lite.storage import filesystem

REPO = Path(__file__).resolve().parents[2]
T0 = 1_616_775_791.0  # 2021-03-26 16:23:11 UTC


class Clock:
    def __init__(self, t: float) -> None:
        self.t = t

    def __call__(self) -> float:
        return self.t


def test_callback_on_a_rotating_logger_with_an_injected_clock(tmp_path):
    clock = Clock(T0)
    reports = []
    session = get_or_create_session(path=tmp_path)
    constraints = [smaller_than_number(column_name="x", number=10), no_missing_values(column_name="x")]
    with session.logger("al", with_rotation_time="m", clock=clock, constraints=constraints,
                        on_violation=reports.append, tick=3600) as lg:
        lg.log([{"x": 1.0}, {"x": 5.0}])
        clock.t += 60
        lg.log({"x": 50.0})  # closes the first window: it passes, no callback
        assert reports == []
        lg.log({"x": None})
        clock.t += 60
        lg.log({"x": 2.0})  # closes the second: both constraints fail
        assert len(reports) == 1
    rep = reports[0]
    assert not rep.passed
    assert [r.name for r in rep.failures] == ["x smaller than number 10", "x has no missing values"]
    assert rep.profile_path.name == "al_profile.2021-03-26_16-24.bin"
    assert rep.report_path == tmp_path / "al_profile.2021-03-26_16-24.report.json"
    assert rep.start.isoformat() == "2021-03-26T16:24:00+00:00"
    names = sorted(p.name for p in tmp_path.iterdir())
    assert names == [
        "al_profile.2021-03-26_16-23.bin", "al_profile.2021-03-26_16-23.report.json",
        "al_profile.2021-03-26_16-24.bin", "al_profile.2021-03-26_16-24.report.json",
        "al_profile.2021-03-26_16-25.bin", "al_profile.2021-03-26_16-25.report.json",
    ]
    first = json.loads((tmp_path / names[1]).read_text())
    assert first["passed"] is True and first["profile"] == names[0]
    second = json.loads((tmp_path / names[3]).read_text())
    assert second["passed"] is False
    assert [r["failed"] for r in second["results"]] == [1, 1]
    assert second["results"][1]["summary"]["null"] == 1


def test_timer_closes_an_idle_window_and_checks_it(tmp_path):
    clock = Clock(T0)
    got = threading.Event()
    reports = []

    def cb(report):
        reports.append((report, threading.current_thread().name))
        got.set()

    w = RotatingProfileWriter(tmp_path, "idle", "s", clock=clock, tick=0.02,
                              constraints=[smaller_than_number(column_name="x", number=0)], on_violation=cb)
    try:
        w.log({"x": 1.0})
        clock.t += 5  # no row arrives any more: the ticker closes the window
        assert got.wait(5)
        report, thread = reports[0]
        assert thread.startswith("weave-profile-rotate")
        assert report.report_path.exists() and report.profile_path.exists()
        assert [p.name for p in w.written] == ["idle_profile.2021-03-26_16-23-11.bin"]
    finally:
        w.close()
    assert len(reports) == 1  # closing does not write (or check) the window again


def test_stream_table_windows_are_checked(tmp_path):
    got = threading.Event()
    reports = []

    def cb(report):
        reports.append(report)
        got.set()

    with pytest.raises(ValueError, match="profile_rotation"):
        StreamTable("e/p/t", root=tmp_path, constraints=[])
    st = StreamTable("e/p/t", root=tmp_path, profile_rotation="s", batch_interval=0.01,
                     constraints=[smaller_than_number(column_name="latency_ms", number=100)], on_violation=cb)
    try:
        st.log({"latency_ms": 500.0})
        st.flush()
        assert got.wait(10), "the idle window was not closed by the timer"
    finally:
        st.finish()
    assert reports[0].failures[0].name == "latency_ms smaller than number 100"
    assert reports[0].report_path.parent == st.profile_folder
    assert reports[0].report_path.exists()


def test_a_window_is_written_once(tmp_path):
    clock = Clock(T0)
    calls = []
    w = RotatingProfileWriter(tmp_path, "once", "s", clock=clock, background=False,
                              constraints=[smaller_than_number(column_name="x", number=0)],
                              on_violation=calls.append)
    w.log([{"x": 1}, {"x": 2}])
    clock.t += 1
    assert w.rotate_if_due() is True
    assert w.rotate_if_due() is False and w.rotate_if_due() is False
    w.close()
    w.close()
    assert [p.name for p in w.written] == ["once_profile.2021-03-26_16-23-11.bin"]
    assert read(w.written[0]).rows == 2
    assert len(calls) == 1


def test_a_retried_write_does_not_merge_the_window_twice(tmp_path, monkeypatch):
    clock = Clock(T0)
    real = filesystem._fsync_dir
    fails = {"n": 1}

    def flaky(folder):
        if fails["n"]:
            fails["n"] -= 1
            raise OSError("fsync of the folder failed")  # after the rename: the file landed
        real(folder)

    monkeypatch.setattr(filesystem, "_fsync_dir", flaky)
    w = RotatingProfileWriter(tmp_path, "retry", "s", clock=clock, background=False)
    w.log([{"x": 1}, {"x": 2}, {"x": 3}])
    clock.t += 1
    with pytest.raises(OSError, match="fsync"):
        w.rotate_if_due()
    w.close()  # retries the pending window: it landed, so it is not merged into itself
    assert [p.name for p in w.written] == ["retry_profile.2021-03-26_16-23-11.bin"]
    assert read(w.written[0]).rows == 3


CHILD = textwrap.dedent(
    """
    import sys, time
    from weave_lite.profiles import get_or_create_session, rotation
    from weave_lite.profiles.constraints.factories import smaller_than_number

    folder, start, w0, windows, mode = sys.argv[1], float(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4]), sys.argv[5]
    t = {"now": start}
    if mode == "hang":  # hang in the third window's check: its profile is on disk, its report not
        real = rotation.RotatingProfileWriter._check
        seen = {"n": 0}
        def hanging(self, prof, path):
            seen["n"] += 1
            if seen["n"] == 3:
                print("hang", path.name, flush=True)
                time.sleep(3600)
            real(self, prof, path)
        rotation.RotatingProfileWriter._check = hanging
    lg = get_or_create_session(path=folder).logger(
        "k", with_rotation_time="s", clock=lambda: t["now"], tick=3600,
        constraints=[smaller_than_number(column_name="x", number=1e9)],
        on_violation=lambda r: print("violation", r.profile_path.name, flush=True))
    for w in range(w0, w0 + windows):
        for i in range(20):
            lg.log({"x": float(i), "w": w})
        t["now"] += 1.0
        lg.log({"x": -1.0, "w": w + 1})  # closes window w
        print("closed", w, flush=True)
    lg.close()
    print("done", flush=True)
    """
)
START = 1_616_775_780.0  # 2021-03-26 16:23:00 UTC


def _child(folder, w0, windows, mode):
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join([str(REPO), env.get("PYTHONPATH", "")])
    return subprocess.Popen(
        [sys.executable, "-c", CHILD, str(folder), str(START + w0), str(w0), str(windows), mode],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)


def _state(folder: Path) -> dict[str, tuple[bytes, int]]:
    return {p.name: (p.read_bytes(), p.stat().st_mtime_ns) for p in sorted(folder.iterdir())
            if p.name.endswith(".bin")}


@pytest.mark.parametrize("mode", ["hang", "loop"])
def test_kill_9_around_a_rotation_then_restart(tmp_path, mode):
    proc = _child(tmp_path, 0, 10_000, mode)
    try:
        for line in proc.stdout:
            word, *rest = line.split()
            if (mode == "hang" and word == "hang") or (mode == "loop" and word == "closed" and int(rest[0]) >= 4):
                os.kill(proc.pid, signal.SIGKILL)
                break
    finally:
        if proc.poll() is None:
            proc.kill()
        proc.wait(timeout=30)
    assert proc.returncode == -signal.SIGKILL, proc.stderr.read()
    before = _state(tmp_path)
    n = len(before)
    assert n >= 3
    assert list(before) == [f"k_profile.2021-03-26_16-23-{w:02d}.bin" for w in range(n)]
    newest_report = tmp_path / f"k_profile.2021-03-26_16-23-{n - 1:02d}.report.json"
    if mode == "hang":
        assert not newest_report.exists()  # killed between the window's profile and its report

    # restart in the window the killed process had open (its rows were lost)
    again = _child(tmp_path, n, 3, "plain")
    _, err = again.communicate(timeout=120)
    assert again.returncode == 0, err
    after = _state(tmp_path)
    for name, (data, mtime) in before.items():  # never rewritten
        assert after[name] == (data, mtime), name
    names = sorted(p.name for p in tmp_path.iterdir() if not p.name.startswith("."))
    windows = [f"k_profile.2021-03-26_16-23-{w:02d}" for w in range(n + 4)]
    assert names == sorted([f"{w}.bin" for w in windows] + [f"{w}.report.json" for w in windows])
    for w, stem in enumerate(windows):  # every window once, with its rows once
        prof = read(tmp_path / f"{stem}.bin")
        expected = 1 if w == n + 3 else 20 + (0 if w in (0, n) else 1)
        assert prof.rows == expected, (stem, prof.rows)
        assert json.loads((tmp_path / f"{stem}.report.json").read_text())["passed"] is True
