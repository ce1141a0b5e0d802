"""People's profiles: ``GET /api/people/{name}`` (public unless hidden: then 404 to anyone but
the person and organisers, as for nobody), a page of their submissions, and
``PUT /api/me/profile``, the only way to edit one: the caller's own."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated

from fastapi import APIRouter, Query

from coop_client.models import ErrorOut, ProfileIn, ProfileOut, SubmissionPageOut
from scorer.profiles.profile import MAX_PAGE
from scorer.profiles.read import read_profile, read_submissions, save_profile
from scorer.service.convert.profiles import of_profile, of_submission_page
from scorer.service.deps import Api, Caller, Viewer

router = APIRouter(tags=["people"], responses={404: {"model": ErrorOut, "description": "No such person."}})

Offset = Annotated[int, Query(ge=0, description="Submissions to skip (newest first).")]
Limit = Annotated[int, Query(ge=1, le=MAX_PAGE, description="How many on this page.")]


@router.get("/api/people/{name}", response_model=ProfileOut)
def get_profile(api: Api, who: Viewer, name: str) -> ProfileOut:
    """A person's profile: their own words, every phase they joined, their newest submissions,
    ranks, rewards, credit with the commits that earned it, achievements and likes. A hidden
    profile is a 404 to anyone but its person and organisers."""
    organiser = who is not None and who.organiser
    now = datetime.now(UTC)
    found = read_profile(api, name, viewer=who.name if who else None, organiser=organiser, now=now)
    return of_profile(found, organiser=organiser, now=now)


@router.get("/api/people/{name}/submissions", response_model=SubmissionPageOut)
def get_profile_submissions(
    api: Api, who: Viewer, name: str, offset: Offset = 0, limit: Limit = 100
) -> SubmissionPageOut:
    """A page of a person's submissions, newest first; private scores only once visible."""
    organiser = who is not None and who.organiser
    page = read_submissions(
        api, name, viewer=who.name if who else None, organiser=organiser, offset=offset, limit=limit
    )
    return of_submission_page(page)


@router.put(
    "/api/me/profile",
    response_model=ProfileOut,
    responses={
        401: {"model": ErrorOut, "description": "No credentials."},
        422: {"model": ErrorOut, "description": "A field too long, a link not http(s), a bad ORCID iD."},
    },
)
def put_profile(api: Api, who: Caller, change: ProfileIn) -> ProfileOut:
    """Replace what your profile says about you (display name, affiliation, ORCID iD, links,
    hidden); every field is plain text wherever it is shown."""
    save_profile(api.sessions, who.name, change)
    now = datetime.now(UTC)
    return of_profile(
        read_profile(api, who.name, viewer=who.name, organiser=who.organiser, now=now),
        organiser=who.organiser,
        now=now,
    )
