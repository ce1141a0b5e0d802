"""Fixtures for the tests of the demo challenges (helpers live in ``challenge_support.py``).

``phase_data(challenge, phase)``
    generates a phase's inputs and answer key once per session (cached).
``run_notebook(challenge, notebook, phase)``
    executes a notebook with papermill on a phase's inputs, in a fresh working folder outside
    the inputs, in the challenge's kernel (its environment's, built once per session, when it
    declares one), once per session (cached); the result holds the predictions path, the
    papermill error if any and the wall-clock time.
"""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import pytest

from scorer.challenge.load import load_spec
from tests.environments.runtime_kernels import ChallengeKernel, challenge_kernel

# Loaded by path so that the tests work whatever pytest's import mode.
_spec = importlib.util.spec_from_file_location(
    "challenge_support", Path(__file__).with_name("challenge_support.py")
)
assert _spec is not None and _spec.loader is not None
support = importlib.util.module_from_spec(_spec)
sys.modules["challenge_support"] = support
_spec.loader.exec_module(support)


@pytest.fixture(scope="session")
def phase_data(tmp_path_factory: pytest.TempPathFactory):
    cache: dict[tuple[str, str], support.PhaseData] = {}

    def get(challenge: str, phase: str) -> support.PhaseData:
        key = (challenge, phase)
        if key not in cache:
            root = tmp_path_factory.mktemp(f"{challenge}-{phase}")
            cache[key] = support.generate(challenge, phase, root)
        return cache[key]

    return get


@pytest.fixture(scope="session")
def run_notebook(phase_data, tmp_path_factory: pytest.TempPathFactory):
    cache: dict[tuple[str, str, str], support.NotebookRun] = {}
    kernels: dict[str, ChallengeKernel] = {}

    def kernel(challenge: str) -> ChallengeKernel:
        if challenge not in kernels:
            folder = support.challenge_dir(challenge)
            home = tmp_path_factory.mktemp(f"{challenge}-home")
            kernels[challenge] = challenge_kernel(load_spec(folder), folder, home)
        return kernels[challenge]

    def run(challenge: str, notebook: str, phase: str) -> support.NotebookRun:
        key = (challenge, notebook, phase)
        if key not in cache:
            work = tmp_path_factory.mktemp(f"run-{challenge}-{Path(notebook).stem}-{phase}")
            data = phase_data(challenge, phase)
            cache[key] = support.execute(challenge, notebook, data, work, kernel(challenge))
        return cache[key]

    return run
