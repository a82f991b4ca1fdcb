"""The opcodes of the fused-arithmetic kernel (:mod:`weave_lite.kernels.fused`).

Plain constants, apart from the Numba kernel so that the planner (which builds fused programs)
loads without Numba: the kernel module is imported only when a fused program first runs.
"""

from __future__ import annotations

LOAD, CONST, NULL, ADD, SUB, MUL, DIV, NEG = range(8)
# The same with a constant right operand (``x * 2``), or left operand (``2 - x``), folded in.
ADD_C, SUB_C, MUL_C, DIV_C, C_SUB, C_DIV = range(8, 14)
OPCODES = {"add": ADD, "sub": SUB, "mul": MUL, "div": DIV, "neg": NEG}
WITH_CONSTANT = {"add": ADD_C, "sub": SUB_C, "mul": MUL_C, "div": DIV_C}
CONSTANT_FIRST = {"add": ADD_C, "mul": MUL_C, "sub": C_SUB, "div": C_DIV}
# Opcodes whose operand is an index into the constants.
TAKES_CONSTANT = {CONST, NULL, *WITH_CONSTANT.values(), *CONSTANT_FIRST.values()}

# The scan kernel (:mod:`weave_lite.kernels.scan`) adds integer slots, comparisons and logic.
# LOADI / CONSTI push an int column / int constant (exact int64 slot); TOF turns the int slot on
# top into a float (the engine's int-to-float promotion); CMP / ICMP compare the two top slots
# (float / exact int64; operand: a comparison code), CMP_C the top slot with a float constant
# (operand: constant index * 8 + comparison code); AND / OR are Kleene logic, NOT keeps nulls,
# ISNONE is never null.
LOADI, CONSTI, TOF, CMP, ICMP, CMP_C, AND, OR, NOT, ISNONE = range(14, 24)
LT, LE, GT, GE, EQ, NE = range(6)
COMPARISONS = {"lt": LT, "le": LE, "gt": GT, "ge": GE, "eq": EQ, "ne": NE}
# What a scan reduces the rows it keeps to.
R_COUNT, R_SUM, R_MIN, R_MAX, R_AVG = range(5)
