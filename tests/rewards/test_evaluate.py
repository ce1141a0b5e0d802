"""Evaluating a phase's rewarders on one event (pure): the ledger's grants, failures apart,
only the chosen rewarders, amounts in millionths."""

from __future__ import annotations

from decimal import Decimal

from scorer.challenge.spec import Rewarder as Entry
from scorer.ledger.models import Moment
from scorer.rewards.evaluate import evaluate
from scorer.rewards.views import Live, Settlement, Standing
from tests.rewards.views import phase, sub

THRESHOLD = Entry(type="score-threshold", amount=10, threshold=0.8, params={"metric": "accuracy"})
IMPROVEMENT = Entry(type="improvement", amount=1, params={"metric": "accuracy", "per": 3.0})
PARETO = Entry(
    type="pareto-front",
    amount=1,
    params={"metric": "accuracy", "cost": "time", "reference": 0.0, "cost_reference": 10},
)


def test_a_proposal_becomes_the_ledger_grant_with_the_event_as_scope():
    alice = sub(7, "alice", {"accuracy": 0.9})
    [grant] = evaluate([THRESHOLD], Live(phase(), alice)).grants
    assert (grant.challenge_id, grant.phase_id, grant.rewarder_index, grant.scope) == (
        "curve",
        "phase-1",
        0,
        "person/alice",
    )
    assert (grant.person, grant.amount, grant.unit, grant.moment) == (
        "alice",
        Decimal(10),
        "points",
        Moment.LIVE,
    )
    assert (grant.submission_id, grant.commit_sha) == (7, alice.commit)
    assert grant.evidence == {"rule": "accuracy ≥ 0.8", "split": "public", "values": {"accuracy": 0.9}}


def test_amounts_are_kept_to_millionths_and_nothing_below_is_granted():
    earlier = sub(1, "alice", {"accuracy": 0.5})
    [grant] = evaluate([IMPROVEMENT], Live(phase(), sub(2, "alice", {"accuracy": 0.6}), (earlier,))).grants
    assert grant.amount == Decimal("0.033333")
    per_billion = Entry(type="improvement", amount=1, params={"metric": "accuracy", "per": 1e9})
    assert evaluate([per_billion], Live(phase(), sub(3, "alice", {"accuracy": 0.6}), (earlier,))).grants == ()


def test_a_rewarder_that_cannot_decide_is_a_failure_and_the_others_decide():
    bob = sub(4, "bob", {"accuracy": 0.9}, time=2.0)
    # a spec stored before a plugin was uninstalled names a type no longer there
    unknown = Entry.model_construct(type="no-such-rewarder", amount=1, threshold=None, params={})
    result = evaluate([PARETO, THRESHOLD, unknown], Live(phase(), bob))
    assert [g.rewarder_type for g in result.grants] == ["pareto-front", "score-threshold"]
    [(index, moment, submission, error)] = [
        (f.rewarder_index, f.moment, f.submission_id, f.error) for f in result.failures
    ]
    assert (index, moment, submission) == (2, Moment.LIVE, 4) and error.startswith("UnknownPlugin")


def test_only_the_chosen_rewarders_decide_and_settlement_has_no_submission():
    alice = sub(5, "alice", {"accuracy": 0.9})
    assert evaluate([THRESHOLD, THRESHOLD], Live(phase(), alice), indices={1}).grants[0].rewarder_index == 1
    prize = Entry(type="rank-prize", amount=10, params={"leaderboard": "board", "amounts": [10]})
    event = Settlement(phase(), (alice,), standings={"board": (Standing(1, "alice", 5, 0.9),)})
    [grant] = evaluate([THRESHOLD, prize], event).grants
    assert (grant.rewarder_type, grant.moment, grant.scope, grant.submission_id) == (
        "rank-prize",
        Moment.SETTLEMENT,
        "rank/1/alice",
        None,
    )
