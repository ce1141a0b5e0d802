"""The phase's submission limits: per UTC day, per person, minimum interval; and the per-person
lock that makes checking a limit and adding the submission one step (both ledger backends)."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from contextlib import nullcontext
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy.orm import Session, sessionmaker

from scorer.challenge.spec import SubmissionLimits
from scorer.ingest.limits import (
    MIN_INTERVAL,
    PER_DAY,
    PER_PERSON,
    LimitHit,
    check_limits,
    format_time,
    submissions_left,
)
from scorer.ledger import store
from scorer.ledger.db import make_engine, session_factory, upgrade
from scorer.ledger.locks import lock_person
from scorer.ledger.queries import counted_times
from tests.ledger.ledger_helpers import START, challenge_spec
from tests.pg import schema_url

NOW = datetime(2026, 11, 28, 15, 30, tzinfo=UTC)


def test_no_limits_allow_everything() -> None:
    assert check_limits(SubmissionLimits(), [NOW] * 100, NOW) is None


def test_first_submission_is_always_allowed() -> None:
    limits = SubmissionLimits(per_day=1, per_person=1, min_interval=3600)
    assert check_limits(limits, [], NOW) is None


def test_per_day_counts_the_utc_day_and_reopens_at_midnight() -> None:
    limits = SubmissionLimits(per_day=2)
    yesterday = NOW - timedelta(days=1)
    assert check_limits(limits, [yesterday, yesterday, NOW - timedelta(hours=1)], NOW) is None
    hit = check_limits(limits, [NOW - timedelta(hours=2), NOW - timedelta(hours=1)], NOW)
    assert hit is not None and hit.code == PER_DAY
    assert hit.next_slot == datetime(2026, 11, 29, tzinfo=UTC)
    assert hit.text == "limit of 2 per day reached; next slot 2026-11-29T00:00:00Z"


def test_per_day_uses_utc_whatever_the_zone_of_the_times() -> None:
    from zoneinfo import ZoneInfo

    paris = ZoneInfo("Europe/Paris")
    late = datetime(2026, 11, 28, 23, 30, tzinfo=UTC)  # already the 29th in Paris
    early_next = datetime(2026, 11, 29, 0, 30, tzinfo=paris)  # still the 28th in UTC
    hit = check_limits(SubmissionLimits(per_day=1), [early_next], late)
    assert hit is not None and hit.code == PER_DAY


def test_naive_times_are_taken_as_utc() -> None:
    hit = check_limits(SubmissionLimits(per_day=1), [datetime(2026, 11, 28, 1, 0)], NOW)
    assert hit is not None and hit.next_slot == datetime(2026, 11, 29, tzinfo=UTC)


def test_per_person_never_reopens() -> None:
    limits = SubmissionLimits(per_person=3)
    assert check_limits(limits, [NOW - timedelta(days=d) for d in (1, 2)], NOW) is None
    hit = check_limits(limits, [NOW - timedelta(days=d) for d in (1, 2, 3)], NOW)
    assert hit is not None and hit.code == PER_PERSON and hit.next_slot is None
    assert hit.text == "limit of 3 submissions per person in this phase reached"


def test_min_interval_counts_from_the_latest() -> None:
    limits = SubmissionLimits(min_interval=3600)
    latest = NOW - timedelta(minutes=20)
    hit = check_limits(limits, [NOW - timedelta(hours=5), latest], NOW)
    assert hit is not None and hit.code == MIN_INTERVAL
    assert hit.next_slot == latest + timedelta(hours=1)
    assert hit.text == "at most one submission every 1 h; next slot 2026-11-28T16:10:00Z"
    assert check_limits(limits, [NOW - timedelta(hours=1)], NOW) is None  # exactly on time


def test_the_latest_reopening_wins_when_two_limits_are_hit() -> None:
    at_night = datetime(2026, 11, 28, 23, 59, 30, tzinfo=UTC)
    earlier = [at_night - timedelta(seconds=10)]
    hit = check_limits(SubmissionLimits(per_day=1, min_interval=20), earlier, at_night)
    assert hit is not None and hit.code == PER_DAY  # the interval ends before midnight
    assert hit.next_slot == datetime(2026, 11, 29, tzinfo=UTC)
    hit = check_limits(SubmissionLimits(per_day=1, min_interval=7200), earlier, at_night)
    assert hit is not None and hit.code == MIN_INTERVAL  # the interval ends after midnight
    assert hit.next_slot == at_night + timedelta(seconds=7190)


def test_per_person_is_checked_before_the_others() -> None:
    limits = SubmissionLimits(per_day=1, per_person=1, min_interval=60)
    hit = check_limits(limits, [NOW], NOW)
    assert hit is not None and hit.code == PER_PERSON


def test_what_is_left_counts_the_utc_day_and_the_phase() -> None:
    limits = SubmissionLimits(per_day=3, per_person=5)
    earlier = [NOW - timedelta(hours=1), NOW - timedelta(days=1), NOW.replace(hour=0, minute=0)]
    assert submissions_left(limits, earlier, NOW) == (1, 2)
    assert submissions_left(limits, [NOW] * 9, NOW) == (0, 0)  # never below zero
    assert submissions_left(SubmissionLimits(), earlier, NOW) == (None, None)


def test_format_time_never_shows_a_slot_early() -> None:
    assert format_time(datetime(2026, 1, 2, 3, 4, 5, 678, tzinfo=UTC)) == "2026-01-02T03:04:06Z"
    assert format_time(datetime(2026, 1, 2, 3, 4, 59, 1, tzinfo=UTC)) == "2026-01-02T03:05:00Z"
    assert format_time(datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)) == "2026-01-02T03:04:05Z"


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def sessions(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[sessionmaker[Session]]:
    """A migrated ledger holding a challenge (phase ``p1`` open at ``START``), on each backend."""
    sqlite = nullcontext(f"sqlite:///{tmp_path / 'coop.db'}")
    with schema_url("limits") if request.param == "postgresql" else sqlite as url:
        upgrade(url)
        engine = make_engine(url)
        sessions = session_factory(engine)
        with sessions.begin() as session:
            store.upsert_challenge(session, challenge_spec(), "https://git.example.org/higgs.git")
        yield sessions
        engine.dispose()


def _check(session: Session, username: str, limits: SubmissionLimits) -> LimitHit | None:
    return check_limits(limits, counted_times(session, "higgs", "p1", username), START)


def _submit(session: Session, username: str, sha: str) -> None:
    store.enqueue(
        session,
        challenge_id="higgs",
        phase_id="p1",
        commit_sha=sha,
        notebook_path=f"solutions/{username}/fit.ipynb",
        username=username,
        parameters={},
        now=START,
    )


def test_a_second_limit_check_waits_for_the_first_persons_insert(sessions: sessionmaker[Session]) -> None:
    """Two pushes by alice at once under ``per_day: 1``: the second check sees the first insert."""
    limits = SubmissionLimits(per_day=1)
    first_checked, second_started = threading.Event(), threading.Event()
    seen: list[LimitHit | None] = []
    with sessions.begin() as session:
        store.person(session, "alice")  # known already: creating her would serialise the two

    def second() -> None:
        first_checked.wait(30)
        with sessions.begin() as session:
            second_started.set()
            lock_person(session, "alice")
            seen.append(_check(session, "alice", limits))

    racer = threading.Thread(target=second)
    racer.start()
    with sessions.begin() as session:
        lock_person(session, "alice")
        assert _check(session, "alice", limits) is None
        first_checked.set()
        assert second_started.wait(30)
        time.sleep(0.3)  # without the lock, the second would read now, before this insert commits
        _submit(session, "alice", "a" * 40)
    racer.join(60)
    [hit] = seen
    assert hit is not None and hit.code == PER_DAY


def test_the_lock_may_come_after_a_write_in_the_same_transaction(sessions: sessionmaker[Session]) -> None:
    with sessions.begin() as session:
        _submit(session, "bob", "b" * 40)
        lock_person(session, "alice")
        _submit(session, "alice", "a" * 40)
    with sessions() as session:
        assert len(counted_times(session, "higgs", "p1", "alice")) == 1
