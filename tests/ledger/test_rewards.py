"""The reward ledger: each grant once (retried, duplicated, raced), compensations that offset
instead of changing, balances that are sums, rewarder failures, and all of it append-only in
the database itself."""

from __future__ import annotations

import multiprocessing
import threading
from dataclasses import replace
from decimal import Decimal

import pytest
from ledger_helpers import sha
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

from scorer.exceptions import AppendOnlyViolation, InvalidReward, UnknownReward
from scorer.ledger import rewards
from scorer.ledger.db import make_engine, session_factory
from scorer.ledger.models import Moment, Reward, RewardKind
from scorer.ledger.rewards import CompensationReason, Grant

RACERS = 4


def grant(submission_id: int, **changes: object) -> Grant:
    base = Grant(
        challenge_id="higgs",
        phase_id="p1",
        person="alice",
        rewarder_type="score-threshold",
        rewarder_index=0,
        scope="person:alice",
        amount=Decimal("10"),
        unit="points",
        evidence={"rule": "accuracy >= 0.9", "metrics": {"accuracy": 0.93}},
        submission_id=submission_id,
        commit_sha=sha(1),
    )
    return replace(base, **changes)  # type: ignore[arg-type]


def record(sessions, g: Grant) -> rewards.Recorded:
    with sessions.begin() as session:
        return rewards.record_grant(session, g)


def test_the_same_grant_recorded_three_times_is_one_row(sessions, ledger):
    submission_id = ledger.submit("alice", 0.93)
    outcomes = [record(sessions, grant(submission_id)) for _ in range(3)]
    assert [o.created for o in outcomes] == [True, False, False]
    assert len({o.reward.id for o in outcomes}) == 1
    with sessions() as session:
        history = rewards.history(session, "higgs", phase_id="p1")
        assert rewards.balances(session, "higgs") == [rewards.Balance("alice", "points", Decimal(10))]
    assert len(history) == 1
    row = history[0]
    assert (row.person, row.kind, row.amount, row.unit, row.moment) == (
        "alice",
        RewardKind.GRANT,
        Decimal(10),
        "points",
        Moment.LIVE,
    )
    assert (row.submission_id, row.commit_sha, row.evidence["metrics"]) == (
        submission_id,
        sha(1),
        {"accuracy": 0.93},
    )


def test_a_scope_is_paid_once_whichever_submission_asks(sessions, ledger):
    """Two submissions of alice passing the same threshold: the rewarder's scope is the person."""
    first, second = ledger.submit("alice", 0.91), ledger.submit("alice", 0.95)
    assert record(sessions, grant(first)).created
    again = record(sessions, grant(second))
    assert not again.created and again.reward.submission_id == first


def test_workers_racing_to_record_one_grant_leave_one_row(sessions, ledger):
    submission_id = ledger.submit("alice", 0.93)
    barrier = threading.Barrier(RACERS)
    outcomes: list[bool] = []
    errors: list[BaseException] = []

    def race() -> None:
        try:
            barrier.wait()
            outcomes.append(record(sessions, grant(submission_id)).created)
        except BaseException as exc:  # reported below
            errors.append(exc)

    threads = [threading.Thread(target=race) for _ in range(RACERS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert not errors, errors
    assert sorted(outcomes) == [False] * (RACERS - 1) + [True]
    with sessions() as session:
        assert len(rewards.history(session, "higgs")) == 1


def _record_in_process(url: str, submission_id: int, start: multiprocessing.synchronize.Barrier) -> bool:
    engine = make_engine(url)
    try:
        start.wait()
        with session_factory(engine).begin() as session:
            return rewards.record_grant(session, grant(submission_id)).created
    finally:
        engine.dispose()


def test_processes_racing_to_record_one_grant_leave_one_row(url, sessions, ledger):
    submission_id = ledger.submit("alice", 0.93)
    context = multiprocessing.get_context("spawn")
    with context.Manager() as manager:
        start = manager.Barrier(RACERS)
        with context.Pool(RACERS) as pool:
            created = pool.starmap(_record_in_process, [(url, submission_id, start)] * RACERS)
    assert sorted(created) == [False] * (RACERS - 1) + [True]
    with sessions() as session:
        assert len(rewards.history(session, "higgs")) == 1


def test_a_compensation_offsets_a_grant_once_and_balances_are_sums(sessions, ledger):
    first = ledger.submit("alice", 0.93)
    bob = ledger.submit("bob", 0.95)
    granted = record(sessions, grant(first, amount=Decimal("0.1"))).reward
    record(sessions, grant(first, rewarder_type="new-record", rewarder_index=1, scope=f"submission:{first}"))
    record(sessions, grant(bob, person="bob", scope="person:bob", amount=Decimal("0.2")))
    with sessions.begin() as session:
        offset = rewards.compensate(session, granted.id, CompensationReason.INVALIDATED, {"by": "olga"})
        again = rewards.compensate(session, granted.id, CompensationReason.INVALIDATED)
    assert offset.created and not again.created and again.reward.id == offset.reward.id
    row = offset.reward
    assert (row.kind, row.compensates, row.amount, row.person) == (
        RewardKind.COMPENSATION,
        granted.id,
        Decimal("-0.1"),
        "alice",
    )
    assert row.evidence == {"reason": "invalidated", "by": "olga"}
    with sessions() as session:
        assert rewards.balances(session, "higgs") == [
            rewards.Balance("alice", "points", Decimal(10)),
            rewards.Balance("bob", "points", Decimal("0.2")),
        ]
        assert [r.amount for r in rewards.history(session, "higgs", person="alice")] == [
            Decimal("0.1"),
            Decimal(10),
            Decimal("-0.1"),
        ]
        with pytest.raises(InvalidReward, match="only a grant"):
            rewards.compensate(session, row.id, CompensationReason.RESCORE)
        with pytest.raises(UnknownReward):
            rewards.compensate(session, 999, CompensationReason.RESCORE)


def test_a_compensated_scope_can_be_paid_again_and_only_once(sessions, ledger):
    """An invalidated submission's threshold grant is taken back; alice's next submission passing
    the threshold earns it again, and a retry of that grant still adds nothing."""
    first, second = ledger.submit("alice", 0.93), ledger.submit("alice", 0.94)
    earlier = record(sessions, grant(first)).reward
    with sessions.begin() as session:
        assert [
            r.created for r in rewards.compensate_submission(session, first, CompensationReason.INVALIDATED)
        ] == [True]
        assert rewards.compensate_submission(session, first, CompensationReason.INVALIDATED) == []
    paid = [record(sessions, grant(second)).created for _ in range(3)]
    assert paid == [True, False, False]
    with sessions() as session:
        assert rewards.balances(session, "higgs", person="alice")[0].amount == Decimal(10)
        assert [(r.kind, r.submission_id) for r in rewards.history(session, "higgs")] == [
            (RewardKind.GRANT, first),
            (RewardKind.COMPENSATION, first),
            (RewardKind.GRANT, second),
        ]
    assert earlier.submission_id == first


def test_an_edited_rewarder_compensates_its_open_grants_only(sessions, ledger):
    alice, bob = ledger.submit("alice", 0.93), ledger.submit("bob", 0.95)
    record(sessions, grant(alice))
    record(sessions, grant(bob, person="bob", scope="person:bob"))
    record(sessions, grant(alice, rewarder_type="new-record", rewarder_index=1, scope=f"submission:{alice}"))
    with sessions.begin() as session:
        offsets = rewards.compensate_rewarder(session, "higgs", "p1", 0, CompensationReason.REWARDER_EDITED)
    assert sorted(o.reward.person for o in offsets) == ["alice", "bob"]
    with sessions() as session:
        assert rewards.balances(session, "higgs", phase_id="p1") == [
            rewards.Balance("alice", "points", Decimal(10)),
            rewards.Balance("bob", "points", Decimal(0)),
        ]
        assert rewards.balances(session, "higgs", phase_id="p2") == []


@pytest.mark.parametrize("amount", [Decimal(0), Decimal(-5), Decimal("NaN"), "ten"])
def test_a_grant_that_adds_nothing_is_refused(sessions, ledger, amount):
    submission_id = ledger.submit("alice", 0.93)
    with sessions() as session, pytest.raises(InvalidReward):
        rewards.record_grant(session, grant(submission_id, amount=amount))


def test_a_grant_naming_a_submission_of_another_phase_is_refused(sessions, ledger):
    submission_id = ledger.submit("alice", 0.93)
    with sessions() as session, pytest.raises(InvalidReward, match="belongs to higgs/p1"):
        rewards.record_grant(session, grant(submission_id, phase_id="p2"))


def test_rewarder_failures_are_recorded(sessions, ledger):
    submission_id = ledger.submit("alice", 0.93)
    with sessions.begin() as session:
        rewards.record_rewarder_failure(
            session,
            challenge_id="higgs",
            phase_id="p1",
            rewarder_type="organiser-check",
            rewarder_index=3,
            moment=Moment.LIVE,
            submission_id=submission_id,
            error="KeyError: 'accuracy'",
        )
    with sessions() as session:
        [failure] = rewards.rewarder_failures(session, "higgs", "p1")
        assert rewards.rewarder_failures(session, "higgs", "p2") == []
    assert (failure.rewarder_type, failure.rewarder_index, failure.submission_id, failure.error) == (
        "organiser-check",
        3,
        submission_id,
        "KeyError: 'accuracy'",
    )


@pytest.mark.parametrize(
    "statement",
    [
        "UPDATE rewards SET amount_micro = 1",
        "DELETE FROM rewards",
        "UPDATE rewarder_failures SET error = ''",
        "DELETE FROM rewarder_failures",
        "UPDATE likes SET liked = false",
        "DELETE FROM likes",
    ],
)
def test_database_refuses_changes_to_rewards_failures_and_likes(engine, sessions, ledger, statement):
    submission_id = ledger.submit("alice", 0.93)
    record(sessions, grant(submission_id))
    with engine.begin() as connection:
        connection.execute(
            text(
                "INSERT INTO rewarder_failures (at, challenge_id, phase_id, rewarder_type, rewarder_index,"
                " moment, error) VALUES (CURRENT_TIMESTAMP, 'higgs', 'p1', 'x', 0, 'live', 'boom')"
            )
        )
        person_id = connection.execute(text("SELECT id FROM people WHERE username = 'alice'")).scalar()
        connection.execute(
            text(
                "INSERT INTO likes (submission_id, person_id, seq, liked, at)"
                " VALUES (:submission, :person, 1, true, CURRENT_TIMESTAMP)"
            ),
            {"submission": submission_id, "person": person_id},
        )
    with engine.connect() as connection, pytest.raises(DBAPIError, match="append-only"):
        connection.execute(text(statement))


def test_racing_compensations_of_one_grant_leave_one_row(sessions, ledger):
    """An organiser invalidating a submission while a rescore compensates it: one offset."""
    granted = record(sessions, grant(ledger.submit("alice", 0.93))).reward
    barrier = threading.Barrier(RACERS)
    created: list[bool] = []
    errors: list[BaseException] = []

    def race(reason: CompensationReason) -> None:
        try:
            barrier.wait()
            with sessions.begin() as session:
                created.append(rewards.compensate(session, granted.id, reason).created)
        except BaseException as exc:  # reported below
            errors.append(exc)

    reasons = [CompensationReason.INVALIDATED, CompensationReason.RESCORE] * (RACERS // 2)
    threads = [threading.Thread(target=race, args=(reason,)) for reason in reasons]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert not errors, errors
    assert sorted(created) == [False] * (RACERS - 1) + [True]
    with sessions() as session:
        assert [b.amount for b in rewards.balances(session, "higgs")] == [Decimal(0)]


def test_the_orm_refuses_to_change_or_delete_a_reward(sessions, ledger):
    granted = record(sessions, grant(ledger.submit("alice", 0.93))).reward
    with sessions() as session, pytest.raises(AppendOnlyViolation):
        row = session.get(Reward, granted.id)
        row.amount_micro = 1
        session.flush()
    with sessions() as session, pytest.raises(AppendOnlyViolation):
        session.delete(session.get(Reward, granted.id))
        session.flush()
