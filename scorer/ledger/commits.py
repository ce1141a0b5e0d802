"""Attribution in the ledger: commits as they first arrived, and people's email aliases.

Credit goes to the pusher (from the token) and to co-authors named by ``Co-authored-by:``
trailers whose email the platform knows as theirs; never to an author line.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import UTC, datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from scorer.ingest.attribution import CommitFacts
from scorer.ledger.entries import dialect_insert
from scorer.ledger.models import CommitRow, EmailAlias, Person
from scorer.ledger.store import check_commit, person


def record_commits(
    session: Session,
    challenge_id: str,
    *,
    pusher: str,
    ref: str,
    commits: Sequence[CommitFacts],
    now: datetime | None = None,
) -> list[str]:
    """Record the commits that arrive for the first time; returns their SHAs, in order.

    A commit already known keeps its first pusher: pushing someone else's commit again (or
    under a forged author line) claims nothing.
    """
    if not commits:
        return []
    pusher_id = person(session, pusher).id
    moment = now or datetime.now(UTC)
    rows = [
        {
            "challenge_id": challenge_id,
            "sha": check_commit(c.sha),
            "pusher_id": pusher_id,
            "pushed_at": moment,
            "ref": ref,
            "parents": list(c.parents),
            "author_name": c.author.name,
            "author_email": c.author.email,
            "committer_name": c.committer.name,
            "committer_email": c.committer.email,
            "committed_at": c.committed_at,
            "co_authors": [{"name": p.name, "email": p.email} for p in c.co_authors],
            "notebooks": dict(c.notebooks),
        }
        for c in commits
    ]
    statement = (
        dialect_insert(session)(CommitRow).values(rows).on_conflict_do_nothing().returning(CommitRow.sha)
    )
    new = set(session.execute(statement).scalars())
    return [c.sha for c in commits if c.sha in new]


def add_alias(session: Session, username: str, email: str) -> None:
    """Record that ``email`` belongs to ``username`` (first claim wins; verify before calling)."""
    insert = dialect_insert(session)(EmailAlias).values(
        email=email.strip().lower(), person_id=person(session, username).id, created_at=datetime.now(UTC)
    )
    session.execute(insert.on_conflict_do_nothing())


def credited(session: Session, challenge_id: str, sha: str) -> list[str]:
    """Who shares a commit's credit: its pusher, then co-authors known by alias."""
    row = session.get(CommitRow, (challenge_id, sha))
    if row is None:
        return []
    pusher = session.get(Person, row.pusher_id)
    people = [pusher.username] if pusher else []
    emails = [entry["email"] for entry in row.co_authors]
    known = aliases(session, emails)
    people += [known[e] for e in emails if e in known and known[e] not in people]
    return people


def aliases(session: Session, emails: Iterable[str]) -> dict[str, str]:
    """The verified person (username) of each of ``emails`` the platform knows."""
    wanted = list(dict.fromkeys(emails))
    if not wanted:
        return {}
    rows = session.execute(
        select(EmailAlias.email, Person.username)
        .join(Person, Person.id == EmailAlias.person_id)
        .where(EmailAlias.email.in_(wanted))
    )
    return {email: username for email, username in rows}
