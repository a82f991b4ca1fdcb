"""Kernels of fused float arithmetic and fused scans (see weave_lite.compile.rewrites.fuse_arithmetic
and weave_lite.compile.rewrites.fuse_scan)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from typing import TYPE_CHECKING

import numpy as np
import pyarrow as pa

from weave_lite.execute import kernel_choice
from weave_lite.execute.columns import to_numpy
from weave_lite.execute.executor import KernelCall, kernel, kernel_for
from weave_lite.execute.vectors import ArrayVec, ListVec, StructVec, Vec
from weave_lite.kernels.opcodes import CMP_C, EQ, GE, GT, LE, LOAD, LT, R_COUNT, R_MAX, R_MIN
from weave_lite.lazy import lazy_module
from weave_lite.threads import map_in_order

if TYPE_CHECKING:
    from weave_lite.compile.rewrites.fuse_scan import ScanProgram

fused = lazy_module("weave_lite.kernels.fused")  # Numba: loaded by the first fused program
pc = lazy_module("pyarrow.compute")

_ALL_VALID = np.ones(0, dtype=np.bool_)
_ALL_VALID.setflags(write=False)


def _read_only(array: np.ndarray) -> np.ndarray:
    # Numba types a tuple of arrays as one type only if all are alike; Arrow's zero-copy
    # arrays are read-only, so every input is passed read-only.
    array.setflags(write=False)
    return array


@kernel("fused:arith")
def fused_arith(call: KernelCall) -> Vec:
    codes, constants, depth = call.params["program"]
    n = call.length
    values, masks, masked = [], [], []
    for vec in call.args:
        data, valid = to_numpy(vec, n, np.float64)
        values.append(_read_only(data))
        masks.append(_ALL_VALID if valid is None else _read_only(valid))
        masked.append(valid is not None)
    out, ok = fused.run_program(
        np.array([c for c, _ in codes], dtype=np.int64),
        np.array([o for _, o in codes], dtype=np.int64),
        np.array(constants, dtype=np.float64),
        tuple(values),
        tuple(masks),
        np.array(masked, dtype=np.bool_),
        n,
        depth,
    )
    return ArrayVec(pa.array(out, mask=None if ok.all() else ~ok))


# -- fused scans (see weave_lite.compile.rewrites.fuse_scan) ----------------------------------

# How many morsels (or whole lists) ran the fused scan kernel, and how many fell back to the
# op-by-op path (read by tests and benchmarks: proof of which path ran).
SCAN_RUNS = {"fused": 0, "fallback": 0}
# The Arrow type of each ScanProgram column kind: the kernel reads these columns in place.
SCAN_COLUMN_TYPES = {"f": pa.float64(), "i": pa.int64()}
_EMPTY_F = _read_only(np.zeros(0, dtype=np.float64))
_EMPTY_I = _read_only(np.zeros(0, dtype=np.int64))
_EMPTY_B = _read_only(np.zeros(0, dtype=np.uint8))
# A chunk is scanned in pieces of this many rows, run on the evaluation's threads (a table of
# one morsel uses every core too: a 1M-row morsel is two pieces); a multiple of the kernel's
# block of rows.  Fewer, larger pieces cost less Python per query.
SCAN_PIECE_ROWS = 1 << 19


def _scan_columns(call: KernelCall, program) -> list[pa.ChunkedArray] | None:
    """The program's columns as chunked arrays of one chunk layout, or None (fall back)."""
    lists = call.args[0]
    if not isinstance(lists, ListVec) or lists.length != 1 or lists.view is not None or lists.valid is not None:
        return None
    child = lists.child
    if not isinstance(child, StructVec) or child.valid is not None or lists.offsets[0] != 0:
        return None
    if lists.offsets[1] != child.length:
        return None
    columns = []
    for name, kind in zip(program.columns, program.kinds):
        vec = child.fields.get(name)
        if type(vec) is not ArrayVec:  # gathered or constant values: the op-by-op path
            return None
        array = vec.array
        if isinstance(array, pa.Array):
            array = pa.chunked_array([array], type=array.type)
        if array.type != SCAN_COLUMN_TYPES[kind]:
            return None
        columns.append(array)
    if columns:
        layout = [len(c) for c in columns[0].chunks]
        if any([len(c) for c in col.chunks] != layout for col in columns[1:]):
            columns = [pa.chunked_array([col.combine_chunks()]) for col in columns]
    return columns


def chunk_parts(chunk: pa.Array, kind: str):
    """(float data, int data, validity bitmap, bit offset, has nulls) of one Arrow chunk."""
    buffers = chunk.buffers()
    dtype = np.float64 if kind == "f" else np.int64
    data = np.frombuffer(buffers[1], dtype=dtype, count=chunk.offset + len(chunk))[chunk.offset :]
    data = _read_only(data)
    has_nulls = chunk.null_count > 0
    bitmap = _read_only(np.frombuffer(buffers[0], dtype=np.uint8)) if has_nulls else _EMPTY_B
    if kind == "f":
        return data, _EMPTY_I, bitmap, chunk.offset, has_nulls
    return _EMPTY_F, data, bitmap, chunk.offset, has_nulls


def scan_kernel_ready(program: ScanProgram, size: int) -> bool:
    """Whether the scan kernel runs now for ``size`` rows; if not, the caller answers another
    way and the kernel compiles in the background (see :func:`kernel_choice.use_numba`)."""
    warm = lambda _: _warm_scan(program.mode)  # noqa: E731
    return kernel_choice.use_numba(("scan",), size, warm, ("weave_lite.kernels.scan", "scan_reduce"))


class ScanPieces:
    """``program``'s kernel over one piece of a chunk: called with the chunk's
    :func:`chunk_parts` per column, the piece's first row and its rows; returns the kernel's
    (count, float total, int total, float best, int best, NaN seen)."""

    def __init__(self, program: ScanProgram) -> None:
        self.program = program
        self.codes = np.array([c for c, _ in program.codes], dtype=np.int64)
        self.operands = np.array([o for _, o in program.codes], dtype=np.int64)
        self.constants = np.array(program.constants or (0.0,), dtype=np.float64)
        self.iconstants = np.array(program.iconstants or (0,), dtype=np.int64)

    def __call__(self, parts: list, lo: int, n: int) -> tuple:
        from weave_lite.kernels.scan import MAX_COLUMNS, scan_reduce  # Numba: on first use

        program = self.program
        return scan_reduce(
            self.codes,
            self.operands,
            self.constants,
            self.iconstants,
            _pad([p[0][lo : lo + n] if len(p[0]) else p[0] for p in parts], _EMPTY_F, MAX_COLUMNS),
            _pad([p[1][lo : lo + n] if len(p[1]) else p[1] for p in parts], _EMPTY_I, MAX_COLUMNS),
            _pad([p[2] for p in parts], _EMPTY_B, MAX_COLUMNS),
            np.array(_pad([p[3] + lo for p in parts], 0, MAX_COLUMNS), dtype=np.int64),
            np.array(_pad([p[4] for p in parts], False, MAX_COLUMNS), dtype=np.bool_),
            n,
            program.depth,
            program.has_predicate,
            program.has_value,
            program.value_int,
            program.mode,
        )


def _pad(items: list, filler, size: int) -> tuple:
    return tuple(items + [filler] * (size - len(items)))


def _warm_scan(mode: int) -> None:
    """Compile (or load from Numba's cache) the scan kernel's one signature, on no rows."""
    from weave_lite.kernels.scan import MAX_COLUMNS, scan_reduce

    no_ints = np.zeros(0, dtype=np.int64)
    scan_reduce(
        no_ints,
        no_ints,
        np.zeros(1, dtype=np.float64),
        np.zeros(1, dtype=np.int64),
        (_EMPTY_F,) * MAX_COLUMNS,
        (_EMPTY_I,) * MAX_COLUMNS,
        (_EMPTY_B,) * MAX_COLUMNS,
        np.zeros(MAX_COLUMNS, dtype=np.int64),
        np.zeros(MAX_COLUMNS, dtype=np.bool_),
        0,
        0,
        False,
        False,
        False,
        mode,
    )


def _scan_state(call: KernelCall):
    """The fused kernel's merged (count, float total, int total, float best, int best, NaN
    seen) over every chunk, or None when the rows cannot be read by it, or when the kernel is
    not compiled yet for a small input (the op-by-op path answers while it compiles)."""
    program = call.params["scan"]
    columns = _scan_columns(call, program)
    if columns is None:
        return None
    size = len(columns[0]) if columns else call.args[0].child.length
    if not scan_kernel_ready(program, size):
        return None
    run = ScanPieces(program)
    lengths = [len(c) for c in columns[0].chunks] if columns else [call.args[0].child.length]
    pieces: list[tuple[list, int, int]] = []  # (a chunk's column parts, first row, rows)
    for i, n in enumerate(lengths):
        if n == 0:
            continue
        parts = [chunk_parts(col.chunk(i), kind) for col, kind in zip(columns, program.kinds)]
        pieces.extend((parts, lo, min(SCAN_PIECE_ROWS, n - lo)) for lo in range(0, n, SCAN_PIECE_ROWS))

    count, ftotal, itotal, fbest, ibest, nan_seen = 0, 0.0, 0, 0.0, 0, False
    extreme = program.mode in (R_MIN, R_MAX)
    want_max = program.mode == R_MAX
    # Pieces merge in row order, and the cut depends on the rows only: every thread count
    # gives the same bits.
    for c, ft, it, fb, ib, ns in map_in_order(lambda piece: run(*piece), pieces, call.runtime.threads):
        nan_seen = nan_seen or ns
        if extreme and c:
            if count == 0:
                fbest, ibest = fb, ib
            elif want_max:
                fbest, ibest = max(fbest, fb), max(ibest, ib)
            else:
                fbest, ibest = min(fbest, fb), min(ibest, ib)
        count += c
        ftotal += ft
        itotal += it
    return count, ftotal, itotal, fbest, ibest, nan_seen


def _op_kernel(key: str) -> Callable[[KernelCall], Vec]:
    """The kernel of op ``key`` (its op area loaded on first use)."""
    fn = kernel_for(key)
    assert fn is not None, key
    return fn


def _fallback(call: KernelCall, reducer: str) -> Vec:
    """The ops the scan replaced, run one by one (filter, map, then the reducer)."""
    SCAN_RUNS["fallback"] += 1
    lists = call.args[0]
    params: dict = {}
    if call.args[1] is not None:
        lists = _op_kernel("filter")(replace(call, args=[lists, call.args[1]], params=params))
    if reducer == "count":
        return _op_kernel("count")(replace(call, args=[lists], params=params))
    mapped = _op_kernel("map")(replace(call, args=[lists, call.args[2]], params=params))
    return _op_kernel(reducer)(replace(call, args=[mapped], params=params))


# A lone `column OP constant` over a float column, counted while the kernel is not ready (no
# Numba yet): Arrow's SIMD comparison is much faster than the op-by-op filter and count.  (The
# kernel, which fuses the load and the comparison, measured ~15% less CPU at 10M rows, and
# splits a morsel over the threads.)  Its semantics agree
# with the kernel's for these operators: a null or NaN never compares true.  (`!=` is
# null-safe in the engine, true for a null, so it stays on the kernel.)
_ARROW_COMPARE = {LT: "less", LE: "less_equal", GT: "greater", GE: "greater_equal", EQ: "equal"}


def _compare_count(call: KernelCall) -> int | None:
    """The count of ``rows.filter(row => row[c] OP k)`` by Arrow's comparison, or None when the
    program is not that shape."""
    program = call.params["scan"]
    if program.mode != R_COUNT or program.has_value or program.kinds != ("f",) or len(program.codes) != 2:
        return None
    (load, column), (compare, operand) = program.codes
    function = _ARROW_COMPARE.get(operand & 7)
    if load != LOAD or column != 0 or compare != CMP_C or function is None:
        return None
    columns = _scan_columns(call, program)
    if columns is None:
        return None
    mask = pc.call_function(function, [columns[0], pa.scalar(program.constants[operand >> 3], pa.float64())])
    return int(pc.sum(mask).as_py() or 0)


def _scan_kernel(reducer: str):
    def run(call: KernelCall) -> Vec:
        state = _scan_state(call)
        if state is None and reducer == "count":
            counted = _compare_count(call)  # while Numba is not ready
            if counted is not None:
                SCAN_RUNS["fused"] += 1  # the scan op's own path (not the op-by-op fallback)
                return ArrayVec(pa.array([counted], type=pa.int64()))
        if state is None:
            return _fallback(call, reducer)
        SCAN_RUNS["fused"] += 1
        count, ftotal, itotal, fbest, ibest, nan_seen = state
        program = call.params["scan"]
        if reducer == "count":
            return ArrayVec(pa.array([count], type=pa.int64()))
        if reducer == "sum":
            if program.value_int:
                return ArrayVec(pa.array([itotal], type=pa.int64()))
            return ArrayVec(pa.array([ftotal], type=pa.float64()))
        if reducer == "avg":
            return ArrayVec(pa.array([ftotal / count if count else None], type=pa.float64()))
        if program.value_int:
            return ArrayVec(pa.array([ibest if count else None], type=pa.int64()))
        best = fbest + 0.0 if count else (float("nan") if nan_seen else None)
        return ArrayVec(pa.array([best], type=pa.float64()))

    return run


for _reducer in ("count", "sum", "avg", "min", "max"):
    kernel(f"scan:{_reducer}")(_scan_kernel(_reducer))


@kernel("scan:moments")
def scan_moments(call: KernelCall) -> Vec:
    """A ``scan:avg``'s partial moments (count, total, shift 0, mean, M2 0), as one dict: the
    merged avg is total / count (M2 is never read: only avg is fused)."""
    state = _scan_state(call)
    if state is None:
        SCAN_RUNS["fallback"] += 1
        from weave_lite.execute.ops.reducers import list_elements, numpy_values
        from weave_lite.kernels.grouping import grouped_moment_partials

        mapped = call.args[0]
        if call.args[1] is not None:
            mapped = _op_kernel("filter")(replace(call, args=[mapped, call.args[1]], params={}))
        mapped = _op_kernel("map")(replace(call, args=[mapped, call.args[2]], params={}))
        assert isinstance(mapped, ListVec)
        group_of, values = list_elements(mapped, as_float=True)
        data, valid = numpy_values(values)
        moments = grouped_moment_partials(group_of, data, valid, 1)
    else:
        SCAN_RUNS["fused"] += 1
        count, total = state[0], state[1]
        mean = total / count if count else 0.0
        moments = (
            np.array([count], dtype=np.int64),
            np.array([total]),
            np.zeros(1),
            np.array([mean]),
            np.zeros(1),
        )
    names = ("count", "total", "shift", "shifted_mean", "m2")
    return StructVec({k: ArrayVec(pa.array(v)) for k, v in zip(names, moments)}, 1)
