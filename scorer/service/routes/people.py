"""People search (public, like the profiles it ranks): people by weighted skills, each row
explained, and the skills this instance knows."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Query

from coop_client.models import ErrorOut, PeopleSearchOut, SkillsOut
from scorer.profiles import search as people
from scorer.service.convert.people import of_results, of_skills
from scorer.service.deps import Api

router = APIRouter(tags=["people"], responses={401: {"model": ErrorOut}, 422: {"model": ErrorOut}})


@router.get("/api/people", response_model=PeopleSearchOut)
def search_people(
    api: Api,
    skill: Annotated[
        list[str],
        Query(
            description="A skill and its weight, `clustering:2` (weight 1 when left out, at most "
            f"{people.MAX_WEIGHT:g}); `rank:<challenge>` ranks by the best rank there."
        ),
    ] = [],  # noqa: B006 - FastAPI copies defaults
    domain: Annotated[
        list[str], Query(description="Only people who worked on a challenge of this domain.")
    ] = [],  # noqa: B006
    challenge: Annotated[list[str], Query(description="Only people who worked on this challenge.")] = [],  # noqa: B006
    min_percentile: Annotated[float, Query(description="A skill below this percentile counts 0.")] = 0.0,
    since: Annotated[datetime | None, Query(description="Only people with scored work since then.")] = None,
    offset: int = 0,
    limit: Annotated[int, Query(description=f"At most {people.MAX_LIMIT}.")] = 20,
) -> PeopleSearchOut:
    """People ranked by the weighted mean of the requested skills' percentiles (each among the
    people who have that skill here), every row with the evidence and weight behind its score.
    An unknown skill gives no rows and a note; weights and the page size are bounded."""
    query = people.Query(
        people.parse_weights(skill), tuple(domain), tuple(challenge), min_percentile, since, offset, limit
    )
    return of_results(api.search_people(query))


@router.get("/api/skills", response_model=SkillsOut)
def get_skills(api: Api) -> SkillsOut:
    """The module → skill table and every skill known here with how many people have it."""
    return of_skills(api.skill_index(), api.people.table)
