"""What a notebook's code imports and calls, read statically with :mod:`ast` (never executed).

``from sklearn.cluster import DBSCAN`` gives ``sklearn.cluster``; ``scipy.optimize.minimize(...)``
after ``import scipy`` gives ``scipy.optimize``. IPython's magics and shell lines are left out;
a cell that still does not parse is skipped, never an error: a notebook that ran is evidence
enough, whatever its syntax.
"""

from __future__ import annotations

import ast
import json
from collections.abc import Mapping
from typing import Any

#: Lines IPython reads as magics, shell commands or help (`%time`, `!pip`, `?np`).
_IPYTHON_PREFIXES = ("%", "!", "?")


def notebook_imports(notebook: bytes | str | Mapping[str, Any]) -> frozenset[str]:
    """The dotted modules a notebook's code cells import or call into (empty for unreadable JSON)."""
    if isinstance(notebook, bytes | str):
        try:
            notebook = json.loads(notebook)
        except ValueError:
            return frozenset()
    if not isinstance(notebook, Mapping):
        return frozenset()
    cells = notebook.get("cells")
    sources = (
        _source(cell)
        for cell in (cells if isinstance(cells, list) else [])
        if isinstance(cell, Mapping) and cell.get("cell_type") == "code"
    )
    return frozenset().union(*(code_imports(source) for source in sources))


def code_imports(source: str) -> frozenset[str]:
    """The dotted modules one cell's code imports or calls into."""
    try:
        tree = ast.parse(_python_only(source))
    except (SyntaxError, ValueError):
        return frozenset()
    visitor = _Usage()
    visitor.visit(tree)
    return frozenset(visitor.modules)


def _source(cell: Mapping[str, Any]) -> str:
    source = cell.get("source", "")
    if isinstance(source, list):
        return "".join(part for part in source if isinstance(part, str))
    return source if isinstance(source, str) else ""


def _python_only(source: str) -> str:
    """The cell with IPython's own syntax replaced by ``pass`` (indentation kept, so blocks
    around a magic still parse); a cell magic (``%%bash``) makes the whole cell foreign."""
    if source.lstrip().startswith("%%"):
        return ""
    lines = []
    for line in source.splitlines():
        stripped = line.lstrip()
        foreign = stripped.startswith(_IPYTHON_PREFIXES) or stripped.rstrip().endswith("?")
        # `files = !ls` assigns a shell command's output
        foreign = foreign or _assigns_shell(stripped)
        lines.append(line[: len(line) - len(stripped)] + "pass" if foreign else line)
    return "\n".join(lines)


def _assigns_shell(line: str) -> bool:
    target, equals, value = line.partition("=")
    return bool(equals) and target.strip().isidentifier() and value.lstrip().startswith(("!", "%"))


class _Usage(ast.NodeVisitor):
    """Collects imported modules and the modules that calls through imported names reach."""

    def __init__(self) -> None:
        self.modules: set[str] = set()
        self.names: dict[str, str] = {}  # a local name → the dotted path it stands for

    def visit_Import(self, node: ast.Import) -> None:
        for alias in node.names:
            self.modules.add(alias.name)
            if alias.asname:
                self.names[alias.asname] = alias.name
            else:
                top = alias.name.split(".")[0]
                self.names[top] = top

    def visit_ImportFrom(self, node: ast.ImportFrom) -> None:
        if node.level or not node.module:  # relative imports name the notebook's own files
            return
        self.modules.add(node.module)
        for alias in node.names:
            if alias.name != "*":
                self.names[alias.asname or alias.name] = f"{node.module}.{alias.name}"

    def visit_Call(self, node: ast.Call) -> None:
        path = self._dotted(node.func)
        if path is not None and "." in path:
            self.modules.add(path.rsplit(".", 1)[0])  # the function's module
        self.generic_visit(node)

    def _dotted(self, func: ast.expr) -> str | None:
        attributes: list[str] = []
        while isinstance(func, ast.Attribute):
            attributes.append(func.attr)
            func = func.value
        if not isinstance(func, ast.Name) or func.id not in self.names:
            return None
        return ".".join([self.names[func.id], *reversed(attributes)])
