"""Racing workers: exactly one of them records a submission's outcome."""

from __future__ import annotations

import threading

from ledger_helpers import START, run_result
from sqlalchemy import func, select

from scorer.exceptions import DuplicateDelivery
from scorer.ledger import deliveries, queries, store
from scorer.ledger.models import Person, Score, SubmissionEvent, SubmissionStatus

RACERS = 4


def race(target, count=RACERS):
    """Run ``target(i)`` in ``count`` threads released together; return their results."""
    barrier = threading.Barrier(count)
    results: list[object] = [None] * count
    errors: list[BaseException] = []

    def run(i):
        try:
            barrier.wait()
            results[i] = target(i)
        except BaseException as exc:  # reported below, not lost in the thread
            errors.append(exc)

    threads = [threading.Thread(target=run, args=(i,)) for i in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert not errors, errors
    return results


def test_concurrent_records_have_one_winner(sessions, ledger):
    submission_id = ledger.enqueue("alice")
    ledger.claim(submission_id)

    def record(i):
        with sessions.begin() as session:
            result = run_result({"accuracy": 0.5 + i / 100}, {"accuracy": 0.4 + i / 100})
            return store.record_result(session, submission_id, result)

    outcomes = race(record)
    assert outcomes.count(True) == 1
    with sessions() as session:
        scores = session.scalar(
            select(func.count()).select_from(Score).where(Score.submission_id == submission_id)
        )
        scored_events = session.scalar(
            select(func.count())
            .select_from(SubmissionEvent)
            .where(
                SubmissionEvent.submission_id == submission_id,
                SubmissionEvent.status_to == SubmissionStatus.SCORED,
            )
        )
        board = queries.leaderboard(session, ledger.challenge, "p1", "main", now=START)
    assert (scores, scored_events) == (2, 1)
    assert len(board.rows) == 1
    winner = outcomes.index(True)
    assert board.rows[0].columns["accuracy"] == 0.5 + winner / 100


def test_result_and_failure_race_one_wins(sessions, ledger):
    submission_id = ledger.enqueue("alice")
    ledger.claim(submission_id)

    def finish(i):
        with sessions.begin() as session:
            if i % 2:
                return store.record_failure(session, submission_id, "infrastructure", "lost")
            return store.record_result(session, submission_id, run_result({"accuracy": 1}, {}))

    assert race(finish).count(True) == 1
    with sessions() as session:
        status = queries.submission(session, submission_id).status
        finishing = [e for e in queries.events(session, submission_id) if e.status_from is not None]
    assert status in (SubmissionStatus.SCORED, SubmissionStatus.FAILED)
    assert [e.status_to for e in finishing] == [SubmissionStatus.RUNNING, status]


def test_concurrent_results_of_one_person_keep_the_best(sessions, ledger):
    """Different submissions of one person recorded at once: the entry ends on the best."""
    ids = [ledger.enqueue("alice") for _ in range(RACERS)]

    def record(i):
        with sessions.begin() as session:
            result = run_result({"accuracy": 0.1 * (i + 1)}, {"accuracy": 0.0})
            return store.record_result(session, ids[i], result)

    assert race(record) == [True] * RACERS
    with sessions() as session:
        board = queries.leaderboard(session, ledger.challenge, "p1", "main", now=START)
    assert [row.submission_id for row in board.rows] == [ids[-1]]


def test_concurrent_new_people_are_created_once(sessions, challenge):
    def create(_):
        with sessions.begin() as session:
            return store.person(session, "newcomer").id

    assert len(set(race(create))) == 1


def test_concurrent_takes_of_one_delivery_record_it_once(sessions, challenge):
    """Scorer processes taking one webhook delivery at once: each finds it new, one records it,
    every other gets :class:`DuplicateDelivery` and its transaction (a person it added) rolls back."""
    ready = threading.Barrier(RACERS)

    def take(i):
        try:
            with sessions.begin() as session:
                assert deliveries.recorded_delivery(session, "github", "d-1") is None
                ready.wait(60)
                store.person(session, f"pusher-{i}")
                deliveries.record_delivery(
                    session,
                    forge="github",
                    delivery_id="d-1",
                    challenge_id=challenge.id,
                    event="push",
                    received_at=START,
                    outcome={"taken_by": i},
                )
            return i
        except DuplicateDelivery:
            return None

    outcomes = race(take)
    [winner] = [i for i in outcomes if i is not None]
    with sessions() as session:
        kept = deliveries.recorded_delivery(session, "github", "d-1")
        people = session.scalars(select(Person.username).where(Person.username.startswith("pusher-"))).all()
    assert kept is not None and kept.outcome == {"taken_by": winner}
    assert people == [f"pusher-{winner}"]
