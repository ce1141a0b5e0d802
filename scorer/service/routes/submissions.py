"""Submissions: status, failure and scores; their executed notebooks (open-code rule applies)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query, Response

from coop_client.models import ErrorOut, SubmissionOut, SubmissionStatus, SubmissionSummary
from scorer.exceptions import NotebookNotRun
from scorer.ingest.push import resubmit
from scorer.ledger import queries
from scorer.service.auth import SUBMIT, Identity
from scorer.service.convert.submissions import of_submission, of_submission_summary
from scorer.service.deps import Api, Viewer, require_scope

router = APIRouter(tags=["submissions"], responses={404: {"model": ErrorOut}})

NOTEBOOK_TYPE = "application/x-ipynb+json"


@router.get("/api/submissions", response_model=list[SubmissionSummary])
def list_submissions(
    api: Api,
    challenge: str | None = None,
    phase: str | None = None,
    person: str | None = None,
    commit: Annotated[str | None, Query(description="A full or abbreviated commit SHA.")] = None,
    status: SubmissionStatus | None = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
) -> list[SubmissionSummary]:
    """Submissions matching every filter given, newest first."""
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
    return [of_submission_summary(view) for view in found]


@router.get("/api/submissions/{submission_id}", response_model=SubmissionOut)
def get_submission(api: Api, who: Viewer, submission_id: int) -> SubmissionOut:
    """A submission's status, failure class and reason, and its scores (private where visible)."""
    view, scores = api.submission(submission_id, organiser=who is not None and who.organiser)
    return of_submission(view, scores)


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
    api: Api, who: Annotated[Identity, Depends(require_scope(SUBMIT))], submission_id: int
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
def get_notebook(api: Api, who: Viewer, submission_id: int) -> Response:
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
