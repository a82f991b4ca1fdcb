"""Scan-reduce shapes -> one fused pass (``scan:count`` / ``scan:sum`` / ``scan:avg`` ...).

``rows.filter(p).count`` (already ``count:where``), ``rows.map(f).sum`` and
``rows.filter(p).map(f).sum|avg|min|max`` over a table's rows become one call whose
``scan`` hint is a postfix program (:mod:`weave_lite.kernels.opcodes`) computing the predicate
and the value from the picked columns; :mod:`weave_lite.kernels.scan` runs it block by block
with the reduction fused in.  The call keeps the rows, the predicate and the value function as
its arguments, so a morsel the kernel cannot read runs the original ops.

Only what the kernel computes exactly as the op-by-op kernels do is fused: picks of numeric
columns, number literals, float arithmetic (as ``fused:arith``), comparisons of numbers,
``&&`` / ``||`` / ``!`` and ``isNone``; anything else leaves the plan as it was.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any, NamedTuple, TypeGuard, cast

from weave_lite.compile.planner import PCall, PConst, PLambda, PNode, PVar
from weave_lite.compile.rewrites.fuse_arithmetic import FUSED, _program
from weave_lite.graph.types import BOOL, FLOAT, INT, NONE
from weave_lite.kernels.opcodes import (
    AND,
    CMP,
    CMP_C,
    COMPARISONS,
    CONST,
    CONSTANT_FIRST,
    CONSTI,
    ICMP,
    ISNONE,
    LOAD,
    LOADI,
    NOT,
    NULL,
    OPCODES,
    OR,
    R_AVG,
    R_COUNT,
    R_MAX,
    R_MIN,
    R_SUM,
    TAKES_CONSTANT,
    TOF,
    WITH_CONSTANT,
)

REDUCERS = {"sum": R_SUM, "avg": R_AVG, "min": R_MIN, "max": R_MAX}
MAX_COLUMNS = 8  # the kernel's fixed tuple size (weave_lite.kernels.scan.MAX_COLUMNS)
# Opcodes that push a slot / pop one (the rest keep the depth).
_PUSH = {LOAD, LOADI, CONST, CONSTI, NULL}
_POP = {OPCODES["add"], OPCODES["sub"], OPCODES["mul"], OPCODES["div"], CMP, ICMP, AND, OR}


class ScanProgram(NamedTuple):
    """A fused scan: the program over ``columns`` (``kinds``: "f" float64, "i" int64)."""

    codes: tuple[tuple[int, int], ...]
    constants: tuple[float, ...]
    iconstants: tuple[int, ...]
    columns: tuple[str, ...]
    kinds: tuple[str, ...]
    depth: int
    has_predicate: bool
    has_value: bool
    value_int: bool
    mode: int


class _Unsupported(Exception):
    pass


def fuse_scan(node: PNode) -> PNode:
    if not isinstance(node, PCall) or node.map_depth != 0:
        return node
    pred: Any = None
    value: Any = None
    rows: Any
    if node.key == "count:where" and _is_rows(node.args[0]) and isinstance(node.args[1], PLambda):
        rows, pred, mode, key = node.args[0], node.args[1], R_COUNT, "scan:count"
    elif node.key in REDUCERS and len(node.args) == 1 and _is_call(node.args[0], "map"):
        mapped: Any = node.args[0]
        inner: Any = mapped.args[0]
        value = mapped.args[1]
        if _is_call(inner, "filter") and _is_rows(inner.args[0]):
            rows, pred = inner.args[0], inner.args[1]
        elif _is_rows(inner):
            rows = inner
        else:
            return node
        mode, key = REDUCERS[node.key], f"scan:{node.key}"
    else:
        return node
    if not isinstance(value, (PLambda, type(None))) or not isinstance(pred, (PLambda, type(None))):
        return node
    try:
        program = _compile(pred, value, mode)
    except _Unsupported:
        return node
    # An absent predicate or value stays None in place (the executor passes None on).
    args = cast("tuple[PNode, ...]", (rows, pred, value))
    return replace(
        node,
        key=key,
        args=args,
        arg_types=tuple(NONE if a is None else a.type for a in args),
        mapped=(),
        hints=(("scan", program),),
    )


def _is_call(node: PNode | None, key: str) -> bool:
    return isinstance(node, PCall) and node.key == key and node.map_depth == 0


def _is_rows(node: PNode | None) -> bool:
    """A table's rows (``stream_table(name).rows``): a list of dicts of columns."""
    if not _is_call(node, "rows"):
        return False
    root = cast(PCall, node).args[0]
    return isinstance(root, PCall) and root.key in ("stream_table", "table") and root.map_depth == 0


class _Emitter:
    def __init__(self) -> None:
        self.codes: list[tuple[int, int]] = []
        self.constants: list[float] = []
        self.iconstants: list[int] = []
        self.columns: list[str] = []
        self.kinds: list[str] = []

    def const(self, value: float) -> int:
        self.constants.append(float(value))
        return len(self.constants) - 1

    def column(self, name: str, kind: str) -> int:
        if name in self.columns:
            return self.columns.index(name)
        if len(self.columns) == MAX_COLUMNS:
            raise _Unsupported
        self.columns.append(name)
        self.kinds.append(kind)
        return len(self.columns) - 1

    def emit(self, node: Any, param: str) -> str:
        """Emit ``node``; its kind: "f" float, "i" int, "b" boolean, "n" a null literal."""
        if isinstance(node, PConst):
            if node.value is None:
                self.codes.append((NULL, self.const(0.0)))
                return "n"
            if isinstance(node.value, bool):
                self.codes.append((CONST, self.const(1.0 if node.value else 0.0)))
                return "b"
            if isinstance(node.value, int) and -(2**63) <= node.value < 2**63:
                self.iconstants.append(node.value)
                self.codes.append((CONSTI, len(self.iconstants) - 1))
                return "i"
            if isinstance(node.value, float):
                self.codes.append((CONST, self.const(node.value)))
                return "f"
            raise _Unsupported
        if not isinstance(node, PCall) or node.map_depth != 0:
            raise _Unsupported
        if node.key == "getitem:pick":
            target, name = node.args
            if not (isinstance(target, PVar) and target.name == param and isinstance(name, PConst)):
                raise _Unsupported
            t = node.type.non_null()
            if t not in (FLOAT, INT) or not isinstance(name.value, str):
                raise _Unsupported
            kind = "f" if t == FLOAT else "i"
            self.codes.append((LOAD if kind == "f" else LOADI, self.column(name.value, kind)))
            return kind
        if node.key == FUSED:
            codes, constants, _ = _program(node)
            for code, operand in codes:
                if code == LOAD:
                    self.float_operand(node.args[operand], param)
                elif code in TAKES_CONSTANT:
                    self.codes.append((code, self.const(constants[operand])))
                else:
                    self.codes.append((code, 0))
            return "f"
        if node.key in OPCODES and node.type.non_null() == FLOAT:
            return self.arithmetic(node, param)
        if node.key in COMPARISONS:
            return self.comparison(node, param)
        if node.key in ("and", "or"):
            for a in node.args:
                if self.emit(a, param) != "b":
                    raise _Unsupported
            self.codes.append((AND if node.key == "and" else OR, 0))
            return "b"
        if node.key == "not":
            if self.emit(node.args[0], param) != "b":
                raise _Unsupported
            self.codes.append((NOT, 0))
            return "b"
        if node.key == "isNone":
            if self.emit(node.args[0], param) not in ("f", "i"):
                raise _Unsupported
            self.codes.append((ISNONE, 0))
            return "b"
        raise _Unsupported

    def float_operand(self, node: Any, param: str) -> None:
        kind = self.emit(node, param)
        if kind == "i":
            self.codes.append((TOF, 0))
        elif kind not in ("f", "n"):
            raise _Unsupported

    def arithmetic(self, node: PCall, param: str) -> str:
        if node.key in WITH_CONSTANT:
            left: Any = node.args[0]
            right: Any = node.args[1]
            if _number(right) and not (node.key == "div" and right.value == 0):
                self.float_operand(left, param)
                self.codes.append((WITH_CONSTANT[node.key], self.const(right.value)))
                return "f"
            if _number(left):
                self.float_operand(right, param)
                self.codes.append((CONSTANT_FIRST[node.key], self.const(left.value)))
                return "f"
        for a in node.args:
            self.float_operand(a, param)
        self.codes.append((OPCODES[node.key], 0))
        return "f"

    def comparison(self, node: PCall, param: str) -> str:
        code = COMPARISONS[node.key]
        left: Any = node.args[0]
        right: Any = node.args[1]
        for side in (left, right):
            t = side.type.non_null() if side is not None else NONE
            if t not in (FLOAT, INT) and side.type != NONE:
                raise _Unsupported
        kind = self.emit(left, param)
        if _number(right) and kind == "f":
            self.codes.append((CMP_C, self.const(right.value) * 8 + code))
            return "b"
        if kind == "i":
            mark = len(self.codes)
            other = self.emit(right, param)
            if other == "i":
                self.codes.append((ICMP, code))
                return "b"
            self.codes.insert(mark, (TOF, 0))
        elif kind not in ("f", "n"):
            raise _Unsupported
        else:
            other = self.emit(right, param)
        if other == "i":
            self.codes.append((TOF, 0))
        elif other not in ("f", "n"):
            raise _Unsupported
        self.codes.append((CMP, code))
        return "b"


def _number(node: PNode | None) -> TypeGuard[PConst]:
    return isinstance(node, PConst) and isinstance(node.value, (int, float)) and not isinstance(node.value, bool)


def _compile(pred: PLambda | None, value: PLambda | None, mode: int) -> ScanProgram:
    out = _Emitter()
    for fn in (pred, value):
        if fn is not None and len(fn.params) != 1:
            raise _Unsupported
    if pred is not None and (
        pred.body.type.non_null() not in (BOOL, NONE) or out.emit(pred.body, pred.params[0]) != "b"
    ):
        raise _Unsupported
    value_int = False
    if value is not None:
        kind = out.emit(value.body, value.params[0])
        if kind not in ("f", "i") or value.body.type.non_null() != (FLOAT if kind == "f" else INT):
            raise _Unsupported
        value_int = kind == "i" and mode != R_AVG
        if kind == "i" and mode == R_AVG:  # avg sums as floats (as the avg kernel does)
            out.codes.append((TOF, 0))
    elif mode != R_COUNT:
        raise _Unsupported
    return ScanProgram(
        tuple(out.codes),
        tuple(out.constants),
        tuple(out.iconstants),
        tuple(out.columns),
        tuple(out.kinds),
        max(1, _depth(out.codes)),
        pred is not None,
        value is not None,
        value_int,
        mode,
    )


def _depth(codes: list[tuple[int, int]]) -> int:
    deepest = sp = 0
    for code, _ in codes:
        if code in _PUSH:
            sp += 1
        elif code in _POP:
            sp -= 1
        deepest = max(deepest, sp)
    return deepest
