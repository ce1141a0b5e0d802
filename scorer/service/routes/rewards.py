"""Rewards and likes: reward history and balances (public reads, like leaderboards; evidence
drawn from private scores keeps no value while they are hidden), the rewards of one
submission, a phase's rewarders in words, and liking a submission (``PUT``/``DELETE``)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated

from fastapi import APIRouter, Depends, Query

from coop_client.models import BalanceOut, ErrorOut, LikeOut, LikesOut, RewarderOut, RewardOut
from scorer.challenge.spec import Challenge
from scorer.ledger import likes, queries, rewards
from scorer.rewards.describe import describe
from scorer.service.auth import SUBMIT, Identity
from scorer.service.convert.rewards import of_balance, of_rewarder, of_rewards
from scorer.service.deps import Api, Caller, Viewer, require_scope
from scorer.service.routes.params import SubmissionId

router = APIRouter(tags=["rewards"], responses={404: {"model": ErrorOut}})

Phase = Annotated[str | None, Query(description="Only this phase.")]
Person = Annotated[str | None, Query(description="Only this person.")]
Liker = Annotated[Identity, Depends(require_scope(SUBMIT))]
LIKE_ERRORS: dict[int | str, dict[str, object]] = {
    401: {"model": ErrorOut, "description": "No credentials."},
    403: {
        "model": ErrorOut,
        "description": "No submit scope, or the like is refused (code `own-submission`, "
        "`not-scored` or `code-closed`).",
    },
}


@router.get("/api/challenges/{challenge_id}/rewards", response_model=list[RewardOut])
def get_rewards(
    api: Api, who: Viewer, challenge_id: str, phase: Phase = None, person: Person = None
) -> list[RewardOut]:
    """Grants and the compensations that took some back, oldest first. Evidence drawn from
    private scores shows no value (``evidence_hidden``) until the phase shows them."""
    with api.sessions() as session:
        spec = _checked(queries.load_challenge(session, challenge_id), phase)
        found = rewards.history(session, challenge_id, phase_id=phase, person=person)
    return of_rewards(spec, found, organiser=who is not None and who.organiser, now=datetime.now(UTC))


@router.get("/api/challenges/{challenge_id}/balances", response_model=list[BalanceOut])
def get_balances(api: Api, challenge_id: str, phase: Phase = None, person: Person = None) -> list[BalanceOut]:
    """Each person's sum of grants and compensations per unit, by person then unit."""
    with api.sessions() as session:
        _checked(queries.load_challenge(session, challenge_id), phase)
        found = rewards.balances(session, challenge_id, phase_id=phase, person=person)
    return [of_balance(balance) for balance in found]


@router.get("/api/challenges/{challenge_id}/phases/{phase_id}/rewarders", response_model=list[RewarderOut])
def get_rewarders(api: Api, challenge_id: str, phase_id: str) -> list[RewarderOut]:
    """The phase's rewarders in words, e.g. "10 points the first time accuracy ≥ 0.9"."""
    spec = api.challenge(challenge_id)
    return [of_rewarder(d) for d in describe(spec, queries.phase_of(spec, phase_id))]


@router.get("/api/submissions/{submission_id}/rewards", response_model=list[RewardOut])
def get_submission_rewards(api: Api, who: Viewer, submission_id: SubmissionId) -> list[RewardOut]:
    """What a submission earned (and what was taken back), oldest first."""
    with api.sessions() as session:
        view = queries.submission(session, submission_id)
        spec = queries.load_challenge(session, view.challenge_id)
        # What a submission earns goes to its author: their history is the short one to read.
        found = rewards.history(session, view.challenge_id, phase_id=view.phase_id, person=view.username)
    mine = [r for r in found if r.submission_id == submission_id]
    return of_rewards(spec, mine, organiser=who is not None and who.organiser, now=datetime.now(UTC))


@router.get(
    "/api/submissions/{submission_id}/like", response_model=LikeOut, responses={401: {"model": ErrorOut}}
)
def get_like(api: Api, who: Caller, submission_id: SubmissionId) -> LikeOut:
    """Whether the caller likes the submission now, and how many people do."""
    with api.sessions() as session:
        queries.submission(session, submission_id)  # an unknown submission is a 404
        liked = submission_id in likes.likes_given(session, who.name)
        count = likes.like_counts(session, [submission_id]).get(submission_id, 0)
    return LikeOut(submission=submission_id, liked=liked, likes=count)


@router.put("/api/submissions/{submission_id}/like", response_model=LikeOut, responses=LIKE_ERRORS)
def put_like(api: Api, who: Liker, submission_id: SubmissionId) -> LikeOut:
    """Like someone else's scored submission whose code is open; liking it again changes nothing."""
    return _set_like(api, who, submission_id, liked=True)


@router.delete("/api/submissions/{submission_id}/like", response_model=LikeOut, responses=LIKE_ERRORS)
def delete_like(api: Api, who: Liker, submission_id: SubmissionId) -> LikeOut:
    """No longer like a submission; unliking one you do not like changes nothing."""
    return _set_like(api, who, submission_id, liked=False)


@router.get("/api/me/likes", response_model=LikesOut, responses={401: {"model": ErrorOut}})
def get_my_likes(api: Api, who: Caller) -> LikesOut:
    """The submissions the caller likes now, in id order."""
    with api.sessions() as session:
        return LikesOut(person=who.name, submissions=likes.likes_given(session, who.name))


def _set_like(api: Api, who: Identity, submission_id: int, *, liked: bool) -> LikeOut:
    state = api.like(submission_id, who.name, liked)
    return LikeOut(submission=state.submission_id, liked=state.liked, likes=state.count)


def _checked(spec: Challenge, phase_id: str | None) -> Challenge:
    """``spec``, once ``phase_id`` is known in it: an unknown phase is a 404, not an empty list."""
    if phase_id is not None:
        queries.phase_of(spec, phase_id)
    return spec
