"""Challenges, their phases, leaderboards and a person's quota as the API shows them."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from coop_client.models import (
    BoardSummary,
    ChallengeOut,
    ChallengeSummary,
    ColumnOut,
    LeaderboardOut,
    LimitsOut,
    MetricOut,
    PhaseOut,
    QuotaOut,
    RowOut,
    RunLimitsOut,
)
from scorer.challenge.spec import Challenge, Phase, column_sorting
from scorer.ingest.limits import check_limits, submissions_left
from scorer.ledger.queries import LeaderboardView
from scorer.ranking.leaderboard import RankedRow, column_computation, column_label, column_precision
from scorer.service.convert.finite import finite


def of_phase(challenge: Challenge, phase: Phase, now: datetime) -> PhaseOut:
    return PhaseOut(
        id=phase.id,
        title=phase.title,
        description=phase.description,
        start=phase.start,
        end=phase.end,
        open=phase.is_open(now),
        leaderboards=[b.key for b in challenge.phase_leaderboards(phase)],
        private_visible_at=phase.private_visible_at(),
        submissions=LimitsOut(**phase.submissions.model_dump()),
        run_limits=RunLimitsOut(**phase.limits.model_dump(exclude={"processes"})),
        public_fraction=phase.test_split.public_fraction,
        open_code=phase.open_code,
    )


def of_challenge_summary(challenge: Challenge, now: datetime) -> ChallengeSummary:
    current = challenge.current_phase(now)
    return ChallengeSummary(id=challenge.id, title=challenge.title, current_phase=current and current.id)


def of_challenge(challenge: Challenge, now: datetime) -> ChallengeOut:
    return ChallengeOut(
        **of_challenge_summary(challenge, now).model_dump(),
        description=challenge.description,
        domain=challenge.tags.domain,
        skills=challenge.tags.skills,
        metrics=[
            MetricOut(
                key=m.key,
                label=m.label or m.key,
                direction=str(m.direction),
                precision=m.precision,
                description=m.description,
            )
            for m in challenge.metrics
        ],
        leaderboards=[
            BoardSummary(key=b.key, title=b.title or b.key, primary=b.primary) for b in challenge.leaderboards
        ],
        phases=[of_phase(challenge, p, now) for p in challenge.phases],
    )


def of_leaderboard(
    challenge: Challenge, view: LeaderboardView, likes: dict[int, int] | None = None
) -> LeaderboardOut:
    """``likes``: how many people like each row's submission (absent: none)."""
    likes = likes or {}
    changes = view.rank_changes
    return LeaderboardOut(
        challenge=view.challenge_id,
        phase=view.phase_id,
        leaderboard=view.board.key,
        title=view.board.title or view.board.key,
        split=view.split,
        primary=view.board.primary,
        columns=[
            ColumnOut(
                key=c.key,
                label=column_label(challenge, c),
                precision=column_precision(challenge, c),
                sorting=str(column_sorting(challenge, c)),
                computation=column_computation(c),
            )
            for c in view.columns
        ],
        rows=[
            of_row(
                row,
                rank_change=changes.get(row.person, 0) if changes is not None else None,
                likes=likes.get(row.submission_id, 0),
            )
            for row in view.rows
        ],
        tie_break=list(view.board.tie_break),
        select=str(view.board.select),
    )


def of_row(row: RankedRow, *, rank_change: int | None = None, likes: int = 0) -> RowOut:
    return RowOut(
        rank=row.rank,
        person=row.person,
        submission=row.submission_id,
        submitted_at=row.submitted_at,
        values=finite(row.columns),
        rank_change=rank_change,
        likes=likes,
    )


def of_quota(
    challenge_id: str, phase: Phase, person: str, counted: Iterable[datetime], now: datetime
) -> QuotaOut:
    """What ``phase``'s limits leave ``person``, whose submissions that count were made at ``counted``."""
    counted = list(counted)
    hit = check_limits(phase.submissions, counted, now)
    left_today, left_in_phase = submissions_left(phase.submissions, counted, now)
    return QuotaOut(
        challenge=challenge_id,
        phase=phase.id,
        person=person,
        at=now,
        limits=LimitsOut(**phase.submissions.model_dump()),
        left_today=left_today,
        left_in_phase=left_in_phase,
        next_slot=now if hit is None else hit.next_slot,
        blocked_by=hit and hit.code,
        reason=hit and hit.text,
        reached=hit and hit.message,
    )
