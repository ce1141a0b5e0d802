"""Settlements: a phase's rewards closed on private scores, once per phase (append-only)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from scorer.exceptions import AlreadySettled
from scorer.ledger.entries import dialect_insert
from scorer.ledger.models import Settlement, utcnow
from scorer.ledger.store import jsonable


@dataclass(frozen=True)
class SettlementView:
    id: int
    challenge_id: str
    phase_id: str
    at: datetime
    actor: str
    summary: dict[str, Any]


def record_settlement(
    session: Session,
    challenge_id: str,
    phase_id: str,
    actor: str,
    summary: Mapping[str, Any],
    *,
    now: datetime | None = None,
) -> SettlementView:
    """Record the phase's settlement; a second one (or one that lost a race) raises
    :class:`AlreadySettled` naming the first."""
    insert = dialect_insert(session)(Settlement).values(
        challenge_id=challenge_id,
        phase_id=phase_id,
        at=now or utcnow(),
        actor=actor,
        summary=jsonable(summary),
    )
    inserted = session.execute(
        insert.on_conflict_do_nothing(index_elements=["challenge_id", "phase_id"]).returning(Settlement.id)
    ).scalar_one_or_none()
    found = settlement_of(session, challenge_id, phase_id)
    assert found is not None  # inserted now or earlier: the unique key holds one row
    if inserted is None:
        raise already_settled(found)
    return found


def already_settled(first: SettlementView) -> AlreadySettled:
    return AlreadySettled(first.challenge_id, first.phase_id, first.id, first.at, first.actor)


def settlement_of(session: Session, challenge_id: str, phase_id: str) -> SettlementView | None:
    row = session.scalar(
        select(Settlement).where(Settlement.challenge_id == challenge_id, Settlement.phase_id == phase_id)
    )
    return None if row is None else _view(row)


def settlements(session: Session, challenge_id: str | None = None) -> list[SettlementView]:
    """Every settlement (of one challenge when given), oldest first."""
    query = select(Settlement).order_by(Settlement.id)
    if challenge_id is not None:
        query = query.where(Settlement.challenge_id == challenge_id)
    return [_view(row) for row in session.scalars(query)]


def _view(row: Settlement) -> SettlementView:
    return SettlementView(row.id, row.challenge_id, row.phase_id, row.at, row.actor, row.summary)
