"""The Alembic migrations create exactly what the models describe."""

from __future__ import annotations

from decimal import Decimal

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from ledger_helpers import END, sha
from sqlalchemy import Column, Integer, MetaData, Table, inspect, text
from sqlalchemy.exc import DBAPIError

from scorer.ledger import likes, rewards
from scorer.ledger.db import alembic_config, current_revision, make_engine, upgrade
from scorer.ledger.models import Base

TABLES = {
    "imported_credentials",
    "link_codes",
    "audit_events",
    "commits",
    "webhook_deliveries",
    "email_aliases",
    "challenges",
    "people",
    "submissions",
    "scores",
    "submission_events",
    "leaderboard_entries",
    "leaderboard_versions",
    "alembic_version",
    "rewards",
    "rewarder_failures",
    "likes",
    "settlements",
    "invalidations",
    "profiles",
}


def diff(engine, metadata):
    with engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        return compare_metadata(context, metadata)


def test_head_matches_the_models(engine):
    assert diff(engine, Base.metadata) == []


def test_the_comparison_notices_a_difference(engine):
    extra = MetaData()
    for table in Base.metadata.tables.values():
        table.to_metadata(extra)
    Table("surplus", extra, Column("id", Integer, primary_key=True))
    assert [change[0] for change in diff(engine, extra)] == ["add_table"]


def test_upgrade_is_idempotent_and_at_head(url, engine):
    head = ScriptDirectory.from_config(alembic_config(url)).get_current_head()
    upgrade(url)
    assert current_revision(url) == head == "0009"
    assert set(inspect(engine).get_table_names()) == TABLES


def test_downgrade_to_base_and_back(url):
    engine = make_engine(url)
    try:
        with engine.begin() as connection:
            config = alembic_config(url)
            config.attributes["connection"] = connection
            command.downgrade(config, "base")
        assert set(inspect(engine).get_table_names()) <= {"alembic_version"}
        upgrade(url)
        assert diff(engine, Base.metadata) == []
    finally:
        engine.dispose()


def record_reward_and_like(sessions, submission_id):
    with sessions.begin() as session:
        rewards.record_grant(
            session,
            rewards.Grant(
                "higgs",
                "p1",
                "alice",
                "new-record",
                0,
                "submission:1",
                Decimal(5),
                "points",
                {},
                submission_id=submission_id,
                commit_sha=sha(1),
            ),
        )
        likes.set_like(session, submission_id, "bob", True, now=END)


def test_rewards_and_likes_downgrade_to_0003_and_back(url, ledger, sessions):
    """0004 removes only its own tables (submissions stay) and comes back empty and guarded."""
    submission_id = ledger.submit("alice", 0.9)
    record_reward_and_like(sessions, submission_id)
    engine = make_engine(url)
    try:
        with engine.begin() as connection:
            config = alembic_config(url)
            config.attributes["connection"] = connection
            command.downgrade(config, "0003")
        assert current_revision(url) == "0003"
        assert set(inspect(engine).get_table_names()) == TABLES - {
            "rewards",
            "rewarder_failures",
            "likes",
            "settlements",
            "invalidations",
            "profiles",
            "imported_credentials",
            "link_codes",
        }
        with engine.connect() as connection:
            assert connection.execute(text("SELECT count(*) FROM submissions")).scalar() == 1
        upgrade(url)
        assert diff(engine, Base.metadata) == []
        with engine.connect() as connection:
            assert connection.execute(text("SELECT count(*) FROM rewards")).scalar() == 0
        record_reward_and_like(sessions, submission_id)
        for table in ("rewards", "likes"):
            with engine.connect() as connection, pytest.raises(DBAPIError, match="append-only"):
                connection.execute(text(f"DELETE FROM {table}"))
    finally:
        engine.dispose()
