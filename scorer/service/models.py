"""Response models of the JSON API, shared by the service and :mod:`scorer.client`.

Only pydantic here (no FastAPI), so that the client can import them cheaply. The ``of_*``
functions turn the ledger's views into these models.
"""

from __future__ import annotations

import math
from datetime import UTC, datetime
from typing import Any

from pydantic import BaseModel

from scorer.leaderboard import column_label, column_precision
from scorer.ledger.queries import LeaderboardView, SubmissionScores, SubmissionView
from scorer.spec import Challenge, Phase, column_sorting


class ErrorOut(BaseModel):
    error: str


class Health(BaseModel):
    status: str
    version: str


class WhoAmI(BaseModel):
    name: str
    kind: str
    scopes: list[str]
    groups: list[str]
    organiser: bool


class ChallengeSummary(BaseModel):
    id: str
    title: str
    current_phase: str | None


class MetricOut(BaseModel):
    key: str
    label: str
    direction: str
    precision: int
    description: str


class PhaseOut(BaseModel):
    id: str
    title: str
    description: str
    start: datetime
    end: datetime | None
    open: bool
    leaderboards: list[str]
    private_visible_at: datetime | None


class BoardSummary(BaseModel):
    key: str
    title: str
    primary: str


class ChallengeOut(ChallengeSummary):
    description: str
    domain: list[str]
    skills: list[str]
    metrics: list[MetricOut]
    leaderboards: list[BoardSummary]
    phases: list[PhaseOut]


class ColumnOut(BaseModel):
    key: str
    label: str
    precision: int
    sorting: str


class RowOut(BaseModel):
    rank: int
    person: str
    submission: int
    submitted_at: datetime
    values: dict[str, float | None]
    rank_change: int | None = None


class LeaderboardOut(BaseModel):
    challenge: str
    phase: str
    leaderboard: str
    title: str
    split: str
    primary: str
    columns: list[ColumnOut]
    rows: list[RowOut]


class SubmissionSummary(BaseModel):
    id: int
    challenge: str
    phase: str
    commit: str
    notebook: str
    person: str
    status: str
    failure_class: str | None
    reason: str | None
    created_at: datetime
    finished_at: datetime | None
    rescore_of: int | None


class SubmissionOut(SubmissionSummary):
    attempts: int
    started_at: datetime | None
    run_time: float | None
    peak_memory_mib: float | None
    public: dict[str, float | None]
    private: dict[str, float | None] | None
    provenance: dict[str, Any] | None = None


def _finite(values: dict[str, float | None]) -> dict[str, float | None]:
    """JSON has no NaN or infinity: an undefined value is ``null``."""
    return {k: v if v is None or math.isfinite(v) else None for k, v in values.items()}


def _utc(moment: datetime | None) -> datetime | None:
    """The ledger stores UTC; SQLite gives it back without a zone."""
    return moment.replace(tzinfo=UTC) if moment is not None and moment.tzinfo is None else moment


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


def of_leaderboard(challenge: Challenge, view: LeaderboardView) -> LeaderboardOut:
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
            )
            for c in view.columns
        ],
        rows=[
            RowOut(
                rank=row.rank,
                person=row.person,
                submission=row.submission_id,
                submitted_at=row.submitted_at,
                values=_finite(row.columns),
                rank_change=changes.get(row.person, 0) if changes is not None else None,
            )
            for row in view.rows
        ],
    )


def _summary_fields(view: SubmissionView) -> dict[str, Any]:
    return {
        "id": view.id,
        "challenge": view.challenge_id,
        "phase": view.phase_id,
        "commit": view.commit_sha,
        "notebook": view.notebook_path,
        "person": view.username,
        "status": str(view.status),
        "failure_class": view.failure_class,
        "reason": view.failure_reason,
        "created_at": _utc(view.created_at),
        "finished_at": _utc(view.finished_at),
        "rescore_of": view.rescore_of,
    }


def of_submission_summary(view: SubmissionView) -> SubmissionSummary:
    return SubmissionSummary(**_summary_fields(view))


def of_submission(view: SubmissionView, scores: SubmissionScores) -> SubmissionOut:
    return SubmissionOut(
        **_summary_fields(view),
        attempts=view.attempts,
        started_at=_utc(view.started_at),
        run_time=view.run_time,
        peak_memory_mib=view.peak_memory,
        public=_finite(scores.public),
        private=_finite(scores.private) if scores.private is not None else None,
        provenance=view.provenance,
    )
