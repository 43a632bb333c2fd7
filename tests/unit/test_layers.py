"""The import graph keeps the layers: the engine knows no AWS and no face, presets know no face, and no
two modules import each other (directly or round a longer circle), lazily or not."""

from __future__ import annotations

import ast
from pathlib import Path

from tests.conftest import REPO

PACKAGE = REPO / "tscloud_py"
FACE = ("tscloud_py.operations.context", "tscloud_py.cli.ui", "tscloud_py.cli.main", "tscloud_py.cli.commands")


def module_name(path: Path) -> str:
    parts = list(path.relative_to(REPO).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _type_checking_only(node: ast.If) -> bool:
    test = node.test
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING")


def imports_of(path: Path) -> set[str]:
    """Every tscloud_py module ``path`` imports at run time (at the top or inside a function)."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    found: set[str] = set()

    def visit(node: ast.AST) -> None:
        if isinstance(node, ast.If) and _type_checking_only(node):
            for child in node.orelse:
                visit(child)
            return
        if isinstance(node, ast.Import):
            found.update(a.name for a in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module)
            found.update(f"{node.module}.{a.name}" for a in node.names)  # `from pkg import module`
        for child in ast.iter_child_nodes(node):
            visit(child)

    visit(tree)
    return {m for m in found if m.startswith("tscloud_py")}


def graph() -> dict[str, set[str]]:
    modules = {module_name(p): p for p in PACKAGE.rglob("*.py")}
    return {name: {m for m in imports_of(path) if m in modules and m != name} for name, path in modules.items()}


def _within(name: str, prefixes: tuple[str, ...]) -> bool:
    return any(name == p or name.startswith(p + ".") for p in prefixes)


def test_the_engine_imports_no_aws_and_no_face() -> None:
    bad = {(m, dep) for m, deps in graph().items() if m.startswith("tscloud_py.engine")
           for dep in deps if _within(dep, ("tscloud_py.aws", "tscloud_py.presets", *FACE))}
    assert bad == set()


def test_presets_import_nothing_of_the_face() -> None:
    bad = {(m, dep) for m, deps in graph().items() if m.startswith("tscloud_py.presets")
           for dep in deps if _within(dep, FACE)}
    assert bad == set()


def test_no_import_circle() -> None:
    g = graph()
    # A package imports its own submodules by design (``tscloud_py.cli.commands`` lists them); a circle
    # through a package's __init__ and its own children is that, not a tangle.
    edges = {m: {d for d in deps if not d.startswith(m + ".")} for m, deps in g.items()}
    state: dict[str, int] = {}
    circles: list[list[str]] = []

    def walk(node: str, path: list[str]) -> None:
        state[node] = 1
        for dep in sorted(edges[node]):
            if state.get(dep) == 1:
                circles.append([*path[path.index(dep):], dep] if dep in path else [node, dep])
            elif dep not in state:
                walk(dep, [*path, dep])
        state[node] = 2

    for name in sorted(edges):
        if name not in state:
            walk(name, [name])
    assert circles == []
