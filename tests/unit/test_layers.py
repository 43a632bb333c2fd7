"""The import graph keeps the layers (issue 28, "Done means" 2): arrows point down only, from `cli` through
`operations` and `presets` to `aws`/`dns` and the `engine`; the emulator is wired in by operations alone; the
engine imports nothing of tscloud outside itself but the error catalogue; and there is no import circle,
lazy or not. Where each folder sits, and why, is in docs/DEVELOPING.md ("Layout")."""

from __future__ import annotations

import ast
from pathlib import Path

from tests.conftest import REPO

PACKAGE = REPO / "tscloud_py"

# Top to bottom. A module imports its own folder and the folders below its own, never one above.
LAYERS = (
    "cli",  # Click: flags in, results out
    "operations",  # the pipelines, the workspace, the run record; the only door to the emulator
    "presets",  # orchestrators: steps composed into a graph
    "emulator",  # the embedded AWS: moto and its fidelity fixes, the local edge, Lambda, registry
    "config",  # tscloud.toml -> typed config (checks regions against aws/regions)
    "cost",  # what a config costs a month (plain data in, estimate out)
    "dns",  # one Provider interface; its Route 53 provider is built on aws' clients
    "build",  # local work: hashing, zips, images, Nitro output
    "aws",  # the only code that calls boto3; the state bucket is aws/state_bucket (a state ObjectStore)
    "state",  # the Lock protocol, the journal, the local and object stores
    "lambda_runtime",  # AWS's Lambda Runtime API, for the emulator's functions and `ssr doctor`
    "engine",  # steps, plan, graph, scheduler, runner, events, clock
)
# Leaves every layer may import: each imports nothing of tscloud (checked below).
SHARED = ("errors", "redact", "concurrency", "loopback", "hosts", "files", "user_cache")
# The entry points sit on top of the cli, with the compiled-code cache only the executable installs.
ENTRY = ("tscloud_py", "tscloud_py.__main__", "tscloud_py.code_cache")
# Who may import the emulator: operations' local wiring (starting the user's emulator for `--local`, its
# loopback URLs beside each output).
EMULATOR_WIRING = ("tscloud_py.operations.context", "tscloud_py.operations.local_urls")
# Known modules outside operations that still import the emulator, each to move behind operations' local
# wiring (the emulator's own rework, under way, empties this list): `tscloud local ...` and `ssr verify`.
KNOWN_EMULATOR_IMPORTERS = {"tscloud_py.cli.commands.local", "tscloud_py.cli.commands.ssr"}


def module_name(path: Path) -> str:
    parts = list(path.relative_to(REPO).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _type_checking_only(node: ast.If) -> bool:
    test = node.test
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING")


def imports_of(path: Path, *, type_only: bool = False) -> set[str]:
    """Every tscloud_py module ``path`` imports at run time (at the top or inside a function), and with
    ``type_only`` those it imports for type checking as well."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    found: set[str] = set()

    def visit(node: ast.AST) -> None:
        if isinstance(node, ast.If) and _type_checking_only(node) and not type_only:
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


def graph(*, type_only: bool = False) -> dict[str, set[str]]:
    modules = {module_name(p): p for p in PACKAGE.rglob("*.py")}
    return {name: {m for m in imports_of(path, type_only=type_only) if m in modules and m != name}
            for name, path in modules.items()}


def folder(module: str) -> str:
    """The top-level folder (or leaf module) of ``tscloud_py.x.y``: ``x``; the package itself for the root."""
    parts = module.split(".")
    return parts[1] if len(parts) > 1 and module not in ENTRY else module


def edges() -> set[tuple[str, str]]:
    return {(m, d) for m, deps in graph().items() for d in deps if d != "tscloud_py"}


def test_every_folder_has_a_place() -> None:
    placed = set(LAYERS) | set(SHARED) | set(ENTRY)
    unplaced = {folder(m) for m in graph()} - placed
    assert unplaced == set(), "place each new folder in LAYERS (and in docs/DEVELOPING.md)"


def test_arrows_point_down_only() -> None:
    rank = {name: i for i, name in enumerate(LAYERS)}
    upward = set()
    for m, d in edges():
        a, b = folder(m), folder(d)
        if a == b or b in SHARED or a in ENTRY:
            continue
        if a in SHARED or rank[b] <= rank[a]:
            upward.add((m, d))
    assert upward == set()


def test_shared_leaves_import_nothing_of_tscloud() -> None:
    bad = {(m, d) for m, d in edges() if folder(m) in SHARED and folder(d) != folder(m)}
    assert bad == set()


def test_the_engine_imports_nothing_of_tscloud_outside_itself() -> None:
    """But the error catalogue: a step's failure is a ``StepFailedError`` carrying the AWS error code, the
    exit code and the hint, which every layer raises and the CLI prints; one catalogue, below everything."""
    bad = {(m, d) for m, d in edges() if folder(m) == "engine" and folder(d) not in ("engine", "errors")}
    assert bad == set()


def test_only_operations_local_wiring_imports_the_emulator() -> None:
    found = {m for m, d in edges() if folder(d) == "emulator" and folder(m) != "emulator" and m not in EMULATOR_WIRING}
    assert found == KNOWN_EMULATOR_IMPORTERS


def test_no_import_circle() -> None:
    # Type-only imports count: two modules that need each other's names even for typing are one module
    # split in two, and the split invites the run-time import that breaks.
    g = graph(type_only=True)
    # A package imports its own submodules by design (``tscloud_py.cli.commands`` lists them); a circle
    # through a package's __init__ and its own children is that, not a tangle.
    deps_of = {m: {d for d in deps if not d.startswith(m + ".")} for m, deps in g.items()}
    state: dict[str, int] = {}
    circles: list[list[str]] = []

    def walk(node: str, path: list[str]) -> None:
        state[node] = 1
        for dep in sorted(deps_of[node]):
            if state.get(dep) == 1:
                circles.append([*path[path.index(dep):], dep] if dep in path else [node, dep])
            elif dep not in state:
                walk(dep, [*path, dep])
        state[node] = 2

    for name in sorted(deps_of):
        if name not in state:
            walk(name, [name])
    assert circles == []
