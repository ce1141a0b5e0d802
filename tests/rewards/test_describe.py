"""Each rewarder of a phase in words, from its spec: every built-in has a sentence of its own."""

from __future__ import annotations

from typing import Any, ClassVar

import pytest

from scorer.challenge.spec import Challenge
from scorer.registry import installed
from scorer.rewards.base import Params, Rewarder
from scorer.rewards.describe import amount, describe, sentence
from scorer.rewards.registry import REWARDERS, rewarder_class

#: One entry per built-in (documented examples, on a challenge with accuracy and loss) and
#: the sentence it reads as.
EXPECTED: list[tuple[dict[str, Any], str]] = [
    (
        {"type": "score-threshold", "amount": 10, "threshold": 0.9, "params": {"metric": "accuracy"}},
        "10 points the first time accuracy ≥ 0.9",
    ),
    (
        {
            "type": "score-threshold",
            "amount": 1,
            "threshold": 0.3,
            "params": {"metric": "loss", "moment": "settlement"},
        },
        "1 point the first time loss ≤ 0.3, when the phase is settled (private scores)",
    ),
    (
        {
            "type": "limited-hardware",
            "amount": 50,
            "threshold": 0.8,
            "params": {"metric": "accuracy", "max_time": 30, "max_memory": "1GiB"},
        },
        "50 points the first time accuracy ≥ 0.8 with time ≤ 30 s, memory ≤ 1024 MiB",
    ),
    (
        {"type": "beat-baseline", "amount": 20, "params": {"metric": "accuracy"}},
        "20 points to the first submission beating the baseline's accuracy by more than 0.001",
    ),
    (
        {
            "type": "organiser-check",
            "amount": 30,
            "threshold": 0.5,
            "params": {"function": "checks.py:single_model", "metric": "accuracy"},
        },
        "30 points the first time the organisers' check checks.py:single_model passes with accuracy ≥ 0.5",
    ),
    (
        {"type": "new-record", "amount": 5, "params": {"leaderboard": "main", "column": "accuracy"}},
        "5 points for each new record of accuracy on main by more than 0.001",
    ),
    (
        {"type": "improvement", "amount": 1, "params": {"metric": "accuracy", "per": 0.01, "max_amount": 20}},
        "1 point per 0.01 of accuracy gained over one's own best by more than 0.001"
        " (at most 20 points a submission)",
    ),
    (
        {
            "type": "pareto-front",
            "amount": 10,
            "params": {"metric": "accuracy", "reference": 0.5, "cost_reference": 300},
        },
        "10 points per 1 of hypervolume a submission adds to the accuracy-vs-time front",
    ),
    (
        {"type": "rank-prize", "amount": 600, "params": {"leaderboard": "main", "amounts": [300, 200]}},
        "300 points for rank 1, 200 points for rank 2 on main, when the phase is settled (private scores)",
    ),
    (
        {"type": "credit-share", "amount": 1000, "params": {"metric": "accuracy"}},
        "1000 points shared in proportion to credit on accuracy, when the phase is settled (private scores)",
    ),
    (
        {"type": "peer-likes", "amount": 5},
        "5 points each time a submission's likes from others reach 5, 20, 50",
    ),
    (
        {"type": "reproduced", "amount": 2.5, "params": {"tolerance": 1e-6}},
        "2.5 points when a re-run on another worker reproduces a submission's metrics within 1e-06",
    ),
]


def challenge(rewarders: list[dict[str, Any]]) -> Challenge:
    return Challenge.model_validate(
        {
            "id": "higgs",
            "title": "Higgs",
            "noise_threshold": 0.001,
            "metrics": [
                {"key": "accuracy", "function": "accuracy"},
                {"key": "loss", "function": "loss", "direction": "minimize"},
            ],
            "leaderboards": [{"key": "main", "columns": [{"key": "accuracy"}], "primary": "accuracy"}],
            "phases": [
                {
                    "id": "p1",
                    "title": "Toy",
                    "start": "2024-01-01T00:00:00Z",
                    "baseline": "baselines/p1.ipynb",
                    "predictions": {"columns": ["label"]},
                    "rewarders": rewarders,
                }
            ],
        }
    )


def test_every_built_in_in_words():
    spec = challenge([entry for entry, _text in EXPECTED])
    described = describe(spec, spec.phases[0])
    assert [d.text for d in described] == [text for _entry, text in EXPECTED]
    assert [d.index for d in described] == list(range(len(EXPECTED)))
    assert [(d.moment, d.unit) for d in described][:2] == [("live", "points"), ("settlement", "points")]


def test_no_built_in_falls_back_to_its_documentation():
    built_in = {
        name for name, entry in installed(REWARDERS).items() if entry.value.startswith("scorer.rewards.")
    }
    assert built_in == {entry["type"] for entry, _text in EXPECTED}
    for name in built_in:
        assert sentence.dispatch(rewarder_class(name)) is not sentence.dispatch(Rewarder), name


class Bonus(Rewarder):
    """A bonus for the organisers' favourite notebook. Any text after the first sentence."""

    params_model: ClassVar[type[Params]] = Params


def test_another_rewarder_is_described_by_its_amount_and_documentation():
    bonus = Bonus(type="bonus", index=0, amount=3, threshold=None, params=Params())
    assert sentence(bonus, {}) == "3 points: bonus (A bonus for the organisers' favourite notebook)"


@pytest.mark.parametrize(
    ("value", "unit", "text"),
    [
        (1, "points", "1 point"),
        (2, "points", "2 points"),
        (0.5, "points", "0.5 points"),
        (1, "credits", "1 credit"),
    ],
)
def test_amounts(value: float, unit: str, text: str):
    assert amount(value, unit) == text
