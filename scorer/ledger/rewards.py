"""The reward ledger: grants recorded exactly once, compensations, history, balances, and the
rewarders that failed.

Rows are never changed: a rescore, an invalidated submission or an edited rewarder adds a
*compensation* (the grant's amount negated, pointing at the grant), and balances are sums.

Exactly once: a grant's idempotency key is its challenge, phase, rewarder (index and type) and
``scope`` (what the rewarder pays once: ``submission:17``, ``person:alice``, ``rank:1``), plus
a generation that counts the grants of that scope already compensated, so that a rewarder can
pay a scope again once its earlier grant was taken back. The insert is
``INSERT … ON CONFLICT DO NOTHING`` on that key: a retried, duplicated or re-dispatched
scoring, or two workers racing, leave exactly one row on SQLite and on PostgreSQL.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from decimal import ROUND_HALF_EVEN, Decimal, InvalidOperation
from enum import StrEnum
from typing import Any

from sqlalchemy import ColumnElement, Select, and_, func, select
from sqlalchemy.orm import Session, aliased

from scorer.exceptions import InvalidReward, UnknownReward, UnknownSubmission
from scorer.ledger.entries import dialect_insert
from scorer.ledger.models import Moment, Person, Reward, RewarderFailure, RewardKind, Submission, utcnow
from scorer.ledger.store import check_commit, jsonable, person

MICRO = Decimal("0.000001")


class CompensationReason(StrEnum):
    RESCORE = "rescore"
    INVALIDATED = "invalidated"
    REWARDER_EDITED = "rewarder_edited"


@dataclass(frozen=True)
class Grant:
    """What a rewarder decided to pay, as the ledger records it.

    ``amount`` is positive (rounded to millionths); ``evidence`` says why (metric values, the
    rule that fired) and must be JSON.
    """

    challenge_id: str
    phase_id: str
    person: str
    rewarder_type: str
    rewarder_index: int
    scope: str
    amount: Decimal
    unit: str
    evidence: Mapping[str, Any]
    moment: Moment = Moment.LIVE
    submission_id: int | None = None
    commit_sha: str | None = None


@dataclass(frozen=True)
class RewardView:
    id: int
    kind: RewardKind
    compensates: int | None
    at: datetime
    challenge_id: str
    phase_id: str
    person: str
    rewarder_type: str
    rewarder_index: int
    moment: Moment
    scope: str
    amount: Decimal
    unit: str
    submission_id: int | None
    commit_sha: str | None
    evidence: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Recorded:
    """The row of a grant or compensation, and whether this call added it (``False``: it
    existed already, recorded by an earlier or a racing call)."""

    reward: RewardView
    created: bool


@dataclass(frozen=True)
class Balance:
    person: str
    unit: str
    amount: Decimal


@dataclass(frozen=True)
class FailureView:
    id: int
    at: datetime
    phase_id: str
    rewarder_type: str
    rewarder_index: int
    moment: Moment
    submission_id: int | None
    error: str


def to_micro(amount: Decimal | int | float | str) -> int:
    try:
        exact = Decimal(str(amount)).quantize(MICRO, rounding=ROUND_HALF_EVEN)
    except InvalidOperation as exc:
        raise InvalidReward(f"a reward amount must be a number, not {amount!r}") from exc
    if not exact.is_finite() or exact <= 0:
        raise InvalidReward(f"a granted amount must be positive, not {amount!r}")
    return int(exact / MICRO)


def grant_key(grant: Grant, generation: int) -> str:
    return (
        f"{grant.challenge_id}/{grant.phase_id}/{grant.rewarder_index}:{grant.rewarder_type}"
        f"/{grant.scope}#{generation}"
    )


def record_grant(session: Session, grant: Grant, *, now: datetime | None = None) -> Recorded:
    """Record ``grant`` unless the same grant is recorded already; the row either way."""
    amount = to_micro(grant.amount)
    if not grant.scope:
        raise InvalidReward("a grant needs a scope (what the rewarder pays once)")
    if grant.submission_id is not None:
        _check_submission(session, grant)
    values = {
        "kind": RewardKind.GRANT,
        "at": now or utcnow(),
        "challenge_id": grant.challenge_id,
        "phase_id": grant.phase_id,
        "person_id": person(session, grant.person).id,
        "rewarder_type": grant.rewarder_type,
        "rewarder_index": grant.rewarder_index,
        "moment": grant.moment,
        "scope": grant.scope,
        "amount_micro": amount,
        "unit": grant.unit,
        "submission_id": grant.submission_id,
        "commit_sha": check_commit(grant.commit_sha) if grant.commit_sha is not None else None,
        "evidence": jsonable(grant.evidence),
    }
    key = grant_key(grant, _compensated_in_scope(session, grant))
    return _insert_once(session, key, values)


def compensate(
    session: Session,
    reward_id: int,
    reason: CompensationReason,
    detail: Mapping[str, Any] | None = None,
    *,
    now: datetime | None = None,
) -> Recorded:
    """Offset grant ``reward_id`` by a row of its negated amount; compensating it again
    returns the first compensation (``created`` false)."""
    grant = session.get(Reward, reward_id)
    if grant is None:
        raise UnknownReward(reward_id)
    if grant.kind is not RewardKind.GRANT:
        raise InvalidReward(f"reward {reward_id} is a compensation: only a grant can be compensated")
    values = {
        "kind": RewardKind.COMPENSATION,
        "compensates": grant.id,
        "at": now or utcnow(),
        "challenge_id": grant.challenge_id,
        "phase_id": grant.phase_id,
        "person_id": grant.person_id,
        "rewarder_type": grant.rewarder_type,
        "rewarder_index": grant.rewarder_index,
        "moment": grant.moment,
        "scope": grant.scope,
        "amount_micro": -grant.amount_micro,
        "unit": grant.unit,
        "submission_id": grant.submission_id,
        "commit_sha": grant.commit_sha,
        "evidence": {**jsonable(detail or {}), "reason": reason.value},  # the code, never a detail's
    }
    return _insert_once(session, f"compensation:{grant.id}", values)


def compensate_submission(
    session: Session,
    submission_id: int,
    reason: CompensationReason,
    detail: Mapping[str, Any] | None = None,
    *,
    now: datetime | None = None,
) -> list[Recorded]:
    """Compensate every grant made for ``submission_id`` not compensated yet (a rescore, an
    invalidated submission)."""
    ids = session.scalars(_open_grants(Reward.submission_id == submission_id)).all()
    return [compensate(session, reward_id, reason, detail, now=now) for reward_id in ids]


def compensate_rewarder(
    session: Session,
    challenge_id: str,
    phase_id: str,
    rewarder_index: int,
    reason: CompensationReason,
    detail: Mapping[str, Any] | None = None,
    *,
    now: datetime | None = None,
) -> list[Recorded]:
    """Compensate every open grant of one rewarder of a phase (the rewarder was edited)."""
    ids = session.scalars(
        _open_grants(
            Reward.challenge_id == challenge_id,
            Reward.phase_id == phase_id,
            Reward.rewarder_index == rewarder_index,
        )
    ).all()
    return [compensate(session, reward_id, reason, detail, now=now) for reward_id in ids]


def history(
    session: Session,
    challenge_id: str,
    *,
    phase_id: str | None = None,
    person: str | None = None,
) -> list[RewardView]:
    """Grants and compensations of a challenge, oldest first, optionally of one phase and
    one person."""
    query = (
        select(Reward, Person.username)
        .join(Person, Person.id == Reward.person_id)
        .where(*_filters(challenge_id, phase_id, person))
        .order_by(Reward.id)
    )
    return [_view(row, username) for row, username in session.execute(query)]


def balances(
    session: Session,
    challenge_id: str,
    *,
    phase_id: str | None = None,
    person: str | None = None,
) -> list[Balance]:
    """Each person's sum of grants and compensations per unit, by person then unit."""
    query = (
        select(Person.username, Reward.unit, func.sum(Reward.amount_micro))
        .join(Person, Person.id == Reward.person_id)
        .where(*_filters(challenge_id, phase_id, person))
        .group_by(Person.username, Reward.unit)
        .order_by(Person.username, Reward.unit)
    )
    return [Balance(name, unit, _amount(total)) for name, unit, total in session.execute(query)]


def record_rewarder_failure(
    session: Session,
    *,
    challenge_id: str,
    phase_id: str,
    rewarder_type: str,
    rewarder_index: int,
    moment: Moment,
    submission_id: int | None,
    error: str,
    now: datetime | None = None,
) -> int:
    """Record that a rewarder raised (``error``: its type and message); the record's id."""
    row = RewarderFailure(
        at=now or utcnow(),
        challenge_id=challenge_id,
        phase_id=phase_id,
        rewarder_type=rewarder_type,
        rewarder_index=rewarder_index,
        moment=moment,
        submission_id=submission_id,
        error=error,
    )
    session.add(row)
    session.flush()
    return row.id


def rewarder_failures(session: Session, challenge_id: str, phase_id: str) -> list[FailureView]:
    """A phase's rewarder failures, oldest first."""
    rows = session.scalars(
        select(RewarderFailure)
        .where(RewarderFailure.challenge_id == challenge_id, RewarderFailure.phase_id == phase_id)
        .order_by(RewarderFailure.id)
    )
    return [
        FailureView(
            row.id,
            row.at,
            row.phase_id,
            row.rewarder_type,
            row.rewarder_index,
            row.moment,
            row.submission_id,
            row.error,
        )
        for row in rows
    ]


def _insert_once(session: Session, key: str, values: dict[str, Any]) -> Recorded:
    insert = dialect_insert(session)(Reward).values(idempotency_key=key, **values)
    inserted = session.execute(
        insert.on_conflict_do_nothing(index_elements=["idempotency_key"]).returning(Reward.id)
    ).scalar_one_or_none()
    row, username = session.execute(
        select(Reward, Person.username)
        .join(Person, Person.id == Reward.person_id)
        .where(Reward.idempotency_key == key)
        .execution_options(populate_existing=True)
    ).one()
    return Recorded(_view(row, username), created=inserted is not None)


def _check_submission(session: Session, grant: Grant) -> None:
    sub = session.get(Submission, grant.submission_id)
    if sub is None:
        raise UnknownSubmission(grant.submission_id or 0)
    if (sub.challenge_id, sub.phase_id) != (grant.challenge_id, grant.phase_id):
        raise InvalidReward(
            f"submission {sub.id} belongs to {sub.challenge_id}/{sub.phase_id}, "
            f"not to {grant.challenge_id}/{grant.phase_id}"
        )


def _compensated_in_scope(session: Session, grant: Grant) -> int:
    compensation = aliased(Reward)
    return (
        session.scalar(
            select(func.count())
            .select_from(Reward)
            .join(compensation, compensation.compensates == Reward.id)
            .where(
                Reward.challenge_id == grant.challenge_id,
                Reward.phase_id == grant.phase_id,
                Reward.rewarder_index == grant.rewarder_index,
                Reward.rewarder_type == grant.rewarder_type,
                Reward.scope == grant.scope,
            )
        )
        or 0
    )


def _open_grants(*where: ColumnElement[bool]) -> Select[int]:
    """Ids of the grants matching ``where`` that no compensation offsets yet."""
    compensation = aliased(Reward)
    return (
        select(Reward.id)
        .outerjoin(compensation, compensation.compensates == Reward.id)
        .where(and_(Reward.kind == RewardKind.GRANT, compensation.id.is_(None), *where))
        .order_by(Reward.id)
    )


def _filters(challenge_id: str, phase_id: str | None, username: str | None) -> list[ColumnElement[bool]]:
    where = [Reward.challenge_id == challenge_id]
    if phase_id is not None:
        where.append(Reward.phase_id == phase_id)
    if username is not None:
        where.append(Person.username == username)
    return where


def _amount(micro: int | None) -> Decimal:
    return Decimal(micro or 0) * MICRO


def _view(row: Reward, username: str) -> RewardView:
    return RewardView(
        id=row.id,
        kind=row.kind,
        compensates=row.compensates,
        at=row.at,
        challenge_id=row.challenge_id,
        phase_id=row.phase_id,
        person=username,
        rewarder_type=row.rewarder_type,
        rewarder_index=row.rewarder_index,
        moment=row.moment,
        scope=row.scope,
        amount=_amount(row.amount_micro),
        unit=row.unit,
        submission_id=row.submission_id,
        commit_sha=row.commit_sha,
        evidence=row.evidence,
    )
