"""A logger process killed with SIGKILL loses at most its open window."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from weave_lite.profiles import read

REPO = Path(__file__).resolve().parents[2]

CHILD = textwrap.dedent(
    """
    import sys
    from weave_lite.profiles import get_or_create_session

    folder, rows_per_window = sys.argv[1], int(sys.argv[2])
    t = {"now": 1_616_775_780.0}  # 2021-03-26 16:23:00 UTC
    session = get_or_create_session(path=folder)
    logger = session.logger("crash", with_rotation_time="s", clock=lambda: t["now"])
    w = 0
    while True:
        for i in range(rows_per_window):
            logger.log({"w": w, "i": i, "s": f"k{i % 13}"})
        t["now"] += 1.0
        logger.log({"w": w + 1, "i": -1, "s": "first"})  # closes window w (written now)
        print(f"closed {w}", flush=True)
        w += 1
    """
)


def _run_and_kill(tmp_path: Path, rows_per_window: int, kill_after: int) -> int:
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join([str(REPO), env.get("PYTHONPATH", "")])
    proc = subprocess.Popen(
        [sys.executable, "-c", CHILD, str(tmp_path), str(rows_per_window)],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env,
    )
    last = -1
    try:
        for line in proc.stdout:
            last = int(line.split()[1])
            if last >= kill_after:
                os.kill(proc.pid, signal.SIGKILL)  # while it goes on rotating
                break
    finally:
        if proc.poll() is None:
            proc.kill()
        proc.wait(timeout=30)
    assert proc.returncode == -signal.SIGKILL, proc.stderr.read()
    return last


@pytest.mark.parametrize("rows_per_window", [50, 3000])
def test_kill_9_loses_at_most_the_open_window(tmp_path, rows_per_window):
    last_closed = _run_and_kill(tmp_path, rows_per_window, kill_after=12)
    assert last_closed >= 12
    files = sorted(p for p in tmp_path.iterdir() if not p.name.startswith("."))
    # every window reported closed before the kill is on disk; maybe a few more
    assert len(files) >= last_closed + 1
    for w, path in enumerate(files):
        assert path.name == f"crash_profile.2021-03-26_16-23-{w:02d}.bin"
        prof = read(path)  # complete and readable (atomic writes), never torn
        expected = rows_per_window + (1 if w > 0 else 0)
        assert prof.rows == expected
        assert prof["w"].summary()["min"] == prof["w"].summary()["max"] == w


EXIT_CHILD = textwrap.dedent(
    """
    import sys
    from weave_lite.profiles import get_or_create_session

    session = get_or_create_session(path=sys.argv[1])
    t = {"now": 1_616_775_780.0}
    rotating = session.logger("exit_rot", with_rotation_time="m", clock=lambda: t["now"])
    plain = session.logger("exit_plain", clock=lambda: t["now"])
    for i in range(1000):
        rotating.log({"i": i})
        plain.log({"i": i})
    # no close(): the open windows are written at interpreter exit
    """
)


def test_open_windows_written_at_interpreter_exit(tmp_path):
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join([str(REPO), env.get("PYTHONPATH", "")])
    out = subprocess.run([sys.executable, "-c", EXIT_CHILD, str(tmp_path)], env=env,
                         capture_output=True, text=True, timeout=300, check=False)
    assert out.returncode == 0, out.stderr
    names = sorted(p.name for p in tmp_path.iterdir())
    assert names == ["exit_plain_profile.2021-03-26_16-23-00.bin", "exit_rot_profile.2021-03-26_16-23.bin"]
    for name in names:
        assert read(tmp_path / name)["i"].count == 1000
