"""Every shipped challenge notebook (baselines and examples) runs from top to bottom under nbval
(``pytest --nbval-lax``), as a participant runs it in JupyterLab: beside ``data/<phase>/``, the
phase's inputs made by the challenge's own seeded generator (never its answer keys).

A challenge that declares an environment runs in its kernel ("Python (higgs)"), built with the
environments package as `coop challenge prepare` builds it: the packages the notebooks import
are the environment's, not the platform's.

The one example that fails in the notebook itself, on purpose, must fail here too, with its own
error: it reads a folder on its author's laptop."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from scorer.challenge.demo import DEMO_SEED, challenge_folders
from scorer.challenge.load import load_spec
from scorer.challenge.phase_data import prepare_phase_data
from tests.environments.runtime_kernels import challenge_kernel
from tests.hub.conftest import ROOT

CHALLENGES = ROOT / "challenge_notebooks"
#: Examples whose notebook stops with an error by design (the others fail only when scored).
FAIL_IN_THE_NOTEBOOK = {"dave-hardcoded-path.ipynb": "FileNotFoundError"}


def notebooks(folder: Path) -> list[Path]:
    return sorted([*folder.glob("baselines/*.ipynb"), *folder.glob("examples/*.ipynb")])


@pytest.mark.parametrize("folder", challenge_folders(CHALLENGES), ids=lambda f: f.name)
def test_every_shipped_notebook_runs_under_nbval(folder: Path, tmp_path: Path):
    challenge = load_spec(folder)
    run = tmp_path / "run"
    for phase in challenge.phases:
        made = prepare_phase_data(challenge, phase, folder, tmp_path / "generated", seed=DEMO_SEED)
        shutil.copytree(made.inputs, run / "data" / phase.id)
    assert not list(run.rglob("answers*")), "no answer key beside a participant's notebook"
    names = []
    for notebook in notebooks(folder):
        name = f"{notebook.parent.name}-{notebook.name}"
        shutil.copy(notebook, run / name)
        names.append(name)
    report = tmp_path / "nbval.xml"
    kernel = challenge_kernel(challenge, folder, tmp_path / "home")
    result = subprocess.run(
        [sys.executable, "-m", "pytest", "--nbval-lax", "-p", "no:cacheprovider", "-q",
         f"--nbval-kernel-name={kernel.name}", f"--junitxml={report}", "--rootdir", str(run), *names],
        cwd=run, capture_output=True, text=True, timeout=1200, env={**os.environ, **kernel.variables},
    )  # fmt: skip
    outcomes = _outcomes(report)
    assert set(outcomes) == set(names), result.stdout[-3000:]
    for name, failure in outcomes.items():
        expected = FAIL_IN_THE_NOTEBOOK.get(name.removeprefix("examples-"))
        if expected is None:
            assert failure is None, f"{name} fails under nbval:\n{failure}"
        else:
            assert failure is not None and expected in failure, f"{name} should fail with {expected}"


def _outcomes(report: Path) -> dict[str, str | None]:
    """Each notebook's failures (nbval's JUnit report: one case per cell), ``None`` when none."""
    outcomes: dict[str, str | None] = {}
    for case in ET.parse(report).getroot().iter("testcase"):
        notebook = case.get("classname", "")
        failures = [f"{case.get('name')}: {e.get('message', '')}\n{e.text or ''}" for e in case]
        outcomes[notebook] = "\n".join(filter(None, [outcomes.get(notebook), *failures])) or None
    return outcomes


def test_the_examples_metadata_names_the_notebooks_that_fail_on_purpose():
    """The list above and the examples' own ``coop.fails_on_purpose`` agree."""
    on_purpose = {
        path.name
        for folder in challenge_folders(CHALLENGES)
        for path in folder.glob("examples/*.ipynb")
        if json.loads(path.read_text())["metadata"].get("coop", {}).get("fails_on_purpose")
    }
    assert set(FAIL_IN_THE_NOTEBOOK) <= on_purpose
