"""Baselines and example solutions of the demo challenges, executed with papermill.

Each notebook runs once per phase in a session (the ``run_notebook`` fixture caches runs);
scores are computed on data generated into a temporary folder, with the organiser's metric
functions, as the platform would.
"""

from __future__ import annotations

import pandas as pd
import pytest
from challenge_support import score, spec_data

PHASES = ("toy", "realistic")
SPLITS = ("public", "private")


def scores_of(run_notebook, phase_data, challenge, notebook, phase):
    run = run_notebook(challenge, notebook, phase)
    assert run.error is None, f"{notebook} failed in phase {phase}: {run.error}"
    return score(phase_data(challenge, phase), run.predictions, run.run_time)


def everything_signal(phase_data, phase):
    data = phase_data("higgs", phase)
    predictions = pd.DataFrame({"EventId": data.answers["EventId"], "Class": "s"})
    return score(data, predictions)


@pytest.mark.parametrize("phase", PHASES)
def test_higgs_baseline_beats_selecting_everything(run_notebook, phase_data, phase):
    baseline = scores_of(run_notebook, phase_data, "higgs", f"baselines/{phase}.ipynb", phase)
    trivial = everything_signal(phase_data, phase)
    for split in SPLITS:
        assert baseline[split]["ams"] > max(trivial[split]["ams"], 0.0) + 0.3, split
        assert 0.0 < baseline[split]["signal_efficiency"] < 1.0


@pytest.mark.parametrize("phase", PHASES)
@pytest.mark.parametrize("example", ["alice-better-cuts", "dan-likelihood-ratio"])
def test_higgs_improved_examples_beat_the_baseline(run_notebook, phase_data, example, phase):
    baseline = scores_of(run_notebook, phase_data, "higgs", f"baselines/{phase}.ipynb", phase)
    improved = scores_of(run_notebook, phase_data, "higgs", f"examples/{example}.ipynb", phase)
    assert improved["all"]["ams"] > baseline["all"]["ams"] + 0.2


def test_higgs_bob_writes_nan_and_is_rejected(run_notebook, phase_data):
    run = run_notebook("higgs", "examples/bob-nan-predictions.ipynb", "realistic")
    assert run.error is None, "Bob's notebook runs to the end"
    predictions = run.predictions
    assert predictions["Class"].isna().any(), "Bob's predictions have empty classes"
    allow_nan = spec_data("higgs")["phases"][-1]["predictions"].get("allow_nan", False)
    assert not allow_nan, "the platform rejects NaN before scoring"
    with pytest.raises(ValueError, match="'Class' is missing"):
        score(phase_data("higgs", "realistic"), predictions)


@pytest.mark.parametrize("phase", PHASES)
def test_trackml_baseline_is_clearly_above_half(run_notebook, phase_data, phase):
    baseline = scores_of(run_notebook, phase_data, "trackml", f"baselines/{phase}.ipynb", phase)
    for split in SPLITS:
        assert baseline[split]["accuracy"] > 0.55, split
        assert baseline[split]["time_per_event"] > 0.0  # measured: a run time, never judged


@pytest.mark.parametrize("phase", PHASES)
def test_trackml_alice_beats_the_baseline(run_notebook, phase_data, phase):
    baseline = scores_of(run_notebook, phase_data, "trackml", f"baselines/{phase}.ipynb", phase)
    improved = scores_of(run_notebook, phase_data, "trackml", "examples/alice-hough-refined.ipynb", phase)
    assert improved["all"]["accuracy"] > baseline["all"]["accuracy"] + 0.05
    assert improved["all"]["efficiency"] > baseline["all"]["efficiency"]


def test_trackml_toy_build_on_chain_gains_at_each_step(run_notebook, phase_data):
    """The demo's credit story: bob builds on alice, who improved the baseline; each step gains
    clearly more than the challenge's noise threshold (0.01 on a score about 3x the accuracy's
    gain) on both splits."""
    baseline = scores_of(run_notebook, phase_data, "trackml", "baselines/toy.ipynb", "toy")
    alice = scores_of(run_notebook, phase_data, "trackml", "examples/alice-toy-gaps.ipynb", "toy")
    bob = scores_of(run_notebook, phase_data, "trackml", "examples/bob-toy-builds-on-alice.ipynb", "toy")
    for split in SPLITS:
        assert alice[split]["accuracy"] > baseline[split]["accuracy"] + 0.02, split
        assert bob[split]["accuracy"] > alice[split]["accuracy"] + 0.02, split


def test_trackml_carol_string_ids_are_rejected(run_notebook, phase_data):
    run = run_notebook("trackml", "examples/carol-string-track-ids.ipynb", "realistic")
    assert run.error is None, "Carol's notebook runs to the end"
    with pytest.raises(ValueError, match="must be an integer"):
        score(phase_data("trackml", "realistic"), run.predictions)


def test_trackml_dave_raises_in_a_cell(run_notebook):
    run = run_notebook("trackml", "examples/dave-hardcoded-path.ipynb", "realistic")
    assert run.error is not None
    assert run.error.ename == "FileNotFoundError"
    assert not run.predictions_path.exists()
