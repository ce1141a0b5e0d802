"""The audit trail is append-only in the database itself, not only in the ORM."""

from __future__ import annotations

import pytest
from sqlalchemy import delete, text, update
from sqlalchemy.exc import DBAPIError

from scorer.exceptions import AppendOnlyViolation
from scorer.ledger.models import SubmissionEvent


@pytest.mark.parametrize(
    "statement",
    [
        "UPDATE submission_events SET detail = '{}'",
        "UPDATE submission_events SET status_to = 'scored' WHERE id = 1",
        "DELETE FROM submission_events",
    ],
)
def test_database_refuses_changes_to_events(engine, ledger, statement):
    ledger.enqueue("alice")
    with engine.connect() as connection, pytest.raises(DBAPIError, match="append-only"):
        connection.execute(text(statement))


@pytest.mark.parametrize("backend", [pytest.param("postgresql", marks=pytest.mark.postgres)])
def test_postgresql_refuses_truncate(engine, ledger):
    ledger.enqueue("alice")
    with engine.connect() as connection, pytest.raises(DBAPIError, match="append-only"):
        connection.execute(text("TRUNCATE submission_events CASCADE"))


def test_events_still_accept_inserts(engine, sessions, ledger):
    first = ledger.enqueue("alice")
    ledger.claim(first)
    with engine.connect() as connection:
        count = connection.execute(text("SELECT count(*) FROM submission_events")).scalar()
    assert count == 2


@pytest.mark.parametrize("statement", [update(SubmissionEvent).values(detail={}), delete(SubmissionEvent)])
def test_orm_refuses_bulk_changes_to_events(sessions, ledger, statement):
    ledger.enqueue("alice")
    with sessions() as session, pytest.raises(AppendOnlyViolation):
        session.execute(statement)
