"""The ledger: the database that is the source of truth for submissions and scores.

- :mod:`scorer.ledger.db` — engines (SQLite WAL by default, PostgreSQL by URL), sessions,
  Alembic upgrades.
- :mod:`scorer.ledger.models` — the tables.
- :mod:`scorer.ledger.store` — the write side: enqueue, claim, record exactly once, requeue.
- :mod:`scorer.ledger.entries` — keeping the denormalised leaderboard entries current.
- :mod:`scorer.ledger.bulk` — importing many already-scored submissions at once.
- :mod:`scorer.ledger.queries` — the read side, and the one place that decides who may see
  private scores and closed code.
- :mod:`scorer.ledger.cache` — ranked leaderboards kept until their phase's entries change.
- :mod:`scorer.ledger.audit` — the organisers' audit trail.
- :mod:`scorer.ledger.deliveries` — forge webhook deliveries, each recorded once.
- :mod:`scorer.ledger.rewards` — rewards granted exactly once, compensations, balances.
- :mod:`scorer.ledger.likes` — likes as append-only like/unlike events.

Only this package speaks SQL: the rest of the scorer calls these functions and types its
sessions with :data:`scorer.ledger.db.Sessions`.
"""
