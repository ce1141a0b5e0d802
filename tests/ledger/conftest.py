"""Fixtures for the ledger tests; every test using ``url`` runs on both backends.

- ``url``: a freshly migrated database (``upgrade(url)``, never ``create_all``):
  a SQLite file under ``tmp_path``, or a unique schema in the PostgreSQL database ``test`` at
  127.0.0.1:5432 (trust auth, user ``postgres`` or the current user), dropped afterwards.
  PostgreSQL tests skip, with the reason, when that server is unreachable.
- ``engine``, ``sessions``: an engine and a session factory on that database.
- ``challenge``: a two-phase challenge with a ``best`` and a ``last`` board, stored.
- ``ledger``: a :class:`Ledger` driving whole submissions through the store.
"""

from __future__ import annotations

import getpass
import uuid
from collections.abc import Iterator
from functools import cache

import psycopg
import pytest
from ledger_helpers import Ledger, challenge_spec
from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from scorer.ledger import store
from scorer.ledger.db import make_engine, session_factory, upgrade
from scorer.spec import Challenge

PG_HOST, PG_PORT, PG_DATABASE = "127.0.0.1", 5432, "test"


@cache
def postgres_user() -> tuple[str | None, str]:
    """A user that can connect to the test database, or ``None`` and why not."""
    problems = []
    for user in dict.fromkeys(["postgres", getpass.getuser()]):
        try:
            with psycopg.connect(
                host=PG_HOST, port=PG_PORT, dbname=PG_DATABASE, user=user, connect_timeout=3
            ):
                return user, ""
        except psycopg.Error as exc:
            problems.append(f"{user}: {str(exc).strip().splitlines()[0]}")
    return (
        None,
        f"PostgreSQL at {PG_HOST}:{PG_PORT}/{PG_DATABASE} unreachable ({'; '.join(problems)})",
    )


def _admin(user: str) -> psycopg.Connection:
    return psycopg.connect(host=PG_HOST, port=PG_PORT, dbname=PG_DATABASE, user=user, autocommit=True)


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def backend(request: pytest.FixtureRequest) -> str:
    return request.param


@pytest.fixture
def url(backend: str, tmp_path) -> Iterator[str]:
    if backend == "sqlite":
        database_url = f"sqlite:///{tmp_path / 'ledger' / 'coop.db'}"
        upgrade(database_url)
        yield database_url
        return
    user, reason = postgres_user()
    if user is None:
        pytest.skip(reason)
    schema = f"ledger_{uuid.uuid4().hex[:12]}"
    with _admin(user) as admin:
        admin.execute(f"CREATE SCHEMA {schema}")
    database_url = (
        f"postgresql+psycopg://{user}@{PG_HOST}:{PG_PORT}/{PG_DATABASE}?options=-csearch_path%3D{schema}"
    )
    try:
        upgrade(database_url)
        yield database_url
    finally:
        with _admin(user) as admin:
            admin.execute(f"DROP SCHEMA {schema} CASCADE")


@pytest.fixture
def engine(url: str) -> Iterator[Engine]:
    engine = make_engine(url)
    yield engine
    engine.dispose()


@pytest.fixture
def sessions(engine: Engine) -> sessionmaker[Session]:
    return session_factory(engine)


@pytest.fixture
def challenge(sessions: sessionmaker[Session]) -> Challenge:
    spec = challenge_spec()
    with sessions.begin() as session:
        store.upsert_challenge(session, spec, "https://git.example.org/higgs.git")
    return spec


@pytest.fixture
def ledger(sessions: sessionmaker[Session], challenge: Challenge) -> Ledger:
    return Ledger(sessions, challenge)
