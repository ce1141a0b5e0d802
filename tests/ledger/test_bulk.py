"""Bulk import of already-scored submissions (benchmarks, migrations from elsewhere)."""

from __future__ import annotations

import random
from datetime import timedelta

from ledger_helpers import END, START, sha
from sqlalchemy import func, select

from scorer.ledger import queries, store
from scorer.ledger.bulk import ScoredRecord, import_scored
from scorer.ledger.models import Score, SubmissionEvent


def records(count, people, seed=7):
    rng = random.Random(seed)
    for n in range(count):
        accuracy = round(rng.random(), 3)
        yield ScoredRecord(
            username=f"p{rng.randrange(people)}",
            commit_sha=sha(n + 1),
            submitted_at=START + timedelta(seconds=n),
            public={"accuracy": accuracy, "loss": 1 - accuracy},
            private={"accuracy": accuracy / 2, "loss": 1 - accuracy},
            run_time=rng.uniform(1, 100),
            peak_memory=rng.uniform(100, 2000),
        )


def test_import_matches_the_store_path(sessions, ledger, monkeypatch):
    from scorer.ledger import bulk

    monkeypatch.setattr(bulk, "BATCH", 40)  # several batches
    with sessions.begin() as session:
        ids = import_scored(session, "higgs", "p1", records(150, people=30))
    assert len(ids) == len(set(ids)) == 150
    with sessions() as session:
        scores = session.scalar(select(func.count()).select_from(Score))
        events = session.scalar(select(func.count()).select_from(SubmissionEvent))
        imported = queries.leaderboard(session, ledger.challenge, "p1", "main", now=END)
    assert (scores, events) == (150 * 4, 150)
    assert len(imported.rows) == 30
    best = {}
    for record in records(150, people=30):
        best[record.username] = max(best.get(record.username, 0), record.public["accuracy"])
    assert {r.person: r.columns["accuracy"] for r in imported.rows} == best
    with sessions.begin() as session:
        store.rebuild_leaderboard_entries(session, "higgs", "p1")
    with sessions() as session:
        rebuilt = queries.leaderboard(session, ledger.challenge, "p1", "main", now=END)
    assert rebuilt.rows == imported.rows
