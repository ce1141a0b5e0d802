"""Helpers for the tests of the demo challenges in ``challenge_notebooks/``.

A challenge folder is not a Python package (it becomes a git repository of its own), so its
``simulator.py`` and ``scoring.py`` are loaded from their paths under unique module names.
The fixtures that use these helpers are in ``conftest.py``.
"""

from __future__ import annotations

import os
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import Any
from unittest import mock

import pandas as pd
import yaml

from scorer.scoring.results import ScoringContext
from tests.environments.runtime_kernels import ChallengeKernel

REPO = Path(__file__).resolve().parents[2]
CHALLENGES_DIR = REPO / "challenge_notebooks"
CHALLENGES = ("higgs", "trackml")
SEED = 20260101


def challenge_dir(challenge: str) -> Path:
    return CHALLENGES_DIR / challenge


def spec_data(challenge: str) -> dict[str, Any]:
    return yaml.safe_load((challenge_dir(challenge) / "challenge.yaml").read_text())


def phase_spec(challenge: str, phase: str) -> dict[str, Any]:
    return next(p for p in spec_data(challenge)["phases"] if p["id"] == phase)


def load_module(challenge: str, name: str) -> ModuleType:
    """Import ``challenge_notebooks/<challenge>/<name>.py`` under a name of its own.

    Compiled by hand so that no ``__pycache__`` lands in the challenge folder.
    """
    module_name = f"coop_challenge_{challenge}_{name}"
    if module_name in sys.modules:
        return sys.modules[module_name]
    path = challenge_dir(challenge) / f"{name}.py"
    module = ModuleType(module_name)
    module.__file__ = str(path)
    sys.modules[module_name] = module
    exec(compile(path.read_text(encoding="utf-8"), str(path), "exec"), module.__dict__)
    return module


@dataclass(frozen=True)
class PhaseData:
    challenge: str
    phase: str
    inputs_dir: Path
    answers_dir: Path

    @property
    def answers(self) -> pd.DataFrame:
        return pd.read_csv(self.answers_dir / "answers.csv")


def generate(challenge: str, phase: str, root: Path, seed: int = SEED) -> PhaseData:
    spec = phase_spec(challenge, phase)
    inputs_dir, answers_dir = root / "inputs", root / "answers"
    load_module(challenge, "simulator").generate(
        phase,
        inputs_dir,
        answers_dir,
        seed=seed,
        public_fraction=spec.get("test_split", {}).get("public_fraction", 0.3),
        **spec.get("data_args", {}),
    )
    return PhaseData(challenge, phase, inputs_dir, answers_dir)


@dataclass(frozen=True)
class NotebookRun:
    predictions_path: Path
    run_time: float
    error: Exception | None

    @property
    def predictions(self) -> pd.DataFrame:
        return pd.read_csv(self.predictions_path)


def execute(
    challenge: str, notebook: str, data: PhaseData, work: Path, kernel: ChallengeKernel
) -> NotebookRun:
    """Run a notebook with papermill as the platform does: phase parameters, own folder, the
    challenge's kernel."""
    import papermill

    predictions_path = work / "predictions.csv"
    parameters = {
        **phase_spec(challenge, data.phase).get("parameters", {}),
        "inputs_dir": str(data.inputs_dir),
        "predictions_path": str(predictions_path),
    }
    error: Exception | None = None
    started = time.perf_counter()
    try:
        with mock.patch.dict(os.environ, kernel.variables):  # where the kernel is found
            papermill.execute_notebook(
                str(challenge_dir(challenge) / notebook),
                str(work / "executed.ipynb"),
                parameters=parameters,
                kernel_name=kernel.name,
                language="python",
                cwd=str(work),
                progress_bar=False,
                execution_timeout=120,
            )
    except papermill.PapermillExecutionError as exc:
        error = exc
    return NotebookRun(predictions_path, time.perf_counter() - started, error)


def contexts(
    data: PhaseData, predictions: pd.DataFrame, run_time: float, splits: tuple[str, ...]
) -> dict[str, ScoringContext]:
    """Scoring contexts built as the platform does: one split, aligned on the id column.

    ``"all"`` is the whole test set (both splits), handy for less noisy comparisons.
    """
    spec = phase_spec(data.challenge, data.phase)
    id_column = spec["predictions"]["id_column"]
    answers = data.answers
    aligned = predictions.set_index(id_column).reindex(answers[id_column]).reset_index()
    assert len(aligned) == len(answers)
    result = {}
    for split in splits:
        rows = answers["usage"].eq(split) if split != "all" else answers["usage"].notna()
        result[split] = ScoringContext(
            predictions=aligned[rows.to_numpy()].reset_index(drop=True),
            answers=answers[rows].reset_index(drop=True),
            split=split,
            run_time=run_time,
            peak_memory=0.0,
            inputs_dir=data.inputs_dir,
            phase=data.phase,
            params=spec.get("parameters", {}),
        )
    return result


def score(
    data: PhaseData,
    predictions: pd.DataFrame,
    run_time: float = 1.0,
    splits: tuple[str, ...] = ("public", "private", "all"),
) -> dict[str, dict[str, float]]:
    """Every metric of the challenge on each split: ``{split: {metric: value}}``."""
    scoring = load_module(data.challenge, "scoring")
    metrics = spec_data(data.challenge)["metrics"]
    return {
        split: {m["key"]: getattr(scoring, m["function"])(ctx) for m in metrics}
        for split, ctx in contexts(data, predictions, run_time, splits).items()
    }
