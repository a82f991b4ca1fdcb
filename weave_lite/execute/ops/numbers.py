"""Kernels of the numbers area: arithmetic, comparisons, number functions, ``toTimestamp``."""

from __future__ import annotations

import numpy as np
import pyarrow as pa

from weave_lite.execute.columns import (
    as_array,
    bool_mask,
    concat_vecs,
    dense_validity,
    elementwise,
    is_null_type,
    key_codes,
    numeric,
    to_numpy,
)
from weave_lite.execute.executor import KernelCall, kernel
from weave_lite.execute.vectors import ArrayVec, ConstVec, Vec, combine, union_variants, vec_from_arrow
from weave_lite.lazy import lazy_module

pc = lazy_module("pyarrow.compute")  # loaded by the first kernel that uses it (issue 15: start-up)


def _float(vec: Vec) -> Vec:
    vec = numeric(vec)
    if isinstance(vec, ConstVec):
        return ConstVec(None if vec.value is None else float(vec.value), pa.float64(), vec.length)
    array = as_array(vec)
    return vec if pa.types.is_floating(array.type) else ArrayVec(array.cast(pa.float64(), safe=False))  # nearest float


def _both_int(call: KernelCall) -> bool:
    return str(call.out_type) == "int"


def _arith(fn):
    def run(call: KernelCall) -> Vec:
        a, b = numeric(call.args[0]), numeric(call.args[1])
        if not _both_int(call):
            a, b = _float(a), _float(b)
        return elementwise(fn, a, b)

    return run


# The Arrow functions are looked up when a kernel runs (lambdas): reading ``pc.add`` here would
# import pyarrow.compute with the area (issue 15: start-up).
kernel("add")(_arith(lambda a, b: pc.add(a, b)))
kernel("sub")(_arith(lambda a, b: pc.subtract(a, b)))
kernel("mul")(_arith(lambda a, b: pc.multiply(a, b)))


@kernel("div")
def div(call: KernelCall) -> Vec:
    a, b = _float(call.args[0]), _float(call.args[1])
    quotient = elementwise(pc.divide, a, b)
    if isinstance(b, ConstVec) and b.value not in (0, None):
        return quotient  # a literal non-zero divisor: no zero check needed
    zero = elementwise(lambda x: pc.equal(x, 0.0), b)
    return _null_where_true(quotient, zero)


def _null_where_true(vec: Vec, condition: Vec) -> Vec:
    """Null where ``condition`` is True (division by zero)."""
    return elementwise(lambda c, v: pc.if_else(c, pa.scalar(None, type=_type_of(v)), v), condition, vec)


def _type_of(value) -> pa.DataType:
    return value.type


@kernel("mod")
def mod(call: KernelCall) -> Vec:
    a, b = numeric(call.args[0]), numeric(call.args[1])
    as_int = _both_int(call)
    if not as_int:
        a, b = _float(a), _float(b)
    n = call.length
    x = _numpy(a, n, as_int)
    y = _numpy(b, n, as_int)
    valid = x[1] & y[1] & (y[0] != 0)
    with np.errstate(all="ignore"):
        safe_y = np.where(valid, y[0], 1)
        result = np.mod(x[0], safe_y)
        if not as_int:
            # Python's % for floats with infinities (numpy agrees except for these).
            result = np.where(
                np.isinf(safe_y) & np.isfinite(x[0]) & (x[0] != 0) & (np.sign(x[0]) != np.sign(safe_y)), safe_y, result
            )
    out = pa.array(result, mask=~valid)
    if isinstance(call.args[0], ConstVec) and isinstance(call.args[1], ConstVec):
        return ConstVec(out[0].as_py() if n else None, out.type, n)
    return ArrayVec(out)


def _numpy(vec: Vec, n: int, as_int: bool):
    """(values, valid) numpy arrays of a numeric Vec."""
    values, valid = to_numpy(vec, n, np.int64 if as_int else np.float64)
    return values, dense_validity(valid, n)


@kernel("pow")
def pow_(call: KernelCall) -> Vec:
    return elementwise(pc.power, _float(call.args[0]), _float(call.args[1]))


@kernel("neg")
def neg(call: KernelCall) -> Vec:
    return elementwise(pc.negate, numeric(call.args[0]))


# -- comparisons ---------------------------------------------------------------------------------


def _compare(fn):
    """An ordering comparison: null with a null operand, null for values of different kinds."""

    def run(call: KernelCall) -> Vec:
        a, b = call.args[0], call.args[1]
        if is_null_type(a) or is_null_type(b):
            return ConstVec(None, pa.bool_(), call.length)
        a, b = _comparable_operands(a, b)
        if a is None:  # different kinds: not ordered
            return ConstVec(None, pa.bool_(), call.length)
        return elementwise(fn, a, b)

    return run


def _comparable_operands(a: Vec, b: Vec):
    ta, tb = _arrow_type(a), _arrow_type(b)
    if ta == tb:
        return a, b
    num = lambda t: pa.types.is_integer(t) or pa.types.is_floating(t)  # noqa: E731
    if num(ta) and num(tb):
        return _float(a), _float(b)
    if pa.types.is_timestamp(ta) and pa.types.is_timestamp(tb):
        return _cast(a, pa.timestamp("us", tz="UTC")), _cast(b, pa.timestamp("us", tz="UTC"))
    if (pa.types.is_date(ta) or pa.types.is_timestamp(ta)) and (pa.types.is_date(tb) or pa.types.is_timestamp(tb)):
        return _cast(a, pa.timestamp("us", tz="UTC")), _cast(b, pa.timestamp("us", tz="UTC"))
    return None, None


def _arrow_type(vec: Vec) -> pa.DataType:
    return vec.arrow_type if isinstance(vec, ConstVec) else as_array(vec).type


def _cast(vec: Vec, t: pa.DataType) -> Vec:
    if isinstance(vec, ConstVec):
        return ConstVec(vec.value, t, vec.length)
    array = as_array(vec)
    if pa.types.is_date(array.type):
        array = array.cast(pa.timestamp("us")).cast(t)
    return ArrayVec(array.cast(t))


kernel("lt")(_compare(lambda a, b: pc.less(a, b)))
kernel("le")(_compare(lambda a, b: pc.less_equal(a, b)))
kernel("gt")(_compare(lambda a, b: pc.greater(a, b)))
kernel("ge")(_compare(lambda a, b: pc.greater_equal(a, b)))


@kernel("eq")
def eq(call: KernelCall) -> Vec:
    """``a == b``, null-safe (SPEC section 3): ``null == null`` is true, ``x == null`` false."""
    return null_safe_eq(call.args[0], call.args[1])


@kernel("ne")
def ne(call: KernelCall) -> Vec:
    """``a != b``, null-safe: ``x != null`` is true for every non-null ``x``; never null."""
    return elementwise(pc.invert, null_safe_eq(call.args[0], call.args[1]))


def null_safe_eq(a: Vec, b: Vec) -> Vec:
    """Element-wise ``a == b`` as a boolean Vec with no nulls: two nulls are equal, a null and a
    value are not, values of different kinds are not; NaN is not equal to itself (IEEE 754)."""
    n = a.length
    if is_null_type(a) and is_null_type(b):
        return ConstVec(True, pa.bool_(), n)
    if is_null_type(a) or is_null_type(b):
        other = b if is_null_type(a) else a
        if isinstance(other, ConstVec):
            return ConstVec(other.value is None, pa.bool_(), n)
        return ArrayVec(pa.array(~other.is_valid(), pa.bool_()))
    if _is_union(b) and not _is_union(a):
        a, b = b, a
    if _is_union(a):  # a mixed-type column: each variant against its rows of the other side
        return ArrayVec(pa.array(_union_eq(a, b), pa.bool_()))
    if not _scalar_kinds(a, b):  # dicts, lists: by value
        return ArrayVec(pa.array(_equal_codes(a, b), pa.bool_()))
    x, y = _comparable_operands(a, b)
    if x is None:  # two different kinds of scalars: equal only where both are null
        return _where_nulls(ConstVec(False, pa.bool_(), n), a, b)
    if isinstance(x, ConstVec) and isinstance(y, ConstVec):
        if x.value is None or y.value is None:
            return ConstVec(x.value is None and y.value is None, pa.bool_(), n)
        return elementwise(pc.equal, x, y)
    return _where_nulls(elementwise(pc.equal, x, y), a, b)


def _where_nulls(eq: Vec, a: Vec, b: Vec) -> Vec:
    """``eq`` with its nulls replaced: true where both operands are null, else false."""
    if isinstance(eq, ConstVec) and eq.value is not None and a.is_valid().all() and b.is_valid().all():
        return eq
    va, vb = a.is_valid(), b.is_valid()
    out = np.where(va & vb, bool_mask(eq), ~va & ~vb)
    return ArrayVec(pa.array(out, pa.bool_()))


def _scalar_kinds(a: Vec, b: Vec) -> bool:
    if not all(isinstance(v, (ArrayVec, ConstVec)) for v in (a, b)):
        return False
    return not any(pa.types.is_nested(t) or pa.types.is_union(t) for t in (_arrow_type(a), _arrow_type(b)))


def _is_union(vec: Vec) -> bool:
    return isinstance(vec, ArrayVec) and pa.types.is_union(vec.array.type)


def _union_eq(a: Vec, b: Vec) -> np.ndarray:
    out = np.zeros(a.length, dtype=bool)
    for _, rows, child, inner in union_variants(combine(as_array(a))):
        part = ArrayVec(child.take(pa.array(inner)))
        out[rows] = bool_mask(null_safe_eq(part, b.take(rows)))
    return out


def _nested(vec: Vec) -> Vec:
    """Struct and list arrays as StructVec / ListVec (so that dict literals meet dict columns)."""
    if isinstance(vec, (ArrayVec, ConstVec)) and not is_null_type(vec):
        t = _arrow_type(vec)
        if pa.types.is_struct(t) or pa.types.is_list(t) or pa.types.is_large_list(t):
            return vec_from_arrow(as_array(vec))
    return vec


def _equal_codes(a: Vec, b: Vec) -> np.ndarray:
    """Equality by key codes (dicts by fields, unions by variant and value, null == null)."""
    n = a.length
    try:
        codes = key_codes(concat_vecs([_nested(a), _nested(b)]))
    except (TypeError, pa.ArrowInvalid, pa.ArrowNotImplementedError):  # kinds that cannot meet
        return ~a.is_valid() & ~b.is_valid()
    return codes[:n] == codes[n:]


def equal_or_both_null(a: Vec, b: Vec) -> np.ndarray:
    """Element-wise ``a == b`` as numpy, where two nulls are equal (list membership)."""
    return bool_mask(null_safe_eq(a, b))


# -- number functions ----------------------------------------------------------------------------


@kernel("abs")
def abs_(call: KernelCall) -> Vec:
    return elementwise(pc.abs, numeric(call.args[0]))


def _rounding(fn):
    def run(call: KernelCall) -> Vec:
        a = numeric(call.args[0])
        if str(call.out_type) == "int":
            return a
        return elementwise(fn, a)

    return run


kernel("floor")(_rounding(lambda a: pc.floor(a)))
kernel("ceil")(_rounding(lambda a: pc.ceil(a)))


@kernel("round")
def round_(call: KernelCall) -> Vec:
    a = numeric(call.args[0])
    digits = call.const(1, 0) if len(call.args) > 1 and call.args[1] is not None else 0
    if digits is None:
        return ConstVec(None, _arrow_type(a), call.length)
    if str(call.out_type) == "int" and digits >= 0:
        return a
    return elementwise(lambda x: pc.round(x, ndigits=int(digits), round_mode="half_towards_infinity"), a)


kernel("sqrt")(lambda call: elementwise(pc.sqrt, _float(call.args[0])))
kernel("exp")(lambda call: elementwise(pc.exp, _float(call.args[0])))


@kernel("log")
def log(call: KernelCall) -> Vec:
    return elementwise(pc.ln, _float(call.args[0]))


@kernel("toTimestamp")
def to_timestamp(call: KernelCall) -> Vec:
    ms = _float(call.args[0])
    n = call.length
    values, valid = _numpy(ms, n, False)
    with np.errstate(all="ignore"):
        us = np.floor(values) * 1000.0  # whole milliseconds, as Weave's timestamps (floored)
    ok = valid & np.isfinite(us) & (np.abs(us) < 2**62)
    out = pa.array(np.where(ok, us, 0).astype(np.int64), mask=~ok).cast(pa.timestamp("us", tz="UTC"))
    if isinstance(ms, ConstVec):
        return ConstVec(out[0].as_py() if n else None, out.type, n)
    return ArrayVec(out)
