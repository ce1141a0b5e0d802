"""The task a Dask worker runs for one submission: claim, score, record (exactly once)."""

from __future__ import annotations

import logging
import socket
from functools import cache, partial
from pathlib import Path
from typing import Any

from coop_client.models import FINISHED
from scorer.challenge.organiser_tree import organiser_tree
from scorer.challenge.spec import Challenge
from scorer.config import ScorerSettings
from scorer.exceptions import (
    FAILURE_DETAILS,
    CoopError,
    FailureClass,
    InfrastructureError,
    SandboxUnavailable,
    SubmissionFailure,
)
from scorer.ingest.repo import ChallengeRepo
from scorer.ledger import queries, store
from scorer.ledger.db import Sessions, make_engine, session_factory
from scorer.ledger.queries import SubmissionView
from scorer.rewards import granting
from scorer.rewards.checks import TrustedTree
from scorer.scoring.jobs import build_job
from scorer.scoring.pipeline import score
from scorer.scoring.provenance import ENVIRONMENT_CHANGED, environment_change

log = logging.getLogger(__name__)


@cache
def _sessions(url: str) -> Sessions:
    return session_factory(make_engine(url))


def score_submission(submission_id: int, plain_settings: dict[str, Any]) -> str:
    """Returns "scored", the failure class, or "skipped" (recorded by another run of the task);
    raises to make Dask retry an infrastructure failure."""
    settings = ScorerSettings(**plain_settings)
    sessions = _sessions(settings.db_url)
    worker = f"{socket.gethostname()}:{_worker_name()}"
    with sessions.begin() as session:
        claimed = store.claim(session, submission_id, worker)
        view = queries.submission(session, submission_id)
        challenge = queries.load_challenge(session, view.challenge_id)
        repo_url = queries.repo_url(session, view.challenge_id)
    trusted = partial(_trusted, settings, challenge, repo_url)
    if not claimed:
        if view.status in FINISHED:  # the first run may have stopped before judging rewards
            _live_rewards(sessions, submission_id, trusted)
        return "skipped"
    try:
        job = build_job(settings, challenge, repo_url, view.phase_id, view.commit_sha, view.notebook_path)
        result = score(job)
        _note_environment_change(sessions, view, result.provenance)
    except SubmissionFailure as failure:
        if failure.retryable:
            log.warning("submission %s: %s", submission_id, failure.log_message)
            raise
        provenance = _failure_provenance(failure)
        _note_environment_change(sessions, view, provenance)
        with sessions.begin() as session:
            recorded = store.record_failure(
                session,
                submission_id,
                failure.failure_class,
                failure.user_message,
                provenance=provenance,
                executed_notebook=failure.details.get("executed_notebook"),
            )
        _live_rewards(sessions, submission_id, trusted)  # the work submitted after it waits no more
        return failure.failure_class.value if recorded else "skipped"
    except SandboxUnavailable as exc:  # retrying cannot help: record why, for the operator
        with sessions.begin() as session:
            recorded = store.record_failure(
                session, submission_id, FailureClass.INFRASTRUCTURE, exc.user_message
            )
        _live_rewards(sessions, submission_id, trusted)
        return FailureClass.INFRASTRUCTURE.value if recorded else "skipped"
    except CoopError as exc:  # e.g. phase data not prepared: ours to fix, never the participant's
        raise InfrastructureError(exc.user_message, exc.log_message) from exc
    with sessions.begin() as session:
        recorded = store.record_result(session, submission_id, result)
    _live_rewards(sessions, submission_id, lambda: job.organiser_tree)
    return "scored" if recorded else "skipped"  # another run of the same task recorded first


def _live_rewards(sessions: Sessions, submission_id: int, trusted: TrustedTree) -> None:
    """Grant live rewards (this submission's, and those of the work submitted after it that
    waited for it to end), then queue a re-run for ``reproduced``, each in a transaction of its
    own: the outcome is recorded already, and nothing here may fail or undo it (a granted reward
    or a queued re-run is found again, never made twice)."""
    steps = (
        ("live rewards", partial(granting.grant_live, submission_id=submission_id, trusted=trusted)),
        ("queueing a re-run", partial(granting.queue_reproduction, submission_id=submission_id)),
    )
    for what, step in steps:
        try:
            with sessions.begin() as session:
                step(session)
        except Exception:
            log.exception("submission %s: %s failed; the score stands", submission_id, what)


def _trusted(settings: ScorerSettings, challenge: Challenge, repo_url: str) -> Path:
    """The organiser's trusted tree at the organiser's ref now."""
    repo = ChallengeRepo.mirror(repo_url, settings.mirrors)
    return organiser_tree(settings, repo, challenge.id, repo.resolve(challenge.organiser.ref))


def _note_environment_change(sessions: Sessions, view: SubmissionView, provenance: dict[str, Any]) -> None:
    """A rescore whose challenge environment is not the one its original ran in says so."""
    if view.rescore_of is None or not provenance:
        return
    with sessions() as session:
        before = queries.submission(session, view.rescore_of).challenge_environment
    now = provenance.get("challenge_environment")
    if before != now:
        provenance[ENVIRONMENT_CHANGED] = environment_change(before, now)


def _failure_provenance(failure: SubmissionFailure) -> dict[str, Any]:
    provenance = dict(failure.details.get("provenance") or {})
    for key in FAILURE_DETAILS:
        if failure.details.get(key):
            provenance[key] = failure.details[key]
    return provenance


def _worker_name() -> str:
    try:
        from distributed import get_worker

        return get_worker().name
    except ValueError:
        return "local"
