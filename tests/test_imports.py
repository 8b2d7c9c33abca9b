"""No import cycle among the modules of src/aann.

The graph is read from the source with `ast` (nothing is imported), one node per module
(a package is its ``__init__.py``), one edge per import of another aann module:

- every import statement counts, wherever it is: at the top of the file, inside a
  function or a method, under ``try``. A lazy import only postpones the cycle; the two
  modules still need each other.
- relative imports are resolved against the importing module's package.
- ``from P import x`` is an edge to the module ``P.x`` when ``P/x.py`` (or ``P/x/``)
  exists, else to ``P`` itself (``x`` is then a name defined or re-exported by ``P``).
  So a package ``__init__`` re-exporting its submodules (``from . import store``,
  ``from .plan import Sweep``) is an edge from the package to those submodules, not a
  cycle.
- importing ``P.M`` runs ``P/__init__.py`` first, but that implicit edge to the parent
  package is not drawn: every package here imports its own submodules in ``__init__``,
  so drawing it would make each package a cycle with each of its modules. Only what a
  file names is an edge; a submodule that names its own package (``from . import name``
  in ``P/m.py`` for a name ``P/__init__.py`` defines) is an edge to ``P``, and a cycle
  if ``P`` imports ``P.m``.
- imports under ``if TYPE_CHECKING:`` are left out: they never run and exist for
  annotations only (``from __future__ import annotations``); the ``else:`` branch of such
  an ``if`` runs and counts.
- ``importlib.import_module("aann.x")`` and ``__import__("aann.x")`` with a literal name
  count; with a computed name they cannot be followed (the engine registry in
  ``aann.engines`` loads its engines by name that way).
- a module importing itself is not a cycle.
"""

import ast
import textwrap
from collections import deque
from pathlib import Path

SRC = Path(__file__).resolve().parents[1] / "src" / "aann"  # the source, not an install


def module_files(package_dir: Path) -> dict[str, Path]:
    """Every module under ``package_dir`` by its dotted name (the package by its own)."""
    root = package_dir.parent
    files = {}
    for path in sorted(package_dir.rglob("*.py")):
        parts = path.relative_to(root).with_suffix("").parts
        if parts[-1] == "__init__":
            parts = parts[:-1]
        files[".".join(parts)] = path
    return files


def _is_type_checking(test: ast.expr) -> bool:
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING"
            or isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING")


class _Imports(ast.NodeVisitor):
    """``(module name as written/resolved, line)`` of every import in one file."""

    def __init__(self, package: str):
        self.package = package  # the package a relative import starts from
        self.found: list[tuple[str, list[str], int]] = []  # (base, names, line)

    def visit_If(self, node):
        if _is_type_checking(node.test):
            for child in node.orelse:  # the body never runs
                self.visit(child)
        else:
            self.generic_visit(node)

    def visit_Import(self, node):
        for alias in node.names:
            self.found.append((alias.name, [], node.lineno))

    def visit_ImportFrom(self, node):
        base = node.module or ""
        if node.level:
            parts = self.package.split(".")
            if node.level - 1 > len(parts) - 1:
                raise ValueError(f"relative import beyond the top package at line "
                                 f"{node.lineno}")
            parent = parts[: len(parts) - node.level + 1]
            base = ".".join(parent + ([node.module] if node.module else []))
        self.found.append((base, [a.name for a in node.names if a.name != "*"], node.lineno))

    def visit_Call(self, node):
        f = node.func
        name = f.attr if isinstance(f, ast.Attribute) else getattr(f, "id", None)
        if (name in ("import_module", "__import__") and node.args
                and isinstance(node.args[0], ast.Constant)
                and isinstance(node.args[0].value, str)
                and not node.args[0].value.startswith(".")):
            self.found.append((node.args[0].value, [], node.lineno))
        self.generic_visit(node)


def import_graph(package_dir: Path) -> dict[str, dict[str, list[int]]]:
    """``{module: {imported module: [lines]}}`` over the modules under ``package_dir``."""
    files = module_files(package_dir)
    graph: dict[str, dict[str, list[int]]] = {}
    for name, path in files.items():
        package = name if path.name == "__init__.py" else name.rpartition(".")[0]
        visitor = _Imports(package)
        visitor.visit(ast.parse(path.read_text(encoding="utf-8"), str(path)))
        edges: dict[str, list[int]] = {}
        for base, names, line in visitor.found:
            targets = [f"{base}.{n}" if f"{base}.{n}" in files else base for n in names]
            for target in targets or [base]:
                if target in files and target != name:
                    lines = edges.setdefault(target, [])
                    if line not in lines:
                        lines.append(line)
        graph[name] = edges
    return graph


def components(graph: dict[str, dict]) -> list[list[str]]:
    """The strongly connected components of more than one module, each sorted, sorted."""
    index, low, stack, on_stack, found = {}, {}, [], set(), []

    def strongconnect(v):  # Tarjan; about 60 modules, recursion is fine
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in graph[v]:
            if w not in index:
                strongconnect(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                component.append(w)
                if w == v:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for v in sorted(graph):
        if v not in index:
            strongconnect(v)
    return sorted(found)


def shortest_cycle(graph: dict[str, dict], component: list[str]) -> list[str]:
    """``[a, ..., a]``: a shortest cycle through the component's first module."""
    start = component[0]
    came_from, queue = {start: None}, deque([start])
    while queue:  # breadth first inside the component, back to start
        v = queue.popleft()
        if start in graph[v]:
            path = []
            while v is not None:
                path.append(v)
                v = came_from[v]
            return path[::-1] + [start]
        for w in sorted(graph[v]):
            if w in component and w not in came_from:
                came_from[w] = v
                queue.append(w)
    raise AssertionError(f"no cycle through {start} in {component}")


def cycles(graph: dict[str, dict]) -> list[list[str]]:
    """One shortest cycle per component (a component may hold more cycles)."""
    return [shortest_cycle(graph, c) for c in components(graph)]


def describe(graph, files, root: Path) -> str:
    """Each component: its modules, a shortest cycle, and where each of its imports is."""
    text = []
    for component in components(graph):
        cycle = shortest_cycle(graph, component)
        text.append(f"cycle: {' -> '.join(cycle)}")
        if len(component) > len(cycle) - 1:
            text.append(f"  (one of the cycles among {', '.join(component)})")
        for a, b in zip(cycle, cycle[1:]):
            lines = ", ".join(str(n) for n in graph[a][b])
            text.append(f"  {files[a].relative_to(root)} line {lines} imports {b}")
    return "\n".join(text)


def test_no_import_cycle_in_aann():
    graph = import_graph(SRC)
    files = module_files(SRC)
    # the walker sees the package: its modules, relative and function-level imports
    assert len(graph) >= 50 and "aann.engines.native" in graph
    assert "aann.engines.base" in graph["aann.engines.native"]
    assert "aann.engines.native" in graph["aann"]  # `from .engines.native import Native`
    found = components(graph)
    report = describe(graph, files, SRC.parents[1])
    assert not found, f"{len(found)} import cycle(s) in src/aann:\n{report}"


# --- the walker itself, on a small package written here --------------------------

def _package(tmp_path, files: dict[str, str]) -> Path:
    for name, text in files.items():
        path = tmp_path / "pkg" / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(text))
    return tmp_path / "pkg"


def test_the_walker_finds_lazy_cycles_and_ignores_type_checking_and_reexports(tmp_path):
    pkg = _package(tmp_path, {
        "__init__.py": """
            from . import a, sub  # re-exports of submodules: edges pkg -> pkg.a, pkg.sub
            from .sub.c import C
            """,
        "a.py": """
            from typing import TYPE_CHECKING
            import pkg.b
            if TYPE_CHECKING:
                from .d import D  # annotations only: not an edge
            else:
                from . import e  # runs: an edge
            """,
        "b.py": """
            def later():
                from .a import x  # lazy, and still a cycle a -> b -> a
            """,
        "d.py": "from .a import y\n",
        "e.py": "import importlib\nimportlib.import_module('pkg.f')\n",
        "f.py": "from .sub import helper  # a name of pkg/sub/__init__.py: edge to pkg.sub\n",
        "sub/__init__.py": "from .c import C\nhelper = 1\n",
        "sub/c.py": "from .. import a\nfrom ..sub import c  # itself: not a cycle\n",
    })
    graph = import_graph(pkg)
    assert {k: sorted(v) for k, v in graph.items()} == {
        "pkg": ["pkg.a", "pkg.sub", "pkg.sub.c"],
        "pkg.a": ["pkg.b", "pkg.e"],
        "pkg.b": ["pkg.a"],
        "pkg.d": ["pkg.a"],
        "pkg.e": ["pkg.f"],
        "pkg.f": ["pkg.sub"],
        "pkg.sub": ["pkg.sub.c"],
        "pkg.sub.c": ["pkg.a"],
    }
    # a -> b -> a (lazy); a -> e -> f -> sub -> sub.c -> a shares a: one component
    assert cycles(graph) == [["pkg.a", "pkg.b", "pkg.a"]]
    graph["pkg.b"] = {}
    assert cycles(graph) == [["pkg.a", "pkg.e", "pkg.f", "pkg.sub", "pkg.sub.c", "pkg.a"]]
    graph["pkg.sub.c"] = {}
    assert cycles(graph) == []
