"""Fixtures for the granting tests; every test using ``sessions`` runs on SQLite and PostgreSQL.

- ``url``, ``sessions``: a freshly migrated ledger (a SQLite file, or a schema of its own in the
  PostgreSQL database ``test`` at 127.0.0.1:5432, dropped afterwards).
- ``explodes``: a third-party distribution on ``sys.path`` whose ``explodes`` rewarder raises.
- ``world``: a :class:`~tests.rewards.world.World` with the challenge of :func:`world.spec`.
"""

from __future__ import annotations

import importlib
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy.orm import Session, sessionmaker

from scorer.ledger.db import make_engine, session_factory, upgrade
from tests.pg import schema_url
from tests.rewards.world import World

EXPLODES = '''
from scorer.rewards.base import Rewarder


class Explodes(Rewarder):
    """Raises on every event."""

    def live(self, event):
        raise RuntimeError("boom")
'''


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    if request.param == "sqlite":
        database_url = f"sqlite:///{tmp_path / 'coop.db'}"
        upgrade(database_url)
        yield database_url
        return
    with schema_url("rewards") as database_url:
        upgrade(database_url)
        yield database_url


@pytest.fixture
def sessions(url: str) -> Iterator[sessionmaker[Session]]:
    engine = make_engine(url)
    yield session_factory(engine)
    engine.dispose()


@pytest.fixture
def explodes(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "coop_explodes.py").write_text(EXPLODES)
    info = tmp_path / "coop_explodes-1.0.dist-info"
    info.mkdir()
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: coop-explodes\nVersion: 1.0\n")
    (info / "entry_points.txt").write_text("[coop.rewarders]\nexplodes = coop_explodes:Explodes\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    importlib.invalidate_caches()


@pytest.fixture
def world(sessions: sessionmaker[Session], explodes: None, tmp_path: Path) -> World:
    return World.create(sessions, tmp_path / "trusted")
