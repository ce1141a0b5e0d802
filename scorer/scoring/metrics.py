"""Computing metrics with the organiser's trusted code, on the public and the private split."""

from __future__ import annotations

import math
from pathlib import Path
from types import ModuleType
from typing import Any

import pandas as pd

from scorer.challenge.organiser_code import load_module
from scorer.challenge.phase_data import USAGE_COLUMN
from scorer.challenge.spec import Challenge, Phase
from scorer.exceptions import CoopError, PredictionsInvalid, ScoringError
from scorer.scoring.results import ScoringContext

SPLITS = ("public", "private")


def read_answers(path: Path, phase: Phase) -> pd.DataFrame:
    try:
        answers = pd.read_csv(path, dtype={phase.predictions.id_column: str})
    except Exception as exc:
        raise ScoringError("the answer key cannot be read", f"answers {path}: {exc!r}") from exc
    if USAGE_COLUMN not in answers.columns or phase.predictions.id_column not in answers.columns:
        raise ScoringError(
            "the answer key is malformed",
            f"{path} needs columns {phase.predictions.id_column!r} and {USAGE_COLUMN!r}",
        )
    return answers


def compute_metrics(
    challenge: Challenge,
    phase: Phase,
    scoring_module: Path,
    predictions: pd.DataFrame,
    answers: pd.DataFrame,
    *,
    run_time: float,
    peak_memory: float,
    inputs_dir: Path,
) -> dict[str, dict[str, float]]:
    """``{"public": {metric: value}, "private": {...}}``; predictions are aligned with answers."""
    try:
        module = load_module(scoring_module)
    except CoopError as exc:
        raise ScoringError("the organiser's scoring code cannot be loaded", exc.log_message) from exc
    results: dict[str, dict[str, float]] = {}
    for split in SPLITS:
        mask = (answers[USAGE_COLUMN] == split).to_numpy()
        context = ScoringContext(
            predictions=predictions[mask].reset_index(drop=True),
            answers=answers[mask].reset_index(drop=True),
            split=split,
            run_time=run_time,
            peak_memory=peak_memory,
            inputs_dir=inputs_dir,
            phase=phase.id,
            params=dict(phase.parameters),
        )
        results[split] = {m.key: _metric(module, m.function, m.key, context) for m in challenge.metrics}
    return results


def _metric(module: ModuleType, function: str, key: str, context: ScoringContext) -> float:
    compute: Any = getattr(module, function, None)
    if not callable(compute):
        raise ScoringError("the organiser's scoring code is incomplete", f"no function {function!r}")
    try:
        value = float(compute(context))
    except ValueError as exc:  # the organiser's way of saying "these predictions make no sense"
        raise PredictionsInvalid(f"{key}: {exc}") from exc
    except Exception as exc:
        raise ScoringError(
            f"the organiser's code for {key} failed; this is not your fault and will be looked at",
            f"{function} raised {exc!r}",
        ) from exc
    if not math.isfinite(value):
        raise ScoringError(f"the metric {key} came out as {value}", f"{function} returned {value}")
    return value
