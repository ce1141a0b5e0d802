"""Which cells only show the platform's widgets (``coop_widgets``): left out of scoring runs.

A cell is a widget cell when every statement in it is one of: an import of ``coop_widgets`` (or
of names from it); a widget shown or built (``Leaderboard()``, ``cw.PhaseBanner()``, ``board``,
``board = MySubmissions()``) by a name such an import, or an earlier widget cell, bound; loading
the package as an IPython extension (``%load_ext coop_widgets``). Anything else in a cell keeps the
whole cell in the run (a cell that also computes something is the participant's code). Cells are
read with IPython's own input transformer, so that magics parse as the calls they stand for.
"""

from __future__ import annotations

import ast
from collections.abc import Iterable

from IPython.core.inputtransformer2 import TransformerManager

import coop_widgets

PACKAGE = "coop_widgets"
_EXTENSION_MAGICS = frozenset({"load_ext", "reload_ext"})


def widget_cells(sources: Iterable[str]) -> list[bool]:
    """For each code cell's source, in notebook order, whether it only shows platform widgets."""
    names: set[str] = set()  # bound to the package or to its widgets by the cells so far
    found = []
    for source in sources:
        statements = _statements(source)
        bound = _widget_names(statements, names)
        names |= bound if bound is not None else {n for s in statements for n in _imported(s)}
        found.append(bool(statements) and bound is not None)
    return found


def _widget_names(statements: list[ast.stmt], names: set[str]) -> set[str] | None:
    """The names known after a widget cell; ``None`` when the cell does something else."""
    bound = set(names)
    for statement in statements:
        bound |= _imported(statement)
        if not _shows_widgets(statement, bound):
            return None
        if isinstance(statement, ast.Assign):
            bound |= {target.id for target in statement.targets if isinstance(target, ast.Name)}
    return bound


def _statements(source: str) -> list[ast.stmt]:
    """The cell as Python statements; none when it does not parse."""
    try:
        return ast.parse(TransformerManager().transform_cell(source)).body
    except (SyntaxError, ValueError):
        return []


def _imported(statement: ast.stmt) -> set[str]:
    """The names an import of the package binds."""
    if isinstance(statement, ast.Import):
        return {
            alias.asname or alias.name.partition(".")[0]
            for alias in statement.names
            if _is_package(alias.name)
        }
    if isinstance(statement, ast.ImportFrom) and statement.level == 0 and _is_package(statement.module):
        return {
            name
            for alias in statement.names
            for name in (coop_widgets.__all__ if alias.name == "*" else [alias.asname or alias.name])
        }
    return set()


def _is_package(module: str | None) -> bool:
    return module is not None and (module == PACKAGE or module.startswith(PACKAGE + "."))


def _shows_widgets(statement: ast.stmt, names: set[str]) -> bool:
    if isinstance(statement, ast.Import | ast.ImportFrom):
        return bool(_imported(statement))
    if isinstance(statement, ast.Expr):
        return _is_extension_magic(statement.value) or _root(statement.value) in names
    if isinstance(statement, ast.Assign):
        simple = all(isinstance(target, ast.Name) for target in statement.targets)
        return simple and _root(statement.value) in names
    return False


def _root(node: ast.expr) -> str | None:
    """The name a chain of calls and attributes starts from (``cw`` in ``cw.Board(x).show()``)."""
    while isinstance(node, ast.Call | ast.Attribute):
        node = node.func if isinstance(node, ast.Call) else node.value
    return node.id if isinstance(node, ast.Name) else None


def _is_extension_magic(node: ast.expr) -> bool:
    """``get_ipython().run_line_magic('load_ext', 'coop_widgets')``: what ``%load_ext`` becomes."""
    if not (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)):
        return False
    arguments = [a.value for a in node.args if isinstance(a, ast.Constant)]
    return (
        node.func.attr == "run_line_magic"
        and len(arguments) == 2
        and arguments[0] in _EXTENSION_MAGICS
        and str(arguments[1]).strip() == PACKAGE
    )
