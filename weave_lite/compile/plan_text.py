"""A deterministic, readable text of a typed plan (one node a line, indented by nesting).

Used by the rewrite fixtures (``tests/compile/fixtures``) and meant for ``explain()``::

    count -> int  key=count:where
      rows -> list<dict{lat: float}>  key=rows
        table -> table<dict{lat: float}>  key=table
          const 't' : string
      lambda (r: dict{lat: float}) -> boolean
        gt -> boolean  key=gt
          getitem -> float  key=getitem:pick
            var r : dict{lat: float}
            const 'lat' : string
          const 60000 : int

A call line gives the op, its type and overload key, then ``map=N over=I,J`` when it is
auto-mapped (N list levels, over the argument positions I, J) and its hints (``k=v``; the
fused-arithmetic program is spelled out).  A call that appears more than once in the plan (one
object shared, from common-subexpression elimination) is printed once with `` #n`` at the end
of its line; later places show ``@n op`` instead of printing it again.  Literals and variables
are printed in full wherever they appear (sharing them costs nothing).  An argument left out
(``None``, e.g. a sort with no directions) prints as ``absent``.
"""

from __future__ import annotations

from weave_lite.compile.planner import PCall, PConst, PLambda, PNode, PVar
from weave_lite.kernels import opcodes as _fused

# Opcode -> name, from the kernel's own constants (``ADD_C`` -> ``add_c``).
_OPCODE_NAMES = {
    getattr(_fused, n): n.lower()
    for n in (
        "LOAD",
        "CONST",
        "NULL",
        "ADD",
        "SUB",
        "MUL",
        "DIV",
        "NEG",
        "ADD_C",
        "SUB_C",
        "MUL_C",
        "DIV_C",
        "C_SUB",
        "C_DIV",
    )
}


def plan_text(plan: PNode) -> str:
    """The text of ``plan`` (see the module docstring); equal plans give equal texts."""
    shared = _shared_calls(plan)
    labels: dict[int, int] = {}
    lines: list[str] = []
    stack: list[tuple[PNode | None, int]] = [(plan, 0)]
    while stack:  # iterative: plans may nest deeply
        node, depth = stack.pop()
        pad = "  " * depth
        if node is None:
            lines.append(f"{pad}absent")
        elif isinstance(node, PConst):
            lines.append(f"{pad}const {node.value!r} : {node.type}")
        elif isinstance(node, PVar):
            lines.append(f"{pad}var {node.name} : {node.type}")
        elif isinstance(node, PLambda):
            params = ", ".join(f"{p}: {t}" for p, t in zip(node.params, node.param_types))
            lines.append(f"{pad}lambda ({params}) -> {node.type}")
            stack.append((node.body, depth + 1))
        elif isinstance(node, PCall):
            if id(node) in labels:
                lines.append(f"{pad}@{labels[id(node)]} {node.op}")
                continue
            line = f"{pad}{node.op} -> {node.type}  key={node.key}"
            if node.map_depth:
                line += f" map={node.map_depth} over={','.join(str(i) for i in node.mapped)}"
            line += "".join(f" {_hint(k, v)}" for k, v in node.hints)
            if id(node) in shared:
                labels[id(node)] = len(labels) + 1
                line += f"  #{labels[id(node)]}"
            lines.append(line)
            stack.extend((a, depth + 1) for a in reversed(node.args))
        else:
            lines.append(f"{pad}{type(node).__name__}?")
    return "\n".join(lines)


def _shared_calls(plan: PNode) -> set[int]:
    """The ids of the calls reached more than once."""
    seen: set[int] = set()
    shared: set[int] = set()
    stack: list[PNode | None] = [plan]
    while stack:
        node = stack.pop()
        if isinstance(node, PLambda):
            stack.append(node.body)
        elif isinstance(node, PCall):
            if id(node) in seen:
                shared.add(id(node))
                continue
            seen.add(id(node))
            stack.extend(node.args)
    return shared


def _hint(key: str, value: object) -> str:
    if key == "program" and isinstance(value, tuple) and len(value) == 3:
        codes, constants, depth = value
        steps = []
        for code, operand in codes:
            name = _OPCODE_NAMES.get(code, str(code))
            if name == "load":
                steps.append(f"load{operand}")
            elif name in ("add", "sub", "mul", "div", "neg", "null"):
                steps.append(name)
            else:  # takes a constant
                steps.append(f"{name}({constants[operand]!r})")
        return f"program=[{' '.join(steps)}] depth={depth}"
    return f"{key}={value!r}"
