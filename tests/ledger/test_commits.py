"""Attribution in the ledger, on SQLite and PostgreSQL: the pusher, never the author line."""

from __future__ import annotations

import pytest
from sqlalchemy import update
from sqlalchemy.exc import DBAPIError

from scorer.exceptions import AppendOnlyViolation
from scorer.ingest.attribution import CommitFacts, Person
from scorer.ledger.commits import add_alias, credited, record_commits
from scorer.ledger.models import CommitRow


def facts(sha: str, *, author: str = "alice", co: tuple[Person, ...] = ()) -> CommitFacts:
    who = Person(author, f"{author}@example.org")
    return CommitFacts(sha, (), who, who, 1_700_000_000, "msg", co, {"solutions/a/x.ipynb": "f" * 64})


def test_the_pusher_is_credited_whatever_the_author_line_says(sessions, challenge):
    forged = facts("a" * 40, author="famous-physicist")
    with sessions.begin() as session:
        assert record_commits(
            session, challenge.id, pusher="mallory", ref="refs/heads/mallory/x", commits=[forged]
        ) == ["a" * 40]
    with sessions() as session:
        assert credited(session, challenge.id, "a" * 40) == ["mallory"]
        row = session.get(CommitRow, (challenge.id, "a" * 40))
        assert row.author_name == "famous-physicist"  # kept as a claim, nothing more
        assert row.notebooks == {"solutions/a/x.ipynb": "f" * 64}


def test_the_first_arrival_keeps_the_commit(sessions, challenge):
    with sessions.begin() as session:
        record_commits(
            session, challenge.id, pusher="alice", ref="refs/heads/alice/x", commits=[facts("b" * 40)]
        )
    with sessions.begin() as session:  # bob pushes alice's commit again, plus one of his own
        new = record_commits(
            session,
            challenge.id,
            pusher="bob",
            ref="refs/heads/bob/y",
            commits=[facts("b" * 40), facts("c" * 40, author="bob")],
        )
        assert new == ["c" * 40]
    with sessions() as session:
        assert credited(session, challenge.id, "b" * 40) == ["alice"]
        assert credited(session, challenge.id, "c" * 40) == ["bob"]


def test_co_authors_share_credit_only_through_server_side_aliases(sessions, challenge):
    trailer = (Person("Carol", "carol@uni.example"), Person("Stranger", "who@else.example"))
    with sessions.begin() as session:
        add_alias(session, "carol", "Carol@Uni.example")
        record_commits(
            session,
            challenge.id,
            pusher="alice",
            ref="refs/heads/alice/x",
            commits=[facts("d" * 40, co=trailer)],
        )
    with sessions() as session:
        assert credited(session, challenge.id, "d" * 40) == ["alice", "carol"]


def test_commits_are_append_only(sessions, challenge):
    with sessions.begin() as session:
        record_commits(session, challenge.id, pusher="alice", ref="r", commits=[facts("e" * 40)])
    with pytest.raises(AppendOnlyViolation), sessions.begin() as session:
        session.execute(update(CommitRow).values(pusher_id=1))
    with pytest.raises(DBAPIError), sessions.begin() as session:  # below the ORM too
        session.connection().exec_driver_sql("UPDATE commits SET ref = 'x'")
