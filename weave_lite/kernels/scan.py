"""One Numba pass for ``rows.filter(p).count`` and ``rows[.filter(p)].map(f).sum|avg|min|max``.

The predicate and the value are one postfix program (opcodes in
:mod:`weave_lite.kernels.opcodes`) interpreted over blocks of :data:`BLOCK` rows: the stack
slots are a few cache-resident rows, the reduction happens block by block, so no boolean mask
and no float column is ever written out; each input column is read once.  One compiled kernel
serves every expression shape (no code is generated per expression), so the first query pays
one compilation, cached on disk.

What keeps it near memory speed: every loop over a block does one operator (a branch on the
operator outside the loop, so LLVM vectorizes it); a load does the constant operation or
comparison after it in the same loop (and LOADI, TOF, a constant operation: ints converted
and operated on at once); block counts are branch-free; float sums run in eight lanes (one
chain would wait on each add's latency), so their rounding differs from a left-to-right sum
(within the usual float tolerance, and deterministic: the lanes depend on the rows only); a
lone ``column OP constant`` count on a null-free column is one pass with no stack.  The
caller (``execute/ops/fused.py``) runs a morsel's rows in pieces on the threads (the kernel
releases the GIL).

Semantics are the op-by-op kernels': nulls propagate through arithmetic and ordering
comparisons, ``==`` / ``!=`` are null-safe (never null), ``&&`` / ``||`` are Kleene logic,
division by zero is null, and a row is kept only where the predicate is true.  Int slots are
exact int64 (comparisons of two ints compare integers); an int meets a float as the nearest
float, as the engine promotes it.  Validity comes from the Arrow bitmaps themselves.
"""

from __future__ import annotations

import numpy as np
from numba import njit

from weave_lite.kernels.opcodes import (
    ADD,
    ADD_C,
    AND,
    C_DIV,
    C_SUB,
    CMP_C,
    CONST,
    CONSTI,
    DIV,
    DIV_C,
    EQ,
    GE,
    GT,
    ICMP,
    ISNONE,
    LE,
    LOAD,
    LOADI,
    LT,
    MUL,
    MUL_C,
    NE,
    NEG,
    NOT,
    NULL,
    OR,
    R_COUNT,
    R_MAX,
    R_MIN,
    SUB,
    SUB_C,
    TOF,
)

BLOCK = 2048
# Columns one program may read (the kernel takes fixed-size tuples: one compiled signature).
MAX_COLUMNS = 8


@njit(cache=True, nogil=True)
def _compare_slots(code, out, x, y, m):
    """``out[j] = x[j] OP y[j]`` as 1.0 / 0.0 for the ordering comparison ``code`` (one loop
    per operator: a branch on the operator inside the loop would keep it from vectorizing)."""
    if code == LT:
        for j in range(m):
            out[j] = 1.0 if x[j] < y[j] else 0.0
    elif code == LE:
        for j in range(m):
            out[j] = 1.0 if x[j] <= y[j] else 0.0
    elif code == GT:
        for j in range(m):
            out[j] = 1.0 if x[j] > y[j] else 0.0
    else:  # GE
        for j in range(m):
            out[j] = 1.0 if x[j] >= y[j] else 0.0


@njit(cache=True, nogil=True)
def _compare_constant(code, out, x, c, m):
    """``out[j] = x[j] OP c`` as 1.0 / 0.0 for the ordering comparison ``code``."""
    if code == LT:
        for j in range(m):
            out[j] = 1.0 if x[j] < c else 0.0
    elif code == LE:
        for j in range(m):
            out[j] = 1.0 if x[j] <= c else 0.0
    elif code == GT:
        for j in range(m):
            out[j] = 1.0 if x[j] > c else 0.0
    else:  # GE
        for j in range(m):
            out[j] = 1.0 if x[j] >= c else 0.0


@njit(cache=True, nogil=True)
def _materialize(valid, full, slot, m):
    """Give a stack slot per-element validity (all valid so far)."""
    if full[slot]:
        row = valid[slot]
        for j in range(m):
            row[j] = True
        full[slot] = False


@njit(cache=True, nogil=True)
def _sum_block(fv, v_full, v_ok, keep, has_predicate, p_full, keep_ok, m):
    """(kept valid values, their sum) of one block.  Eight running sums, one per lane of eight
    rows (a single chain waits on each add's latency; eight measured fastest), added pairwise
    at the end; a row not kept adds +0.0, which leaves a sum as it was (a sum starts at +0.0,
    so it is never -0.0)."""
    s0 = s1 = s2 = s3 = s4 = s5 = s6 = s7 = 0.0
    whole = m - m % 8
    if v_full and not has_predicate:
        for j in range(0, whole, 8):
            s0 += fv[j]
            s1 += fv[j + 1]
            s2 += fv[j + 2]
            s3 += fv[j + 3]
            s4 += fv[j + 4]
            s5 += fv[j + 5]
            s6 += fv[j + 6]
            s7 += fv[j + 7]
        for j in range(whole, m):
            s0 += fv[j]
        return m, ((s0 + s1) + (s2 + s3)) + ((s4 + s5) + (s6 + s7))
    kept = 0
    for j in range(0, whole, 8):
        k0 = _kept(v_full, v_ok, keep, has_predicate, p_full, keep_ok, j)
        k1 = _kept(v_full, v_ok, keep, has_predicate, p_full, keep_ok, j + 1)
        k2 = _kept(v_full, v_ok, keep, has_predicate, p_full, keep_ok, j + 2)
        k3 = _kept(v_full, v_ok, keep, has_predicate, p_full, keep_ok, j + 3)
        k4 = _kept(v_full, v_ok, keep, has_predicate, p_full, keep_ok, j + 4)
        k5 = _kept(v_full, v_ok, keep, has_predicate, p_full, keep_ok, j + 5)
        k6 = _kept(v_full, v_ok, keep, has_predicate, p_full, keep_ok, j + 6)
        k7 = _kept(v_full, v_ok, keep, has_predicate, p_full, keep_ok, j + 7)
        s0 += fv[j] if k0 else 0.0
        s1 += fv[j + 1] if k1 else 0.0
        s2 += fv[j + 2] if k2 else 0.0
        s3 += fv[j + 3] if k3 else 0.0
        s4 += fv[j + 4] if k4 else 0.0
        s5 += fv[j + 5] if k5 else 0.0
        s6 += fv[j + 6] if k6 else 0.0
        s7 += fv[j + 7] if k7 else 0.0
        kept += k0 + k1 + k2 + k3 + k4 + k5 + k6 + k7
    for j in range(whole, m):
        k0 = _kept(v_full, v_ok, keep, has_predicate, p_full, keep_ok, j)
        s0 += fv[j] if k0 else 0.0
        kept += k0
    return kept, ((s0 + s1) + (s2 + s3)) + ((s4 + s5) + (s6 + s7))


@njit(cache=True, nogil=True)
def _kept(v_full, v_ok, keep, has_predicate, p_full, keep_ok, j):
    """Whether row ``j`` of the block is kept (predicate true) with a valid value."""
    if has_predicate and not (keep[j] != 0.0 and (p_full or keep_ok[j])):
        return False
    return v_full or v_ok[j]


@njit(cache=True, nogil=True)
def _fusable_loads(codes, operands):
    """Per instruction: how many instructions after it a load does in its own loop (0: none):
    1 for a LOAD followed by a float operation with a constant or an ordering comparison with
    a constant, or a LOADI followed by TOF; 2 for LOADI, TOF and a float operation with a
    constant."""
    fuse = np.zeros(codes.shape[0], dtype=np.int64)
    for pc in range(codes.shape[0] - 1):
        nxt = codes[pc + 1]
        if codes[pc] == LOAD:
            # ADD_C, SUB_C, MUL_C, DIV_C, C_SUB; or LT..GE with a constant (EQ / NE read the
            # validity: not fused)
            if ADD_C <= nxt <= C_SUB or (nxt == CMP_C and operands[pc + 1] & 7 <= GE):
                fuse[pc] = 1
        elif codes[pc] == LOADI and nxt == TOF:
            fuse[pc] = 2 if pc + 2 < codes.shape[0] and ADD_C <= codes[pc + 2] <= C_SUB else 1
    return fuse


@njit(cache=True, nogil=True)
def _constant_op(slot, source, op, c, m):
    """``slot = source OP c`` (or ``c - source``) for ADD_C, SUB_C, MUL_C, DIV_C and C_SUB: a
    LOAD and the constant operation after it (an int source is converted to the nearest float
    first, as TOF does), or the operation in place (``slot`` is ``source``)."""
    if op == ADD_C:
        for j in range(m):
            slot[j] = source[j] + c
    elif op == SUB_C:
        for j in range(m):
            slot[j] = source[j] - c
    elif op == MUL_C:
        for j in range(m):
            slot[j] = source[j] * c
    elif op == DIV_C:  # c != 0 (a zero divisor is emitted as DIV)
        for j in range(m):
            slot[j] = source[j] / c
    else:  # C_SUB
        for j in range(m):
            slot[j] = c - source[j]


@njit(cache=True, nogil=True)
def _count_compare(code, x, c, n):
    """How many of ``x[:n]`` compare true with ``c`` (NaN never does)."""
    kept = 0
    if code == LT:
        for j in range(n):
            kept += x[j] < c
    elif code == LE:
        for j in range(n):
            kept += x[j] <= c
    elif code == GT:
        for j in range(n):
            kept += x[j] > c
    else:  # GE
        for j in range(n):
            kept += x[j] >= c
    return kept


@njit(cache=True, nogil=True)
def scan_reduce(
    codes,
    operands,
    constants,
    iconstants,
    fcols,
    icols,
    bitmaps,
    bit_offsets,
    has_nulls,
    n,
    depth,
    has_predicate,
    has_value,
    value_int,
    mode,
):
    """Run the program over rows ``0..n-1`` of the columns and reduce.

    The program leaves the predicate (if ``has_predicate``) then the value (if ``has_value``)
    on the stack.  Returns (count, float total, int total, float best, int best, NaN seen):
    ``count`` is the number of rows kept (R_COUNT), of valid values kept (sum/avg), or of
    valid non-NaN values kept (min/max, whose best is then meaningful)."""
    values = np.zeros((depth, BLOCK), dtype=np.float64)
    ivalues = np.zeros((depth, BLOCK), dtype=np.int64)
    valid = np.ones((depth, BLOCK), dtype=np.bool_)
    full = np.ones(depth, dtype=np.bool_)
    count = 0
    ftotal = 0.0
    itotal = 0
    fbest = 0.0
    ibest = 0
    nan_seen = False
    want_max = mode == R_MAX
    extreme = mode in (R_MIN, R_MAX)
    if (
        mode == R_COUNT
        and codes.shape[0] == 2
        and codes[0] == LOAD
        and codes[1] == CMP_C
        and operands[1] & 7 <= GE
        and not has_nulls[operands[0]]
    ):  # `column OP constant`, counted, no nulls: one vectorized pass, no stack
        kept = _count_compare(operands[1] & 7, fcols[operands[0]], constants[operands[1] >> 3], n)
        return kept, 0.0, 0, 0.0, 0, False
    fuse = _fusable_loads(codes, operands)
    for start in range(0, n, BLOCK):
        m = min(BLOCK, n - start)
        sp = 0
        skip = 0
        for pc in range(codes.shape[0]):
            if skip:  # done by the load before it
                skip -= 1
                continue
            op = codes[pc]
            if op == LOAD or op == LOADI:  # noqa: SIM109  (Numba kernel: plain integer compares)
                k = operands[pc]
                skip = fuse[pc]
                if op == LOAD:
                    source = fcols[k][start : start + m]
                    slot = values[sp]
                    if skip and codes[pc + 1] == CMP_C:  # the load and the comparison, in one loop
                        _compare_constant(operands[pc + 1] & 7, slot, source, constants[operands[pc + 1] >> 3], m)
                    elif skip:  # the load and the constant operation after it, in one loop
                        _constant_op(slot, source, codes[pc + 1], constants[operands[pc + 1]], m)
                    else:
                        for j in range(m):
                            slot[j] = source[j]
                else:
                    isource = icols[k][start : start + m]
                    if skip == 2:  # LOADI, TOF, a constant operation: ints to floats, operated on
                        _constant_op(values[sp], isource, codes[pc + 2], constants[operands[pc + 2]], m)
                    elif skip:  # LOADI, TOF: the ints read straight into the float slot
                        slot = values[sp]
                        for j in range(m):
                            slot[j] = float(isource[j])
                    else:
                        islot = ivalues[sp]
                        for j in range(m):
                            islot[j] = isource[j]
                full[sp] = not has_nulls[k]
                if has_nulls[k]:
                    bits = bitmaps[k]
                    base = bit_offsets[k] + start
                    slot_ok = valid[sp]
                    for j in range(m):
                        b = base + j
                        slot_ok[j] = (bits[b >> 3] >> (b & 7)) & 1 == 1
                sp += 1
            elif op == CONST or op == NULL:  # noqa: SIM109  (Numba kernel: plain integer compares)
                c = constants[operands[pc]]
                slot = values[sp]
                for j in range(m):
                    slot[j] = c
                full[sp] = op == CONST
                if op == NULL:
                    slot_ok = valid[sp]
                    for j in range(m):
                        slot_ok[j] = False
                sp += 1
            elif op == CONSTI:
                ic = iconstants[operands[pc]]
                islot = ivalues[sp]
                for j in range(m):
                    islot[j] = ic
                full[sp] = True
                sp += 1
            elif op == TOF:
                slot = values[sp - 1]
                islot = ivalues[sp - 1]
                for j in range(m):
                    slot[j] = float(islot[j])
            elif op == NEG:
                slot = values[sp - 1]
                for j in range(m):
                    slot[j] = -slot[j]
            elif op == NOT:
                slot = values[sp - 1]
                for j in range(m):
                    slot[j] = 1.0 if slot[j] == 0.0 else 0.0
            elif op == ISNONE:
                slot = values[sp - 1]
                if full[sp - 1]:
                    for j in range(m):
                        slot[j] = 0.0
                else:
                    slot_ok = valid[sp - 1]
                    for j in range(m):
                        slot[j] = 0.0 if slot_ok[j] else 1.0
                full[sp - 1] = True
            elif op == CMP_C:
                c = constants[operands[pc] >> 3]
                code = operands[pc] & 7
                x = values[sp - 1]
                if code == EQ or code == NE:  # noqa: SIM109  (Numba kernel: plain integer compares)
                    x_full = full[sp - 1]
                    x_ok = valid[sp - 1]
                    hit = 1.0 if code == EQ else 0.0
                    for j in range(m):
                        same = x[j] == c and (x_full or x_ok[j])
                        x[j] = hit if same else 1.0 - hit
                    full[sp - 1] = True
                else:
                    _compare_constant(code, x, x, c, m)
            elif op >= ADD_C and op <= C_DIV:
                c = constants[operands[pc]]
                x = values[sp - 1]
                if op != C_DIV:  # ADD_C, SUB_C, MUL_C, DIV_C (c != 0), C_SUB: in place
                    _constant_op(x, x, op, c, m)
                else:  # C_DIV: c / x, null where x is zero
                    zero = False
                    for j in range(m):
                        zero = zero or x[j] == 0.0
                    if zero:
                        _materialize(valid, full, sp - 1, m)
                        x_ok = valid[sp - 1]
                        for j in range(m):
                            if x[j] == 0.0:
                                x_ok[j] = False
                    for j in range(m):
                        x[j] = c / x[j] if x[j] != 0.0 else 0.0
            else:  # two operands: arithmetic, comparison or logic
                a = sp - 2
                b = sp - 1
                x = values[a]
                y = values[b]
                if op == ADD:
                    for j in range(m):
                        x[j] = x[j] + y[j]
                elif op == SUB:
                    for j in range(m):
                        x[j] = x[j] - y[j]
                elif op == MUL:
                    for j in range(m):
                        x[j] = x[j] * y[j]
                elif op == DIV:  # null where the divisor is zero
                    zero = False
                    for j in range(m):
                        zero = zero or y[j] == 0.0
                        x[j] = x[j] / y[j] if y[j] != 0.0 else 0.0
                    if zero:
                        _materialize(valid, full, a, m)
                        x_ok = valid[a]
                        for j in range(m):
                            if y[j] == 0.0:
                                x_ok[j] = False
                elif op == AND or op == OR:  # noqa: SIM109  (Numba kernel: plain integer compares)
                    if full[a] and full[b]:
                        if op == AND:
                            for j in range(m):
                                x[j] = 1.0 if x[j] != 0.0 and y[j] != 0.0 else 0.0
                        else:
                            for j in range(m):
                                x[j] = 1.0 if x[j] != 0.0 or y[j] != 0.0 else 0.0
                    else:
                        a_full = full[a]
                        b_full = full[b]
                        _materialize(valid, full, a, m)
                        x_ok = valid[a]
                        y_ok = valid[b]
                        for j in range(m):
                            va = a_full or x_ok[j]
                            vb = b_full or y_ok[j]
                            ta = va and x[j] != 0.0
                            tb = vb and y[j] != 0.0
                            fa = va and x[j] == 0.0
                            fb = vb and y[j] == 0.0
                            if op == AND:
                                x[j] = 1.0 if ta and tb else 0.0
                                x_ok[j] = (va and vb) or fa or fb
                            else:
                                x[j] = 1.0 if ta or tb else 0.0
                                x_ok[j] = (va and vb) or ta or tb
                    sp -= 1
                    continue
                else:  # CMP / ICMP
                    code = operands[pc]
                    if code == EQ or code == NE:  # noqa: SIM109  (Numba kernel: plain integer compares)
                        a_full = full[a]
                        b_full = full[b]
                        x_ok = valid[a]
                        y_ok = valid[b]
                        hit = 1.0 if code == EQ else 0.0
                        ix = ivalues[a]
                        iy = ivalues[b]
                        for j in range(m):
                            va = a_full or x_ok[j]
                            vb = b_full or y_ok[j]
                            if va and vb:
                                same = ix[j] == iy[j] if op == ICMP else x[j] == y[j]
                            else:
                                same = not va and not vb
                            x[j] = hit if same else 1.0 - hit
                        full[a] = True
                        sp -= 1
                        continue
                    if op == ICMP:
                        ix = ivalues[a]
                        iy = ivalues[b]
                        _compare_slots(code, x, ix, iy, m)
                    else:
                        _compare_slots(code, x, x, y, m)
                if not full[b]:  # the result is null where either operand is
                    _materialize(valid, full, a, m)
                    x_ok = valid[a]
                    y_ok = valid[b]
                    for j in range(m):
                        x_ok[j] = x_ok[j] and y_ok[j]
                sp -= 1
        # Reduce the block: rows where the predicate is true and the value is not null.
        p_full = full[0]
        keep = values[0]
        keep_ok = valid[0]
        v = 1 if has_predicate else 0
        v_full = full[v]
        v_ok = valid[v]
        fv = values[v]
        iv = ivalues[v]
        if mode == R_COUNT:  # branch-free counts (a bool adds as 0 / 1)
            if not has_predicate:
                count += m
            elif p_full:
                kept = 0
                for j in range(m):
                    kept += keep[j] != 0.0
                count += kept
            else:
                kept = 0
                for j in range(m):
                    kept += keep[j] != 0.0 and keep_ok[j]
                count += kept
            continue
        if not value_int and not extreme:  # float sum / avg
            c, block_total = _sum_block(fv, v_full, v_ok, keep, has_predicate, p_full, keep_ok, m)
            count += c
            ftotal += block_total
            continue
        for j in range(m):
            if has_predicate and not (keep[j] != 0.0 and (p_full or keep_ok[j])):
                continue
            if not (v_full or v_ok[j]):
                continue
            if value_int:
                w = iv[j]
                if extreme:
                    if count == 0 or (w > ibest if want_max else w < ibest):
                        ibest = w
                else:
                    itotal += w
                count += 1
            else:
                f = fv[j]
                if f != f:
                    nan_seen = True
                    continue
                if count == 0 or (f > fbest if want_max else f < fbest):
                    fbest = f
                count += 1
    return count, ftotal, itotal, fbest, ibest, nan_seen
