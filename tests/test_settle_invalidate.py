"""An organiser's side of rewards on a served challenge: invalidating an exploit (off the
boards, rewards compensated, audited, once), settling a phase (rank prizes on private scores,
once, an open phase too), ended phases settled on their own, and an edited rewarder paying
again under its new rule."""

from __future__ import annotations

from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path

import pytest

from scorer.exceptions import (
    AlreadyInvalidated,
    AlreadySettled,
    OrganiseError,
    UnknownPhase,
    UnknownSubmission,
)
from scorer.ledger import rewards
from scorer.ledger.invalidations import invalidated_ids
from scorer.ledger.models import Moment, RewardKind
from scorer.ledger.settlements import settlement_of
from scorer.organise import actions as organise
from scorer.organise.invalidate import invalidate_submission
from scorer.organise.settle import AUTOMATIC, PhaseCloser, settle_ended, settle_phase
from tests.rewards_admin import RANK_PRIZE, Served, served_challenge


@pytest.fixture
def served(tmp_path: Path) -> Iterator[Served]:
    made = served_challenge(tmp_path)
    yield made
    made.api.close()


@pytest.fixture
def ended(tmp_path: Path) -> Iterator[Served]:
    made = served_challenge(tmp_path, end="2024-06-01T00:00:00Z")
    yield made
    made.api.close()


def history(served: Served) -> list[tuple[str, str, str, Decimal]]:
    with served.api.sessions() as session:
        rows = rewards.history(session, served.cid)
    return [(r.person, r.kind.value, r.rewarder_type, r.amount) for r in rows]


def balance(served: Served, person: str) -> Decimal:
    with served.api.sessions() as session:
        found = rewards.balances(session, served.cid, person=person)
    return sum((b.amount for b in found), Decimal(0))


def board(served: Served) -> list[tuple[str, int]]:
    view = served.api.leaderboard(served.cid, phase_id="phase-1", organiser=True)
    return [(row.person, row.submission_id) for row in view.rows]


def test_an_invalidated_submission_leaves_the_board_and_its_rewards_are_taken_back(served: Served):
    alice = served.submit("alice", 0.15)
    bob = served.submit("bob", 0.18)
    assert board(served) == [("alice", alice), ("bob", bob)]
    assert balance(served, "alice") == 10
    done = invalidate_submission(served.api, alice, "olga", "reads the answer key")
    assert (done.person, done.phase_id, done.reason, len(done.compensated)) == (
        "alice",
        "phase-1",
        "reads the answer key",
        1,
    )
    assert board(served) == [("bob", bob)]
    assert balance(served, "alice") == 0 and balance(served, "bob") == 10
    assert history(served)[-1] == ("alice", "compensation", "score-threshold", Decimal(-10))
    with served.api.sessions() as session:
        assert invalidated_ids(session, served.cid, "phase-1") == {alice}
    trail = organise.audit_trail(served.api, served.cid)
    assert (trail[0].actor, trail[0].action, trail[0].detail["reason"]) == (
        "olga",
        "invalidate",
        "reads the answer key",
    )
    with pytest.raises(AlreadyInvalidated, match=r"invalidated already, on .* by olga") as again:
        invalidate_submission(served.api, alice, "oscar", "twice")
    assert again.value.http_status == 409
    assert len(organise.audit_trail(served.api, served.cid)) == len(trail)


def test_rewards_an_exploit_stood_in_the_way_of_go_to_who_earned_them(tmp_path: Path):
    """The exploit held the record, so bob's honest best was no record when scored: once the
    exploit is invalidated, bob's submission is the record it is and is paid for it."""
    record = {"type": "new-record", "amount": 5, "params": {"leaderboard": "main", "column": "rmse"}}
    served = served_challenge(tmp_path, rewarders=[record])
    try:
        alice = served.submit("alice", 0.01)
        served.submit("bob", 0.15)
        assert [(p, t) for p, kind, t, _ in history(served) if t == "new-record"] == [("alice", "new-record")]
        done = invalidate_submission(served.api, alice, "olga", "predictions copied from the answer key")
        assert len(done.regranted) == 1
        assert history(served)[-1] == ("bob", "grant", "new-record", Decimal(5))
        assert balance(served, "alice") == 0
    finally:
        served.api.close()


def test_invalidating_needs_a_reason_and_a_known_submission(served: Served):
    alice = served.submit("alice", 0.15)
    with pytest.raises(OrganiseError, match="reason is empty"):
        invalidate_submission(served.api, alice, "olga", " \n ")
    with pytest.raises(UnknownSubmission, match="no submission 999"):
        invalidate_submission(served.api, 999, "olga", "exploit")
    assert board(served) == [("alice", alice)] and balance(served, "alice") == 10
    assert organise.audit_trail(served.api, served.cid) == []


def test_an_organiser_settles_an_open_phase_once_on_private_scores(served: Served):
    served.submit("alice", 0.15, private_rmse=0.12)
    served.submit("bob", 0.18, private_rmse=0.10)
    carol = served.submit("carol", 0.30, private_rmse=0.01)
    invalidate_submission(served.api, carol, "olga", "hard-coded answers")
    done = settle_phase(served.api, served.cid, "phase-1", "olga")
    settled = [row for row in history(served) if row[2] == "rank-prize"]
    assert settled == [("bob", "grant", "rank-prize", 20), ("alice", "grant", "rank-prize", 10)]
    assert done.summary == {
        "grants": 2,
        "people": 2,
        "totals": {"points": "30"},
        "failures": [],
        "phase_ended": False,
        "credit": done.summary["credit"],
    }
    trail = organise.audit_trail(served.api, served.cid)
    assert (trail[0].actor, trail[0].action, trail[0].detail["settlement"]) == ("olga", "settle", done.id)
    # settled means final: a better private score later earns live rewards only
    served.submit("dave", 0.19, private_rmse=0.05)
    with pytest.raises(AlreadySettled, match=f"settled already \\(settlement {done.id}, on .* by olga\\)"):
        settle_phase(served.api, served.cid, "phase-1", "oscar")
    assert [row[0] for row in history(served) if row[2] == "rank-prize"] == ["bob", "alice"]
    assert ("dave", "grant", "score-threshold", Decimal(10)) in history(served)


def test_settling_an_unknown_phase_changes_nothing(served: Served):
    with pytest.raises(UnknownPhase, match="no phase 'phase-9'"):
        settle_phase(served.api, served.cid, "phase-9", "olga")
    with served.api.sessions() as session:
        assert settlement_of(session, served.cid, "phase-9") is None


def test_ended_phases_are_settled_on_their_own_once_nothing_is_left_to_score(ended: Served):
    ended.submit("alice", 0.15, private_rmse=0.12)
    late = ended.queue("bob")  # made before the end, still waiting for a worker
    assert settle_ended(ended.api) == []
    ended.score(late, 0.5, private_rmse=0.5)
    [done] = settle_ended(ended.api)
    assert (done.phase_id, done.actor, done.summary["phase_ended"]) == ("phase-1", AUTOMATIC, True)
    assert [(r[0], r[3]) for r in history(ended) if r[2] == "rank-prize"] == [
        ("alice", Decimal(20)),
        ("bob", Decimal(10)),
    ]
    assert settle_ended(ended.api) == []  # phase-2 has not ended; phase-1 is settled
    with pytest.raises(AlreadySettled, match=r"by coop \(phase ended\)"):
        settle_phase(ended.api, ended.cid, "phase-1", "olga")


def test_the_service_loop_settles_a_phase_that_ended(ended: Served):
    ended.submit("alice", 0.15)
    closer = PhaseCloser(ended.api, interval=3600)
    closer.start()
    closer.stop()  # the loop looks once at start, and stop waits for that look to end
    with ended.api.sessions() as session:
        found = settlement_of(session, ended.cid, "phase-1")
    assert found is not None and found.actor == AUTOMATIC


def test_an_edited_rewarder_is_compensated_and_pays_again_under_its_new_rule(served: Served):
    served.submit("alice", 0.15)
    assert history(served) == [("alice", "grant", "score-threshold", Decimal(10))]
    edited = {"type": "score-threshold", "amount": 25, "threshold": 0.2, "params": {"metric": "rmse"}}
    organise.edit_rewarder(
        served.api, served.repo, served.cid, "olga", phase_id="phase-1", index=0, rewarder=edited
    )
    assert history(served) == [
        ("alice", "grant", "score-threshold", Decimal(10)),
        ("alice", "compensation", "score-threshold", Decimal(-10)),
        ("alice", "grant", "score-threshold", Decimal(25)),
    ]
    assert balance(served, "alice") == 25
    with served.api.sessions() as session:
        rows = rewards.history(session, served.cid)
    assert rows[1].evidence["reason"] == "rewarder_edited" and rows[1].compensates == rows[0].id
    assert (rows[2].kind, rows[2].moment) == (RewardKind.GRANT, Moment.LIVE)
    regranted, edit = organise.audit_trail(served.api, served.cid)[:2]
    assert (edit.actor, edit.action) == ("olga", "edit-rewarder")
    assert (edit.detail["before"]["rewarder"]["amount"], edit.detail["after"]["rewarder"]["amount"]) == (
        10,
        25,
    )
    assert (regranted.actor, regranted.action) == ("olga", "rewarder-regranted")
    assert (regranted.detail["compensated"], regranted.detail["granted"], regranted.detail["edit"]) == (
        1,
        1,
        edit.id,
    )


def test_a_rewarder_that_paid_at_settlement_cannot_change(served: Served):
    served.submit("alice", 0.15, private_rmse=0.12)
    settle_phase(served.api, served.cid, "phase-1", "olga")
    prize = {**RANK_PRIZE, "params": {"leaderboard": "main", "amounts": [25, 5]}}
    with pytest.raises(OrganiseError, match="rewarder 1 paid at that settlement: those rewards are final"):
        organise.edit_rewarder(
            served.api, served.repo, served.cid, "olga", phase_id="phase-1", index=1, rewarder=prize
        )
    assert served.api.challenge(served.cid).phases[0].rewarders[1].params == RANK_PRIZE["params"]
    assert balance(served, "alice") == 10 + 20
    live = {"type": "score-threshold", "amount": 12, "threshold": 0.2, "params": {"metric": "rmse"}}
    organise.edit_rewarder(
        served.api, served.repo, served.cid, "olga", phase_id="phase-1", index=0, rewarder=live
    )
    assert balance(served, "alice") == 12 + 20
