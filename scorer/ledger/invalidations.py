"""Submissions organisers marked as exploits: recorded once (append-only), and left out of the
leaderboards (:mod:`scorer.ledger.entries`), of credit and of rewards.

An invalidation covers the submission and its rescores (``rescore_of``): the same notebook at
the same commit scored again is the same exploit.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import ColumnElement, and_, or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from scorer.exceptions import AlreadyInvalidated, OrganiseError, UnknownSubmission
from scorer.ledger.models import Invalidation, Submission, utcnow


@dataclass(frozen=True)
class InvalidationView:
    id: int
    submission_id: int
    at: datetime
    actor: str
    reason: str


def invalidate(
    session: Session, submission_id: int, actor: str, reason: str, *, now: datetime | None = None
) -> InvalidationView:
    """Record that ``actor`` invalidated ``submission_id`` for ``reason``; a second
    invalidation (or one that lost a race) raises :class:`AlreadyInvalidated`."""
    reason = reason.strip()
    if not reason:
        raise OrganiseError("say why the submission is invalidated: the reason is empty")
    if session.get(Submission, submission_id) is None:
        raise UnknownSubmission(submission_id)
    first = invalidation_of(session, submission_id)
    if first is None:
        row = Invalidation(submission_id=submission_id, at=now or utcnow(), actor=actor, reason=reason)
        try:
            with session.begin_nested():  # a racing invalidation trips the unique key
                session.add(row)
            return _view(row)
        except IntegrityError:
            first = invalidation_of(session, submission_id)
            if first is None:
                raise
    raise AlreadyInvalidated(submission_id, first.at, first.actor)


def invalidation_of(session: Session, submission_id: int) -> InvalidationView | None:
    """The invalidation of ``submission_id`` itself, if any."""
    row = session.scalar(select(Invalidation).where(Invalidation.submission_id == submission_id))
    return None if row is None else _view(row)


def is_invalidated() -> ColumnElement[bool]:
    """A condition on :class:`Submission`: it, or the original it rescores, is invalidated."""
    invalid = select(Invalidation.submission_id)
    # ``rescore_of IN (…)`` alone is NULL for an original, and NOT NULL would drop it too.
    rescores_one = and_(Submission.rescore_of.is_not(None), Submission.rescore_of.in_(invalid))
    return or_(Submission.id.in_(invalid), rescores_one)


def invalidated_ids(session: Session, challenge_id: str, phase_id: str) -> set[int]:
    """The phase's submissions left out because of an invalidation (rescores of an invalidated
    submission included): credit and reward views exclude them."""
    return set(
        session.scalars(
            select(Submission.id).where(
                Submission.challenge_id == challenge_id, Submission.phase_id == phase_id, is_invalidated()
            )
        )
    )


def _view(row: Invalidation) -> InvalidationView:
    return InvalidationView(row.id, row.submission_id, row.at, row.actor, row.reason)
