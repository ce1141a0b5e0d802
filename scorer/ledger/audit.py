"""The organisers' audit trail: who changed what in a challenge through the API, and when.

Each change (open a phase, edit a rewarder, rescore a phase) is one append-only
:class:`~scorer.ledger.models.AuditEvent`, written in the caller's transaction so that it
commits only together with the change it records.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from scorer.ledger.models import AuditEvent, Person
from scorer.ledger.store import person


@dataclass(frozen=True)
class AuditEntry:
    id: int
    at: datetime
    actor: str
    challenge: str
    action: str
    detail: dict[str, Any]


def record_audit_event(
    session: Session, actor: str, challenge_id: str, action: str, detail: dict[str, Any]
) -> int:
    """Record that ``actor`` made ``action`` on the challenge; the new event's id."""
    event = AuditEvent(
        actor_id=person(session, actor).id, challenge_id=challenge_id, action=action, detail=detail
    )
    session.add(event)
    session.flush()
    return event.id


def audit_events(session: Session, challenge_id: str, *, limit: int = 100) -> list[AuditEntry]:
    """The challenge's latest ``limit`` audit events, newest first."""
    rows = session.execute(
        select(AuditEvent, Person.username)
        .join(Person, Person.id == AuditEvent.actor_id)
        .where(AuditEvent.challenge_id == challenge_id)
        .order_by(AuditEvent.id.desc())
        .limit(limit)
    ).all()
    return [
        AuditEntry(event.id, event.at, name, challenge_id, event.action, event.detail) for event, name in rows
    ]
