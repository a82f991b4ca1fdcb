"""Architecture checks over the source of ``weave_lite``.

The import graph is built by parsing every module with :mod:`ast`: each
``import`` and ``from ... import`` anywhere in a file counts (module level,
inside functions, under ``if TYPE_CHECKING:``).  Relative imports are
resolved; ``from pkg import name`` is an import of ``pkg.name`` when that is a
module and of ``pkg`` (its ``__init__``) otherwise.  The implicit import of the
parent packages' ``__init__`` that Python performs is not counted: it is not a
dependency the code chose.

Checks: no cycle between modules, no cycle between the children of any
package, the layer rules, and a size limit per module.
"""

from __future__ import annotations

import ast
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = "weave_lite"

MAX_LINES = 600

# Modules allowed over MAX_LINES, with the reason.
SIZE_ALLOWLIST: dict[str, str] = {
    "weave_lite/execute/ops/strings.py": "TODO: being split",
    "weave_lite/storage/values.py": "TODO: being split",
    "weave_lite/profiles/sketches/kll.py": "TODO: being split",
    "weave_lite/cli.py": "TODO: being split",
    "weave_lite/storage/objectstore.py": "TODO: being split",
}

# package -> the packages/modules (relative to weave_lite) it must not import.
LAYER_RULES: dict[str, tuple[str, ...]] = {
    "graph": ("compile", "execute", "storage", "api", "live", "server", "profiles"),
    "compile": ("execute", "storage", "api", "live", "server"),
    "storage": ("graph", "compile", "execute", "api", "lang"),
    "lang": ("compile", "execute", "storage", "api"),
}


@dataclass(frozen=True)
class Edge:
    source: str  # importing module, dotted
    target: str  # imported module, dotted
    path: str  # file of the importing module, relative to ROOT
    line: int
    text: str  # the import statement as written

    def describe(self) -> str:
        return f"{self.path}:{self.line}: {self.text}  [-> {self.target}]"


def _module_files(root: Path = ROOT) -> dict[str, Path]:
    """Dotted module name -> file, for every module of the package."""
    modules: dict[str, Path] = {}
    for path in sorted((root / PACKAGE).rglob("*.py")):
        rel = path.relative_to(root).with_suffix("")
        parts = list(rel.parts)
        if parts[-1] == "__init__":
            parts = parts[:-1]
        modules[".".join(parts)] = path
    return modules


def _is_package(modules: dict[str, Path], name: str) -> bool:
    return modules.get(name) is not None and modules[name].name == "__init__.py"


def _resolve(modules: dict[str, Path], name: str) -> str | None:
    """The module ``name`` refers to, walking up to an existing module."""
    while name:
        if name in modules:
            return name
        if "." not in name:
            return None
        name = name.rsplit(".", 1)[0]
    return None


def _imports_of(
    modules: dict[str, Path], module: str, path: Path, root: Path
) -> list[Edge]:
    source = path.read_text(encoding="utf-8")
    tree = ast.parse(source, filename=str(path))
    lines = source.splitlines()
    rel_path = str(path.relative_to(root))
    is_pkg = path.name == "__init__.py"
    # The package a relative import of level 1 is relative to.
    own_package = module if is_pkg else module.rsplit(".", 1)[0]
    edges: list[Edge] = []

    seen: set[tuple[str, int]] = set()

    def add(target: str | None, node: ast.stmt) -> None:
        if target is None or target == module or (target, node.lineno) in seen:
            return
        seen.add((target, node.lineno))
        text = lines[node.lineno - 1].strip()
        edges.append(Edge(module, target, rel_path, node.lineno, text))

    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name == PACKAGE or alias.name.startswith(PACKAGE + "."):
                    add(_resolve(modules, alias.name), node)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base_parts = own_package.split(".")
                if node.level > 1:
                    base_parts = base_parts[: len(base_parts) - (node.level - 1)]
                base = ".".join(base_parts)
                if node.module:
                    base = f"{base}.{node.module}"
            else:
                base = node.module or ""
            if not (base == PACKAGE or base.startswith(PACKAGE + ".")):
                continue
            for alias in node.names:
                candidate = f"{base}.{alias.name}"
                if alias.name != "*" and candidate in modules:
                    add(candidate, node)
                else:
                    add(_resolve(modules, base), node)
    return edges


def _import_graph(root: Path = ROOT) -> tuple[dict[str, Path], list[Edge]]:
    modules = _module_files(root)
    edges: list[Edge] = []
    for module, path in modules.items():
        edges.extend(_imports_of(modules, module, path, root))
    return modules, edges


def _strongly_connected(nodes: list[str], succ: dict[str, set[str]]) -> list[list[str]]:
    """Tarjan's algorithm (iterative); components of more than one node, or with a self loop."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    on_stack: set[str] = set()
    stack: list[str] = []
    result: list[list[str]] = []
    counter = 0
    for root in nodes:
        if root in index:
            continue
        work = [(root, iter(sorted(succ.get(root, ()))))]
        index[root] = low[root] = counter
        counter += 1
        stack.append(root)
        on_stack.add(root)
        while work:
            node, children = work[-1]
            advanced = False
            for child in children:
                if child not in index:
                    index[child] = low[child] = counter
                    counter += 1
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(sorted(succ.get(child, ())))))
                    advanced = True
                    break
                if child in on_stack:
                    low[node] = min(low[node], index[child])
            if advanced:
                continue
            work.pop()
            if work:
                parent = work[-1][0]
                low[parent] = min(low[parent], low[node])
            if low[node] == index[node]:
                component = []
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    component.append(member)
                    if member == node:
                        break
                if len(component) > 1 or node in succ.get(node, ()):
                    result.append(sorted(component))
    return sorted(result)


def _format_components(components: list[list[str]], edges_between) -> str:
    out = []
    for component in components:
        out.append(f"cycle among {len(component)}: {', '.join(component)}")
        for edge in edges_between(set(component)):
            out.append(f"    {edge}")
    return "\n".join(out)


def _module_cycles(modules: dict[str, Path], edges: list[Edge]) -> list[str]:
    """One report per strongly connected component of the module graph."""
    succ: dict[str, set[str]] = defaultdict(set)
    for edge in edges:
        succ[edge.source].add(edge.target)
    components = _strongly_connected(sorted(modules), succ)

    def between(members):
        return [
            e.describe() for e in edges if e.source in members and e.target in members
        ]

    return [_format_components([c], between) for c in components]


def _child_of(package: str, module: str) -> str | None:
    """The node of ``module`` in ``package``'s collapsed graph: the direct child (module or
    subpackage) it is or is inside of; the package's own ``__init__`` is a node of its own."""
    if module == package:
        return package + ".__init__"
    if not module.startswith(package + "."):
        return None
    return package + "." + module[len(package) + 1 :].split(".", 1)[0]


def _package_cycles(modules: dict[str, Path], edges: list[Edge]) -> list[str]:
    """For each package, the cycles of the graph of its children (subpackages collapsed)."""
    problems = []
    for package in sorted(m for m in modules if _is_package(modules, m)):
        succ: dict[str, set[str]] = defaultdict(set)
        inside: dict[tuple[str, str], list[str]] = defaultdict(list)
        for edge in edges:
            a = _child_of(package, edge.source)
            b = _child_of(package, edge.target)
            if a is None or b is None or a == b:
                continue
            succ[a].add(b)
            inside[(a, b)].append(edge.describe())
        nodes = sorted(set(succ) | {n for s in succ.values() for n in s})
        components = _strongly_connected(nodes, succ)
        if components:

            def between(members, inside=inside):
                out = []
                for (a, b), found in sorted(inside.items()):
                    if a in members and b in members:
                        out.append(f"{a} -> {b} ({len(found)} import(s)), e.g.:")
                        out.extend(f"    {line}" for line in found[:3])
                return out

            problems.append(
                f"in package {package} (children collapsed):\n"
                + _format_components(components, between)
            )
    return problems


def _layer_violations(
    edges: list[Edge], rules: dict[str, tuple[str, ...]] = LAYER_RULES
) -> list[str]:
    problems = []
    for layer, forbidden in rules.items():
        src = f"{PACKAGE}.{layer}"
        for edge in edges:
            if not (edge.source == src or edge.source.startswith(src + ".")):
                continue
            for name in forbidden:
                dst = f"{PACKAGE}.{name}"
                if edge.target == dst or edge.target.startswith(dst + "."):
                    problems.append(
                        f"{layer} must not import {name}: {edge.describe()}"
                    )
    return problems


def test_no_module_cycles():
    modules, edges = _import_graph()
    cycles = _module_cycles(modules, edges)
    assert not cycles, (
        f"{len(cycles)} import cycle(s) between modules, deferred and TYPE_CHECKING imports "
        "included (each strongly connected component with the imports inside it):\n"
        + "\n".join(cycles)
    )


def test_no_package_cycles():
    modules, edges = _import_graph()
    problems = _package_cycles(modules, edges)
    assert not problems, "import cycle(s) between packages:\n" + "\n".join(problems)


def test_layer_rules():
    _, edges = _import_graph()
    problems = _layer_violations(edges)
    assert not problems, "layer rule violation(s):\n" + "\n".join(problems)


def test_module_sizes():
    modules = _module_files()
    too_big = []
    for path in modules.values():
        rel = str(path.relative_to(ROOT))
        count = len(path.read_text(encoding="utf-8").splitlines())
        if count > MAX_LINES and rel not in SIZE_ALLOWLIST:
            too_big.append(f"{rel}: {count} lines")
    assert not too_big, (
        f"module(s) over {MAX_LINES} lines (split them, or add them to SIZE_ALLOWLIST "
        "with the reason they are cohesive):\n" + "\n".join(too_big)
    )


def test_size_allowlist_is_current():
    """An allowlisted module that no longer exists or is now small must leave the list."""
    stale = []
    for rel in SIZE_ALLOWLIST:
        path = ROOT / rel
        if not path.exists():
            stale.append(f"{rel}: no such file")
        elif len(path.read_text(encoding="utf-8").splitlines()) <= MAX_LINES:
            stale.append(f"{rel}: now within {MAX_LINES} lines")
    assert not stale, "stale SIZE_ALLOWLIST entries:\n" + "\n".join(stale)


# --- the checker checks itself, on a small fake graph, so it can fail ---


def test_strongly_connected_finds_cycles():
    succ = {"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}, "e": {"e"}}
    assert _strongly_connected(["a", "b", "c", "d", "e"], succ) == [
        ["a", "b", "c"],
        ["e"],
    ]
    assert _strongly_connected(["a", "b"], {"a": {"b"}}) == []


def test_import_resolution(tmp_path):
    pkg = tmp_path / PACKAGE
    (pkg / "sub").mkdir(parents=True)
    (pkg / "__init__.py").write_text("X = 1\n")
    (pkg / "sub" / "__init__.py").write_text("")
    (pkg / "sub" / "a.py").write_text(
        "from typing import TYPE_CHECKING\n"
        "from . import b\n"
        "from .. import X\n"
        "if TYPE_CHECKING:\n"
        "    from weave_lite.top import thing\n"
        "def f():\n"
        "    import weave_lite.sub.b as bb\n"
        "    from ..sub.b import name\n"
    )
    (pkg / "sub" / "b.py").write_text("")
    (pkg / "top.py").write_text("")
    _, edges = _import_graph(tmp_path)
    found = sorted({(e.source, e.target) for e in edges})
    assert found == [
        ("weave_lite.sub.a", "weave_lite"),
        ("weave_lite.sub.a", "weave_lite.sub.b"),
        ("weave_lite.sub.a", "weave_lite.top"),
    ]


def _fake_package(tmp_path: Path, files: dict[str, str]) -> Path:
    for rel, text in files.items():
        path = tmp_path / PACKAGE / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    return tmp_path


def test_checks_fail_on_cycles_and_layer_breaks(tmp_path):
    root = _fake_package(
        tmp_path,
        {
            "__init__.py": "",
            "graph/__init__.py": "",
            "graph/a.py": "def f():\n    from weave_lite.compile import b\n",
            "compile/__init__.py": "",
            "compile/b.py": "from weave_lite.graph import a\n",
            "storage/__init__.py": "",
            "storage/c.py": "from weave_lite.storage.d import x\n",
            "storage/d.py": "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from .c import y\n",
        },
    )
    modules, edges = _import_graph(root)
    cycles = _module_cycles(modules, edges)
    assert len(cycles) == 2
    assert "weave_lite.compile.b, weave_lite.graph.a" in cycles[0]
    assert "weave_lite/graph/a.py:2: from weave_lite.compile import b" in cycles[0]
    assert "weave_lite.storage.c, weave_lite.storage.d" in cycles[1]
    packages = _package_cycles(modules, edges)
    assert [p.splitlines()[0] for p in packages] == [
        "in package weave_lite (children collapsed):",
        "in package weave_lite.storage (children collapsed):",
    ]
    assert _layer_violations(edges) == [
        (
            "graph must not import compile: weave_lite/graph/a.py:2: from weave_lite.compile import b"
            "  [-> weave_lite.compile.b]"
        )
    ]


def test_package_cycle_without_module_cycle(tmp_path):
    """x.a -> y.b and y.c -> x.d: no module cycle, but packages x and y import each other."""
    root = _fake_package(
        tmp_path,
        {
            "__init__.py": "",
            "x/__init__.py": "",
            "x/a.py": "import weave_lite.y.b\n",
            "x/d.py": "",
            "y/__init__.py": "",
            "y/b.py": "",
            "y/c.py": "from ..x import d\n",
        },
    )
    modules, edges = _import_graph(root)
    assert _module_cycles(modules, edges) == []
    packages = _package_cycles(modules, edges)
    assert (
        len(packages) == 1
        and "cycle among 2: weave_lite.x, weave_lite.y" in packages[0]
    )
