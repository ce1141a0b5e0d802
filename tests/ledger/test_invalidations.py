"""Invalidations and settlements in the ledger: each recorded once (a second one names the
first), invalidated submissions (and their rescores) off the leaderboards, both append-only in
the database, and 0005 going down and up again."""

from __future__ import annotations

from datetime import timedelta

import pytest
from alembic import command
from ledger_helpers import END
from sqlalchemy import inspect, text
from sqlalchemy.exc import DBAPIError

from scorer.exceptions import AlreadyInvalidated, AlreadySettled, OrganiseError, UnknownSubmission
from scorer.ledger import entries, queries, settlements
from scorer.ledger.cache import version_token
from scorer.ledger.db import alembic_config, current_revision, make_engine, upgrade
from scorer.ledger.invalidations import invalidate, invalidated_ids, invalidation_of
from scorer.ledger.models import Submission


def board(sessions, challenge, key: str = "main") -> list[tuple[str, int]]:
    with sessions() as session:
        view = queries.leaderboard(session, challenge, "p1", key, viewer_is_organiser=True, now=END)
    return [(row.person, row.submission_id) for row in view.rows]


def test_invalidating_records_once_and_names_the_first(sessions, ledger):
    sid = ledger.submit("alice", 0.9)
    with sessions.begin() as session:
        first = invalidate(session, sid, "olga", "  reads the answer key  ", now=END)
    assert (first.submission_id, first.actor, first.reason, first.at) == (
        sid,
        "olga",
        "reads the answer key",
        END,
    )
    with sessions.begin() as session, pytest.raises(AlreadyInvalidated) as caught:
        invalidate(session, sid, "oscar", "again")
    assert caught.value.http_status == 409
    assert (
        "olga" in caught.value.user_message and END.isoformat(timespec="seconds") in caught.value.user_message
    )
    with sessions() as session:
        assert invalidation_of(session, sid) == first


def test_invalidating_refuses_an_empty_reason_and_an_unknown_submission(sessions, ledger):
    sid = ledger.submit("alice", 0.9)
    with sessions.begin() as session, pytest.raises(OrganiseError, match="reason is empty"):
        invalidate(session, sid, "olga", "   ")
    with sessions.begin() as session, pytest.raises(UnknownSubmission):
        invalidate(session, 999, "olga", "exploit")
    with sessions() as session:
        assert invalidation_of(session, sid) is None


def test_an_invalidated_submission_and_its_rescores_leave_the_boards(sessions, ledger, challenge):
    best = ledger.submit("alice", 0.95)
    second = ledger.submit("alice", 0.8)
    bob = ledger.submit("bob", 0.85)
    assert board(sessions, challenge) == [("alice", best), ("bob", bob)]
    rescore = ledger.submit("alice", 0.95, rescore_of=best)
    with sessions() as session:
        before = version_token(session, "higgs", "p1")
    with sessions.begin() as session:
        invalidate(session, best, "olga", "hard-coded answers")
        entries.rebuild(session, challenge, "p1")
    with sessions() as session:
        assert invalidated_ids(session, "higgs", "p1") == {best, rescore}
        assert version_token(session, "higgs", "p1") != before
    assert board(sessions, challenge) == [("bob", bob), ("alice", second)]
    # a later rescore of the invalidated submission scores, but never reaches the boards
    ledger.submit("alice", 0.99, rescore_of=best)
    assert board(sessions, challenge) == [("bob", bob), ("alice", second)]
    assert board(sessions, challenge, "latest") == [("bob", bob), ("alice", second)]


def test_settling_records_once_and_names_the_first(sessions, challenge):
    with sessions.begin() as session:
        first = settlements.record_settlement(session, "higgs", "p1", "olga", {"grants": 2}, now=END)
    with sessions.begin() as session, pytest.raises(AlreadySettled) as caught:
        settlements.record_settlement(session, "higgs", "p1", "coop (phase ended)", {})
    assert caught.value.http_status == 409
    assert f"settlement {first.id}" in caught.value.user_message and "olga" in caught.value.user_message
    with sessions.begin() as session:
        other = settlements.record_settlement(session, "higgs", "p2", "olga", {}, now=END + timedelta(days=1))
    with sessions() as session:
        assert settlements.settlement_of(session, "higgs", "p1") == first
        assert settlements.settlements(session, "higgs") == [first, other]
    assert first.summary == {"grants": 2}


@pytest.mark.parametrize("table", ["settlements", "invalidations"])
def test_settlements_and_invalidations_are_append_only(engine, sessions, ledger, table):
    sid = ledger.submit("alice", 0.9)
    with sessions.begin() as session:
        invalidate(session, sid, "olga", "exploit")
        settlements.record_settlement(session, "higgs", "p1", "olga", {})
    for statement in (f"UPDATE {table} SET actor = 'mallory'", f"DELETE FROM {table}"):
        with engine.connect() as connection, pytest.raises(DBAPIError, match="append-only"):
            connection.execute(text(statement))


def test_0005_goes_down_to_0004_and_back(url, ledger, sessions):
    """0005 removes its tables and the reproduces column, keeping submissions, and comes back."""
    original = ledger.submit("alice", 0.9)
    with sessions.begin() as session:
        invalidate(session, original, "olga", "exploit")
    engine = make_engine(url)
    try:
        with engine.begin() as connection:
            config = alembic_config(url)
            config.attributes["connection"] = connection
            command.downgrade(config, "0004")
        assert current_revision(url) == "0004"
        assert {"settlements", "invalidations"}.isdisjoint(inspect(engine).get_table_names())
        assert "reproduces" not in {c["name"] for c in inspect(engine).get_columns("submissions")}
        upgrade(url)
        with sessions() as session:
            assert invalidated_ids(session, "higgs", "p1") == set()
        reproduction = ledger.submit("bob", 0.9)
        with sessions.begin() as session:
            session.get(Submission, reproduction).reproduces = original
        with sessions() as session:
            assert session.get(Submission, reproduction).reproduces == original
    finally:
        engine.dispose()
