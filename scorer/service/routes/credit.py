"""Credit: a phase's credit table and its contribution graph, public reads like leaderboards
(the private split obeys THE RULE)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from fastapi import APIRouter, Query

from coop_client.models import ContributionGraphOut, CreditTableOut, ErrorOut, GraphOverviewOut
from scorer.credit import overview
from scorer.credit.contribution import MAX_PAGE
from scorer.service.convert.credit import of_credit_table, of_graph, of_overview
from scorer.service.deps import Api, Viewer

router = APIRouter(
    tags=["credit"],
    responses={
        401: {"model": ErrorOut},
        403: {"model": ErrorOut},
        404: {"model": ErrorOut},
        409: {"model": ErrorOut, "description": "Scored commits are gone from the repository."},
        422: {"model": ErrorOut},
    },
)

Split = Literal["public", "private"]
BoardQuery = Annotated[str | None, Query(description="A board of the phase (default: its first).")]
Moment = Annotated[
    datetime | None, Query(description="A window's end (default: the phase's first or last version).")
]
MaxNodes = Annotated[int, Query(ge=1, le=MAX_PAGE, description="Most versions drawn one by one.")]
Buckets = Annotated[int, Query(ge=1, le=500, description="Time buckets when grouping.")]


@router.get("/api/challenges/{challenge_id}/phases/{phase_id}/credit", response_model=CreditTableOut)
def get_credit(
    api: Api, who: Viewer, challenge_id: str, phase_id: str, board: BoardQuery = None, split: Split = "public"
) -> CreditTableOut:
    """Each person's credit on the board's primary column: the gains along the commit graph
    (best so far with the noise threshold, exact Shapley splits at merges) their versions
    brought. ``private`` only for organisers, or for everyone once the phase allows it."""
    table = api.credit_table(
        challenge_id, phase_id, board, split, organiser=who is not None and who.organiser
    )
    return of_credit_table(table)


@router.get("/api/challenges/{challenge_id}/phases/{phase_id}/graph", response_model=ContributionGraphOut)
def get_contribution_graph(
    api: Api,
    who: Viewer,
    challenge_id: str,
    phase_id: str,
    board: BoardQuery = None,
    split: Split = "public",
    detail: Annotated[
        Literal["all", "steps"],
        Query(description="`steps`: only versions that moved the ladder, merges, copies, reverts."),
    ] = "all",
    offset: Annotated[int, Query(ge=0)] = 0,
    limit: Annotated[int, Query(ge=1, le=MAX_PAGE)] = 1000,
) -> ContributionGraphOut:
    """A page of the phase's contribution graph, parents first: nodes (a scored notebook version
    with its values, best so far, increment, credit, likes and flags) and edges (parent, merge,
    copy). Page on with ``offset=next_offset``."""
    page = api.contribution_graph(
        challenge_id,
        phase_id,
        board,
        split,
        detail=detail,
        offset=offset,
        limit=limit,
        organiser=who is not None and who.organiser,
    )
    return of_graph(challenge_id, phase_id, board, split, detail, page)


@router.get(
    "/api/challenges/{challenge_id}/phases/{phase_id}/graph/overview", response_model=GraphOverviewOut
)
def get_graph_overview(
    api: Api,
    who: Viewer,
    challenge_id: str,
    phase_id: str,
    board: BoardQuery = None,
    split: Split = "public",
    start: Moment = None,
    end: Moment = None,
    max_nodes: MaxNodes = overview.MAX_NODES,
    buckets: Buckets = overview.BUCKETS,
) -> GraphOverviewOut:
    """What a viewer draws of the contribution graph in a time window: each version when at most
    ``max_nodes`` are in it, else groups by person and time bucket (zoom in for the versions);
    the phase's best so far; the versions that earned the largest credits."""
    measure, found = api.graph_overview(
        challenge_id,
        phase_id,
        board,
        split,
        start=start,
        end=end,
        max_nodes=max_nodes,
        buckets=buckets,
        organiser=who is not None and who.organiser,
    )
    return of_overview(challenge_id, phase_id, board, split, measure, found)
