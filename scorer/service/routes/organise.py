"""Organisers' changes (scope ``custom:coop:organise``): open a phase, edit a rewarder, rescore;
and the audit trail those changes leave. The work is :mod:`scorer.organise.actions`'s."""

from __future__ import annotations

from dataclasses import asdict
from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query

from coop_client.models import (
    AuditEventOut,
    ErrorOut,
    OpenPhaseIn,
    OrganiseOut,
    RescoreIn,
    RescoreOut,
    RewarderIn,
    SpecChangeOut,
)
from scorer.exceptions import NotServed
from scorer.facade import CoopAPI
from scorer.organise import actions as organise
from scorer.service.auth import ORGANISE, Identity
from scorer.service.deps import Api, require_scope
from scorer.service.git_http import repository_path

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


def _served(api: CoopAPI, challenge_id: str) -> Path:
    api.challenge(challenge_id)  # 404 for an unknown challenge first
    repo = repository_path(Path(api.settings.home), challenge_id)
    if repo is None:
        raise NotServed(
            f"challenge {challenge_id!r} has no repository served here: `coop serve` serves each "
            "registered challenge's repository"
        )
    return repo


def _change(change: organise.SpecChange) -> SpecChangeOut:
    return SpecChangeOut(**asdict(change))


@router.get("/api/challenges/{challenge_id}/organise", response_model=OrganiseOut)
def get_organise(api: Api, _who: Organiser, challenge_id: str) -> OrganiseOut:
    """The spec on the organiser ref and that commit: the ``base`` to send with a change."""
    ref, base, spec = organise.organiser_state(api, _served(api, challenge_id), challenge_id)
    return OrganiseOut(challenge=challenge_id, ref=ref, base=base, spec=spec)


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
        _served(api, challenge_id),
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
        _served(api, challenge_id),
        challenge_id,
        who.name,
        phase_id=change.phase,
        index=change.index,
        rewarder=change.rewarder,
        base=change.base,
        dry_run=change.dry_run,
    )
    return _change(made)


@router.post("/api/challenges/{challenge_id}/organise/rescore", response_model=RescoreOut)
def post_rescore(api: Api, who: Organiser, challenge_id: str, change: RescoreIn) -> RescoreOut:
    """Queue a new run of every finished submission of a phase (after a fix to data or metrics)."""
    queued, audit = organise.rescore(api, challenge_id, who.name, change.phase)
    return RescoreOut(challenge=challenge_id, phase=change.phase, queued=queued, audit=audit)


@router.get("/api/challenges/{challenge_id}/audit", response_model=list[AuditEventOut])
def get_audit(
    api: Api, _who: Organiser, challenge_id: str, limit: Annotated[int, Query(ge=1, le=1000)] = 100
) -> list[AuditEventOut]:
    """The organisers' changes to the challenge, newest first."""
    return [AuditEventOut(**asdict(entry)) for entry in organise.audit_trail(api, challenge_id, limit=limit)]
