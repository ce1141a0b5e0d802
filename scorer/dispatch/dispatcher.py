"""Dispatching queued submissions to Dask; the database, not Dask, holds the queue state.

A submission is stored ``queued`` before it is dispatched. A restart calls
:meth:`scorer.facade.CoopAPI.recover`, which runs queued and orphaned running ones again; the
ledger records each result exactly once however often its task runs.

The task runs the notebook on a worker and returns its predictions; :meth:`Dispatcher.settle`
judges them here, in the scorer process, which alone reads the answer keys: a task carries the
phase's published inputs (:mod:`scorer.scoring.inputs`), never the phase data folder.

:func:`run_here` runs the same task in this process instead, one submission after another, with
the same retries, judging and recording: a one-off run (``coop score``) that could not use a
cluster's parallelism does not pay for starting one. Dask is imported only when dispatching.
"""

from __future__ import annotations

import logging
import secrets
import sys
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from scorer.config import ScorerSettings
from scorer.exceptions import CoopError, FailureClass
from scorer.ledger import queries, reward_views, store
from scorer.ledger.db import Sessions
from scorer.scoring.inputs import PublicInputs, publish_inputs

if TYPE_CHECKING:
    from distributed import Client, Future

    from scorer.scoring.results import Run

log = logging.getLogger(__name__)


def run_task(submission_id: int, plain_settings: dict[str, Any], inputs: PublicInputs | None) -> str | Run:
    """The task Dask runs; imports the pipeline only on workers (the client needs only its judge)."""
    for name in plain_settings.get("hidden_packages", ()):
        sys.modules.setdefault(name, None)  # type: ignore[arg-type]  # import now fails fast
    from scorer.scoring.worker import run_submission

    return run_submission(submission_id, plain_settings, inputs)


@dataclass(frozen=True)
class Finished:
    submission_id: int
    outcome: str  # "scored", a failure class, or "skipped" (already finished elsewhere)


class Dispatcher:
    def __init__(self, settings: ScorerSettings, sessions: Sessions, client: Client) -> None:
        self.settings = settings
        self.sessions = sessions
        self.client = client

    def dispatch(self, submission_ids: Iterable[int]) -> dict[Future, int]:
        plain = self.settings.to_dict()
        futures = {}
        for submission_id in submission_ids:
            future = self.client.submit(
                run_task,
                submission_id,
                plain,
                self.inputs(submission_id),
                key=f"score-{submission_id}-{secrets.token_hex(4)}",
                retries=self.settings.retries,
                pure=False,
                **self.placement(submission_id),
            )
            futures[future] = submission_id
        return futures

    def inputs(self, submission_id: int) -> PublicInputs | None:
        return inputs_for(self.settings, self.sessions, submission_id)

    def placement(self, submission_id: int) -> dict[str, Any]:
        """Where a task may run: a re-run (``reproduced``) prefers a worker other than the one
        that scored the submission it reproduces, and takes it when no other is there."""
        with self.sessions() as session:
            scored_on = reward_views.reproduced_worker(session, submission_id)
        if scored_on is None:
            return {}
        name = scored_on.rpartition(":")[2]
        workers = self.client.scheduler_info().get("workers", {})
        others = [address for address, info in workers.items() if str(info.get("name")) != name]
        return {"workers": others, "allow_other_workers": True} if others else {}

    def wait(
        self, futures: dict[Future, int], on_done: Callable[[Finished], None] | None = None
    ) -> list[Finished]:
        """Wait for every task; a task that failed after its retries is an infrastructure failure."""
        from distributed import as_completed

        done = []
        for future in as_completed(list(futures)):
            finished = self.settle(futures[future], future)
            done.append(finished)
            if on_done is not None:
                on_done(finished)
        return done

    def settle(self, submission_id: int, future: Future) -> Finished:
        """The outcome of a finished task (see :func:`settle`)."""
        outcome = future.exception() if future.status == "error" else future.result()
        return settle(self.settings, self.sessions, submission_id, outcome)


def inputs_for(settings: ScorerSettings, sessions: Sessions, submission_id: int) -> PublicInputs | None:
    """The submission's phase inputs, published for the workers; None when the phase data
    is not prepared (the task then fails as ours, retried, as any infrastructure failure)."""
    with sessions() as session:
        view = queries.submission(session, submission_id)
    try:
        return publish_inputs(settings, view.challenge_id, view.phase_id)
    except CoopError as exc:
        log.error("submission %s: %s", submission_id, exc.log_message)
        return None


def settle(
    settings: ScorerSettings, sessions: Sessions, submission_id: int, outcome: str | Run | BaseException
) -> Finished:
    """The outcome of a task: a run it returned is judged and recorded here; a task that failed
    after its retries (``outcome`` is its error) is recorded as an infrastructure failure (never
    the participant's)."""
    if isinstance(outcome, str):
        return Finished(submission_id, outcome)
    if not isinstance(outcome, BaseException):
        from scorer.scoring.verdict import finish  # pandas and the metric code: when judging

        return Finished(submission_id, finish(settings, sessions, submission_id, outcome))
    with sessions.begin() as session:
        store.record_failure(
            session,
            submission_id,
            FailureClass.INFRASTRUCTURE,
            "the platform could not run this submission; it was retried "
            f"{settings.retries} time(s); an organiser has been told",
            provenance={"error": repr(outcome)[:2000]},
        )
    return Finished(submission_id, FailureClass.INFRASTRUCTURE.value)


def run_here(
    settings: ScorerSettings,
    sessions: Sessions,
    submission_ids: Iterable[int],
    on_done: Callable[[Finished], None] | None = None,
) -> list[Finished]:
    """Run each submission's task in this process, one after another, without Dask: tried again
    on any error up to ``settings.retries`` times, as Dask retries a task, then settled as a
    finished task is (:func:`settle`). The notebook still runs in the sandbox; the claim keeps
    each result recorded once; ``hidden_packages`` are hidden from this process, as on a worker."""
    plain = settings.to_dict()
    done = []
    for submission_id in submission_ids:
        outcome = _attempts(settings, submission_id, plain, inputs_for(settings, sessions, submission_id))
        finished = settle(settings, sessions, submission_id, outcome)
        done.append(finished)
        if on_done is not None:
            on_done(finished)
    return done


def _attempts(
    settings: ScorerSettings, submission_id: int, plain: dict[str, Any], inputs: PublicInputs | None
) -> str | Run | BaseException:
    """The task's result, or its last error after ``settings.retries`` retries."""
    error: BaseException = CoopError("no attempt: retries < 0")
    for attempt in range(1, settings.retries + 2):
        try:
            return run_task(submission_id, plain, inputs)
        except Exception as exc:  # Dask retries whatever a task raises
            log.warning("submission %s: attempt %d failed: %r", submission_id, attempt, exc)
            error = exc
    return error
