"""Leaderboard entries: the incremental path agrees with a full rebuild; rescores."""

from __future__ import annotations

import random
from datetime import timedelta

from ledger_helpers import END, START
from sqlalchemy import select

from scorer.ledger import queries, store
from scorer.ledger.models import LeaderboardEntry


def entries_table(sessions):
    e = LeaderboardEntry
    with sessions() as session:
        rows = session.execute(
            select(
                e.challenge_id,
                e.phase_id,
                e.board,
                e.person_id,
                e.submission_id,
                e.submitted_at,
                e.public,
                e.private,
            ).order_by(e.phase_id, e.board, e.person_id)
        ).all()
    return [tuple(row) for row in rows]


def rebuild_all(sessions):
    with sessions.begin() as session:
        return sum(store.rebuild_leaderboard_entries(session, "higgs", phase) for phase in ("p1", "p2"))


def test_rebuild_equals_incremental(sessions, ledger):
    rng = random.Random(20140915)
    people = [f"person{i}" for i in range(6)]
    present: dict[str, set[str]] = {"p1": set(), "p2": set()}
    for n in range(60):
        phase = "p1" if n % 3 else "p2"
        at = (START if phase == "p1" else END) + timedelta(minutes=rng.randrange(10_000))
        accuracy = rng.choice([0.5, 0.6, 0.7, rng.random()])  # ties happen
        username = rng.choice(people)
        present[phase].add(username)
        ledger.submit(username, accuracy, rng.random(), loss=rng.choice([0.1, 0.2]), phase=phase, at=at)
    failed = ledger.enqueue("person0")
    with sessions.begin() as session:
        store.record_failure(session, failed, "exception", "boom")
    incremental = entries_table(sessions)
    assert len(incremental) == 2 * len(present["p1"]) + len(present["p2"])  # p2 shows one board
    assert rebuild_all(sessions) == len(incremental)
    assert entries_table(sessions) == incremental


def test_rescore_replaces_the_original_score(sessions, ledger):
    original = ledger.submit("alice", 0.99)  # scored with a leaky metric
    ledger.submit("bob", 0.80)
    rescore = ledger.submit("alice", 0.60, rescore_of=original)
    with sessions() as session:
        view = queries.leaderboard(session, ledger.challenge, "p1", "main", now=END)
        original_at = queries.submission(session, original).created_at
    assert [(r.person, r.submission_id) for r in view.rows] == [("bob", 2), ("alice", rescore)]
    assert view.rows[1].submitted_at == original_at
    incremental = entries_table(sessions)
    rebuild_all(sessions)
    assert entries_table(sessions) == incremental


def test_rescore_of_a_rescore_points_at_the_original(sessions, ledger):
    original = ledger.submit("alice", 0.9)
    first = ledger.submit("alice", 0.7, rescore_of=original)
    second = ledger.submit("alice", 0.8, rescore_of=first)
    with sessions() as session:
        assert queries.submission(session, second).rescore_of == original
        view = queries.leaderboard(session, ledger.challenge, "p1", "main", now=END)
    assert [r.submission_id for r in view.rows] == [second]


def test_late_original_does_not_override_its_rescore(sessions, ledger):
    original = ledger.enqueue("alice")
    ledger.claim(original)
    rescore = ledger.submit("alice", 0.6, rescore_of=original)
    assert ledger.record(original, {"accuracy": 0.99}, {"accuracy": 0.99})
    with sessions() as session:
        view = queries.leaderboard(session, ledger.challenge, "p1", "latest", now=END)
    assert [r.submission_id for r in view.rows] == [rescore]


def test_rescore_in_the_next_phase(sessions, ledger):
    original = ledger.submit("alice", 0.9)
    moved = ledger.submit("alice", 0.4, rescore_of=original, phase="p2", at=END)
    with sessions() as session:
        p1 = queries.leaderboard(session, ledger.challenge, "p1", "main", now=END)
        p2 = queries.leaderboard(session, ledger.challenge, "p2", "main", now=END)
    assert [r.submission_id for r in p1.rows] == [original]
    assert [(r.submission_id, r.submitted_at) for r in p2.rows] == [(moved, END)]
