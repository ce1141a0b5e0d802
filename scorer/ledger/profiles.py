"""Profiles in the ledger: what a person says about themselves (a row once they edit it), whether
they hide it, and the phases they joined. Their submissions, scores, rewards and likes are read
through :mod:`~scorer.ledger.queries`, :mod:`~scorer.ledger.rewards` and
:mod:`~scorer.ledger.likes`."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import Text, cast, func, or_, select
from sqlalchemy.orm import Session

from scorer.exceptions import UnknownPerson
from scorer.ledger import store
from scorer.ledger.models import CommitRow, EmailAlias, Person, Profile, Submission, utcnow


@dataclass(frozen=True)
class ProfileFields:
    """A profile's own fields; ``display_name`` falls back to the person's hub name."""

    person: str
    display_name: str
    affiliation: str | None = None
    orcid: str | None = None
    links: list[str] = field(default_factory=list)
    hidden: bool = False
    updated_at: datetime | None = None


@dataclass(frozen=True)
class JoinedPhase:
    """A phase a person submitted to: how many submissions, the first and the last."""

    challenge_id: str
    phase_id: str
    submissions: int
    first_at: datetime
    last_at: datetime


def fields(session: Session, username: str) -> ProfileFields:
    """The person's profile fields (defaults until they edit them); :class:`UnknownPerson`."""
    row = session.execute(
        select(Person, Profile)
        .outerjoin(Profile, Profile.person_id == Person.id)
        .where(Person.username == username)
    ).first()
    if row is None:
        raise UnknownPerson(username)
    person, profile = row
    if profile is None:
        return ProfileFields(username, person.display_name)
    return _fields(username, person.display_name, profile)


def save_fields(
    session: Session,
    username: str,
    *,
    display_name: str | None,
    affiliation: str | None,
    orcid: str | None,
    links: list[str],
    hidden: bool,
    now: datetime | None = None,
) -> ProfileFields:
    """Replace the person's profile fields (the person is created on first sight)."""
    person = store.person(session, username)
    profile = session.get(Profile, person.id)
    if profile is None:
        profile = Profile(person_id=person.id)
        session.add(profile)
    profile.display_name = display_name
    profile.affiliation = affiliation
    profile.orcid = orcid
    profile.links = list(links)
    profile.hidden = hidden
    profile.updated_at = now or utcnow()
    session.flush()
    return _fields(username, person.display_name, profile)


def joined_phases(session: Session, username: str) -> list[JoinedPhase]:
    """The phases ``username`` submitted to, by challenge then first submission."""
    rows = session.execute(
        select(
            Submission.challenge_id,
            Submission.phase_id,
            func.count(),
            func.min(Submission.created_at),
            func.max(Submission.created_at),
        )
        .join(Person, Person.id == Submission.person_id)
        .where(Person.username == username)
        .group_by(Submission.challenge_id, Submission.phase_id)
    )
    found = [JoinedPhase(*row) for row in rows]
    return sorted(found, key=lambda j: (j.challenge_id, j.first_at, j.phase_id))


def coauthored_phases(session: Session, username: str) -> list[tuple[str, str]]:
    """The phases (challenge, phase) with a submitted commit whose ``Co-authored-by:`` trailer
    names one of ``username``'s verified emails, by challenge then phase."""
    emails = set(
        session.scalars(
            select(EmailAlias.email)
            .join(Person, Person.id == EmailAlias.person_id)
            .where(Person.username == username)
        )
    )
    if not emails:
        return []
    text = cast(CommitRow.co_authors, Text)
    # a coarse filter in SQL (the document's text holds the email, raw or JSON-escaped), the exact one below
    spelled = {form for email in emails for form in (email, json.dumps(email)[1:-1])}
    rows = session.execute(
        select(Submission.challenge_id, Submission.phase_id, CommitRow.co_authors)
        .join(
            CommitRow,
            (CommitRow.challenge_id == Submission.challenge_id) & (CommitRow.sha == Submission.commit_sha),
        )
        .where(or_(*(text.contains(form, autoescape=True) for form in spelled)))
    )
    return sorted(
        {(cid, pid) for cid, pid, named in rows if any(entry["email"] in emails for entry in named)}
    )


def submission_count(session: Session, username: str) -> int:
    return session.execute(
        select(func.count())
        .select_from(Submission)
        .join(Person, Person.id == Submission.person_id)
        .where(Person.username == username)
    ).scalar_one()


def _fields(username: str, hub_name: str, profile: Profile) -> ProfileFields:
    return ProfileFields(
        username,
        profile.display_name or hub_name,
        profile.affiliation,
        profile.orcid,
        list(profile.links),
        profile.hidden,
        profile.updated_at,
    )
