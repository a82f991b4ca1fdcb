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
* Commits are idempotent: an append carries its writer's ``batch_id``, and a writer retrying
  after *any* failure (a full disk, a failed folder fsync after the link, a lost answer from an
  object store) first looks for that id in the versions committed since its first try
  (:meth:`CommitLog.find_batch`).  Checkpoints and the hint are best-effort: a failure to write
  one never fails or repeats a commit, and a damaged one is skipped with a
  :class:`CorruptHintWarning` (the commits are replayed instead).
* Every file is validated when read (:mod:`weave_lite.storage.entries`); damage raises
  :class:`CorruptTableError` naming the file, and a writer refuses to commit on top of a log it
  cannot read.
* Every commit carries a batch id (a random one when the caller gives none), and a version
  found taken is read back: when it carries our id, a try whose answer was lost (an object
  store's timeout, a retried conditional PUT answered 412) had landed, and the commit is done.
  On an object store (:mod:`weave_lite.storage.objectstore`) put-if-absent is a conditional
  PUT and the latest-version search is a few HEAD requests.
"""

from __future__ import annotations

import os
import re
import threading
import time
import uuid
import warnings
from dataclasses import dataclass, field

from weave_lite.errors import ConflictError as ConflictError  # re-exported: its old home
from weave_lite.errors import CorruptHintWarning, CorruptTableError
from weave_lite.storage.entries import decode_checkpoint, decode_entry, decode_hint, encode
from weave_lite.storage.filesystem import LogFileSystem
from weave_lite.storage.segments import SegmentInfo

LOG_DIR = "_log"
SEGMENT_DIR = "_segments"
CHECKPOINT_EVERY = 100
HINT_PATH = f"{LOG_DIR}/_last_checkpoint"
CHECKPOINT_NAME = re.compile(r"(\d{20})\.checkpoint\.json")


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
    # Never changed in place (apply_entry replaces it), so copies share it: a poll after an
    # append copies no tombstones (they grow with every compaction).
    tombstones: dict[str, int] = field(default_factory=dict)

    def copy(self) -> LogState:
        return LogState(self.version, list(self.segments), self.tombstones)

    def live_paths(self) -> set[str]:
        return {s.path for s in self.segments}


class CommitLog:
    """Reads and writes the numbered commit entries of one table."""

    def __init__(self, fs: LogFileSystem):
        self.fs = fs

    # -- reading -------------------------------------------------------------------------------

    def exists(self) -> bool:
        return self.fs.is_dir(LOG_DIR)

    def read_entry(self, version: int) -> dict:
        """Commit ``version``, validated (:class:`CorruptTableError` when damaged or missing)."""
        rel = commit_path(version)
        try:
            data = self.fs.read_bytes(rel)
        except FileNotFoundError:
            raise CorruptTableError(self.fs.full(rel), "commit is missing (versions must be contiguous)") from None
        return decode_entry(self.fs.full(rel), data)

    def checkpoint_hint(self) -> int:
        """The version the hint names, or 0 when it is missing or damaged (with a warning)."""
        try:
            data = self.fs.read_bytes(HINT_PATH)
        except FileNotFoundError:
            return 0
        try:
            return decode_hint(self.fs.full(HINT_PATH), data)
        except CorruptTableError as exc:
            _skip_hint(exc)
            return 0

    def _start_version(self) -> int:
        """A version known to exist to search forward from: the hint, if it holds."""
        hint = self.checkpoint_hint()
        if hint and not self.fs.exists(commit_path(hint)):
            _skip_hint(CorruptTableError(self.fs.full(HINT_PATH), f"names version {hint}, which does not exist"))
            return 0
        return hint

    def latest_version(self, known: int = 0) -> int:
        """The newest committed version, at least ``known`` (which must exist, or be 0 to
        start from the checkpoint hint).

        Versions are contiguous, so gallop forward from ``known`` and then bisect: a handful of
        ``stat`` calls even far behind, one when nothing changed.
        """
        lo = known if known > 0 else self._start_version()
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

    def read_forward(self, known: int) -> list[tuple[int, dict]]:
        """``(version, entry)`` of every commit after ``known`` (which exists), read until the
        first missing version: one failed ``open`` when nothing is new, and no ``stat`` probes
        before reading what is (a commit file appears whole, by ``link()``, or not at all)."""
        found: list[tuple[int, dict]] = []
        version = known + 1
        while True:
            rel = commit_path(version)
            try:
                data = self.fs.read_bytes(rel)
            except FileNotFoundError:
                return found
            found.append((version, decode_entry(self.fs.full(rel), data)))
            version += 1

    def load_forward(self, base: LogState) -> LogState:
        """The newest state, replaying what :meth:`read_forward` finds after ``base`` (which
        is returned itself when nothing is new)."""
        found = self.read_forward(base.version)
        if not found:
            return base
        state = base.copy()
        for v, entry in found:
            apply_entry(state, v, entry, self.fs.full(commit_path(v)))
        return state

    def load(self, upto: int | None = None, base: LogState | None = None) -> LogState:
        """The state at version ``upto`` (default: the latest), replaying from ``base``."""
        if base is not None:
            state = base.copy()
            target = self.latest_version(state.version) if upto is None else upto
        else:
            target = self.latest_version() if upto is None else upto
            state = self._best_checkpoint(target)
        for v, entry in self.read_entries(range(state.version + 1, target + 1)):
            apply_entry(state, v, entry, self.fs.full(commit_path(v)))
        return state

    def read_entries(self, versions: range):
        """``(version, entry)`` for each of ``versions``, in order.  On an object store (where
        each is a GET of tens of milliseconds) they are fetched up to
        :data:`PARALLEL_READS` at a time; on a local disk one by one."""
        if getattr(self.fs, "is_local", True) or len(versions) <= 1:
            for v in versions:
                yield v, self.read_entry(v)
            return
        pool = _reader_pool()
        for start in range(0, len(versions), 4 * PARALLEL_READS):
            chunk = versions[start : start + 4 * PARALLEL_READS]
            yield from zip(chunk, pool.map(self.read_entry, chunk))

    def _best_checkpoint(self, upto: int) -> LogState:
        """The newest readable checkpoint at or below ``upto`` (an empty state when none).

        The hint names it; when the hint is missing or damaged, or its checkpoint is, the
        folder is listed for older ones.  Damaged checkpoints are skipped with a warning.
        """
        hint = self.checkpoint_hint()
        if 0 < hint <= upto:
            state = self._try_checkpoint(hint)
            if state is not None:
                return state
        if upto < CHECKPOINT_EVERY:
            return LogState()
        versions = sorted(
            (int(m.group(1)) for name in self.fs.list_dir(LOG_DIR) if (m := CHECKPOINT_NAME.fullmatch(name))),
            reverse=True,
        )
        for version in versions:
            if version <= upto and version != hint:
                state = self._try_checkpoint(version)
                if state is not None:
                    return state
        return LogState()

    def _try_checkpoint(self, version: int) -> LogState | None:
        rel = checkpoint_path(version)
        try:
            data = self.fs.read_bytes(rel)
        except FileNotFoundError:
            return None
        try:
            return self.decode_checkpoint(rel, data, version)
        except CorruptTableError as exc:
            _skip_hint(exc)
            return None

    def decode_checkpoint(self, rel: str, data: bytes, version: int) -> LogState:
        """The checkpoint file ``rel`` of ``version``, validated (:class:`CorruptTableError`)."""
        full = self.fs.full(rel)
        obj = decode_checkpoint(full, data)
        if obj["version"] != version:
            raise CorruptTableError(full, f"checkpoint says version {obj['version']}, its name {version}")
        segments = [_segment_from_json(full, s, s["version"]) for s in obj["segments"]]
        return LogState(version, segments, dict(obj["tombstones"]))

    def find_batch(self, batch_id: str, after: int) -> int | None:
        """The version after ``after`` whose commit carries ``batch_id``, if any (read-back of
        a commit whose outcome is unknown)."""
        for v, entry in self.read_entries(range(after + 1, self.latest_version(after) + 1)):
            if entry.get("batch_id") == batch_id:
                return v
        return None

    # -- writing -------------------------------------------------------------------------------

    def create(self) -> None:
        """Create the log's folders (idempotent; completes an interrupted creation)."""
        self.fs.makedirs(SEGMENT_DIR)
        self.fs.makedirs(LOG_DIR)

    def commit(
        self,
        entry: dict,
        known: int,
        check=None,
        batch_id: str | None = None,
        base: LogState | None = None,
        assume_latest: bool = False,
    ) -> int:
        """Commit ``entry`` at the next free version and return it.

        ``check(state_before)`` is called (for non-append commits) with the state just below the
        version being tried; it raises :class:`ConflictError` to abandon the commit.  A failure
        after the commit file is in place still raises: a caller that retries must first call
        :meth:`find_batch` with the same ``batch_id``.  A version found taken is read back, and
        when it carries ``batch_id`` (a random one if none is given) it is ours: an earlier try
        of this call landed although its answer was lost.  ``base`` (a state the caller holds,
        at or below ``known``) spares replaying the log when a checkpoint is due;
        ``assume_latest`` (the caller just found ``known`` to be the newest version) tries
        ``known + 1`` without probing for it first (one request less on an object store).
        """
        entry = dict(entry, time_us=now_us())
        entry["batch_id"] = batch_id if batch_id is not None else uuid.uuid4().hex
        data = encode(entry)
        version = known + 1 if assume_latest and known > 0 else self.latest_version(known) + 1
        if base is not None and (base.version == 0 or base.version >= version):
            base = None
        while True:
            if check is not None:
                # Replay only what was committed since the last try: a commit racing fast
                # appenders (on an object store, every replayed entry is a GET) must not fall
                # further behind on each try.
                base = self.load(upto=version - 1, base=base)
                check(base)
            if self.fs.put_if_absent(commit_path(version), data):
                break
            if self._carries(version, entry["batch_id"]):
                break
            version = self.latest_version(version) + 1
        if version % CHECKPOINT_EVERY == 0:
            self._checkpoint_quietly(version, base)
        return version

    def _carries(self, version: int, batch_id: str) -> bool:
        """True when the (existing) commit ``version`` carries ``batch_id``."""
        return self.read_entry(version).get("batch_id") == batch_id

    def _checkpoint_quietly(self, version: int, base: LogState | None = None) -> None:
        """Write the checkpoint of ``version``; a failure is only a warning (it is a hint)."""
        try:
            if base is not None and (base.version == 0 or base.version >= version):
                base = None
            self.write_checkpoint(self.load(upto=version, base=base))
        except (OSError, CorruptTableError) as exc:
            warnings.warn(f"weave_lite: checkpoint {version} not written: {exc}", CorruptHintWarning, stacklevel=3)

    def write_checkpoint(self, state: LogState) -> None:
        data = {
            "version": state.version,
            "segments": [dict(s.to_json(), version=s.version) for s in state.segments],
            "tombstones": state.tombstones,
        }
        self.fs.replace(checkpoint_path(state.version), encode(data))
        if state.version > self.checkpoint_hint():
            self.fs.replace(HINT_PATH, encode({"version": state.version}))


PARALLEL_READS = 16
_POOL = None
_POOL_LOCK = threading.Lock()


def _reader_pool():
    global _POOL
    with _POOL_LOCK:
        if _POOL is None or _POOL._pid != os.getpid():  # a forked child needs its own threads
            from concurrent.futures import ThreadPoolExecutor

            _POOL = ThreadPoolExecutor(PARALLEL_READS, thread_name_prefix="weave_lite-log-read")
            _POOL._pid = os.getpid()
        return _POOL


def _skip_hint(exc: CorruptTableError) -> None:
    warnings.warn(f"weave_lite: skipping a damaged hint: {exc}", CorruptHintWarning, stacklevel=4)


def _segment_from_json(path: str, data: dict, version: int) -> SegmentInfo:
    try:
        return SegmentInfo.from_json(data, version)
    except (ValueError, KeyError, TypeError, AttributeError, OverflowError) as exc:  # bad schema bytes, stats
        raise CorruptTableError(path, f"a segment record cannot be decoded ({exc.__class__.__name__}: {exc})") from None


def apply_entry(state: LogState, version: int, entry: dict, path: str = "") -> None:
    """Apply commit ``entry`` (version ``version``, read from ``path``) to ``state`` in place."""
    removed = entry.get("remove") or []
    added = [_segment_from_json(path, s, version) for s in entry.get("add") or []]
    if removed:
        gone = set(removed)
        live = [i for i, s in enumerate(state.segments) if s.path in gone]
        if len(live) != len(gone):
            raise CorruptTableError(path, "commit removes segments that are not live")
        first = live[0]
        state.segments = [s for s in state.segments if s.path not in gone]
        state.segments[first:first] = added
        at = entry.get("time_us", 0)
        state.tombstones = {**state.tombstones, **dict.fromkeys(removed, at)}  # (copies share it)
    else:
        state.segments.extend(added)
    state.version = version
