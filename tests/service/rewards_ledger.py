"""A ledger with rewards and likeable submissions, written through the ledger's own functions
(no notebook runs): shared by the tests of the rewards routes, ``coop rewards`` and the widgets.

``higgs`` phase p1 (ended, code open, private scores visible since its end) has alice's
scored submission (10 points, score-threshold), bob's scored one (10 points taken back by a
rescore) and bob's failed one; phase p2 (code closed, private scores never shown but to
organisers) has alice's scored submission and her rank prize of 300 points settled on private
scores. p1's rewarders: score-threshold 10 at accuracy ≥ 0.9, and peer-likes.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from sqlalchemy.orm import Session, sessionmaker

from scorer.challenge.spec import Challenge
from scorer.ledger import store
from scorer.ledger.models import Moment
from scorer.ledger.rewards import CompensationReason, Grant, compensate, record_grant
from tests.ledger.ledger_helpers import Ledger, challenge_spec

PRIVATE_VALUE = 0.9731


@dataclass(frozen=True)
class Rewarded:
    spec: Challenge
    alice: int  # p1, scored
    bob: int  # p1, scored
    bob_failed: int  # p1, failed
    alice_closed: int  # p2, scored, code closed
    taken_back: int  # bob's grant, compensated


def spec() -> Challenge:
    document = challenge_spec().model_dump(mode="json")
    document["phases"][0]["rewarders"] = [
        {"type": "score-threshold", "amount": 10, "threshold": 0.9, "params": {"metric": "accuracy"}},
        {"type": "peer-likes", "amount": 5, "params": {"levels": [1, 2]}},
    ]
    document["phases"][1]["open_code"] = False
    return Challenge.model_validate(document)


def grant(session: Session, person: str, submission: int | None, **fields: object) -> int:
    values = {
        "challenge_id": "higgs",
        "phase_id": "p1",
        "person": person,
        "rewarder_type": "score-threshold",
        "rewarder_index": 0,
        "scope": f"person:{person}",
        "amount": Decimal(10),
        "unit": "points",
        "evidence": {"rule": "accuracy ≥ 0.9", "split": "public", "values": {"accuracy": 0.9}},
        "submission_id": submission,
        **fields,
    }
    return record_grant(session, Grant(**values)).reward.id  # type: ignore[arg-type]


def reward(sessions: sessionmaker[Session]) -> Rewarded:
    challenge = spec()
    with sessions.begin() as session:
        store.upsert_challenge(session, challenge, "https://git.example.org/higgs.git")
    ledger = Ledger(sessions, challenge)
    alice, bob = ledger.submit("alice", 0.9), ledger.submit("bob", 0.8)
    bob_failed = ledger.enqueue("bob")
    assert ledger.claim(bob_failed)
    with sessions.begin() as session:
        store.record_failure(session, bob_failed, "exception", "ValueError: bad degree")
    alice_closed = ledger.submit("alice", 0.95, PRIVATE_VALUE, phase="p2")
    with sessions.begin() as session:
        grant(session, "alice", alice)
        taken_back = grant(session, "bob", bob, evidence={"rule": "accuracy ≥ 0.9", "values": {}})
        compensate(session, taken_back, CompensationReason.RESCORE, {"rescore": bob})
        grant(
            session,
            "alice",
            None,
            phase_id="p2",
            rewarder_type="rank-prize",
            scope="rank:1:alice",
            amount=Decimal(300),
            moment=Moment.SETTLEMENT,
            evidence={
                "rule": f"rank 1 on main (private), was {PRIVATE_VALUE}",
                "split": "private",
                "values": {"rank": 1, "value": PRIVATE_VALUE, "submission": alice_closed},
            },
        )
    return Rewarded(challenge, alice, bob, bob_failed, alice_closed, taken_back)
