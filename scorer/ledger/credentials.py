"""Federation in the ledger: credentials imported from other instances (once per issuer and
``jti``) and the link codes that name a person here in another instance's credentials."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import func, select, tuple_, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from scorer.exceptions import CredentialReplayed
from scorer.ledger.models import ImportedCredential, LinkCode, Person, utcnow
from scorer.ledger.store import person


@dataclass(frozen=True)
class LinkView:
    """Whose a link code is, until when it may link, and the login it linked (once imported)."""

    person: str
    expires_at: datetime
    issuer: str | None
    issued_to: str | None


@dataclass(frozen=True)
class LinkCodeTimes:
    created_at: datetime
    expires_at: datetime


@dataclass(frozen=True)
class NewCredential:
    """A verified credential, as the ledger keeps it."""

    issuer: str
    jti: str
    issued_to: str
    kind: str
    name: str
    skills: tuple[str, ...]
    evidence_url: str
    payload: dict[str, Any]
    token: str
    issued_at: datetime
    expires_at: datetime


@dataclass(frozen=True)
class ImportedView:
    """A credential from another instance on a person's record here, marked with its issuer."""

    id: int
    person: str
    issuer: str
    jti: str
    issued_to: str
    kind: str
    name: str
    skills: tuple[str, ...]
    evidence_url: str
    issued_at: datetime
    expires_at: datetime
    imported_at: datetime
    token: str


def add_link_code(
    session: Session, username: str, code_hash: str, expires_at: datetime, *, now: datetime | None = None
) -> None:
    owner = person(session, username).id
    made = now or utcnow()
    session.add(LinkCode(code_hash=code_hash, person_id=owner, created_at=made, expires_at=expires_at))
    session.flush()


def live_link_codes(session: Session, username: str, *, now: datetime) -> list[LinkCodeTimes]:
    """When each of ``username``'s link codes unexpired at ``now`` was made and expires, oldest
    first. The person's row stays locked until the transaction ends (on PostgreSQL), so that
    requests at once each count the others' codes."""
    owner = person(session, username).id
    session.execute(select(Person.id).where(Person.id == owner).with_for_update())
    rows = session.execute(
        select(LinkCode.created_at, LinkCode.expires_at)
        .where(LinkCode.person_id == owner, LinkCode.expires_at > now)
        .order_by(LinkCode.created_at)
    )
    return [LinkCodeTimes(created_at, expires_at) for created_at, expires_at in rows]


def link_code(session: Session, code_hash: str) -> LinkView | None:
    found = session.execute(
        select(LinkCode, Person.username)
        .join(Person, Person.id == LinkCode.person_id)
        .where(LinkCode.code_hash == code_hash)
    ).one_or_none()
    if found is None:
        return None
    row, username = found
    return LinkView(username, row.expires_at, row.issuer, row.issued_to)


def bind_link(session: Session, code_hash: str, issuer: str, issued_to: str) -> None:
    """Link the code to the login it named at ``issuer`` (its first import; a code linked
    already keeps its link): later imports through it must come from the same login."""
    session.execute(
        update(LinkCode)
        .where(LinkCode.code_hash == code_hash, LinkCode.issuer.is_(None))
        .values(issuer=issuer, issued_to=issued_to)
    )


def imported_already(session: Session, keys: Iterable[tuple[str, str]]) -> set[tuple[str, str]]:
    """Which ``(issuer, jti)`` pairs are on record."""
    wanted = list(keys)
    if not wanted:
        return set()
    found = session.execute(
        select(ImportedCredential.issuer, ImportedCredential.jti).where(
            tuple_(ImportedCredential.issuer, ImportedCredential.jti).in_(wanted)
        )
    )
    return {(issuer, jti) for issuer, jti in found}


def store_imported(
    session: Session, username: str, credentials: Sequence[NewCredential], *, now: datetime | None = None
) -> list[ImportedView]:
    """Record the credentials for ``username``; a pair already on record violates the unique
    constraint (the caller checked it with :func:`imported_already`, in the same transaction)."""
    owner = person(session, username)
    moment = now or utcnow()
    rows = [
        ImportedCredential(
            person_id=owner.id,
            issuer=c.issuer,
            jti=c.jti,
            issued_to=c.issued_to,
            kind=c.kind,
            name=c.name,
            skills=list(c.skills),
            evidence_url=c.evidence_url,
            payload=c.payload,
            token=c.token,
            issued_at=c.issued_at,
            expires_at=c.expires_at,
            imported_at=moment,
        )
        for c in credentials
    ]
    try:
        with session.begin_nested():
            session.add_all(rows)
    except IntegrityError:  # a concurrent import of the same credential won the race
        raise CredentialReplayed("these credentials were imported already") from None
    return [_view(row, username) for row in rows]


def imported_credentials(session: Session, username: str) -> list[ImportedView]:
    """The credentials ``username`` imported from other instances, oldest import first (none for
    a person this instance does not know)."""
    rows = session.scalars(
        select(ImportedCredential)
        .join(Person, Person.id == ImportedCredential.person_id)
        .where(Person.username == username)
        .order_by(ImportedCredential.id)
    )
    return [_view(row, username) for row in rows]


def imported_skills(session: Session, *, now: datetime) -> list[tuple[str, str, str]]:
    """Every ``(person, issuer, skill)`` of the imported credentials not expired at ``now``
    (what search counts, marked as from elsewhere)."""
    rows = session.execute(
        select(Person.username, ImportedCredential.issuer, ImportedCredential.skills)
        .join(Person, Person.id == ImportedCredential.person_id)
        .where(ImportedCredential.expires_at > now)
        .order_by(ImportedCredential.id)
    )
    return [(username, issuer, str(skill)) for username, issuer, skills in rows for skill in skills]


def expired_count(session: Session, *, now: datetime) -> int:
    """How many imported credentials have expired at ``now`` (a search index keyed by it drops
    them as they expire)."""
    return (
        session.scalar(
            select(func.count()).select_from(ImportedCredential).where(ImportedCredential.expires_at <= now)
        )
        or 0
    )


def _view(row: ImportedCredential, username: str) -> ImportedView:
    return ImportedView(
        id=row.id,
        person=username,
        issuer=row.issuer,
        jti=row.jti,
        issued_to=row.issued_to,
        kind=row.kind,
        name=row.name,
        skills=tuple(row.skills),
        evidence_url=row.evidence_url,
        issued_at=row.issued_at,
        expires_at=row.expires_at,
        imported_at=row.imported_at,
        token=row.token,
    )
