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

from collections.abc import Iterator

import pytest
from ledger_helpers import Ledger, challenge_spec
from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from scorer.challenge.spec import Challenge
from scorer.ledger import store
from scorer.ledger.db import make_engine, session_factory, upgrade
from tests.pg import schema_url


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
    with schema_url("ledger") as database_url:
        upgrade(database_url)
        yield database_url


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
