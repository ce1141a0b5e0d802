"""Organisers' changes (scope ``custom:coop:organise``): the challenges one organises, publish a
new one, open or schedule a phase, change its limits, edit a rewarder, rescore, settle a phase,
invalidate a submission; and the audit trail those changes leave. The work is
:mod:`scorer.organise.actions`'s (and :mod:`scorer.organise.new_challenge`'s, ``settle``'s and
``invalidate``'s)."""

from __future__ import annotations

import base64
import binascii
from dataclasses import asdict
from datetime import UTC, datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query

from coop_client.models import (
    AuditEventOut,
    ChallengeSummary,
    ErrorOut,
    InvalidateIn,
    InvalidationOut,
    OpenPhaseIn,
    OrganiseOut,
    PhaseDatesIn,
    PhaseLimitsIn,
    PublishIn,
    PublishOut,
    RescoreIn,
    RescoreOut,
    RewarderIn,
    SettleIn,
    SettlementOut,
    SpecChangeOut,
)
from scorer.exceptions import OrganiseError
from scorer.organise import actions as organise
from scorer.organise.invalidate import invalidate_submission
from scorer.organise.new_challenge import publish_folder
from scorer.organise.settle import settle_phase
from scorer.service.auth import ORGANISE, Identity
from scorer.service.deps import Api, require_scope
from scorer.service.routes.params import SubmissionId

Organiser = Annotated[Identity, Depends(require_scope(ORGANISE))]

router = APIRouter(
    tags=["organise"],
    responses={401: {"model": ErrorOut}, 403: {"model": ErrorOut}, 404: {"model": ErrorOut}},
)
CHANGE_ERRORS: dict[int | str, dict[str, Any]] = {
    400: {"model": ErrorOut},
    409: {"model": ErrorOut},
    422: {"model": ErrorOut},
}


def _change(change: organise.SpecChange) -> SpecChangeOut:
    return SpecChangeOut(**asdict(change))


@router.get("/api/challenges/{challenge_id}/organise", response_model=OrganiseOut)
def get_organise(api: Api, _who: Organiser, challenge_id: str) -> OrganiseOut:
    """The spec on the organiser ref and that commit: the ``base`` to send with a change."""
    state = organise.organiser_state(api, organise.served_repository(api, challenge_id), challenge_id)
    return OrganiseOut(challenge=challenge_id, **asdict(state))


@router.get("/api/organise/challenges", response_model=list[ChallengeSummary])
def get_organised(api: Api, _who: Organiser) -> list[ChallengeSummary]:
    """The challenges the caller organises here: every challenge served here, for a holder of
    ``custom:coop:organise``."""
    now = datetime.now(UTC)
    return [
        ChallengeSummary(id=c.id, title=c.title, current_phase=getattr(c.current_phase(now), "id", None))
        for c in organise.organised_challenges(api)
    ]


@router.post(
    "/api/organise/challenges",
    response_model=PublishOut,
    responses=CHANGE_ERRORS,
)
def post_publish(api: Api, who: Organiser, change: PublishIn) -> PublishOut:
    """Publish a challenge folder (a gzipped tar, base64) as a new challenge served here: validated
    first, its data prepared, audited. ``dry_run`` checks it and says what would be published."""
    try:
        archive = base64.b64decode(change.archive, validate=True)
    except (binascii.Error, ValueError):
        raise OrganiseError("the archive is not valid base64 of a gzipped tar") from None
    return PublishOut(**asdict(publish_folder(api, archive, who.name, dry_run=change.dry_run)))


@router.post(
    "/api/challenges/{challenge_id}/organise/open-phase",
    response_model=SpecChangeOut,
    responses=CHANGE_ERRORS,
)
def post_open_phase(api: Api, who: Organiser, challenge_id: str, change: OpenPhaseIn) -> SpecChangeOut:
    """Open a phase now (by default the next to start), optionally ending the current one.
    ``dry_run`` shows the change to challenge.yaml without making it."""
    made = organise.open_phase(
        api,
        organise.served_repository(api, challenge_id),
        challenge_id,
        who.name,
        phase_id=change.phase,
        close_current=change.close_current,
        base=change.base,
        dry_run=change.dry_run,
    )
    return _change(made)


@router.post(
    "/api/challenges/{challenge_id}/organise/rewarder", response_model=SpecChangeOut, responses=CHANGE_ERRORS
)
def post_rewarder(api: Api, who: Organiser, challenge_id: str, change: RewarderIn) -> SpecChangeOut:
    """Replace one rewarder of a phase (validated with the whole spec before it is committed)."""
    made = organise.edit_rewarder(
        api,
        organise.served_repository(api, challenge_id),
        challenge_id,
        who.name,
        phase_id=change.phase,
        index=change.index,
        rewarder=change.rewarder,
        base=change.base,
        dry_run=change.dry_run,
    )
    return _change(made)


@router.post(
    "/api/challenges/{challenge_id}/organise/phase-dates",
    response_model=SpecChangeOut,
    responses=CHANGE_ERRORS,
)
def post_phase_dates(api: Api, who: Organiser, challenge_id: str, change: PhaseDatesIn) -> SpecChangeOut:
    """Schedule a phase: its start, its end (``now`` ends it, and private scores shown at the end
    appear) and when private scores show. ``dry_run`` shows the change without making it."""
    made = organise.edit_phase_dates(
        api,
        organise.served_repository(api, challenge_id),
        challenge_id,
        who.name,
        phase_id=change.phase,
        start=change.start,
        end=change.end,
        open_ended=change.open_ended,
        private_visible=change.private_visible,
        base=change.base,
        dry_run=change.dry_run,
    )
    return _change(made)


@router.post(
    "/api/challenges/{challenge_id}/organise/phase-limits",
    response_model=SpecChangeOut,
    responses=CHANGE_ERRORS,
)
def post_phase_limits(api: Api, who: Organiser, challenge_id: str, change: PhaseLimitsIn) -> SpecChangeOut:
    """Replace a phase's run limits and/or submission limits (validated with the whole spec)."""
    made = organise.edit_phase_limits(
        api,
        organise.served_repository(api, challenge_id),
        challenge_id,
        who.name,
        phase_id=change.phase,
        limits=change.limits,
        submissions=change.submissions,
        base=change.base,
        dry_run=change.dry_run,
    )
    return _change(made)


@router.post("/api/challenges/{challenge_id}/organise/rescore", response_model=RescoreOut)
def post_rescore(api: Api, who: Organiser, challenge_id: str, change: RescoreIn) -> RescoreOut:
    """Queue a new run of every finished submission of a phase (after a fix to data or metrics)."""
    queued, audit = organise.rescore(api, challenge_id, who.name, change.phase)
    return RescoreOut(challenge=challenge_id, phase=change.phase, queued=queued, audit=audit)


@router.post(
    "/api/challenges/{challenge_id}/organise/settle",
    response_model=SettlementOut,
    responses={409: {"model": ErrorOut, "description": "The phase was settled already."}},
)
def post_settle(api: Api, who: Organiser, challenge_id: str, change: SettleIn) -> SettlementOut:
    """Settle a phase once: its settlement rewarders judged on private scores with the phase's
    credit tables. A phase still open may be settled: its settlement rewards are then final as
    the private scores stand now (later submissions earn live rewards only). Ended phases are
    settled by the service on their own (actor ``coop (phase ended)``)."""
    done = settle_phase(api, challenge_id, change.phase, who.name)
    return SettlementOut(
        id=done.id,
        challenge=done.challenge_id,
        phase=done.phase_id,
        at=done.at,
        actor=done.actor,
        **done.summary,
    )


@router.post(
    "/api/organise/submissions/{submission_id}/invalidate",
    response_model=InvalidationOut,
    responses={
        400: {"model": ErrorOut, "description": "The reason is empty."},
        409: {"model": ErrorOut, "description": "The submission was invalidated already."},
    },
)
def post_invalidate(
    api: Api, who: Organiser, submission_id: SubmissionId, change: InvalidateIn
) -> InvalidationOut:
    """Invalidate a submission found to be an exploit, once: it and its rescores leave the
    leaderboards, their rewards are compensated, and the audit trail keeps who and why."""
    done = invalidate_submission(api, submission_id, who.name, change.reason)
    return InvalidationOut(
        submission=done.submission_id,
        challenge=done.challenge_id,
        phase=done.phase_id,
        person=done.person,
        at=done.at,
        actor=done.actor,
        reason=done.reason,
        compensated=done.compensated,
        audit=done.audit,
    )


@router.get("/api/challenges/{challenge_id}/audit", response_model=list[AuditEventOut])
def get_audit(
    api: Api, _who: Organiser, challenge_id: str, limit: Annotated[int, Query(ge=1, le=1000)] = 100
) -> list[AuditEventOut]:
    """The organisers' changes to the challenge, newest first."""
    return [AuditEventOut(**asdict(entry)) for entry in organise.audit_trail(api, challenge_id, limit=limit)]
