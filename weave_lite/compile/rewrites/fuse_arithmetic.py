"""Chains of float arithmetic -> one fused kernel (``fused:arith``): one pass, no temporaries.

``row["latency"] * 2 + row["tokens"] / 10`` becomes a postfix program over two inputs (the
picked columns) and two constants, run by :mod:`weave_lite.kernels.fused`.  Only ops whose
result is a float are fused (integer arithmetic wraps and keeps its own kernels); any operand
that is not itself fused arithmetic or a number literal is an input, evaluated as usual.
"""

from __future__ import annotations

from dataclasses import replace
from typing import TypeGuard, cast

from weave_lite.compile.planner import PCall, PConst, PNode
from weave_lite.graph.types import FLOAT, INT, NONE
from weave_lite.kernels.opcodes import (
    ADD,
    CONST,
    CONSTANT_FIRST,
    DIV,
    LOAD,
    MUL,
    NULL,
    OPCODES,
    SUB,
    TAKES_CONSTANT,
    WITH_CONSTANT,
)

FUSED = "fused:arith"
# A fused call's ``program`` hint: (codes as (opcode, operand) pairs, constants, stack depth).
Program = tuple[tuple[tuple[int, int], ...], tuple[float, ...], int]


def fuse_arithmetic(node: PNode) -> PNode:
    if not _fusable_op(node) or _op_count(node) < 2:
        return node
    inputs: list[PNode] = []
    constants: list[float] = []
    codes: list[tuple[int, int]] = []
    _emit(node, inputs, constants, codes)
    depth = _depth(codes)
    program = (tuple(codes), tuple(constants), depth)
    return replace(
        node,
        key=FUSED,
        args=tuple(inputs),
        arg_types=tuple(i.type for i in inputs),
        mapped=(),
        hints=(("program", program),),
    )


def _fusable_op(node: PNode) -> TypeGuard[PCall]:
    return (
        isinstance(node, PCall)
        and node.key in OPCODES
        and node.map_depth == 0
        and node.type.non_null() == FLOAT
        and all(_operand_ok(a) for a in node.args)
    )


def _operand_ok(node: PNode) -> bool:
    if isinstance(node, PCall) and node.key == FUSED:
        return True
    if isinstance(node, PConst):
        return node.value is None or (isinstance(node.value, (int, float)) and not isinstance(node.value, bool))
    return node.type == NONE or node.type.non_null() in (FLOAT, INT)


def _op_count(node: PNode) -> int:
    if isinstance(node, PCall) and node.key == FUSED:
        return sum(1 for code, _ in _program(node)[0] if code not in (LOAD, CONST, NULL))
    if _fusable_op(node):
        return 1 + sum(_op_count(a) for a in node.args)
    return 0


def _emit(node: PNode, inputs: list, constants: list, codes: list) -> None:
    if isinstance(node, PCall) and node.key == FUSED:  # fused already (bottom-up): splice it
        inner_codes, inner_constants, _ = _program(node)
        for code, operand in inner_codes:
            if code == LOAD:
                _emit(node.args[operand], inputs, constants, codes)
            elif code in TAKES_CONSTANT:
                constants.append(inner_constants[operand])
                codes.append((code, len(constants) - 1))
            else:
                codes.append((code, 0))
        return
    if _fusable_op(node):
        if node.key in WITH_CONSTANT:
            left, right = node.args
            if _number(right) and not (node.key == "div" and right.value == 0):
                _emit(left, inputs, constants, codes)
                constants.append(float(right.value))
                codes.append((WITH_CONSTANT[node.key], len(constants) - 1))
                return
            if _number(left):
                _emit(right, inputs, constants, codes)
                constants.append(float(left.value))
                codes.append((CONSTANT_FIRST[node.key], len(constants) - 1))
                return
        for a in node.args:
            _emit(a, inputs, constants, codes)
        codes.append((OPCODES[node.key], 0))
    elif isinstance(node, PConst):
        constants.append(0.0 if node.value is None else float(node.value))
        codes.append((NULL if node.value is None else CONST, len(constants) - 1))
    else:
        for i, known in enumerate(inputs):  # an input used twice (shared by CSE) is read once
            if known is node:
                codes.append((LOAD, i))
                return
        inputs.append(node)
        codes.append((LOAD, len(inputs) - 1))


def _program(node: PCall) -> Program:
    """The program of a ``fused:arith`` call (set by :func:`fuse_arithmetic`)."""
    return cast(Program, dict(node.hints)["program"])


def _number(node: PNode) -> TypeGuard[PConst]:
    """A non-null number literal (folded into the op that uses it)."""
    return isinstance(node, PConst) and isinstance(node.value, (int, float)) and not isinstance(node.value, bool)


def _depth(codes: list[tuple[int, int]]) -> int:
    deepest = sp = 0
    for code, _ in codes:
        if code in (LOAD, CONST, NULL):
            sp += 1
        elif code in (ADD, SUB, MUL, DIV):
            sp -= 1
        deepest = max(deepest, sp)
    return deepest
