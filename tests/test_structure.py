"""The shape of the code, checked: no import cycles, SQL only in the ledger, widgets without
server code, and an architecture map that names every module."""

from __future__ import annotations

import ast
import subprocess
import sys
from collections.abc import Collection, Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = {
    "scorer": ROOT / "scorer",
    "coop_client": ROOT / "extensions" / "coop_client" / "coop_client",
    "coop_widgets": ROOT / "extensions" / "coop_widgets" / "coop_widgets",
}
#: Loaded by file, never imported as modules (Alembic versions, the challenge template).
NOT_MODULES = ("scorer/ledger/migrations/versions/", "scorer/challenge/templates/")


def modules() -> dict[str, Path]:
    """Every module of the three packages, by dotted name."""
    found = {}
    for package, folder in PACKAGES.items():
        for path in sorted(folder.rglob("*.py")):
            relative = path.relative_to(ROOT).as_posix()
            if any(part in relative for part in NOT_MODULES):
                continue
            parts = path.relative_to(folder).with_suffix("").parts
            name = ".".join((package, *parts)).removesuffix(".__init__")
            found[name] = path
    return found


def imports(path: Path, *, top_level_only: bool, known: Collection[str] = ()) -> Iterator[str]:
    """Modules a file imports; ``top_level_only`` leaves out imports inside functions and
    ``if TYPE_CHECKING:`` blocks, which cannot form a cycle at import time. ``from package
    import module`` (a name in ``known``) depends on that module, not on the package."""
    tree = ast.parse(path.read_text(), str(path))
    nodes = tree.body if top_level_only else list(ast.walk(tree))
    for node in nodes:
        if isinstance(node, ast.Import):
            yield from (alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            submodules = [f"{node.module}.{alias.name}" for alias in node.names]
            if all(name in known for name in submodules):
                yield from submodules
            else:
                yield node.module


def test_the_import_graph_has_no_cycles():
    known = modules()
    graph = {
        name: set(imports(path, top_level_only=True, known=known)) & set(known) - {name}
        for name, path in known.items()
    }
    cycles = []
    state: dict[str, int] = {}

    def visit(node: str, trail: list[str]) -> None:
        state[node] = 1
        for nxt in sorted(graph[node]):
            if state.get(nxt) == 1:
                cycles.append([*trail[trail.index(nxt) :], nxt])
            elif nxt not in state:
                visit(nxt, [*trail, nxt])
        state[node] = 2

    for name in sorted(graph):
        if name not in state:
            visit(name, [name])
    assert not cycles, "import cycles:\n" + "\n".join(" -> ".join(cycle) for cycle in cycles)


def test_only_the_ledger_imports_sqlalchemy():
    offenders = sorted(
        name
        for name, path in modules().items()
        if not name.startswith("scorer.ledger")
        and any(imported.split(".")[0] == "sqlalchemy" for imported in imports(path, top_level_only=False))
    )
    assert not offenders, f"SQL belongs in scorer/ledger/, but these import sqlalchemy: {offenders}"


@pytest.mark.parametrize("package", ["coop_client", "coop_widgets"])
def test_the_light_packages_import_no_server_code(package):
    """What runs in participants' kernels loads neither the ledger, Dask nor the web service."""
    names = [name for name in modules() if name.split(".")[0] == package and not name.endswith(".server")]
    code = (
        "import importlib, sys\n"
        f"for name in {names!r}: importlib.import_module(name)\n"
        "print(sorted({m.split('.')[0] for m in sys.modules} & "
        "{'sqlalchemy', 'dask', 'distributed', 'fastapi', 'scorer', 'alembic'}))"
    )
    loaded = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert loaded.stdout.strip() == "[]", loaded.stdout


def test_the_architecture_map_names_every_module():
    text = (ROOT / "docs" / "architecture.md").read_text()
    missing = [
        path.relative_to(ROOT).as_posix()
        for path in modules().values()
        if path.name != "__init__.py" and f"`{path.relative_to(ROOT).as_posix()}`" not in text
    ]
    assert not missing, "docs/architecture.md lists no line for: " + ", ".join(missing)
