"""The task a Dask worker runs for one submission (or the scorer process itself:
:func:`scorer.dispatch.dispatcher.run_here`): claim, run in the sandbox, and hand back the
predictions (a :class:`Run`), which the scorer process judges (:mod:`scorer.scoring.verdict`).
A run that ends without predictions is recorded here: its outcome needs no answer key."""

from __future__ import annotations

import logging
import socket
import sys
from functools import cache, partial
from typing import Any

from coop_client.models import FINISHED
from scorer.config import ScorerSettings
from scorer.exceptions import CoopError, InfrastructureError, SandboxUnavailable, SubmissionFailure
from scorer.ledger import queries, store
from scorer.ledger.db import Sessions, make_engine, session_factory
from scorer.scoring.inputs import PublicInputs, publish_inputs
from scorer.scoring.jobs import build_job
from scorer.scoring.pipeline import run
from scorer.scoring.results import Run
from scorer.scoring.verdict import finish, live_rewards, record_failed, record_infrastructure, trusted_tree

log = logging.getLogger(__name__)


@cache
def sessions_for(url: str) -> Sessions:
    return session_factory(make_engine(url))


def run_submission(
    submission_id: int, plain_settings: dict[str, Any], inputs: PublicInputs | None
) -> str | Run:
    """The run to judge, or "skipped" (recorded by another run of the task) or the failure class
    of a run recorded here; raises to make Dask retry an infrastructure failure. ``inputs`` are
    the phase's published inputs (None: the scorer could not publish them)."""
    settings = ScorerSettings(**plain_settings)
    sessions = sessions_for(settings.db_url)
    worker = f"{socket.gethostname()}:{_worker_name()}"
    with sessions.begin() as session:
        claimed = store.claim(session, submission_id, worker)
        view = queries.submission(session, submission_id)
        challenge = queries.load_challenge(session, view.challenge_id)
        repo_url = queries.repo_url(session, view.challenge_id)
    trusted = partial(trusted_tree, settings, challenge, repo_url)
    if not claimed:
        if view.status in FINISHED:  # the first run may have stopped before judging rewards
            live_rewards(sessions, submission_id, trusted)
        return "skipped"
    if inputs is None:
        raise InfrastructureError("the phase's inputs are not ready", f"{submission_id}: no inputs")
    try:
        job = build_job(
            settings, challenge, repo_url, view.phase_id, view.commit_sha, view.notebook_path, inputs
        )
        return run(job)
    except SubmissionFailure as failure:
        if failure.retryable:
            log.warning("submission %s: %s", submission_id, failure.log_message)
            raise
        return record_failed(sessions, view, failure, trusted)
    except SandboxUnavailable as exc:  # retrying cannot help: record why, for the operator
        return record_infrastructure(sessions, submission_id, exc.user_message, trusted)
    except CoopError as exc:  # e.g. the organiser's ref unreachable: ours to fix, never the participant's
        raise InfrastructureError(exc.user_message, exc.log_message) from exc


def score_submission(submission_id: int, plain_settings: dict[str, Any]) -> str:
    """Both halves in this process (the CLI's and the tests' way): publish the inputs, run,
    judge; returns "scored", the failure class, or "skipped"."""
    settings = ScorerSettings(**plain_settings)
    sessions = sessions_for(settings.db_url)
    with sessions() as session:
        view = queries.submission(session, submission_id)
    try:
        inputs = publish_inputs(settings, view.challenge_id, view.phase_id)
    except CoopError as exc:
        raise InfrastructureError(exc.user_message, exc.log_message) from exc
    outcome = run_submission(submission_id, plain_settings, inputs)
    return outcome if isinstance(outcome, str) else finish(settings, sessions, submission_id, outcome)


def _worker_name() -> str:
    distributed = sys.modules.get("distributed")  # not even imported: not on a Dask worker
    try:
        return distributed.get_worker().name if distributed is not None else "local"
    except ValueError:
        return "local"
