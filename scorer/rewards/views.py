"""What a rewarder sees: small frozen views of the ledger, built at the edge, read by pure rules.

A *measure* is anything a rewarder compares: a metric key, ``time`` (the run's measured seconds),
``memory`` (its peak MiB) or a leaderboard column (:func:`column_key`). Every measure comes with
its direction and noise threshold, so rules never guess which way is better.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Literal

Direction = Literal["maximize", "minimize"]
Moment = Literal["live", "settlement"]
Split = Literal["public", "private"]
Values = Mapping[str, float | None]


def column_key(board: str, column: str) -> str:
    """The measure of a leaderboard column: ``board.column``."""
    return f"{board}.{column}"


def finite(value: object) -> float | None:
    """A finite float, or ``None`` (missing, NaN, infinite or not a number)."""
    if isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value):
        return float(value)
    return None


@dataclass(frozen=True)
class Scores:
    """One run's values per split (metric keys and column keys), its run time and peak memory."""

    public: Values = field(default_factory=dict)
    private: Values = field(default_factory=dict)
    time: float | None = None  # seconds, as measured by the sandbox
    memory: float | None = None  # peak MiB

    def value(self, key: str, split: Split) -> float | None:
        if key == "time":
            return finite(self.time)
        if key == "memory":
            return finite(self.memory)
        return finite((self.public if split == "public" else self.private).get(key))


@dataclass(frozen=True)
class Submission:
    """A scored submission: who pushed which commit of which notebook, and its scores."""

    id: int
    person: str
    commit: str
    submitted_at: datetime
    scores: Scores
    notebook: str = ""
    worker: str | None = None
    likers: frozenset[str] = frozenset()

    def value(self, key: str, split: Split) -> float | None:
        return self.scores.value(key, split)

    @property
    def likes_from_others(self) -> int:
        """Likes that count: never the author's own."""
        return len(self.likers - {self.person})


@dataclass(frozen=True)
class Measure:
    """A measure's direction and the smallest change counted as a gain."""

    key: str
    direction: Direction = "maximize"
    noise_threshold: float = 0.0

    def utility(self, value: float) -> float:
        """``value`` turned so that larger is better."""
        return value if self.direction == "maximize" else -value

    def passes(self, value: float | None, threshold: float) -> bool:
        """``value`` reaches ``threshold`` in the measure's direction (≥, or ≤ when minimised)."""
        return value is not None and self.utility(value) >= self.utility(threshold)

    def beats(self, value: float | None, reference: float | None) -> bool:
        """``value`` is better than ``reference`` by more than the noise threshold."""
        if value is None:
            return False
        if reference is None:
            return True
        return self.utility(value) > self.utility(reference) + self.noise_threshold

    def gain(self, value: float, reference: float) -> float:
        """How much better ``value`` is than ``reference`` (negative when worse)."""
        return self.utility(value) - self.utility(reference)

    def best(self, values: list[float | None]) -> float | None:
        known = [v for v in values if v is not None]
        return max(known, key=self.utility) if known else None


@dataclass(frozen=True)
class PhaseView:
    """The phase a rewarder acts in: names, the measures it may use, the baseline's scores."""

    challenge: str
    phase: str
    measures: Mapping[str, Measure]
    baseline: Scores | None = None

    def measure(self, key: str) -> Measure:
        found = self.measures.get(key)
        if found is None:
            raise KeyError(
                f"the phase {self.phase!r} has no measure {key!r} (known: {sorted(self.measures)})"
            )
        return found


@dataclass(frozen=True)
class Verdict:
    """What an organiser's check function answered."""

    passed: bool
    reason: str = ""


@dataclass(frozen=True)
class Live:
    """A live moment: ``submission`` was just scored (or liked, or re-run), public scores.

    ``earlier`` holds the phase's scored submissions before it (everyone's, oldest first).
    """

    phase: PhaseView
    submission: Submission
    earlier: tuple[Submission, ...] = ()
    rerun: Submission | None = None  # an independent re-run of ``submission``
    verdicts: Mapping[int, Verdict] = field(default_factory=dict)  # rewarder index -> check's answer

    def earlier_of(self, person: str) -> tuple[Submission, ...]:
        return tuple(s for s in self.earlier if s.person == person)


@dataclass(frozen=True)
class Standing:
    """One row of a leaderboard's private ranking at settlement."""

    rank: int
    person: str
    submission_id: int
    value: float | None = None


@dataclass(frozen=True)
class Settlement:
    """A phase ends (or an organiser settles it): private scores, rankings and credit.

    ``standings`` maps a leaderboard key to its private ranking; ``credit`` maps a measure key
    to a credit table (person -> credit).
    """

    phase: PhaseView
    submissions: tuple[Submission, ...] = ()  # every scored submission, oldest first
    standings: Mapping[str, tuple[Standing, ...]] = field(default_factory=dict)
    credit: Mapping[str, Mapping[str, float]] = field(default_factory=dict)
