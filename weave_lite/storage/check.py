"""``weave-lite check``: verify every file of a table's log, and repair what can be repaired.

Reads every commit (shape and checksum), every checkpoint and the hint (compared with the
replayed state), and every live segment (present, of the recorded size, of the recorded
checksum, a valid Arrow IPC file with the recorded row count).  Everything damaged is listed
with its file and the problem.

Repair never rewrites history: it commits a new ``repair`` entry that removes the live segments
that cannot be read (their rows are lost; everything else stays), and deletes damaged
checkpoints and a damaged hint (they are only hints).  A damaged *commit* cannot be repaired
this way, since replay stops there; it is reported with the versions it hides.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

import pyarrow as pa
import pyarrow.ipc as ipc

from weave_lite.errors import CorruptTableError
from weave_lite.storage.entries import decode_hint
from weave_lite.storage.log import (
    CHECKPOINT_NAME,
    HINT_PATH,
    LOG_DIR,
    LogState,
    apply_entry,
    checkpoint_path,
    commit_path,
)
from weave_lite.storage.segments import SegmentInfo
from weave_lite.storage.table import TableLog

_COMMIT_NAME = re.compile(r"(\d{20})\.json")


@dataclass(frozen=True)
class Damage:
    """One damaged file: what it is (``commit``, ``segment``, ``checkpoint``, ``hint``), where, how."""

    kind: str
    path: str
    problem: str
    segment: SegmentInfo | None = None

    @property
    def repairable(self) -> bool:
        return self.kind != "commit"


@dataclass
class CheckReport:
    """What :func:`check_table` found."""

    table: str
    version: int = 0
    commits: int = 0
    segments: int = 0
    rows: int = 0
    damage: list[Damage] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.damage

    def lines(self) -> list[str]:
        head = (
            f"{self.table}: version {self.version}, {self.commits} commits, "
            f"{self.segments} live segments, {self.rows} rows checked"
        )
        if self.ok:
            return [f"{head}: OK"]
        out = [f"{head}: {len(self.damage)} damaged file(s)"]
        for d in self.damage:
            fix = "" if d.repairable else " (cannot be repaired: restore this file from a backup)"
            out.append(f"  {d.kind} {d.path}: {d.problem}{fix}")
        return out


def check_table(table: TableLog, *, checksums: bool = True) -> CheckReport:
    """Verify every commit, checkpoint, hint and live segment of ``table``."""
    report = CheckReport(str(table.name))
    fs = table.fs
    names = fs.list_dir(LOG_DIR)
    versions = sorted(int(m.group(1)) for n in names if (m := _COMMIT_NAME.fullmatch(n)))
    latest = versions[-1] if versions else 0
    report.version = latest
    missing = sorted(set(range(1, latest + 1)) - set(versions))
    for v in missing:
        report.damage.append(
            Damage("commit", fs.full(commit_path(v)), "commit is missing: later versions are unreachable")
        )
    state = LogState()
    states: dict[int, LogState] = {}
    for v in range(1, latest + 1):
        if v in missing:
            break
        try:
            apply_entry(state, v, table.log.read_entry(v), fs.full(commit_path(v)))
        except CorruptTableError as exc:
            report.damage.append(Damage("commit", exc.path, exc.problem))
            break
        report.commits += 1
        states[v] = state.copy()
    report.damage.extend(_check_hints(table, names, states))
    for segment in state.segments:
        report.segments += 1
        report.rows += segment.rows
        problem = _segment_problem(table, segment, checksums)
        if problem is not None:
            report.damage.append(Damage("segment", fs.full(segment.path), problem, segment))
    return report


def _check_hints(table: TableLog, names: list[str], states: dict[int, LogState]) -> list[Damage]:
    fs = table.fs
    damage = []
    for name in names:
        m = CHECKPOINT_NAME.fullmatch(name)
        if not m:
            continue
        version = int(m.group(1))
        rel = checkpoint_path(version)
        try:
            paths = [s.path for s in table.log.decode_checkpoint(rel, fs.read_bytes(rel), version).segments]
            if version in states and paths != [s.path for s in states[version].segments]:
                raise CorruptTableError(fs.full(rel), "its segments differ from the replayed commits")
        except CorruptTableError as exc:
            damage.append(Damage("checkpoint", exc.path, exc.problem))
    if fs.exists(HINT_PATH):
        try:
            hint = decode_hint(fs.full(HINT_PATH), fs.read_bytes(HINT_PATH))
            if hint and hint not in states:
                raise CorruptTableError(fs.full(HINT_PATH), f"names version {hint}, which is not a readable commit")
        except CorruptTableError as exc:
            damage.append(Damage("hint", exc.path, exc.problem))
    return damage


def _segment_problem(table: TableLog, segment: SegmentInfo, checksums: bool) -> str | None:
    fs = table.fs
    if not fs.exists(segment.path):
        return "segment file is missing"
    try:
        data = fs.read_bytes(segment.path)
    except OSError as exc:
        return f"cannot be read ({exc})"
    if len(data) != segment.bytes:
        return f"segment is {len(data)} bytes, its commit recorded {segment.bytes}"
    if checksums and segment.checksum is not None:
        from weave_lite.storage.filesystem import segment_checksum

        if segment_checksum(data) != segment.checksum:
            return "checksum mismatch (the file was modified or damaged)"
    try:
        read = ipc.open_file(pa.py_buffer(data)).read_all()
        read.validate(full=True)
    except (pa.ArrowException, ValueError) as exc:
        return f"not a readable Arrow IPC file ({exc})"
    if read.num_rows != segment.rows:
        return f"holds {read.num_rows} rows, its commit recorded {segment.rows}"
    return None


def repair(table: TableLog, report: CheckReport) -> int | None:
    """Fix what ``report`` found that can be fixed; return the repair commit's version (if one
    was needed).  Raises :class:`CorruptTableError` when a commit itself is damaged."""
    broken_commits = [d for d in report.damage if d.kind == "commit"]
    if broken_commits:
        d = broken_commits[0]
        raise CorruptTableError(d.path, f"{d.problem}; a damaged commit cannot be repaired automatically")
    for d in report.damage:
        if d.kind in ("checkpoint", "hint"):
            rel = d.path[len(str(table.fs.base)) + 1 :]
            table.fs.delete(rel)
    removed = [d.segment.path for d in report.damage if d.kind == "segment" and d.segment is not None]
    if not removed:
        return None
    entry = {"op": "repair", "add": [], "remove": removed}
    return table.log.commit(entry, known=report.version)
