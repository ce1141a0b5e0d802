"""The organisers' metric functions of the demo challenges, on generated data."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from challenge_support import contexts, load_module, phase_spec, score

# --- higgs --------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def higgs_toy(phase_data):
    return phase_data("higgs", "toy")


def higgs_predictions(data, classes) -> pd.DataFrame:
    answers = data.answers
    return pd.DataFrame({"EventId": answers["EventId"], "Class": classes})


def test_ams_formula():
    scoring = load_module("higgs", "scoring")
    assert scoring.ams_value(0.0, 100.0) == 0.0
    # For s << b the AMS tends to s / sqrt(b).
    assert scoring.ams_value(10.0, 1e6) == pytest.approx(10.0 / math.sqrt(1e6 + 10), rel=1e-3)
    expected = math.sqrt(2 * ((50 + 200 + 10) * math.log(1 + 50 / 210) - 50))
    assert scoring.ams_value(50.0, 200.0) == pytest.approx(expected)


def test_ams_weights_are_renormalised_per_split(higgs_toy):
    """Selecting every event gives the AMS of the expected totals, on any split."""
    scoring = load_module("higgs", "scoring")
    data_args = phase_spec("higgs", "toy")["data_args"]
    totals = scoring.ams_value(data_args["expected_signal"], data_args["expected_background"])
    scores = score(higgs_toy, higgs_predictions(higgs_toy, "s"))
    for split in ("public", "private", "all"):
        assert scores[split]["ams"] == pytest.approx(totals)
        assert scores[split]["signal_efficiency"] == pytest.approx(1.0)


def test_perfect_selection_beats_everything(higgs_toy):
    answers = higgs_toy.answers
    perfect = score(higgs_toy, higgs_predictions(higgs_toy, answers["Label"]))
    everything = score(higgs_toy, higgs_predictions(higgs_toy, "s"))
    nothing = score(higgs_toy, higgs_predictions(higgs_toy, "b"))
    for split in ("public", "private"):
        assert perfect[split]["ams"] > everything[split]["ams"] > nothing[split]["ams"] == 0.0
        assert perfect[split]["signal_efficiency"] == pytest.approx(1.0)


@pytest.mark.parametrize(
    ("classes", "message"),
    [(np.nan, "missing"), ("signal", "must be 's' or 'b'"), (1, "must be 's' or 'b'")],
)
def test_invalid_classes_are_rejected(higgs_toy, classes, message):
    scoring = load_module("higgs", "scoring")
    ctx = contexts(higgs_toy, higgs_predictions(higgs_toy, classes), 1.0, ("public",))["public"]
    with pytest.raises(ValueError, match=message):
        scoring.ams(ctx)


# --- trackml ------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def trackml_toy(phase_data):
    return phase_data("trackml", "toy")


def track_predictions(data, track_id) -> pd.DataFrame:
    return pd.DataFrame({"hit_id": data.answers["hit_id"], "track_id": track_id})


def test_truth_scores_one_and_trivial_solutions_zero(trackml_toy):
    answers = trackml_toy.answers
    truth = score(trackml_toy, track_predictions(trackml_toy, answers["particle_id"]))
    alone = score(trackml_toy, track_predictions(trackml_toy, answers["hit_id"]))
    together = score(trackml_toy, track_predictions(trackml_toy, answers["event_id"]))
    for split in ("public", "private", "all"):
        assert truth[split]["accuracy"] == pytest.approx(1.0)
        assert truth[split]["efficiency"] == pytest.approx(1.0)
        assert alone[split]["accuracy"] == together[split]["accuracy"] == 0.0


def test_double_majority(trackml_toy):
    """Merging two particles loses both; splitting one in halves loses it; one stray hit does not."""
    answers = trackml_toy.answers
    event = answers[answers["event_id"] == answers["event_id"].iloc[0]]
    particles = event.loc[event["particle_id"] > 0, "particle_id"].unique()[:2]
    track = answers["particle_id"].copy()
    # merge the first two particles of the event
    merged = track.where(~track.isin(particles), particles[0])
    # move one hit of the first particle to a track of its own
    one_off = track.copy()
    one_off[(track == particles[0]).idxmax()] = -1

    def event_score(track_id):
        ctx = contexts(trackml_toy, track_predictions(trackml_toy, track_id), 1.0, ("all",))["all"]
        per_event = load_module("trackml", "scoring")._matched_weight_per_event(ctx)
        return per_event[event["event_id"].iloc[0]]

    weights = event.groupby("particle_id")["weight"].sum() / event["weight"].sum()
    assert event_score(merged) == pytest.approx(1.0 - weights[particles].sum())
    first_hit_weight = event.loc[(event["particle_id"] == particles[0]).idxmax(), "weight"]
    assert event_score(one_off) == pytest.approx(1.0 - first_hit_weight / event["weight"].sum())


def test_time_per_event_uses_all_test_events(trackml_toy):
    answers = trackml_toy.answers
    n_events = answers["event_id"].nunique()
    scores = score(trackml_toy, track_predictions(trackml_toy, answers["particle_id"]), run_time=8.0)
    for split in ("public", "private"):
        assert scores[split]["time_per_event"] == pytest.approx(8.0 / n_events)


@pytest.mark.parametrize(
    ("track_id", "message"),
    [("7-3", "integer"), (np.nan, "missing"), (1.5, "integer"), (np.inf, "integer")],
)
def test_invalid_track_ids_are_rejected(trackml_toy, track_id, message):
    scoring = load_module("trackml", "scoring")
    ctx = contexts(trackml_toy, track_predictions(trackml_toy, track_id), 1.0, ("public",))["public"]
    with pytest.raises(ValueError, match=message):
        scoring.accuracy(ctx)
