"""Engines, sessions and schema upgrades for the ledger database.

SQLite (in WAL mode) is the default; PostgreSQL is chosen by URL
(``postgresql+psycopg://user@host/db``). The schema is created and upgraded only by the
Alembic migrations shipped in :mod:`scorer.ledger.migrations`, never by ``metadata.create_all``.

SQLite note: the driver's default transaction handling is kept on purpose. A transaction
starts at its first write, so a read that precedes a write never holds a stale snapshot and
concurrent writers simply queue on ``busy_timeout`` instead of failing. That is what lets two
workers race on :func:`scorer.ledger.store.record_result` with exactly one winner.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeAlias, TypeVar

import orjson
from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session as Session  # re-exported: the type of a ledger session
from sqlalchemy.orm import sessionmaker
from sqlalchemy.pool import StaticPool

if TYPE_CHECKING:  # Alembic is imported where the schema is upgraded or inspected only
    from alembic.config import Config

log = logging.getLogger(__name__)
T = TypeVar("T")
#: Tries of a piece of work whose database connection was lost (a server restart).
LOST_CONNECTION_TRIES = 3

#: How long (milliseconds) a SQLite writer waits for another writer before giving up.
SQLITE_BUSY_TIMEOUT_MS = 30_000
MIGRATIONS = Path(__file__).resolve().parent / "migrations"

#: A factory of ledger sessions (``with sessions.begin() as session: ...``): what code outside
#: the ledger holds, so that it names the ledger's types rather than SQLAlchemy's.
Sessions: TypeAlias = sessionmaker[Session]


def default_url(home: Path) -> str:
    """The default database: a SQLite file ``coop.db`` in the platform's home folder."""
    return f"sqlite:///{(Path(home) / 'coop.db').resolve()}"


def _loads(text: str | bytes) -> Any:
    """orjson parses JSON columns several times faster (a leaderboard reads thousands); the
    json module still reads what only it writes (NaN, Infinity)."""
    try:
        return orjson.loads(text)
    except orjson.JSONDecodeError:
        return json.loads(text)


def make_engine(url: str, **kwargs: Any) -> Engine:
    """An engine for ``url``; SQLite gets WAL, foreign keys and a busy timeout.

    Extra keyword arguments go to :func:`sqlalchemy.create_engine`.
    """
    parsed = make_url(url)
    kwargs.setdefault("json_deserializer", _loads)
    if parsed.get_backend_name() == "sqlite":
        return _sqlite_engine(url, **kwargs)
    kwargs.setdefault("pool_pre_ping", True)
    return create_engine(url, **kwargs)


def _sqlite_engine(url: str, **kwargs: Any) -> Engine:
    parsed = make_url(url)
    database = parsed.database or ""
    in_memory = database in ("", ":memory:") or database.startswith("file::memory:")
    if in_memory:
        kwargs.setdefault("poolclass", StaticPool)
        kwargs.setdefault("connect_args", {"check_same_thread": False})
    else:
        Path(database).expanduser().resolve().parent.mkdir(parents=True, exist_ok=True)
    engine = create_engine(url, **kwargs)

    @event.listens_for(engine, "connect")
    def _pragmas(dbapi_connection: Any, _record: Any) -> None:
        cursor = dbapi_connection.cursor()
        try:
            cursor.execute(f"PRAGMA busy_timeout = {SQLITE_BUSY_TIMEOUT_MS}")
            if not in_memory:
                cursor.execute("PRAGMA journal_mode = WAL")
                # The setting SQLite recommends with WAL: never corrupts, may lose the
                # last commits on power loss (those submissions are then re-dispatched).
                cursor.execute("PRAGMA synchronous = NORMAL")
            cursor.execute("PRAGMA foreign_keys = ON")
        finally:
            cursor.close()

    return engine


def session_factory(engine: Engine) -> Sessions:
    """Sessions bound to ``engine``; objects stay readable after commit."""
    return sessionmaker(bind=engine, expire_on_commit=False)


def alembic_config(url: str) -> Config:
    """An Alembic configuration for ``url`` without any ``alembic.ini`` file."""
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.set_main_option("path_separator", "os")
    # configparser interpolates %; escape it (passwords in URLs are percent-encoded).
    config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return config


def upgrade(url: str, revision: str = "head") -> None:
    """Create or upgrade the ledger schema at ``url`` to ``revision``."""
    from alembic import command

    engine = make_engine(url)
    try:
        with engine.begin() as connection:
            config = alembic_config(url)
            config.attributes["connection"] = connection
            command.upgrade(config, revision)
    finally:
        engine.dispose()


def current_revision(url: str) -> str | None:
    """The revision the database at ``url`` is at, or ``None`` before the first upgrade."""
    from alembic.runtime.migration import MigrationContext

    engine = make_engine(url)
    try:
        with engine.connect() as connection:
            return MigrationContext.configure(connection).get_current_revision()
    finally:
        engine.dispose()


def connection_lost(exc: BaseException) -> bool:
    """Whether ``exc`` is the database connection going away (a server restart, a cut
    connection): the pool replaces it, so the work can simply be tried again."""
    return isinstance(exc, DBAPIError) and exc.connection_invalidated


def reconnecting(work: Callable[[], T], what: str, tries: int = LOST_CONNECTION_TRIES) -> T:
    """``work()``, run again (``tries`` in all, waiting 1 s, 2 s...) while it fails because its
    database connection was lost; ``work`` must find what an earlier try did (a transaction that
    was cut is rolled back). Any other error, or the last, is raised."""
    for attempt in range(1, tries):
        try:
            return work()
        except DBAPIError as exc:
            if not exc.connection_invalidated:
                raise
            log.warning("%s lost its database connection; again", what)
            time.sleep(attempt)
    return work()
