"""Submissions: status, failure and scores; their executed notebooks. The open-code rule applies
to the notebooks and to what a failure says of the code (its reason and traceback)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from datetime import UTC, datetime
from typing import Annotated

from fastapi import APIRouter, Depends, Query, Response

from coop_client.models import ErrorOut, SubmissionOut, SubmissionStatus, SubmissionSummary
from scorer.exceptions import FAILURE_DETAILS, NotebookNotRun, UnknownPhase
from scorer.ingest.push import resubmit
from scorer.ledger import queries
from scorer.ledger.db import Session
from scorer.ledger.queries import SubmissionView
from scorer.service.auth import SUBMIT, Identity
from scorer.service.convert.submissions import of_submission, of_submission_summary
from scorer.service.deps import Api, Viewer, require_scope
from scorer.service.routes.params import SubmissionId

router = APIRouter(tags=["submissions"], responses={404: {"model": ErrorOut}})

NOTEBOOK_TYPE = "application/x-ipynb+json"


@router.get("/api/submissions", response_model=list[SubmissionSummary])
def list_submissions(
    api: Api,
    who: Viewer,
    challenge: str | None = None,
    phase: str | None = None,
    person: str | None = None,
    commit: Annotated[str | None, Query(description="A full or abbreviated commit SHA.")] = None,
    status: SubmissionStatus | None = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
) -> list[SubmissionSummary]:
    """Submissions matching every filter given, newest first (a failure's reason only where its
    code may be read)."""
    with api.sessions() as session:
        found = queries.submissions(
            session,
            challenge_id=challenge,
            phase_id=phase,
            username=person,
            commit=commit,
            status=status,
            limit=limit,
        )
        shown = as_seen(session, found, who)
    return [of_submission_summary(view) for view in shown]


@router.get("/api/submissions/{submission_id}", response_model=SubmissionOut)
def get_submission(api: Api, who: Viewer, submission_id: SubmissionId) -> SubmissionOut:
    """A submission's status, failure class and reason (where its code may be read), and its
    scores (private where visible)."""
    view, scores = api.submission(submission_id, organiser=who is not None and who.organiser)
    with api.sessions() as session:
        [shown] = as_seen(session, [view], who)
    return of_submission(shown, scores)


def as_seen(session: Session, views: Sequence[SubmissionView], who: Identity | None) -> list[SubmissionView]:
    """``views`` as ``who`` may read them: a failure whose code the phase keeps from them keeps
    no reason (it quotes the failing cell's first line and the error's message) and none of the
    code's :data:`~scorer.exceptions.FAILURE_DETAILS` in its provenance; its class stays."""
    now = datetime.now(UTC)
    seen = []
    for view in views:
        if view.status == SubmissionStatus.FAILED and not _code_shown(session, view, who, now):
            kept = view.provenance and {k: v for k, v in view.provenance.items() if k not in FAILURE_DETAILS}
            view = replace(view, failure_reason=None, provenance=kept)
        seen.append(view)
    return seen


def _code_shown(session: Session, view: SubmissionView, who: Identity | None, now: datetime) -> bool:
    organiser = who is not None and who.organiser
    try:
        phase = queries.phase_of(queries.load_challenge(session, view.challenge_id), view.phase_id)
    except UnknownPhase:  # a phase the spec no longer has: its code stays closed
        return organiser
    author = who is not None and who.name == view.username
    return queries.code_visible(phase, now=now, viewer_is_author=author, viewer_is_organiser=organiser)


@router.post(
    "/api/submissions/{submission_id}/resubmit",
    response_model=SubmissionOut,
    status_code=201,
    responses={
        401: {"model": ErrorOut},
        403: {"model": ErrorOut},
        409: {"model": ErrorOut, "description": "Not refused over a limit, or replaced since."},
        429: {"model": ErrorOut, "description": "Over a limit still (the message has the next slot)."},
    },
)
def resubmit_refused(
    api: Api, who: Annotated[Identity, Depends(require_scope(SUBMIT))], submission_id: SubmissionId
) -> SubmissionOut:
    """Score a commit you pushed that a submission limit refused: once the limits allow, its
    notebook is queued again as a new submission (the one answered)."""
    line = resubmit(api, submission_id, caller=who.name)
    assert line.submission_id is not None
    return of_submission(*api.submission(line.submission_id))


@router.get(
    "/api/submissions/{submission_id}/notebook",
    response_class=Response,
    responses={
        200: {"content": {NOTEBOOK_TYPE: {"schema": {"type": "object"}}}, "description": "nbformat 4"},
        403: {"model": ErrorOut},
    },
)
def get_notebook(api: Api, who: Viewer, submission_id: SubmissionId) -> Response:
    """The executed notebook (.ipynb) as scored; closed-code phases show it only to its author."""
    with api.sessions() as session:
        content = queries.executed_notebook(
            session,
            submission_id,
            viewer=who.name if who else None,
            viewer_is_organiser=who is not None and who.organiser,
        )
    if content is None:
        raise NotebookNotRun(submission_id)
    return Response(
        content,
        media_type=NOTEBOOK_TYPE,
        headers={"Content-Disposition": f'attachment; filename="submission-{submission_id}.ipynb"'},
    )
