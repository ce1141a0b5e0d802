"""Challenges, their phases and leaderboards: public reads (private boards obey THE RULE)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Literal

from fastapi import APIRouter, Query, Response

from coop_client.models import ActivityOut, ChallengeOut, ChallengeSummary, ErrorOut, LeaderboardOut, QuotaOut
from scorer.ledger import activity, likes, queries
from scorer.ledger.cache import ViewCache
from scorer.service.board_body import Body, board_body
from scorer.service.convert.challenges import of_challenge, of_challenge_summary, of_quota
from scorer.service.deps import Api, Caller, Viewer

router = APIRouter(tags=["challenges"], responses={404: {"model": ErrorOut}})

#: The JSON of each ranked view, valid while the ledger hands out that same (cached) view object:
#: a board of thousands of rows is built and encoded once per change, not once per request, and
#: after a new score updated from the body before it.
_encoded: ViewCache[Body] = ViewCache(32)  # boards, splits, and their first rows apart


@router.get("/api/challenges", response_model=list[ChallengeSummary])
def list_challenges(api: Api) -> list[ChallengeSummary]:
    """Every published challenge, with its open phase and how much it is used."""
    now = datetime.now(UTC)
    with api.sessions() as session:
        ids = queries.challenge_ids(session)
        used = activity.per_challenge(session)
        summaries = [of_challenge_summary(queries.load_challenge(session, i), now) for i in ids]
    unused = activity.Activity(participants=0, submissions=0, last_at=None)
    for summary in summaries:
        summary.activity = ActivityOut(**vars(used.get(summary.id, unused)))
    return summaries


@router.get("/api/challenges/{challenge_id}", response_model=ChallengeOut)
def get_challenge(api: Api, challenge_id: str) -> ChallengeOut:
    """A challenge's description, metrics, leaderboards and phases (with their dates)."""
    return of_challenge(api.challenge(challenge_id), datetime.now(UTC))


@router.get(
    "/api/challenges/{challenge_id}/phases/{phase_id}/quota",
    response_model=QuotaOut,
    responses={401: {"model": ErrorOut}},
)
def get_quota(api: Api, who: Caller, challenge_id: str, phase_id: str) -> QuotaOut:
    """What the phase's submission limits leave the caller now, and when their next slot opens."""
    phase = queries.phase_of(api.challenge(challenge_id), phase_id)
    now = datetime.now(UTC)
    with api.sessions() as session:
        counted = queries.counted_times(session, challenge_id, phase.id, who.name)
    return of_quota(challenge_id, phase, who.name, counted, now)


@router.get(
    "/api/challenges/{challenge_id}/phases/{phase_id}/leaderboards/{board}",
    response_model=LeaderboardOut,
    responses={401: {"model": ErrorOut}, 403: {"model": ErrorOut}},
)
def get_leaderboard(
    api: Api,
    who: Viewer,
    challenge_id: str,
    phase_id: str,
    board: str,
    split: Literal["public", "private"] = "public",
    limit: Annotated[
        int | None, Query(ge=1, description="Only the first rows; `total` counts them all.")
    ] = None,
) -> Response:
    """A ranked board (each row with its submission's likes). ``private`` only for organisers, or
    for everyone once the phase allows it. ``limit``: its first rows only (a page's first screen
    of a board of thousands)."""
    spec = api.challenge(challenge_id)
    queries.phase_of(spec, phase_id)  # an unknown phase is a 404, not a KeyError
    view = api.leaderboard(
        challenge_id,
        phase_id=phase_id,
        board=board,
        private=split == "private",
        organiser=who is not None and who.organiser,
    )
    key = (challenge_id, phase_id, board, split, who is not None and who.organiser, limit)
    body = _encoded.get(key, spec)
    if body is None or body.view is not view:  # a like replaces the phase's version token too

        def counts(submission_ids: list[int]) -> dict[int, int]:
            with api.sessions() as session:
                return likes.like_counts(session, submission_ids)

        body = board_body(spec, view, limit, counts, body)
        _encoded.put(key, spec, body)
    return Response(body.json, media_type="application/json")
