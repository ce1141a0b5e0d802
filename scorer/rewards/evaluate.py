"""Running a phase's rewarders on one event (pure): each rewarder decides on its own, one that
raises becomes a :class:`Failure` and the others go on, and every proposal becomes the grant
the reward ledger records.

The ledger's ``scope`` of a grant is the event part of the rewarder's idempotency key (the key
minus the challenge, the phase and the rewarder's index, which the ledger records apart): the
same event decided twice gives the same scope, so the ledger pays it once.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass
from decimal import Decimal

from scorer.challenge.spec import Rewarder as RewarderEntry
from scorer.ledger.models import Moment
from scorer.ledger.rewards import MICRO
from scorer.ledger.rewards import Grant as LedgerGrant
from scorer.rewards.base import Grant
from scorer.rewards.registry import build
from scorer.rewards.views import Live, Settlement


@dataclass(frozen=True)
class Failure:
    """A rewarder that raised (or could not be built) instead of deciding."""

    rewarder_type: str
    rewarder_index: int
    moment: Moment
    submission_id: int | None
    error: str


@dataclass(frozen=True)
class Evaluation:
    grants: tuple[LedgerGrant, ...] = ()
    failures: tuple[Failure, ...] = ()


def evaluate(
    entries: Sequence[RewarderEntry],
    event: Live | Settlement,
    *,
    indices: Collection[int] | None = None,
) -> Evaluation:
    """What ``event`` earns under the phase's rewarders ``entries`` (only those at ``indices``
    when given). Grants that round to nothing (less than a millionth) are left out."""
    moment = Moment.LIVE if isinstance(event, Live) else Moment.SETTLEMENT
    subject = event.submission.id if isinstance(event, Live) else None
    grants: list[LedgerGrant] = []
    failures: list[Failure] = []
    for index, entry in enumerate(entries):
        if indices is not None and index not in indices:
            continue
        try:
            rewarder = build(index, entry.type, entry.amount, entry.threshold, entry.params)
            decided = [ledger_grant(g) for g in rewarder.decide(event)]
        except Exception as exc:  # a plugin's bug must not stop the other rewarders
            failures.append(Failure(entry.type, index, moment, subject, f"{type(exc).__name__}: {exc}"))
            continue
        grants.extend(g for g in decided if g.amount > 0)
    return Evaluation(tuple(grants), tuple(failures))


def ledger_grant(grant: Grant) -> LedgerGrant:
    """The reward ledger's grant of a rewarder's proposal (its amount in millionths; a
    non-finite amount raises)."""
    challenge_id, phase_id, _index, event = grant.key.split("/", 3)
    evidence = grant.evidence
    return LedgerGrant(
        challenge_id=challenge_id,
        phase_id=phase_id,
        person=grant.person,
        rewarder_type=grant.rewarder,
        rewarder_index=grant.index,
        scope=event,
        amount=_amount(grant),
        unit=grant.unit,
        evidence={"rule": evidence.rule, "split": evidence.split, "values": dict(evidence.values)},
        moment=Moment(evidence.moment),
        submission_id=evidence.submission,
        commit_sha=evidence.commit,
    )


def _amount(grant: Grant) -> Decimal:
    amount = Decimal(str(grant.amount))
    if not amount.is_finite():
        raise ValueError(f"{grant.rewarder} proposed an amount of {grant.amount!r}")
    return amount.quantize(MICRO)
