"""The demo challenges through the scorer's own steps: read predictions, compute metrics.

The other tests build scoring contexts by hand; these use ``scorer.scoring.predictions`` and
``scorer.scoring.metrics`` the way the pipeline does, so a mismatch between a challenge and the
platform (id types, NaN handling, ValueError → "predictions invalid") shows up here.
"""

from __future__ import annotations

import math

import pytest
from challenge_support import challenge_dir

from scorer.challenge.load import load_spec
from scorer.exceptions import PredictionsInvalid
from scorer.scoring.metrics import compute_metrics, read_answers
from scorer.scoring.predictions import read_predictions


def platform_metrics(challenge, phase_id, run, data):
    spec = load_spec(challenge_dir(challenge))
    phase = spec.phase(phase_id)
    answers = read_answers(data.answers_dir / "answers.csv", phase)
    predictions = read_predictions(
        run.predictions_path, phase.predictions, answers[phase.predictions.id_column]
    )
    return compute_metrics(
        spec,
        phase,
        challenge_dir(challenge) / spec.data.scoring_module,
        predictions,
        answers,
        run_time=run.run_time,
        peak_memory=0.0,
        inputs_dir=data.inputs_dir,
    )


@pytest.mark.parametrize(
    ("challenge", "notebook"),
    [
        ("higgs", "baselines/realistic.ipynb"),
        ("higgs", "examples/dan-likelihood-ratio.ipynb"),
        ("trackml", "baselines/realistic.ipynb"),
        ("trackml", "examples/alice-hough-refined.ipynb"),
    ],
)
def test_solutions_score_on_the_platform(run_notebook, phase_data, challenge, notebook):
    run = run_notebook(challenge, notebook, "realistic")
    assert run.error is None
    metrics = platform_metrics(challenge, "realistic", run, phase_data(challenge, "realistic"))
    spec = load_spec(challenge_dir(challenge))
    for split in ("public", "private"):
        assert set(metrics[split]) == {m.key for m in spec.metrics}
        assert all(math.isfinite(v) and v > 0 for v in metrics[split].values())


def test_bob_is_rejected_for_nan(run_notebook, phase_data):
    run = run_notebook("higgs", "examples/bob-nan-predictions.ipynb", "realistic")
    with pytest.raises(PredictionsInvalid, match="NaN"):
        platform_metrics("higgs", "realistic", run, phase_data("higgs", "realistic"))


def test_carol_is_rejected_by_the_organisers_check(run_notebook, phase_data):
    run = run_notebook("trackml", "examples/carol-string-track-ids.ipynb", "realistic")
    with pytest.raises(PredictionsInvalid, match="must be an integer"):
        platform_metrics("trackml", "realistic", run, phase_data("trackml", "realistic"))
