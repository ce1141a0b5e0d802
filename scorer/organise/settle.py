"""Settling a phase: its settlement rewarders judged once, on private scores, with the phase's
credit tables; then the settlement is recorded with a summary (what was granted per unit, what
failed), once per phase.

An organiser may settle a phase that is still open: settlement rewards are then decided on the
private scores as they stand at that moment, and that is final. Submissions scored later still
earn live rewards, never settlement ones; the phase's dates do not change (end a phase with
``coop challenge schedule … --end now``). When a phase with an end has ended and nobody settled
it, :class:`PhaseCloser` (run by ``coop serve``) settles it as ``coop (phase ended)`` once none
of its submissions is queued or running any more.
"""

from __future__ import annotations

import logging
import threading
from collections import defaultdict
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from scorer.exceptions import AlreadySettled, CoopError, OrganiseError
from scorer.facade import CoopAPI
from scorer.ledger.audit import record_audit_event
from scorer.ledger.db import Session
from scorer.ledger.models import Moment, SubmissionStatus
from scorer.ledger.queries import challenge_ids, phase_of, submissions
from scorer.ledger.rewards import history, rewarder_failures
from scorer.ledger.settlements import (
    SettlementView,
    already_settled,
    record_settlement,
    settlement_of,
    settlements,
)
from scorer.rewards.granting import Granted, grant_settlement

AUTOMATIC = "coop (phase ended)"
SETTLE = "settle"
UNFINISHED = (SubmissionStatus.QUEUED, SubmissionStatus.RUNNING)
log = logging.getLogger("coop.settle")


def settle_phase(
    api: CoopAPI, challenge_id: str, phase_id: str, actor: str, *, now: datetime | None = None
) -> SettlementView:
    """Settle a phase as ``actor`` (an organiser's username, or :data:`AUTOMATIC`); settling
    it again raises :class:`AlreadySettled` naming the first settlement."""
    moment = now or datetime.now(UTC)
    challenge = api.challenge(challenge_id)
    phase = phase_of(challenge, phase_id)
    with api.sessions() as session:
        first = settlement_of(session, challenge_id, phase_id)
    if first is not None:  # refused before the credit tables are computed
        raise already_settled(first)
    credit = api.credit_tables(challenge_id, phase_id, split="private")
    with api.sessions.begin() as session:
        granted = grant_settlement(session, challenge, phase_id, credit)
        summary = _summary(session, granted, challenge_id, phase_id)
        summary.update(phase_ended=phase.end is not None and phase.end <= moment, credit=sorted(credit))
        settled = record_settlement(session, challenge_id, phase_id, actor, summary, now=moment)
        if actor != AUTOMATIC:
            detail = {"phase": phase_id, "settlement": settled.id, **summary}
            record_audit_event(session, actor, challenge_id, SETTLE, detail)
    return settled


def settle_ended(api: CoopAPI, *, now: datetime | None = None) -> list[SettlementView]:
    """Settle every phase that has ended, is not settled yet and has nothing left to score (a
    submission made before the end still counts); a phase that cannot be settled is logged and
    tried again next time, the others go on."""
    moment = now or datetime.now(UTC)
    with api.sessions() as session:
        ids = challenge_ids(session)
        done = {(s.challenge_id, s.phase_id) for s in settlements(session)}
    settled = []
    for challenge_id in ids:
        for phase in api.challenge(challenge_id).phases:
            if phase.end is None or phase.end > moment or (challenge_id, phase.id) in done:
                continue
            if _scoring(api, challenge_id, phase.id):
                continue
            try:
                settled.append(settle_phase(api, challenge_id, phase.id, AUTOMATIC, now=moment))
            except AlreadySettled:
                continue  # an organiser settled it meanwhile
            except CoopError as exc:
                log.warning("settling %s/%s failed (tried again later): %s", challenge_id, phase.id, exc)
    return settled


def refuse_settled_edit(api: CoopAPI, challenge_id: str, phase_id: str, index: int) -> None:
    """What a rewarder paid at a phase's settlement is final: such a rewarder cannot be edited
    (its grants would be taken back, and a settled phase is never judged again)."""
    with api.sessions() as session:
        settled = settlement_of(session, challenge_id, phase_id)
        paid = settled is not None and any(
            r.rewarder_index == index and r.moment is Moment.SETTLEMENT
            for r in history(session, challenge_id, phase_id=phase_id)
        )
    if settled is not None and paid:
        raise OrganiseError(
            f"phase {phase_id!r} was settled (settlement {settled.id}, by {settled.actor}) and "
            f"rewarder {index} paid at that settlement: those rewards are final, so it cannot change"
        )


class PhaseCloser:
    """A thread that settles ended phases every ``interval`` seconds while the service runs."""

    def __init__(self, api: CoopAPI, interval: float = 30.0) -> None:
        self.api = api
        self.interval = interval
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="coop-phase-closer", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=30)

    def _run(self) -> None:
        while True:  # a first look at once, then every interval until stopped
            try:
                for done in settle_ended(self.api):
                    log.info("settled %s/%s: %s", done.challenge_id, done.phase_id, done.summary)
            except Exception:  # the loop must outlive a database hiccup
                log.exception("settling ended phases failed; trying again")
            if self._stop.wait(self.interval):
                return


def _scoring(api: CoopAPI, challenge_id: str, phase_id: str) -> bool:
    """Whether a submission of the phase is still queued or running."""
    with api.sessions() as session:
        waiting = submissions(
            session, challenge_id=challenge_id, phase_id=phase_id, status=UNFINISHED, limit=1
        )
    return bool(waiting)


def _summary(session: Session, granted: Granted, challenge_id: str, phase_id: str) -> dict[str, Any]:
    totals: dict[str, Decimal] = defaultdict(Decimal)
    people = set()
    for recorded in granted.rewards:
        totals[recorded.reward.unit] += recorded.reward.amount
        people.add(recorded.reward.person)
    failed = set(granted.failures)
    failures = [
        {"rewarder": f.rewarder_index, "type": f.rewarder_type, "error": f.error}
        for f in rewarder_failures(session, challenge_id, phase_id)
        if f.id in failed
    ]
    return {
        "grants": len(granted.rewards),
        "people": len(people),
        "totals": {unit: f"{amount.normalize():f}" for unit, amount in sorted(totals.items())},
        "failures": failures,
    }
