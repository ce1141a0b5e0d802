"""Dispatching queued submissions to Dask; the database, not Dask, holds the queue state.

A submission is stored ``queued`` before it is dispatched. A restart calls
:meth:`Dispatcher.recover`, which re-dispatches queued and orphaned running ones; the ledger
records each result exactly once however often its task runs.

The task runs the notebook on a worker and returns its predictions; :meth:`Dispatcher.settle`
judges them here, in the scorer process, which alone reads the answer keys: a task carries the
phase's published inputs (:mod:`scorer.scoring.inputs`), never the phase data folder.
"""

from __future__ import annotations

import logging
import secrets
import sys
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from distributed import Client, Future, as_completed

from scorer.config import ScorerSettings
from scorer.exceptions import CoopError, FailureClass
from scorer.ledger import queries, reward_views, store
from scorer.ledger.db import Sessions
from scorer.scoring.inputs import PublicInputs, publish_inputs

if TYPE_CHECKING:
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
        """The submission's phase inputs, published for the workers; None when the phase data
        is not prepared (the task then fails as ours, retried, as any infrastructure failure)."""
        with self.sessions() as session:
            view = queries.submission(session, submission_id)
        try:
            return publish_inputs(self.settings, view.challenge_id, view.phase_id)
        except CoopError as exc:
            log.error("submission %s: %s", submission_id, exc.log_message)
            return None

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

    def recover(self) -> dict[Future, int]:
        """Re-dispatch what a previous run left queued or running."""
        with self.sessions.begin() as session:
            orphans = store.requeue_orphans(session)
        return self.dispatch(orphans)

    def wait(
        self, futures: dict[Future, int], on_done: Callable[[Finished], None] | None = None
    ) -> list[Finished]:
        """Wait for every task; a task that failed after its retries is an infrastructure failure."""
        done = []
        for future in as_completed(list(futures)):
            finished = self.settle(futures[future], future)
            done.append(finished)
            if on_done is not None:
                on_done(finished)
        return done

    def settle(self, submission_id: int, future: Future) -> Finished:
        """The outcome of a finished task: a run it returned is judged and recorded here; a task
        that failed after its retries is recorded as an infrastructure failure (never the
        participant's)."""
        if future.status != "error":
            outcome = future.result()
            if isinstance(outcome, str):
                return Finished(submission_id, outcome)
            from scorer.scoring.verdict import finish  # pandas and the metric code: when judging

            return Finished(submission_id, finish(self.settings, self.sessions, submission_id, outcome))
        with self.sessions.begin() as session:
            store.record_failure(
                session,
                submission_id,
                FailureClass.INFRASTRUCTURE,
                "the platform could not run this submission; it was retried "
                f"{self.settings.retries} time(s); an organiser has been told",
                provenance={"error": repr(future.exception())[:2000]},
            )
        return Finished(submission_id, FailureClass.INFRASTRUCTURE.value)
