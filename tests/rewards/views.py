"""Small builders of the views a rewarder reads."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from scorer.rewards.base import Rewarder
from scorer.rewards.registry import build
from scorer.rewards.views import Live, Measure, PhaseView, Scores, Settlement, Submission

T0 = datetime(2026, 1, 1, tzinfo=UTC)
MEASURES = {
    "accuracy": Measure("accuracy", "maximize", 0.01),
    "rmse": Measure("rmse", "minimize", 0.05),
    "time": Measure("time", "minimize", 0.0),
    "memory": Measure("memory", "minimize", 0.0),
    "time_per_event": Measure("time_per_event", "minimize", 0.0),
    "board.score": Measure("board.score", "maximize", 0.0),
}


def phase(baseline: dict[str, float] | None = None) -> PhaseView:
    scores = None if baseline is None else Scores(public=baseline, private=baseline)
    return PhaseView("curve", "phase-1", MEASURES, scores)


def sub(
    id: int,
    person: str,
    public: dict[str, float] | None = None,
    private: dict[str, float] | None = None,
    **kw: Any,
) -> Submission:
    time, memory, commit = kw.pop("time", None), kw.pop("memory", None), kw.pop("commit", f"c{id:039x}")
    scores = Scores(public or {}, private if private is not None else (public or {}), time, memory)
    return Submission(id, person, commit, T0 + timedelta(minutes=id), scores, **kw)


def rewarder(
    type: str, amount: float = 10, threshold: float | None = None, index: int = 0, **params: Any
) -> Rewarder:
    return build(index, type, amount, threshold, params)


def replay(
    r: Rewarder, subs: list[Submission], base: PhaseView | None = None
) -> list[tuple[int | None, str]]:
    """Every live grant as the submissions arrive: (submission, person)."""
    view = base or phase()
    grants = [g for i, s in enumerate(subs) for g in r.decide(Live(view, s, tuple(subs[:i])))]
    return [(g.evidence.submission, g.person) for g in grants]


def settle(r: Rewarder, subs: list[Submission], base: PhaseView | None = None, **kw: Any) -> list:
    return r.decide(Settlement(base or phase(), tuple(subs), **kw))
