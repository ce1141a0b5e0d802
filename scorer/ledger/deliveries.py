"""Forge webhook deliveries, each recorded once per ``(forge, delivery_id)`` with what it led to.

A replayed delivery finds its record and creates nothing. Two scorer processes taking the same
delivery at once both try to record it; the database's primary key lets exactly one commit.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from scorer.exceptions import DuplicateDelivery
from scorer.ledger.models import WebhookDelivery


def recorded_delivery(session: Session, forge: str, delivery_id: str) -> WebhookDelivery | None:
    """The delivery as recorded (``received_at``, ``outcome``), or ``None`` for a new one."""
    return session.get(WebhookDelivery, (forge, delivery_id))


def record_delivery(
    session: Session,
    *,
    forge: str,
    delivery_id: str,
    challenge_id: str,
    event: str,
    received_at: datetime,
    outcome: dict[str, Any],
) -> None:
    """Record a delivery and its outcome in the caller's transaction, last (the insert is
    flushed at once). Raises :class:`DuplicateDelivery` when another process recorded the same
    delivery first; the caller's transaction must then end without committing."""
    session.add(
        WebhookDelivery(
            forge=forge,
            delivery_id=delivery_id,
            challenge_id=challenge_id,
            event=event,
            received_at=received_at,
            outcome=outcome,
        )
    )
    try:
        session.flush()
    except IntegrityError as exc:
        raise DuplicateDelivery(forge, delivery_id) from exc
