"""Likes: one per person per submission, toggled; never one's own, only scored submissions
whose code is open; kept as append-only events with the current state derived."""

from __future__ import annotations

import threading
from datetime import timedelta

import pytest
from ledger_helpers import END
from sqlalchemy import func, select

from scorer.exceptions import LikeRefused, UnknownSubmission
from scorer.ledger import likes, store
from scorer.ledger.models import LikeEvent

#: Phase p1 opens its code 30 days before END.
OPEN = END


def toggle(sessions, submission_id: int, username: str, *, now=OPEN) -> likes.LikeState:
    with sessions.begin() as session:
        return likes.toggle_like(session, submission_id, username, now=now)


def test_liking_twice_toggles_and_the_events_are_kept(sessions, ledger):
    alices = ledger.submit("alice", 0.9)
    assert toggle(sessions, alices, "bob") == likes.LikeState(alices, liked=True, count=1)
    assert toggle(sessions, alices, "carol").count == 2
    assert toggle(sessions, alices, "bob") == likes.LikeState(alices, liked=False, count=1)
    assert toggle(sessions, alices, "bob").liked
    with sessions() as session:
        events = session.scalars(
            select(LikeEvent.liked)
            .where(LikeEvent.submission_id == alices)
            .order_by(LikeEvent.at, LikeEvent.seq)
        ).all()
    assert events.count(True) == 3 and events.count(False) == 1


def test_like_and_unlike_are_idempotent(sessions, ledger):
    alices = ledger.submit("alice", 0.9)
    with sessions.begin() as session:
        states = [likes.set_like(session, alices, "bob", True, now=OPEN) for _ in range(3)]
        states += [likes.set_like(session, alices, "bob", False, now=OPEN) for _ in range(2)]
    assert [s.count for s in states] == [1, 1, 1, 0, 0]
    with sessions() as session:
        assert session.scalar(select(func.count()).select_from(LikeEvent)) == 2


def test_counts_given_and_received(sessions, ledger):
    alices, bobs = ledger.submit("alice", 0.9), ledger.submit("bob", 0.8)
    alices_second = ledger.submit("alice", 0.95)
    for submission_id, username in [
        (alices, "bob"),
        (alices, "carol"),
        (alices_second, "carol"),
        (bobs, "carol"),
    ]:
        toggle(sessions, submission_id, username)
    toggle(sessions, alices, "carol")  # carol takes hers back
    with sessions() as session:
        assert likes.like_counts(session, [alices, bobs, alices_second, 999]) == {
            alices: 1,
            bobs: 1,
            alices_second: 1,
        }
        assert likes.likes_given(session, "carol") == sorted([bobs, alices_second])
        assert likes.likes_given(session, "alice") == []
        assert likes.likes_received(session, "higgs", "p1") == {"alice": 2, "bob": 1}
        assert likes.likes_received(session, "higgs", "p2") == {}


def test_ones_own_submission_cannot_be_liked(sessions, ledger):
    alices = ledger.submit("alice", 0.9)
    with pytest.raises(LikeRefused) as refused:
        toggle(sessions, alices, "alice")
    assert refused.value.code == "own-submission" and refused.value.http_status == 403


def test_only_scored_submissions_can_be_liked(sessions, ledger):
    failed = ledger.enqueue("alice")
    ledger.claim(failed)
    with sessions.begin() as session:
        store.record_failure(session, failed, "exception", "ZeroDivisionError")
    queued = ledger.enqueue("alice")
    for submission_id in (failed, queued):
        with pytest.raises(LikeRefused, match="only scored submissions") as refused:
            toggle(sessions, submission_id, "bob")
        assert refused.value.code == "not-scored"
    with pytest.raises(UnknownSubmission):
        toggle(sessions, 999, "bob")


def test_closed_code_cannot_be_liked_until_it_opens_and_unliking_is_always_allowed(sessions, ledger):
    alices = ledger.submit("alice", 0.9)
    opens = END - timedelta(days=30)
    with pytest.raises(LikeRefused, match="not open yet") as refused:
        toggle(sessions, alices, "bob", now=opens - timedelta(seconds=1))
    assert refused.value.code == "code-closed"
    assert toggle(sessions, alices, "bob", now=opens).liked
    with sessions.begin() as session:
        assert not likes.set_like(session, alices, "bob", False, now=opens - timedelta(days=1)).liked


def test_racing_toggles_by_one_person_land_once(sessions, ledger):
    """A double click sent twice at once: both aim at the same next event; one lands."""
    alices = ledger.submit("alice", 0.9)
    racers = 4
    barrier = threading.Barrier(racers)
    states: list[likes.LikeState] = []
    errors: list[BaseException] = []

    def race() -> None:
        try:
            barrier.wait()
            states.append(toggle(sessions, alices, "bob"))
        except BaseException as exc:  # reported below
            errors.append(exc)

    threads = [threading.Thread(target=race) for _ in range(racers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert not errors, errors
    with sessions() as session:
        events = session.scalars(select(LikeEvent.seq).where(LikeEvent.submission_id == alices)).all()
        count = likes.like_counts(session, [alices]).get(alices, 0)
    assert len(states) == racers
    # every event is one step of a consistent toggle sequence, and the count agrees with it
    assert sorted(events) == list(range(1, len(events) + 1))
    assert count == len(events) % 2
