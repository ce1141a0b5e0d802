"""A phase's submission limits, checked before a submission is scored (pure: no I/O).

Over a limit the work is still shared (the push is accepted); the submission is recorded as
rejected with the time the next slot opens. ``per_person`` never reopens within the phase.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from coop_client.errors import CoopError
from coop_client.utc import as_utc, next_second
from scorer.challenge.spec import SubmissionLimits

PER_PERSON = "per-person"
PER_DAY = "per-day"
MIN_INTERVAL = "min-interval"


@dataclass(frozen=True)
class LimitHit:
    code: str  # PER_PERSON, PER_DAY or MIN_INTERVAL
    message: str  # what was reached, e.g. "limit of 5 per day reached"
    next_slot: datetime | None  # when a submission would be allowed again (None: not in this phase)

    @property
    def text(self) -> str:
        """The message with the next slot, as a participant reads it."""
        if self.next_slot is None:
            return self.message
        return f"{self.message}; next slot {format_time(self.next_slot)}"


class LimitReached(CoopError):
    """A submission asked for now would be over a limit; ``hit`` says which and the next slot."""

    http_status = 429

    def __init__(self, hit: LimitHit) -> None:
        self.hit = hit
        super().__init__(f"not scored: {hit.text}")


def format_time(moment: datetime) -> str:
    """``2026-11-29T00:00:00Z``: UTC, rounded up to whole seconds (a slot is never shown early)."""
    return next_second(moment).strftime("%Y-%m-%dT%H:%M:%SZ")


def check_limits(limits: SubmissionLimits, earlier: Iterable[datetime], now: datetime) -> LimitHit | None:
    """``None`` when one more submission at ``now`` is allowed, else the limit it hits.

    ``earlier``: the times of the person's earlier submissions in this phase that count
    (not rejected, not rescores). When both the daily limit and the minimum interval are hit,
    the answer names the one that reopens last, so its ``next_slot`` satisfies both.
    """
    now = as_utc(now)
    times = sorted(as_utc(t) for t in earlier)
    if limits.per_person is not None and len(times) >= limits.per_person:
        n = limits.per_person
        return LimitHit(
            PER_PERSON,
            f"limit of {n} submission{'s' if n > 1 else ''} per person in this phase reached",
            None,
        )
    hits = []
    if limits.per_day is not None:
        today = [t for t in times if t.date() == now.date()]
        if len(today) >= limits.per_day:
            midnight = datetime(now.year, now.month, now.day, tzinfo=UTC) + timedelta(days=1)
            hits.append(LimitHit(PER_DAY, f"limit of {limits.per_day} per day reached", midnight))
    if limits.min_interval is not None and times:
        opens = times[-1] + timedelta(seconds=limits.min_interval)
        if now < opens:
            hits.append(
                LimitHit(
                    MIN_INTERVAL,
                    f"at most one submission every {_duration(limits.min_interval)}",
                    opens,
                )
            )
    if not hits:
        return None
    return max(hits, key=lambda hit: hit.next_slot or now)


def submissions_left(
    limits: SubmissionLimits, earlier: Iterable[datetime], now: datetime
) -> tuple[int | None, int | None]:
    """How many more submissions ``limits`` allow on ``now``'s UTC day and in the phase (``None``:
    no such limit), ``earlier`` counted as in :func:`check_limits`."""
    now = as_utc(now)
    times = [as_utc(t) for t in earlier]
    today = sum(1 for t in times if t.date() == now.date())
    return (
        None if limits.per_day is None else max(0, limits.per_day - today),
        None if limits.per_person is None else max(0, limits.per_person - len(times)),
    )


def _duration(seconds: float) -> str:
    for unit, size in (("h", 3600), ("min", 60)):
        if seconds >= size and seconds % size == 0:
            return f"{int(seconds // size)} {unit}"
    return f"{seconds:g} s"
