"""The machine's PostgreSQL (127.0.0.1:5432, trust auth, database ``test``) for tests.

Each test gets a schema of its own, dropped afterwards; tests skip, with the reason, when the
server is unreachable (and fail in CI: :func:`tests.conftest.unavailable`).
"""

from __future__ import annotations

import getpass
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from functools import cache

import psycopg

from tests.conftest import unavailable

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


def admin(user: str) -> psycopg.Connection:
    return psycopg.connect(host=PG_HOST, port=PG_PORT, dbname=PG_DATABASE, user=user, autocommit=True)


@contextmanager
def schema_url(prefix: str) -> Iterator[str]:
    """A SQLAlchemy URL whose connections live in a fresh schema; skips (CI: fails) without a server."""
    user, reason = postgres_user()
    if user is None:
        unavailable(reason)
    schema = f"{prefix}_{uuid.uuid4().hex[:12]}"
    with admin(user) as connection:
        connection.execute(f"CREATE SCHEMA {schema}")
    try:
        yield f"postgresql+psycopg://{user}@{PG_HOST}:{PG_PORT}/{PG_DATABASE}?options=-csearch_path%3D{schema}"
    finally:
        with admin(user) as connection:
            connection.execute(f"DROP SCHEMA {schema} CASCADE")
