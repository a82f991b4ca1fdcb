"""A fused scan's totals over a few raw segments, without the executor (live queries' polls).

A live ``rows.filter(p).count`` or ``rows.map(f).sum`` (a ``scan:count`` / ``scan:sum`` call,
see :mod:`weave_lite.compile.rewrites.fuse_scan`) keeps its whole-table total; a poll adds the
new segments' totals.  :func:`scan_totals` computes those with the same kernel the executor's
``scan:*`` op runs (:func:`weave_lite.kernels.scan.scan_reduce`), straight over the segments'
columns: no frame, no morsels, no runtime.  It answers only when the kernel reads the columns
exactly as the executor's path would (every column present with the program's Arrow type, the
kernel compiled); otherwise ``None`` and the caller takes the general path.
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa

from weave_lite.compile.rewrites.fuse_scan import ScanProgram
from weave_lite.execute import kernel_choice
from weave_lite.execute.ops.fused import _ARROW_KINDS, _EMPTY_B, _EMPTY_F, _EMPTY_I, _chunk_parts, _pad, _warm_scan


def scan_totals(program: ScanProgram, tables: list[pa.Table]) -> tuple[int, float, int] | None:
    """(rows counted, float total, int total) of ``program`` over ``tables`` (raw segments, in
    row order), or None when the kernel cannot read them as the executor would."""
    columns: list[list[pa.ChunkedArray]] = []
    size = 0
    for table in tables:
        picked = []
        for name, kind in zip(program.columns, program.kinds):
            index = table.schema.get_field_index(name)
            if index < 0:  # missing here: the executor sees nulls (a conformed column)
                return None
            column = table.column(index)
            if column.type != _ARROW_KINDS[kind]:
                return None
            picked.append(column)
        if picked and any(c.num_chunks != picked[0].num_chunks for c in picked[1:]):
            return None
        columns.append(picked)
        size += table.num_rows
    if not program.columns:  # a count of every row (no column read): no kernel needed
        return None
    warm = lambda _: _warm_scan(program.mode)  # noqa: E731
    if not kernel_choice.use_numba(("scan",), size, warm, ("weave_lite.kernels.scan", "scan_reduce")):
        return None
    from weave_lite.kernels.scan import MAX_COLUMNS, scan_reduce  # Numba: compiled by the cold run

    codes = np.array([c for c, _ in program.codes], dtype=np.int64)
    operands = np.array([o for _, o in program.codes], dtype=np.int64)
    constants = np.array(program.constants or (0.0,), dtype=np.float64)
    iconstants = np.array(program.iconstants or (0,), dtype=np.int64)
    count, ftotal, itotal = 0, 0.0, 0
    for picked in columns:
        for i in range(picked[0].num_chunks):
            chunks = [c.chunk(i) for c in picked]
            n = len(chunks[0])
            if n == 0:
                continue
            if any(len(c) != n for c in chunks[1:]):
                return None
            parts = [_chunk_parts(chunk, kind) for chunk, kind in zip(chunks, program.kinds)]
            c, ft, it, _, _, _ = scan_reduce(
                codes,
                operands,
                constants,
                iconstants,
                _pad([p[0] for p in parts], _EMPTY_F, MAX_COLUMNS),
                _pad([p[1] for p in parts], _EMPTY_I, MAX_COLUMNS),
                _pad([p[2] for p in parts], _EMPTY_B, MAX_COLUMNS),
                np.array(_pad([p[3] for p in parts], 0, MAX_COLUMNS), dtype=np.int64),
                np.array(_pad([p[4] for p in parts], False, MAX_COLUMNS), dtype=np.bool_),
                n,
                program.depth,
                program.has_predicate,
                program.has_value,
                program.value_int,
                program.mode,
            )
            count += c
            ftotal += ft
            itotal += it
    return count, ftotal, itotal
