"""The corruption matrix: damaged files x every way of reaching them.

Targets: a live segment, an early commit (covered by a checkpoint), the latest commit, a
checkpoint and the latest-checkpoint hint.  Damage: truncation, garbled bytes, an empty file,
and (for the JSON files) valid JSON of the wrong shape.  Operations: open, read, query, write,
compact and check.  Every outcome is a correct result or a CorruptTableError naming the damaged
file; never a raw traceback, never rows silently missing; `check` lists every damaged file.
"""

from __future__ import annotations

import json
import warnings
from pathlib import Path

import pytest

import weave_lite.storage.log as log_module
from weave_lite import CorruptTableError, StreamTable, evaluate
from weave_lite.storage import compact
from weave_lite.storage.check import check_table, repair
from weave_lite.storage.names import TableName
from weave_lite.storage.table import TableLog

ROWS_PER_COMMIT = 5
COMMITS = 7  # checkpoints at 3 and 6 (every 3), the hint names 6


def _truncate(data: bytes) -> bytes:
    return data[: len(data) // 2]


def _garble_head(data: bytes) -> bytes:
    return bytes(b ^ 0x5A for b in data[:16]) + data[16:]


def _garble_middle(data: bytes) -> bytes:
    mid = len(data) // 2
    return data[:mid] + bytes(b ^ 0xFF for b in data[mid : mid + 8]) + data[mid + 8 :]


def _garble_tail(data: bytes) -> bytes:
    return data[:-12] + bytes(b ^ 0x33 for b in data[-12:])


def _empty(data: bytes) -> bytes:
    return b""


BYTE_DAMAGE = {
    "truncate": _truncate,
    "garble_head": _garble_head,
    "garble_middle": _garble_middle,
    "garble_tail": _garble_tail,
    "empty": _empty,
}
JSON_SHAPES = {
    "object_empty": {},
    "list": [],
    "null": None,
    "string": "x",
    "number": 150,
    "no_add": {"op": "append"},
    "segment_not_object": {"op": "append", "add": [1]},
    "segment_empty": {"op": "append", "add": [{}]},
    "path_outside": {
        "op": "append",
        "add": [{"path": "../../../etc/passwd", "rows": 1, "bytes": 1, "schema": "", "stats": {}}],
    },
    "rows_string": {"op": "append", "add": [{"path": "_segments/" + "0" * 32 + ".arrow", "rows": "5", "bytes": 1, "schema": "", "stats": {}}]},
    "bad_schema": {"op": "append", "add": [{"path": "_segments/" + "0" * 32 + ".arrow", "rows": 5, "bytes": 1, "schema": "!!!", "stats": {}}]},
    "remove_unknown": {"op": "compact", "add": [], "remove": ["_segments/" + "1" * 32 + ".arrow"]},
    "version_far": {"version": 150},
    "version_negative": {"version": -1},
    "checkpoint_shape": {"version": 6, "segments": [{"path": 3}], "tombstones": {}},
}
TARGETS = ("segment", "early_commit", "latest_commit", "checkpoint", "hint")
OPERATIONS = ("open", "read", "query", "write", "compact", "check")


def cases():
    out = []
    for target in TARGETS:
        damages = list(BYTE_DAMAGE)
        if target != "segment":
            damages += list(JSON_SHAPES)
        for damage in damages:
            for op in OPERATIONS:
                out.append(pytest.param(target, damage, op, id=f"{target}-{damage}-{op}"))
    return out


@pytest.fixture
def table(root, monkeypatch) -> Path:
    monkeypatch.setattr(log_module, "CHECKPOINT_EVERY", 3)
    log = TableLog(TableName.parse("e/p/t"), root)
    import pyarrow as pa

    for c in range(COMMITS):
        seq = list(range(c * ROWS_PER_COMMIT, (c + 1) * ROWS_PER_COMMIT))
        log.append(pa.table({"seq": seq, "payload": [f"row {s}" for s in seq]}))
    return log.path


def target_file(folder: Path, target: str) -> Path:
    log = folder / "_log"
    if target == "segment":
        entry = json.loads((log / f"{2:020d}.json").read_text())
        return folder / entry["add"][0]["path"]
    if target == "early_commit":
        return log / f"{2:020d}.json"
    if target == "latest_commit":
        return log / f"{COMMITS:020d}.json"
    if target == "checkpoint":
        return log / f"{6:020d}.checkpoint.json"
    return log / "_last_checkpoint"


def damage_file(path: Path, damage: str) -> None:
    if damage in BYTE_DAMAGE:
        path.write_bytes(BYTE_DAMAGE[damage](path.read_bytes()))
    else:
        path.write_text(json.dumps(JSON_SHAPES[damage]))


def abandon(st: StreamTable) -> None:
    """Drop a failing writer's rows so it does not keep retrying (and reporting) after a test."""
    writer = st._writer
    writer._unsent.clear()
    writer._queue.clear()
    writer._stop = True
    writer._wake.set()
    writer._thread.join()


EXPECTED = list(range(COMMITS * ROWS_PER_COMMIT))


def run(op: str, root: Path):
    if op == "open":
        TableLog.open("e/p/t", root)
        return None
    if op == "read":
        return TableLog.open("e/p/t", root).snapshot().to_arrow().column("seq").to_pylist()
    if op == "query":
        return evaluate('stream_table("e/p/t").rows.map(row => row["seq"]).sum', root=root)
    if op == "write":
        st = StreamTable("e/p/t", root=root)
        st.log({"seq": 10_000, "payload": "new"})
        try:
            st.flush()
        finally:
            abandon(st)
        return None
    if op == "compact":
        compact(TableLog.open("e/p/t", root), target_bytes=1 << 20)
        return TableLog.open("e/p/t", root).snapshot().to_arrow().column("seq").to_pylist()
    report = check_table(TableLog(TableName.parse("e/p/t"), root))
    return report


@pytest.mark.parametrize("target,damage,op", cases())
def test_corruption_matrix(root, table, target, damage, op):
    path = target_file(table, target)
    damage_file(path, damage)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # a skipped hint warns; that is allowed, not required
        try:
            result = run(op, root)
        except CorruptTableError as exc:
            assert op != "check"
            assert str(path) == exc.path or path.name in str(exc), f"the error must name {path}: {exc}"
            if target in ("checkpoint", "hint"):
                pytest.fail(f"a damaged {target} is only a hint, it must be skipped: {exc}")
            return
    if op == "check":
        assert not result.ok, "check must report the damage"
        assert any(Path(d.path) == path for d in result.damage), result.lines()
    elif op in ("read", "compact"):
        assert result == EXPECTED or (target == "segment" and damage == "garble_middle"), "rows silently missing"
    elif op == "query":
        assert result == sum(EXPECTED) or (target == "segment" and damage == "garble_middle")


def test_writers_refuse_to_commit_on_top_of_a_damaged_log(root, table):
    damage_file(target_file(table, "latest_commit"), "object_empty")
    st = StreamTable("e/p/t", root=root)
    st.log({"seq": -1, "payload": "x"})
    with pytest.raises(CorruptTableError, match=r"00000000000000000007.json"):
        st.flush()
    abandon(st)
    assert not (table / "_log" / f"{COMMITS + 1:020d}.json").exists()


def test_repair_drops_only_the_damaged_segment(root, table):
    damage_file(target_file(table, "segment"), "truncate")
    log = TableLog(TableName.parse("e/p/t"), root)
    report = check_table(log)
    assert [d.kind for d in report.damage] == ["segment"]
    repair(log, report)
    assert check_table(TableLog(TableName.parse("e/p/t"), root)).ok
    seqs = TableLog.open("e/p/t", root).snapshot().to_arrow().column("seq").to_pylist()
    assert seqs == [s for s in EXPECTED if not ROWS_PER_COMMIT <= s < 2 * ROWS_PER_COMMIT]


def test_check_cli_exit_status(root, table):
    from click.testing import CliRunner

    from weave_lite.cli import main

    ok = CliRunner().invoke(main, ["check", "e/p/t", "--root", str(root)])
    assert ok.exit_code == 0 and "OK" in ok.output
    damage_file(target_file(table, "segment"), "garble_middle")
    bad = CliRunner().invoke(main, ["check", "e/p/t", "--root", str(root)])
    assert bad.exit_code == 1 and "checksum mismatch" in bad.output
    refused = CliRunner().invoke(main, ["check", "e/p/t", "--root", str(root), "--repair"], input="n\n")
    assert refused.exit_code != 0 and TableLog.open("e/p/t", root).snapshot().version == COMMITS
    fixed = CliRunner().invoke(main, ["check", "e/p/t", "--root", str(root), "--repair", "--yes"])
    assert fixed.exit_code == 0, fixed.output
    assert CliRunner().invoke(main, ["check", "e/p/t", "--root", str(root)]).exit_code == 0


def test_commit_checksums_hold_for_compact_and_reencoded_bytes():
    """A commit is checked on its bytes as written (the fast check) and, for a file written
    another way (spaces, other key order), on its re-encoded body; any changed value fails."""
    import json

    from weave_lite.storage import entries

    seg = {"path": "_segments/" + "a" * 32 + ".arrow", "rows": 3, "bytes": 10, "schema": "x", "stats": {}}
    seg["checksum"] = "0123456789abcdef"
    data = entries.encode({"op": "append", "add": [seg], "batch_id": "b", "time_us": 5})
    assert entries.decode_entry("c", data)["add"][0]["rows"] == 3
    obj = json.loads(data)
    spaced = json.dumps(obj, indent=1).encode()  # same content, another layout: the slow check
    assert entries._written_canonical(spaced, obj["checksum"]) is False
    assert entries.decode_entry("c", spaced)["batch_id"] == "b"
    for damaged in (
        data.replace(b'"rows":3', b'"rows":4'),
        data.replace(b'"b"', b'"c"'),
        data.replace(b'"time_us":5', b'"time_us":6'),
    ):
        with pytest.raises(CorruptTableError, match="checksum"):
            entries.decode_entry("c", damaged)
