"""The commit log: numbered, immutable JSON entries claimed with put-if-absent.

Protocol (after Delta Lake's ``PROTOCOL.md``):

* Version ``v`` of a table is the file ``_log/<v, 20 digits>.json``.  A writer commits by
  creating the next version with :meth:`LogFileSystem.put_if_absent`; exactly one writer wins a
  number, losers move to the next one.  Versions are therefore contiguous.
* An entry lists segments to ``add`` and segment paths to ``remove``.  Appends only add at the
  end, so they never conflict with anything and are retried blindly.  Compaction replaces a
  contiguous run of live segments by one segment at the run's place; it re-checks on every
  retry that its run is still live (another compaction may have taken it).
* Every :data:`CHECKPOINT_EVERY` versions the committer of that version writes a checkpoint (the
  whole live state) and points ``_log/_last_checkpoint`` at it, so that opening a table replays
  at most that many entries.  The hint is only a hint: readers probe forward from it.
* Nothing is ever rewritten in place; a crash at any instant leaves either a complete commit or
  none (plus, at worst, an orphan file that vacuum removes).
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass, field

from weave_lite.storage.filesystem import LogFileSystem
from weave_lite.storage.segments import SegmentInfo

LOG_DIR = "_log"
SEGMENT_DIR = "_segments"
CHECKPOINT_EVERY = 100
_HINT = f"{LOG_DIR}/_last_checkpoint"


def commit_path(version: int) -> str:
    return f"{LOG_DIR}/{version:020d}.json"


def checkpoint_path(version: int) -> str:
    return f"{LOG_DIR}/{version:020d}.checkpoint.json"


def now_us() -> int:
    return time.time_ns() // 1000


@dataclass
class LogState:
    """The table as of one version: its live segments in commit order."""

    version: int = 0
    segments: list[SegmentInfo] = field(default_factory=list)
    # Removed segment path -> time (epoch us) of the commit that removed it (for vacuum).
    tombstones: dict[str, int] = field(default_factory=dict)

    def copy(self) -> "LogState":
        return LogState(self.version, list(self.segments), dict(self.tombstones))

    def live_paths(self) -> set[str]:
        return {s.path for s in self.segments}


class ConflictError(Exception):
    """A compaction's input segments were taken by a concurrent commit."""


class CommitLog:
    """Reads and writes the numbered commit entries of one table."""

    def __init__(self, fs: LogFileSystem):
        self.fs = fs

    # -- reading -------------------------------------------------------------------------------

    def exists(self) -> bool:
        return self.fs.exists(LOG_DIR)

    def read_entry(self, version: int) -> dict:
        return json.loads(self.fs.read_bytes(commit_path(version)))

    def checkpoint_hint(self) -> int:
        try:
            return int(json.loads(self.fs.read_bytes(_HINT))["version"])
        except (FileNotFoundError, ValueError, KeyError):
            return 0

    def latest_version(self, known: int = 0) -> int:
        """The newest committed version, at least ``known`` (which must exist, or be 0 to
        start from the checkpoint hint).

        Versions are contiguous, so gallop forward from ``known`` and then bisect: a handful of
        ``stat`` calls even far behind, one when nothing changed.
        """
        lo = known if known > 0 else self.checkpoint_hint()
        if not self.fs.exists(commit_path(lo + 1)):
            return lo
        step = 1
        hi = lo + 1  # exists
        while self.fs.exists(commit_path(hi + step)):
            hi += step
            step *= 2
        # hi exists, hi + step does not
        top = hi + step
        while top - hi > 1:
            mid = (hi + top) // 2
            if self.fs.exists(commit_path(mid)):
                hi = mid
            else:
                top = mid
        return hi

    def load(self, upto: int | None = None, base: LogState | None = None) -> LogState:
        """The state at version ``upto`` (default: the latest), replaying from ``base``."""
        state = base.copy() if base is not None else None
        if state is None:
            state = LogState()
            hint = self.checkpoint_hint()
            if hint and (upto is None or hint <= upto):
                state = self._read_checkpoint(hint)
        target = self.latest_version(state.version) if upto is None else upto
        for v in range(state.version + 1, target + 1):
            apply_entry(state, v, self.read_entry(v))
        return state

    def _read_checkpoint(self, version: int) -> LogState:
        data = json.loads(self.fs.read_bytes(checkpoint_path(version)))
        segments = [SegmentInfo.from_json(s, s.get("version", 0)) for s in data["segments"]]
        return LogState(data["version"], segments, {k: int(v) for k, v in data["tombstones"].items()})

    # -- writing -------------------------------------------------------------------------------

    def create(self) -> None:
        self.fs.makedirs(LOG_DIR)
        self.fs.makedirs(SEGMENT_DIR)

    def commit(self, entry: dict, known: int, check=None) -> int:
        """Commit ``entry`` at the next free version and return it.

        ``check(state_before)`` is called (for non-append commits) with the state just below the
        version being tried; it raises :class:`ConflictError` to abandon the commit.
        """
        entry = dict(entry, time_us=now_us())
        data = json.dumps(entry, separators=(",", ":")).encode()
        version = self.latest_version(known) + 1
        while True:
            if check is not None:
                check(self.load(upto=version - 1))
            if self.fs.put_if_absent(commit_path(version), data):
                break
            version = self.latest_version(version) + 1
        if version % CHECKPOINT_EVERY == 0:
            self.write_checkpoint(self.load(upto=version))
        return version

    def write_checkpoint(self, state: LogState) -> None:
        data = {
            "version": state.version,
            "segments": [dict(s.to_json(), version=s.version) for s in state.segments],
            "tombstones": state.tombstones,
        }
        self.fs.replace(checkpoint_path(state.version), json.dumps(data, separators=(",", ":")).encode())
        if state.version > self.checkpoint_hint():
            self.fs.replace(_HINT, json.dumps({"version": state.version}).encode())


def apply_entry(state: LogState, version: int, entry: dict) -> None:
    """Apply commit ``entry`` (version ``version``) to ``state`` in place."""
    removed = entry.get("remove") or []
    added = [SegmentInfo.from_json(s, version) for s in entry.get("add") or []]
    if removed:
        gone = set(removed)
        first = next(i for i, s in enumerate(state.segments) if s.path in gone)
        state.segments = [s for s in state.segments if s.path not in gone]
        state.segments[first:first] = added
        for path in removed:
            state.tombstones[path] = entry.get("time_us", 0)
    else:
        state.segments.extend(added)
    state.version = version
