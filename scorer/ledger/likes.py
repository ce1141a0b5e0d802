"""Likes: one per person per submission, toggled, kept as append-only like/unlike events.

Likes are not money, but the ledger keeps what people did rather than overwriting it: each
change is a :class:`~scorer.ledger.models.LikeEvent` numbered from 1 per person and
submission, and whether someone likes a submission now is their latest event. Two racing
changes by one person (a double click) both aim at the same next number; the primary key lets
one land and the other returns the state it left.

A like needs a submission that was scored, by someone else, whose code every participant may
read (the phase's ``open_code``): a like says "this solution helped me", so the solution must
be there to read. Unliking is always allowed.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Select, func, select
from sqlalchemy.orm import Session

from scorer.exceptions import LikeRefused, UnknownSubmission
from scorer.ledger.entries import dialect_insert
from scorer.ledger.models import LikeEvent, Person, Submission, SubmissionStatus, utcnow
from scorer.ledger.queries import code_visible, load_challenge, phase_of
from scorer.ledger.store import person


@dataclass(frozen=True)
class LikeState:
    submission_id: int
    liked: bool
    count: int


def set_like(
    session: Session, submission_id: int, username: str, liked: bool, *, now: datetime | None = None
) -> LikeState:
    """Make ``username`` like (or no longer like) the submission; nothing changes if they
    already do (or don't)."""
    moment = now or utcnow()
    sub = session.get(Submission, submission_id)
    if sub is None:
        raise UnknownSubmission(submission_id)
    viewer = person(session, username)
    if liked:
        _check_likeable(session, sub, viewer.id, moment)
    seq, current = _latest(session, submission_id, viewer.id)
    if current != liked:
        insert = dialect_insert(session)(LikeEvent).values(
            submission_id=submission_id, person_id=viewer.id, seq=seq + 1, liked=liked, at=moment
        )
        session.execute(insert.on_conflict_do_nothing())
    return LikeState(
        submission_id, _latest(session, submission_id, viewer.id)[1], _count(session, submission_id)
    )


def toggle_like(
    session: Session, submission_id: int, username: str, *, now: datetime | None = None
) -> LikeState:
    """Like the submission if ``username`` does not, unlike it if they do."""
    viewer = person(session, username)
    return set_like(
        session, submission_id, username, not _latest(session, submission_id, viewer.id)[1], now=now
    )


def like_counts(session: Session, submission_ids: Iterable[int]) -> dict[int, int]:
    """How many people like each submission now (submissions nobody likes are absent)."""
    current = _current_likes().subquery()
    rows = session.execute(
        select(current.c.submission_id, func.count())
        .where(current.c.submission_id.in_(list(submission_ids)))
        .group_by(current.c.submission_id)
    )
    return {submission_id: count for submission_id, count in rows}


def likers(session: Session, submission_ids: Iterable[int]) -> dict[int, frozenset[str]]:
    """Who likes each submission now (submissions nobody likes are absent)."""
    current = _current_likes().subquery()
    rows = session.execute(
        select(current.c.submission_id, Person.username)
        .join(Person, Person.id == current.c.person_id)
        .where(current.c.submission_id.in_(list(submission_ids)))
    )
    found: dict[int, set[str]] = {}
    for submission_id, username in rows:
        found.setdefault(submission_id, set()).add(username)
    return {submission_id: frozenset(names) for submission_id, names in found.items()}


def likes_given(session: Session, username: str) -> list[int]:
    """The submissions ``username`` likes now, in id order."""
    current = _current_likes().subquery()
    return list(
        session.scalars(
            select(current.c.submission_id)
            .join(Person, Person.id == current.c.person_id)
            .where(Person.username == username)
            .order_by(current.c.submission_id)
        )
    )


def likes_received(session: Session, challenge_id: str, phase_id: str) -> dict[str, int]:
    """Per author, the likes their submissions of a phase hold now (authors without any are
    absent)."""
    current = _current_likes().subquery()
    rows = session.execute(
        select(Person.username, func.count())
        .select_from(current)
        .join(Submission, Submission.id == current.c.submission_id)
        .join(Person, Person.id == Submission.person_id)
        .where(Submission.challenge_id == challenge_id, Submission.phase_id == phase_id)
        .group_by(Person.username)
    )
    return {username: count for username, count in rows}


def _check_likeable(session: Session, sub: Submission, viewer_id: int, now: datetime) -> None:
    if sub.person_id == viewer_id:
        raise LikeRefused("own-submission", sub.id, "you cannot like your own submission")
    if sub.status is not SubmissionStatus.SCORED:
        raise LikeRefused(
            "not-scored",
            sub.id,
            f"submission {sub.id} is {sub.status.value}: only scored submissions can be liked",
        )
    phase = phase_of(load_challenge(session, sub.challenge_id), sub.phase_id)
    if not code_visible(phase, now=now, viewer_is_author=False, viewer_is_organiser=False):
        raise LikeRefused(
            "code-closed",
            sub.id,
            f"solutions of phase {phase.id!r} are not open yet: a submission can be liked once its code is",
        )


def _latest(session: Session, submission_id: int, person_id: int) -> tuple[int, bool]:
    """The number of ``person_id``'s latest event on the submission (0: none) and whether they
    like it."""
    row = session.execute(
        select(LikeEvent.seq, LikeEvent.liked)
        .where(LikeEvent.submission_id == submission_id, LikeEvent.person_id == person_id)
        .order_by(LikeEvent.seq.desc())
        .limit(1)
    ).one_or_none()
    return (0, False) if row is None else (row.seq, row.liked)


def _current_likes() -> Select[int, int]:
    """``(submission_id, person_id)`` of every like in force: latest events that like."""
    latest = (
        select(LikeEvent.submission_id, LikeEvent.person_id, func.max(LikeEvent.seq).label("seq"))
        .group_by(LikeEvent.submission_id, LikeEvent.person_id)
        .subquery()
    )
    return (
        select(LikeEvent.submission_id, LikeEvent.person_id)
        .join(
            latest,
            (latest.c.submission_id == LikeEvent.submission_id)
            & (latest.c.person_id == LikeEvent.person_id)
            & (latest.c.seq == LikeEvent.seq),
        )
        .where(LikeEvent.liked.is_(True))
    )


def _count(session: Session, submission_id: int) -> int:
    return like_counts(session, [submission_id]).get(submission_id, 0)
