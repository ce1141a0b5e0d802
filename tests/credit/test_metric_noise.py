"""A metric's own noise threshold, else the challenge's: in the spec and in the measures credit
and rewarders compare."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from pydantic import ValidationError

from scorer.challenge.spec import Challenge
from scorer.rewards.measures import phase_measures

DEMO = Path(__file__).resolve().parents[2] / "challenge_notebooks" / "trackml" / "challenge.yaml"


def trackml(**metric_noise: float) -> Challenge:
    document = yaml.safe_load(DEMO.read_text())
    for metric in document["metrics"]:
        if metric["key"] in metric_noise:
            metric["noise_threshold"] = metric_noise[metric["key"]]
    return Challenge.model_validate(document)


def test_a_metric_without_its_own_threshold_takes_the_challenges():
    spec = trackml(time_per_event=0.25)
    assert spec.metric_noise("accuracy") == spec.noise_threshold == 0.01
    assert spec.metric_noise("time_per_event") == 0.25
    measures = phase_measures(spec, spec.phases[0])
    assert measures["accuracy"].noise_threshold == 0.01
    assert measures["time_per_event"].noise_threshold == 0.25
    assert measures["latest-accuracy.time_per_event"].noise_threshold == 0.25  # a column shows it


def test_a_negative_metric_threshold_is_refused_naming_the_field():
    with pytest.raises(ValidationError, match=r"metrics\.0\.noise_threshold"):
        trackml(accuracy=-1)
