"""The scorer process's half of scoring a submission: a worker's :class:`Run` judged against the
answer key (which only this process reads), and recording an outcome exactly once, then the
live rewards it lets through (used by both halves)."""

from __future__ import annotations

import logging
from collections.abc import Callable
from functools import partial
from pathlib import Path
from typing import Any

from scorer.challenge.organiser_tree import organiser_tree
from scorer.challenge.phase_data import load_phase_data
from scorer.challenge.spec import Challenge
from scorer.config import ScorerSettings
from scorer.exceptions import FAILURE_DETAILS, CoopError, FailureClass, SubmissionFailure
from scorer.ingest.repo import ChallengeRepo
from scorer.ledger import queries, store
from scorer.ledger.db import Session, Sessions, reconnecting
from scorer.ledger.queries import SubmissionView
from scorer.rewards import granting
from scorer.rewards.checks import TrustedTree
from scorer.scoring.pipeline import judge
from scorer.scoring.provenance import ENVIRONMENT_CHANGED, environment_change
from scorer.scoring.results import Run

log = logging.getLogger(__name__)


def finish(settings: ScorerSettings, sessions: Sessions, submission_id: int, run: Run) -> str:
    """Judge and record a run a worker returned: "scored", the failure class, or "skipped"."""
    with sessions() as session:
        view = queries.submission(session, submission_id)
        challenge = queries.load_challenge(session, view.challenge_id)
        repo_url = queries.repo_url(session, view.challenge_id)
    trusted = partial(trusted_tree, settings, challenge, repo_url)
    try:
        commit = run.provenance["organiser_commit"]  # the metric code of the ref the run used
        repo = ChallengeRepo.mirror(repo_url, settings.mirrors, having=commit)
        tree = organiser_tree(settings, repo, challenge.id, commit)
        data = load_phase_data(settings.data_root, challenge.id, view.phase_id)
        result = judge(run, challenge, challenge.phase(view.phase_id), tree, data)
    except SubmissionFailure as failure:
        return record_failed(sessions, view, failure, trusted)
    except CoopError as exc:  # e.g. the phase data removed since: ours to fix, said so
        log.error("submission %s cannot be judged: %s", submission_id, exc.log_message)
        return record_infrastructure(sessions, submission_id, exc.user_message, trusted)
    note_environment_change(sessions, view, result.provenance)
    with sessions.begin() as session:
        recorded = store.record_result(session, submission_id, result)
    live_rewards(sessions, submission_id, lambda: tree)
    return "scored" if recorded else "skipped"  # another run of the same task recorded first


def record_failed(
    sessions: Sessions, view: SubmissionView, failure: SubmissionFailure, trusted: TrustedTree
) -> str:
    """Record a run that did not score: its failure class, or "skipped" when recorded already."""
    provenance = _failure_provenance(failure)
    note_environment_change(sessions, view, provenance)
    with sessions.begin() as session:
        recorded = store.record_failure(
            session,
            view.id,
            failure.failure_class,
            failure.user_message,
            provenance=provenance,
            executed_notebook=failure.details.get("executed_notebook"),
        )
    live_rewards(sessions, view.id, trusted)  # the work submitted after it waits no more
    return failure.failure_class.value if recorded else "skipped"


def record_infrastructure(sessions: Sessions, submission_id: int, reason: str, trusted: TrustedTree) -> str:
    """Record a failure retrying cannot help (ours, never the participant's)."""
    with sessions.begin() as session:
        recorded = store.record_failure(session, submission_id, FailureClass.INFRASTRUCTURE, reason)
    live_rewards(sessions, submission_id, trusted)
    return FailureClass.INFRASTRUCTURE.value if recorded else "skipped"


def live_rewards(sessions: Sessions, submission_id: int, trusted: TrustedTree) -> None:
    """Grant live rewards (this submission's, and those of the work submitted after it that
    waited for it to end), then queue a re-run for ``reproduced``, each in a transaction of its
    own: the outcome is recorded already, and nothing here may fail or undo it (a granted reward
    or a queued re-run is found again, never made twice)."""
    steps = (
        ("live rewards", partial(granting.grant_live, submission_id=submission_id, trusted=trusted)),
        ("queueing a re-run", partial(granting.queue_reproduction, submission_id=submission_id)),
    )
    for what, step in steps:
        try:  # a step finds what it already did: one whose connection was cut runs again
            reconnecting(partial(_in_transaction, sessions, step), f"submission {submission_id}: {what}")
        except Exception:
            log.exception("submission %s: %s failed; the score stands", submission_id, what)


def _in_transaction(sessions: Sessions, step: Callable[[Session], object]) -> None:
    with sessions.begin() as session:
        step(session)


def trusted_tree(settings: ScorerSettings, challenge: Challenge, repo_url: str) -> Path:
    """The organiser's trusted tree at the organiser's ref now."""
    repo = ChallengeRepo.mirror(repo_url, settings.mirrors)
    return organiser_tree(settings, repo, challenge.id, repo.resolve(challenge.organiser.ref))


def note_environment_change(sessions: Sessions, view: SubmissionView, provenance: dict[str, Any]) -> None:
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
