"""Rewards granted at the edge, on a real ledger (SQLite and PostgreSQL): live on public scores,
failures recorded without stopping the others, rescores, organiser checks, likes, settlement
and a rewarder replayed."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest

from scorer.exceptions import FailureClass, OrganiseError
from scorer.ledger import queries, rewards, store
from scorer.ledger.invalidations import invalidate
from scorer.ledger.likes import set_like
from scorer.ledger.models import RewardKind
from scorer.rewards import granting
from scorer.rewards.checks import CheckFailed, verdict
from tests.rewards.world import (
    BASELINE,
    CHECK,
    EXPLODES,
    LIKES,
    PRIZE,
    RECORD,
    REPRODUCED,
    SHARE,
    START,
    THRESHOLD,
    World,
    notebook,
)


def test_live_grants_follow_public_scores(world: World):
    alice = world.submit("alice", 0.85, private=0.10)
    world.submit("bob", 0.82, private=0.99)
    world.submit("alice", 0.90)
    assert world.granted(THRESHOLD) == [("alice", "person/alice", 10.0), ("bob", "person/bob", 10.0)]
    assert world.granted(RECORD) == [
        ("alice", f"submission/{alice}", 5.0),
        ("alice", f"submission/{alice + 2}", 5.0),
    ]
    first = next(r for r in world.history() if r.rewarder_index == THRESHOLD)
    assert first.submission_id == alice and first.commit_sha == f"{1:040x}"
    assert first.evidence == {"rule": "accuracy ≥ 0.8", "split": "public", "values": {"accuracy": 0.85}}


def test_judging_again_adds_nothing(world: World):
    alice = world.submit("alice", 0.85)
    before = world.history()
    again = world.grant(alice)
    assert again.rewards and not again.created
    assert world.history() == before


def test_a_rewarder_that_raises_is_recorded_and_the_others_still_decide(world: World):
    alice = world.submit("alice", 0.85)
    [failure] = world.failures()
    assert (failure.rewarder_type, failure.rewarder_index, failure.submission_id) == (
        "explodes",
        EXPLODES,
        alice,
    )
    assert failure.error == "RuntimeError: boom"
    assert world.granted(THRESHOLD) and world.granted(RECORD) and world.granted(CHECK)


def test_a_rescore_takes_back_the_replaced_grants_and_judges_afresh(world: World):
    alice = world.submit("alice", 0.85)
    assert world.balance("alice") == 10 + 5 + 30
    worse = world.submit("alice", 0.50, rescore_of=alice)
    taken = [r for r in world.history() if r.kind is RewardKind.COMPENSATION]
    assert {r.submission_id for r in taken} == {alice} and len(taken) == 3
    assert {r.evidence["reason"] for r in taken} == {"rescore"}
    assert world.balance("alice") == 30 + 5  # the check passes again and 0.50 is still a record
    better = world.submit("alice", 0.95, rescore_of=alice)
    assert world.granted(THRESHOLD) == [
        ("alice", "person/alice", 10.0),
        ("alice", "person/alice", -10.0),
        ("alice", "person/alice", 10.0),
    ]
    assert [r.submission_id for r in world.history() if r.rewarder_index == THRESHOLD] == [
        alice,
        alice,
        better,
    ]
    assert world.balance("alice") == 10 + 5 + 30
    again = world.grant(worse)  # superseded: the newest score decides, and is found judged
    assert again.created == () and {r.reward.submission_id for r in again.rewards} == {better}


def test_an_organiser_check_decides_from_the_executed_notebook(world: World):
    world.submit("alice", 0.85, source="model = VotingClassifier([a, b])")
    world.submit("bob", 0.85, source="model = fit()")
    carol = world.submit("carol", 0.85, source="crash")
    [(person, scope, amount)] = world.granted(CHECK)
    assert (person, scope, amount) == ("bob", "person/bob", 30.0)
    rule = next(r for r in world.history() if r.rewarder_index == CHECK).evidence["rule"]
    assert rule == "checks.py:single_model passed: one model, accuracy 0.85"
    failed = [f for f in world.failures() if f.rewarder_index == CHECK]
    assert [(f.submission_id, f.rewarder_type) for f in failed] == [(carol, "organiser-check")]
    assert "ValueError: cannot read this notebook" in failed[0].error


def test_an_organiser_check_that_is_missing_or_answers_nonsense_fails(tmp_path):
    (tmp_path / "checks.py").write_text("def odd(notebook, metrics):\n    return 'yes'\n")
    with pytest.raises(CheckFailed, match="has no function 'absent'"):
        verdict(lambda: tmp_path, "checks.py:absent", notebook("x"), {})
    with pytest.raises(CheckFailed, match=r"module other\.py is missing"):
        verdict(lambda: tmp_path, "other.py:odd", notebook("x"), {})
    with pytest.raises(CheckFailed, match="answered str, not a verdict"):
        verdict(lambda: tmp_path, "checks.py:odd", notebook("x"), {})
    with pytest.raises(CheckFailed, match="trusted organiser code is not available"):
        verdict(None, "checks.py:odd", notebook("x"), {})


def test_likes_reach_levels_once_and_an_unlike_takes_nothing_back(world: World):
    alice = world.submit("alice", 0.85)

    def like(person: str, liked: bool = True) -> granting.Granted:
        with world.sessions.begin() as session:
            set_like(session, alice, person, liked)
            return granting.grant_on_like(session, alice)

    assert [r.scope for r in like("bob").created] == [f"likes/{alice}/1"]
    assert [r.scope for r in like("carol").created] == [f"likes/{alice}/2"]
    assert like("carol", liked=False).created == ()
    assert like("carol").created == ()
    assert [amount for _person, _scope, amount in world.granted(LIKES)] == [2.0, 2.0]


def test_settlement_pays_private_ranks_and_credit_once(world: World):
    alice = world.submit("alice", 0.85, private=0.70)
    bob = world.submit("bob", 0.80, private=0.75)
    credit = {"accuracy": {"alice": 3.0, "bob": 1.0, "carol": -1.0}}
    with world.sessions.begin() as session:
        first = granting.grant_settlement(session, world.challenge, "p1", credit)
    assert {(r.reward.rewarder_index, r.reward.person, r.reward.amount) for r in first.rewards} == {
        (PRIZE, "bob", Decimal(30)),
        (PRIZE, "alice", Decimal(20)),
        (SHARE, "alice", Decimal(75)),
        (SHARE, "bob", Decimal(25)),
    }
    prize = next(r.reward for r in first.rewards if r.reward.person == "bob")
    assert (
        prize.evidence["values"] == {"rank": 1, "value": 0.75, "submission": bob}
        and prize.submission_id is None
    )
    with world.sessions.begin() as session:
        again = granting.grant_settlement(session, world.challenge, "p1", credit)
    assert again.created == () and len(again.rewards) == 4
    assert alice


def test_a_replayed_rewarder_pays_again_after_its_grants_were_taken_back(world: World):
    world.submit("alice", 0.85)
    world.submit("bob", 0.86)
    with world.sessions.begin() as session:
        rewards.compensate_rewarder(
            session, "higgs", "p1", RECORD, rewards.CompensationReason.REWARDER_EDITED
        )
        replayed = granting.replay_live(session, "higgs", "p1", RECORD)
    assert [(r.person, r.scope) for r in replayed.created] == [
        (p, s) for p, s, _ in world.granted(RECORD)[:2]
    ]
    assert sum(amount for _p, _s, amount in world.granted(RECORD)) == 10.0
    assert {f.rewarder_index for f in world.failures()} == {EXPLODES}  # replay judged RECORD only


def test_the_baseline_is_the_reference_and_earns_nothing(world: World):
    world.submit("baseline", 0.80)
    assert world.history() == []
    world.submit("alice", 0.80)
    assert world.granted(BASELINE) == []
    bob = world.submit("bob", 0.81)
    assert world.granted(BASELINE) == [("bob", "first", 20.0)]
    assert [s for _p, s, _a in world.granted(RECORD)] == [f"submission/{bob}"]


def test_rewards_are_judged_in_the_order_work_was_submitted(world: World):
    """Workers finish in any order: bob's run ends first, but alice submitted first, so she is
    the first to beat the baseline, and bob is judged once her run has ended."""
    world.submit("baseline", 0.80)
    alice, bob = world.queue("alice"), world.queue("bob")
    world.score(bob, 0.90)
    assert world.grant(bob).rewards == ()  # alice's run, submitted before, is still going
    world.score(alice, 0.85)
    assert {r.reward.submission_id for r in world.grant(alice).rewards} == {alice, bob}
    assert world.granted(BASELINE) == [("alice", "first", 20.0)]
    assert [s for _p, s, _a in world.granted(RECORD)] == [f"submission/{alice}", f"submission/{bob}"]
    assert world.grant(bob).created == ()  # judging again adds nothing


def test_a_failed_run_no_longer_holds_back_the_work_submitted_after_it(world: World):
    alice, bob = world.queue("alice"), world.queue("bob")
    world.score(bob, 0.90)
    assert world.grant(bob).rewards == ()
    with world.sessions.begin() as session:
        assert store.claim(session, alice, "w1")
        assert store.record_failure(session, alice, FailureClass.EXCEPTION, "NameError")
    world.grant(alice)
    assert [p for p, _s, _a in world.granted(THRESHOLD)] == ["bob"]


def test_an_invalidated_submission_is_left_out_of_what_rewarders_see(world: World):
    alice = world.submit("alice", 0.95)
    with world.sessions.begin() as session:
        invalidate(session, alice, "organiser", "reads the answer key")
    bob = world.submit("bob", 0.85)
    assert [s for _p, s, _a in world.granted(RECORD)] == [f"submission/{alice}", f"submission/{bob}"]
    rescored = world.queue("alice", rescore_of=alice)
    world.score(rescored, 0.99)
    assert world.grant(rescored).rewards == ()


def test_one_re_run_is_queued_and_judges_reproduced(world: World):
    alice = world.submit("alice", 0.85, private=0.70)
    with world.sessions.begin() as session:
        rerun = granting.queue_reproduction(session, alice)
        assert rerun is not None
        assert granting.queue_reproduction(session, alice) is None  # one re-run per submission
        assert granting.queue_reproduction(session, rerun) is None  # a re-run is not re-run
        assert queries.counted_times(session, "higgs", "p1", "alice") == [START + timedelta(minutes=1)]
    world.score(rerun, 0.85, 0.70, worker="w2")
    assert world.grant(rerun).created[0].scope == f"submission/{alice}"
    assert world.granted(REPRODUCED) == [("alice", f"submission/{alice}", 5.0)]
    assert world.granted(THRESHOLD) == [("alice", "person/alice", 10.0)]  # the re-run earns nothing else
    with world.sessions() as session:
        board = queries.leaderboard(session, world.challenge, "p1", "main", now=START, cached=False)
    assert [(row.person, row.submission_id) for row in board.rows] == [("alice", alice)]


def test_a_re_run_on_the_same_worker_or_with_other_metrics_reproduces_nothing(world: World):
    for worker, private in (("w1", 0.70), ("w2", 0.71)):
        original = world.submit("alice", 0.85, private=0.70)
        with world.sessions.begin() as session:
            rerun = granting.queue_reproduction(session, original)
        assert rerun is not None
        world.score(rerun, 0.85, private, worker=worker)
        assert world.grant(rerun).rewards == ()
    assert world.granted(REPRODUCED) == []


def test_replaying_a_rewarder_the_phase_does_not_have_is_refused(world: World):
    with (
        world.sessions.begin() as session,
        pytest.raises(OrganiseError, match="phase 'p1' has no rewarder 9"),
    ):
        granting.replay_live(session, "higgs", "p1", 9)
