"""Invalidating a submission an organiser found to be an exploit, in one transaction: the
invalidation is recorded once (:mod:`scorer.ledger.invalidations`), the submission and its
rescores leave the phase's leaderboards, their rewards are compensated, and the audit trail
records who did it and why. Then each rewarder of the phase judges its submissions again
without the exploit, so the rewards it stood in the way of (a record it held, the first place
past a threshold) go to whoever earned them."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import datetime

from scorer.facade import CoopAPI
from scorer.ledger import queries
from scorer.ledger.audit import record_audit_event
from scorer.ledger.invalidations import invalidate, invalidated_ids
from scorer.ledger.rewards import CompensationReason, compensate_submission
from scorer.ledger.store import rebuild_leaderboard_entries
from scorer.rewards.granting import replay_live

INVALIDATE = "invalidate"
log = logging.getLogger("coop.invalidate")


@dataclass(frozen=True)
class Invalidated:
    submission_id: int
    challenge_id: str
    phase_id: str
    person: str
    at: datetime
    actor: str
    reason: str
    compensated: list[int]  # the compensation rows added
    audit: int
    regranted: list[int] = field(default_factory=list)  # grants the exploit stood in the way of


def invalidate_submission(
    api: CoopAPI, submission_id: int, actor: str, reason: str, *, now: datetime | None = None
) -> Invalidated:
    """Invalidate ``submission_id`` as ``actor`` for ``reason``; a second time raises
    :class:`~scorer.exceptions.AlreadyInvalidated` naming the first, and changes nothing."""
    with api.sessions.begin() as session:
        recorded = invalidate(session, submission_id, actor, reason, now=now)
        view = queries.submission(session, submission_id)
        detail = {"submission": submission_id, "reason": recorded.reason}
        # a compensation's "reason" is its code (invalidated); the organiser's words go beside it
        why = {"submission": submission_id, "invalidation_reason": recorded.reason}
        compensated = [
            done.reward.id
            for sid in sorted(invalidated_ids(session, view.challenge_id, view.phase_id))
            for done in compensate_submission(session, sid, CompensationReason.INVALIDATED, why, now=now)
        ]
        rebuild_leaderboard_entries(session, view.challenge_id, view.phase_id)
        audit = record_audit_event(
            session,
            actor,
            view.challenge_id,
            INVALIDATE,
            {**detail, "phase": view.phase_id, "person": view.username, "compensated": compensated},
        )
    return Invalidated(
        submission_id,
        view.challenge_id,
        view.phase_id,
        view.username,
        recorded.at,
        actor,
        recorded.reason,
        compensated,
        audit,
        _replay(api, view.challenge_id, view.phase_id),
    )


def _replay(api: CoopAPI, challenge_id: str, phase_id: str) -> list[int]:
    """Each rewarder of the phase judges again, in a transaction of its own: one that fails is
    logged and never undoes the invalidation."""
    granted = []
    for index in range(len(queries.phase_of(api.challenge(challenge_id), phase_id).rewarders)):
        try:
            with api.sessions.begin() as session:
                replayed = replay_live(session, challenge_id, phase_id, index)
            granted += [reward.id for reward in replayed.created]
        except Exception:
            log.exception("rewarder %s of %s/%s judging again failed", index, challenge_id, phase_id)
    return granted
