"""One writer per person at a time: a limit check and the insert it guards happen atomically.

Push-to-score counts a person's earlier submissions, then adds one. Two pushes by the same person
at the same moment run in two hook processes; without a lock both could pass a per-day or
minimum-interval limit before either commits. :func:`lock_person` makes the rest of the caller's
transaction hold a lock that every other such transaction for that person waits on:

- PostgreSQL: the person's row (``SELECT … FOR UPDATE``) until the transaction ends. Reads after
  it (READ COMMITTED) see what the previous holder committed. Other people are not held up.
- SQLite: the database's write lock. A transaction that has not written yet starts with
  ``BEGIN IMMEDIATE``: a deferred one that has read and later upgrades to a writer fails at once
  with ``SQLITE_BUSY`` when another writer committed in between (the busy timeout does not
  help). One that has written already holds the lock (the driver begins a transaction only at
  the first write, see :mod:`scorer.ledger.db`).
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from scorer.ledger.models import Person
from scorer.ledger.store import person


def lock_person(session: Session, username: str) -> Person:
    """Hold ``username``'s write lock until the session's transaction ends; the person (created
    on first sight). Call it before reading what the lock protects."""
    if session.get_bind().dialect.name == "sqlite":
        connection = session.connection()
        driver = connection.connection.dbapi_connection
        assert driver is not None  # checked out by session.connection()
        if not driver.in_transaction:
            connection.exec_driver_sql("BEGIN IMMEDIATE")
        return person(session, username)
    found = person(session, username)
    session.execute(select(Person.id).where(Person.id == found.id).with_for_update())
    return found
