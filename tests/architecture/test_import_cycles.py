"""No import cycle among the project's modules (issue 13, item 9).

Why: a cycle (``vigie.transform`` ↔ ``vigie.retention`` before, ``vigie.config`` ↔
``vigie.commitment_presets``) only works while one side imports the other inside a function, so
the order modules load in decides whether it works, and neither module can be understood or
tested alone. Every import counts, the ones inside functions too; only ``if TYPE_CHECKING:``
blocks are left out (they never run).

The graph is read from the source with ``ast`` (no import is executed): an edge ``a -> b`` for
every ``import b`` / ``from b import x`` in ``a``, ``from pkg import mod`` pointing at ``pkg.mod``
when that is a module of the project.
"""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
# The packages the nightly pipeline is made of (deploy/ holds the production smoke harness,
# whose scenario module extends the smoke script; it is not part of the pipeline).
PACKAGES = ("vigie", "connectors", "expectations", "dags")


def project_modules(root: Path = ROOT) -> dict[str, Path]:
    modules = {}
    for package in PACKAGES:
        for path in sorted((root / package).rglob("*.py")):
            parts = list(path.relative_to(root).with_suffix("").parts)
            if parts[-1] == "__init__":
                parts.pop()
            modules[".".join(parts)] = path
    return modules


def _is_type_checking(node: ast.If) -> bool:
    test = node.test
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def _imported_names(tree: ast.AST, module: str, is_package: bool) -> list[str]:
    """Dotted names imported anywhere in ``tree``, TYPE_CHECKING blocks excepted."""
    names: list[str] = []
    todo: list[ast.AST] = [tree]
    while todo:
        node = todo.pop()
        if isinstance(node, ast.If) and _is_type_checking(node):
            todo.extend(node.orelse)
            continue
        if isinstance(node, ast.Import):
            names.extend(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = module.split(".")[: len(module.split(".")) - node.level + (1 if is_package else 0)]
                base = ".".join([*anchor, base] if base else anchor)
            names.extend(f"{base}.{alias.name}" for alias in node.names)
        todo.extend(ast.iter_child_nodes(node))
    return names


def import_graph(modules: dict[str, Path]) -> dict[str, set[str]]:
    def resolve(name: str) -> str | None:
        while name and name not in modules:
            name = name.rpartition(".")[0]
        return name or None

    graph = {}
    for module, path in modules.items():
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
        targets = {resolve(n) for n in _imported_names(tree, module, path.name == "__init__.py")}
        graph[module] = {t for t in targets if t is not None and t != module}
    return graph


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components of more than one module (Tarjan), each sorted."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in sorted(graph[v]):
            if w not in index:
                visit(w)
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
            visit(v)
    return found


def test_the_project_has_no_import_cycle() -> None:
    graph = import_graph(project_modules())
    assert len(graph) > 80  # the walk found the project (not an empty tree)
    assert cycles(graph) == []


def test_the_walk_sees_imports_inside_functions_and_skips_type_checking(tmp_path: Path) -> None:
    """The two cycles issue 13 named were both through an import inside a function."""
    pkg = tmp_path / "vigie"
    pkg.mkdir()
    (pkg / "__init__.py").write_text("")
    (pkg / "a.py").write_text("def f():\n    from vigie.b import g\n    return g\n")
    (pkg / "b.py").write_text("from vigie import a\n")
    (pkg / "c.py").write_text("from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from vigie.a import f\n")
    (pkg / "d.py").write_text("from . import c\n")
    graph = import_graph({
        "vigie": pkg / "__init__.py", **{f"vigie.{m}": pkg / f"{m}.py" for m in "abcd"},
    })
    assert graph == {"vigie": set(), "vigie.a": {"vigie.b"}, "vigie.b": {"vigie.a"},
                     "vigie.c": set(), "vigie.d": {"vigie.c"}}
    assert cycles(graph) == [["vigie.a", "vigie.b"]]
