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

import pyarrow as pa

from weave_lite.compile.rewrites.fuse_scan import ScanProgram
from weave_lite.execute.ops.fused import SCAN_COLUMN_TYPES, ScanPieces, chunk_parts, scan_kernel_ready


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
            if column.type != SCAN_COLUMN_TYPES[kind]:
                return None
            picked.append(column)
        if picked and any(c.num_chunks != picked[0].num_chunks for c in picked[1:]):
            return None
        columns.append(picked)
        size += table.num_rows
    if not program.columns:  # a count of every row (no column read): no kernel needed
        return None
    if not scan_kernel_ready(program, size):
        return None
    run = ScanPieces(program)
    count, ftotal, itotal = 0, 0.0, 0
    for picked in columns:
        for i in range(picked[0].num_chunks):
            chunks = [c.chunk(i) for c in picked]
            n = len(chunks[0])
            if n == 0:
                continue
            if any(len(c) != n for c in chunks[1:]):
                return None
            c, ft, it, _, _, _ = run([chunk_parts(chunk, kind) for chunk, kind in zip(chunks, program.kinds)], 0, n)
            count += c
            ftotal += ft
            itotal += it
    return count, ftotal, itotal
