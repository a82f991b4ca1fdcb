"""A Numba kernel that evaluates a fused chain of float arithmetic in one pass.

``a * 2 + b / 10`` run op by op allocates and writes a full-length temporary per op; here the
expression is a small postfix program interpreted over blocks of 1,024 elements, so the
temporaries are a few cache-resident rows and each input is read once.  Nulls propagate (an
operation is null if an operand is), and division by zero is null, as in the op-by-op kernels;
the arithmetic is the same IEEE double arithmetic in the same order, so results are identical.
"""

from __future__ import annotations

import numpy as np
from numba import njit

from weave_lite.kernels.opcodes import (  # noqa: F401  (re-exported: the kernel's opcodes)
    ADD,
    ADD_C,
    C_DIV,
    C_SUB,
    CONST,
    CONSTANT_FIRST,
    DIV,
    DIV_C,
    LOAD,
    MUL,
    MUL_C,
    NEG,
    NULL,
    OPCODES,
    SUB,
    SUB_C,
    TAKES_CONSTANT,
    WITH_CONSTANT,
)

BLOCK = 4096


@njit(cache=True, nogil=True)
def run_program(codes, operands, constants, inputs, masks, masked, n, depth):
    """Run the postfix program (``codes[i]`` with operand ``operands[i]``: an input index for
    LOAD, a constant index for CONST) over ``n`` elements; returns (values, valid)."""
    out = np.empty(n, dtype=np.float64)
    ok = np.ones(n, dtype=np.bool_)
    values = np.empty((depth, BLOCK), dtype=np.float64)
    valid = np.empty((depth, BLOCK), dtype=np.bool_)
    # Whether a stack slot is valid everywhere in the block: validity is tracked per element
    # only once a null shows up, so null-free data pays for none of it.
    full = np.ones(depth, dtype=np.bool_)
    for start in range(0, n, BLOCK):
        m = min(BLOCK, n - start)
        sp = 0
        for pc in range(codes.shape[0]):
            op = codes[pc]
            if op == LOAD:
                k = operands[pc]
                # Block views: indexing with `start + j` would cost a wraparound check per element.
                source = inputs[k][start : start + m]
                slot = values[sp]
                for j in range(m):
                    slot[j] = source[j]
                full[sp] = not masked[k]
                if masked[k]:
                    mask = masks[k][start : start + m]
                    slot_ok = valid[sp]
                    for j in range(m):
                        slot_ok[j] = mask[j]
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
            elif op == NEG:
                slot = values[sp - 1]
                for j in range(m):
                    slot[j] = -slot[j]
            elif op >= ADD_C:
                c = constants[operands[pc]]
                x = values[sp - 1]
                if op == ADD_C:
                    for j in range(m):
                        x[j] = x[j] + c
                elif op == SUB_C:
                    for j in range(m):
                        x[j] = x[j] - c
                elif op == MUL_C:
                    for j in range(m):
                        x[j] = x[j] * c
                elif op == C_SUB:
                    for j in range(m):
                        x[j] = c - x[j]
                elif op == DIV_C:  # c != 0 (a zero divisor is emitted as DIV)
                    for j in range(m):
                        x[j] = x[j] / c
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
            else:
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
                else:  # DIV: null where the divisor is zero
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
                if not full[b]:
                    _materialize(valid, full, a, m)
                    x_ok = valid[a]
                    y_ok = valid[b]
                    for j in range(m):
                        x_ok[j] = x_ok[j] and y_ok[j]
                sp -= 1
        result = values[0]
        out_block = out[start : start + m]
        for j in range(m):
            out_block[j] = result[j]
        if not full[0]:
            result_ok = valid[0]
            ok_block = ok[start : start + m]
            for j in range(m):
                ok_block[j] = result_ok[j]
    return out, ok


@njit(cache=True, nogil=True, inline="always")
def _materialize(valid, full, slot, m):
    """Give a stack slot per-element validity (all valid so far)."""
    if full[slot]:
        row = valid[slot]
        for j in range(m):
            row[j] = True
        full[slot] = False
