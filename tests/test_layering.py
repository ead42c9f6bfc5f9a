"""The code imports downward: no package of invert3d imports one that imports it back (directly or not), and
no module imports a module of its own package that imports it back."""

import ast
from pathlib import Path

import invert3d

ROOT = Path(invert3d.__file__).parent


def _package(module: str) -> str:
    """'invert3d.pipeline.jobs' -> 'invert3d.pipeline'; top-level modules are their own package."""
    return ".".join(module.split(".")[:2])


def _import_graph(packages: bool = True) -> dict[str, set[str]]:
    """Package -> the packages it imports; or (``packages=False``) module -> the modules of its own package it
    imports."""
    graph: dict[str, set[str]] = {}
    for path in ROOT.rglob("*.py"):
        module = ".".join(path.relative_to(ROOT.parent).with_suffix("").parts).removesuffix(".__init__")
        for node in ast.walk(ast.parse(path.read_text())):  # function-local imports count too
            if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                targets = [node.module]
            elif isinstance(node, ast.Import):
                targets = [alias.name for alias in node.names]
            else:
                continue
            for target in targets:
                if not target.startswith("invert3d."):
                    continue
                if packages and _package(target) != _package(module):
                    graph.setdefault(_package(module), set()).add(_package(target))
                elif not packages and _package(target) == _package(module) and target != module:
                    graph.setdefault(module, set()).add(target)  # the package itself: its __init__
    return graph


def _cycle(graph: dict[str, set[str]]) -> list[str] | None:
    """One import cycle of packages, or None."""
    state: dict[str, int] = {}  # 1: on the current path, 2: done
    path: list[str] = []

    def visit(node: str) -> list[str] | None:
        state[node] = 1
        path.append(node)
        for nxt in sorted(graph.get(node, ())):
            if state.get(nxt) == 1:
                return path[path.index(nxt):] + [nxt]
            if nxt not in state and (found := visit(nxt)):
                return found
        path.pop()
        state[node] = 2
        return None

    for start in sorted(graph):
        if start not in state and (found := visit(start)):
            return found
    return None


def test_no_package_imports_itself_back():
    graph = _import_graph()
    assert "invert3d.pipeline" in graph and "invert3d.scene" in graph["invert3d.pipeline"]  # the graph is real
    assert _cycle(graph) is None, " -> ".join(_cycle(graph))


def test_no_module_imports_its_own_package_back():
    graph = _import_graph(packages=False)
    assert "invert3d.synthetic.head" in graph["invert3d.synthetic.render"]  # the graph is real
    assert _cycle(graph) is None, " -> ".join(_cycle(graph))


def test_cycle_finder_finds_a_cycle():
    assert _cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a", "b", "c", "a"]
    assert _cycle({"a": {"b"}, "b": {"c"}}) is None
