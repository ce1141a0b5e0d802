"""What notebooks import and call, read statically (never executed)."""

from __future__ import annotations

import json
from pathlib import Path

import nbformat
import pytest

from scorer.profiles.imports import code_imports, notebook_imports
from scorer.profiles.skills import DEFAULT_SKILL_TABLE, module_skills

REPO = Path(__file__).resolve().parents[2]
DEMO_NOTEBOOKS = sorted(
    [
        *REPO.glob("challenge_notebooks/*/examples/*.ipynb"),
        *REPO.glob("challenge_notebooks/*/baselines/*.ipynb"),
    ]
)


def _notebook(*cells: str) -> bytes:
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(source) for source in cells])
    return nbformat.writes(nb).encode()


def test_from_import_names_the_module() -> None:
    assert code_imports("from sklearn.cluster import DBSCAN\nDBSCAN(eps=0.1).fit(x)") == {"sklearn.cluster"}


def test_a_call_through_a_package_names_the_submodule() -> None:
    found = code_imports("import scipy\nscipy.optimize.minimize(f, x0)")
    assert found == {"scipy", "scipy.optimize"}


def test_aliases_and_imported_submodules_resolve() -> None:
    source = "import numpy as np\nfrom scipy import optimize as opt\nnp.linalg.norm(v)\nopt.minimize(f, 0)"
    assert code_imports(source) == {"numpy", "numpy.linalg", "scipy", "scipy.optimize"}


def test_calls_on_unknown_names_and_relative_imports_are_ignored() -> None:
    assert code_imports("from . import helpers\ndf.groupby('a').sum()\nhelpers.run()") == set()


def test_magics_and_shell_lines_are_skipped_not_executed() -> None:
    magics = [
        "%matplotlib inline",
        "!pip install torch",
        "files = !ls",
        "for f in files:",
        "    %time import numba",
    ]
    source = "\n".join([*magics, "import torch", "np?"])
    assert code_imports(source) == {"torch"}
    assert code_imports("%%bash\nimport sklearn") == set()


def test_a_cell_that_does_not_parse_is_skipped() -> None:
    nb = _notebook("import pandas as pd", "def broken(:\n    import torch", "pd.read_csv('x')")
    assert notebook_imports(nb) == {"pandas"}


@pytest.mark.parametrize(
    "content",
    [b"not json", b"[]", b'{"cells": "nope"}', json.dumps({"cells": [{"cell_type": "code", "source": 3}]})],
)
def test_unreadable_notebooks_give_nothing(content: bytes | str) -> None:
    assert notebook_imports(content) == set()


def test_markdown_cells_are_not_code() -> None:
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_markdown_cell("import torch")])
    assert notebook_imports(nbformat.writes(nb)) == set()


def test_nothing_runs_while_reading(tmp_path: Path) -> None:
    marker = tmp_path / "ran"
    nb = _notebook(f"import pathlib\npathlib.Path({str(marker)!r}).touch()")
    assert notebook_imports(nb) == {"pathlib"}
    assert not marker.exists()


@pytest.mark.parametrize(
    "path", DEMO_NOTEBOOKS, ids=lambda p: f"{p.parent.parent.name}/{p.parent.name}/{p.name}"
)
def test_demo_notebooks_show_numpy_and_pandas(path: Path) -> None:
    modules = notebook_imports(path.read_bytes())
    assert {"numpy", "pandas", "json", "pathlib"} <= modules
    assert {"numpy", "pandas"} <= module_skills(modules, DEFAULT_SKILL_TABLE)


def test_the_demo_notebooks_are_there() -> None:
    assert len(DEMO_NOTEBOOKS) >= 10
