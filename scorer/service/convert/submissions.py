"""Submissions as the API shows them: status, failure, scores."""

from __future__ import annotations

from typing import Any

from coop_client.models import SubmissionOut, SubmissionSummary
from scorer.ledger.queries import SubmissionScores, SubmissionView
from scorer.service.convert.finite import finite


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
        "created_at": view.created_at,
        "finished_at": view.finished_at,
        "rescore_of": view.rescore_of,
    }


def of_submission_summary(view: SubmissionView) -> SubmissionSummary:
    return SubmissionSummary(**_summary_fields(view))


def of_submission(view: SubmissionView, scores: SubmissionScores) -> SubmissionOut:
    return SubmissionOut(
        **_summary_fields(view),
        attempts=view.attempts,
        started_at=view.started_at,
        run_time=view.run_time,
        peak_memory_mib=view.peak_memory,
        public=finite(scores.public),
        private=finite(scores.private) if scores.private is not None else None,
        provenance=view.provenance,
        challenge_environment=view.challenge_environment,
    )
