"""Response models of the JSON API, shared by the service and :mod:`scorer.client`.

Only pydantic here (no FastAPI), so that the client can import them cheaply. The ``of_*``
functions turn the ledger's views into these models.
"""

from __future__ import annotations

import math
from datetime import UTC, datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from scorer.challenge.spec import Challenge, Phase, column_sorting
from scorer.ledger.queries import LeaderboardView, SubmissionScores, SubmissionView
from scorer.ranking.leaderboard import column_label, column_precision


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


class LimitsOut(BaseModel):
    """A phase's submission limits (``null``: no such limit)."""

    per_day: int | None
    per_person: int | None
    min_interval: float | None


class PhaseOut(BaseModel):
    id: str
    title: str
    description: str
    start: datetime
    end: datetime | None
    open: bool
    leaderboards: list[str]
    private_visible_at: datetime | None
    submissions: LimitsOut


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


class DiffEntryOut(BaseModel):
    """One entry of an nbdime diff, in nbdime's own diff format: ``op`` applied at ``key`` (a field
    of a mapping, or a position in a sequence: cells, outputs, source lines, characters of a
    line). An entry carries only what its ``op`` needs: ``value`` (add, replace), ``valuelist``
    (addrange: a list, or a string of characters), ``length`` (removerange), ``diff`` (patch)."""

    op: Literal["add", "remove", "replace", "addrange", "removerange", "patch"]
    key: int | str
    value: Any = None
    valuelist: Any = None
    length: int | None = None
    diff: list[DiffEntryOut] | None = None


class NotebookDiffOut(BaseModel):
    """A submission's notebook compared (``nbdime.diff_notebooks``) with its version at the first
    parent of the submission's commit; ``model_dump(exclude_unset=True)["diff"]`` is nbdime's diff."""

    submission: int
    notebook: str = Field(description="Path of the notebook in the challenge repository.")
    commit: str = Field(description="The submission's commit.")
    parent: str | None = Field(description="The commit's first parent (null for a root commit).")
    base: Literal["parent", "empty"] = Field(
        description="`parent`: the diff is from the parent's version of the notebook; `empty`: the "
        "notebook is new in this commit (or the commit is a root), so the diff is from an empty notebook."
    )
    diff: list[DiffEntryOut] = Field(description="nbdime's diff from the base to the submission's notebook.")


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
        submissions=LimitsOut(**phase.submissions.model_dump()),
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


# --- organisers ----------------------------------------------------------------------------------


class _Request(BaseModel):
    model_config = ConfigDict(extra="forbid")


class OpenPhaseIn(_Request):
    phase: str | None = Field(None, description="The phase to open; by default the next one to start.")
    close_current: bool = Field(False, description="Also end the phase open until now.")
    base: str | None = Field(None, description="The organiser commit the change was reviewed against.")
    dry_run: bool = Field(False, description="Only show what would change.")


class RewarderIn(_Request):
    phase: str
    index: int = Field(ge=0, description="Which of the phase's rewarders (from 0).")
    rewarder: dict[str, Any] = Field(description="Its new fields, as in challenge.yaml.")
    base: str | None = Field(None, description="The organiser commit the change was reviewed against.")
    dry_run: bool = Field(False, description="Only show what would change.")


class RescoreIn(_Request):
    phase: str


class OrganiseOut(BaseModel):
    """A challenge as its organisers edit it: the spec on the organiser ref, and that commit."""

    challenge: str
    ref: str
    base: str
    spec: dict[str, Any]


class SpecChangeOut(BaseModel):
    """A change to challenge.yaml: applied (a new organiser commit), or a dry run's preview."""

    challenge: str
    action: str
    applied: bool
    base: str
    commit: str | None
    diff: str
    before: dict[str, Any]
    after: dict[str, Any]
    audit: int | None


class RescoreOut(BaseModel):
    challenge: str
    phase: str
    queued: list[int]
    audit: int


class AuditEventOut(BaseModel):
    id: int
    at: datetime
    actor: str
    challenge: str
    action: str
    detail: dict[str, Any]
