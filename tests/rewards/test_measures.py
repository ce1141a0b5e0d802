"""From a shipped spec to the views rewarders read: directions as the boards sort, computed
columns filled in, and the spec's own rewarders deciding on them."""

from __future__ import annotations

import math
from pathlib import Path

import pytest

from scorer.challenge.load import parse_spec
from scorer.challenge.spec import Challenge
from scorer.rewards.measures import phase_measures, scores
from scorer.rewards.registry import build
from scorer.rewards.views import Live, PhaseView, Settlement, Submission
from tests.rewards.views import T0

DEMO = Path(__file__).resolve().parents[2] / "challenge_notebooks"


def demo(name: str) -> Challenge:
    return parse_spec((DEMO / name / "challenge.yaml").read_text())


def test_measures_follow_metric_directions_and_board_sorting():
    trackml = demo("trackml")
    measures = phase_measures(trackml, trackml.phase("realistic"))
    assert measures["accuracy"].direction == "maximize" and measures["accuracy"].noise_threshold == 0.01
    assert measures["time_per_event"].direction == "minimize"
    assert measures["throughput.score"].direction == "maximize"  # an expression, sorted desc
    assert measures["latest-accuracy.time_per_event"].direction == "minimize"  # the metric's direction
    assert (measures["time"].direction, measures["time"].noise_threshold) == ("minimize", 0.0)
    higgs = demo("higgs")
    assert "significant-and-fast.mean_rank" not in phase_measures(higgs, higgs.phase("toy"))  # a rank


def test_a_runs_scores_carry_the_boards_computed_columns():
    trackml = demo("trackml")
    phase = trackml.phase("realistic")
    run = scores(
        trackml,
        phase,
        {"accuracy": 0.9, "time_per_event": 0.3, "efficiency": 0.8},
        {"accuracy": 0.4},
        9.0,
        512,
    )
    assert run.value("throughput.score", "public") == pytest.approx(
        math.sqrt(math.log(1 + 600 / 0.3) * 0.4**2)
    )
    assert run.value("throughput.score", "private") == 0.0  # below 0.5 accuracy the score is 0
    assert run.value("latest-accuracy.memory", "public") == 512 and run.value("time", "private") == 9.0


def test_the_shipped_rewarders_decide_on_views_built_from_the_spec():
    trackml = demo("trackml")
    phase = trackml.phase("toy")
    view = PhaseView("trackml", "toy", phase_measures(trackml, phase), None)
    built = [build(i, **r.model_dump()) for i, r in enumerate(phase.rewarders)]
    by_type = {r.type: r for r in built}

    def run(id: int, person: str, accuracy: float, private: float) -> Submission:
        values = {"accuracy": accuracy, "time_per_event": 0.1, "efficiency": 0.9}
        return Submission(
            id,
            person,
            f"{id:040x}",
            T0,
            scores(trackml, phase, values, {**values, "accuracy": private}, 2.0, 100),
        )

    first, second = run(1, "alice", 0.7, 0.7), run(2, "bob", 0.95, 0.93)
    [record] = by_type["new-record"].decide(Live(view, second, (first,)))
    assert record.person == "bob" and record.evidence.values["record"] == first.value(
        "throughput.score", "public"
    )
    [threshold] = by_type["score-threshold"].decide(Settlement(view, (first, second)))
    assert (threshold.person, threshold.evidence.split) == ("bob", "private")
    assert by_type["score-threshold"].decide(Live(view, second, (first,))) == []  # it acts at settlement
