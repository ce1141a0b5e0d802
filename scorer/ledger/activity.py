"""How much each challenge is used, for the list of challenges (the dashboards order by it)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from coop_client.utc import as_utc
from scorer.ledger.models import Person, Submission
from scorer.ledger.reward_views import BASELINE_PERSON


@dataclass(frozen=True)
class Activity:
    """A challenge's participants' own submissions: how many people, how many, the latest."""

    participants: int
    submissions: int
    last_at: datetime | None


def per_challenge(session: Session) -> dict[str, Activity]:
    """Per challenge that has any: submissions people made (rescores, reproduction runs and the
    baseline's runner left out)."""
    query = (
        select(
            Submission.challenge_id,
            func.count(func.distinct(Submission.person_id)),
            func.count(Submission.id),
            func.max(Submission.created_at),
        )
        .join(Person, Person.id == Submission.person_id)
        .where(Submission.rescore_of.is_(None), Submission.reproduces.is_(None))
        .where(Person.username != BASELINE_PERSON)
        .group_by(Submission.challenge_id)
    )
    return {
        challenge: Activity(people, count, as_utc(last) if last else None)
        for challenge, people, count, last in session.execute(query)
    }
