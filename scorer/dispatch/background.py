"""What the service does in the background, each in a polling thread (:class:`Poller`).

Scoring: queued submissions are handed to Dask as they appear (:class:`BackgroundDispatcher`).
The database holds the queue (a push only writes ``queued`` rows), so this loop polls it; on
start it first puts back what a previous run left running. Dask is started (or reached) when the
first submission waits, so an instance with nothing to score runs no cluster. A submission
dispatched twice is still recorded once. The service's dispatcher owns the runs of its ledger: a
running submission none of its tasks holds is lost (its result could never be judged) and goes
back to the queue.

The spool: pushes that the served repositories' hooks spooled and forge deliveries the webhook
spooled, when no request took them (the service was down or died meanwhile, or taking them
failed), are recorded and queued (:class:`SpoolDrainer`, :func:`scorer.ingest.spool.drain`), in
their own thread so that a slow Dask never holds them up.
"""

from __future__ import annotations

import logging
import threading
from functools import partial

from distributed import Future

from scorer.dispatch.dispatcher import Dispatcher
from scorer.facade import CoopAPI
from scorer.ingest import spool
from scorer.ledger import queries, store
from scorer.ledger.db import reconnecting

log = logging.getLogger("coop.service.dispatcher")


class Poller:
    """A daemon thread that runs :meth:`step` every ``interval`` seconds until stopped."""

    name = "coop-poller"
    doing = "polling"

    def __init__(self, api: CoopAPI, interval: float = 1.0) -> None:
        self.api = api
        self.interval = interval
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name=self.name, daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=30)

    def prepare(self) -> None:
        """What runs once, before the first step."""

    def step(self) -> None:
        raise NotImplementedError

    def _run(self) -> None:
        self.prepare()
        while not self._stop.is_set():
            try:
                self.step()
            except Exception:  # the loop must outlive a database or scheduler hiccup
                log.exception("%s failed; trying again", self.doing)
            self._stop.wait(self.interval)


class SpoolDrainer(Poller):
    """Takes the pushes and deliveries left in the spool."""

    name = "coop-spool"
    doing = "taking spooled pushes and deliveries"

    def step(self) -> None:
        spool.drain(self.api)


class BackgroundDispatcher(Poller):
    """Hands queued submissions to Dask, and puts back in the queue a running one whose task
    this service does not hold (:meth:`requeue_lost`)."""

    name = "coop-dispatcher"
    doing = "dispatching queued submissions"

    def __init__(self, api: CoopAPI, interval: float = 1.0) -> None:
        super().__init__(api, interval)
        self.in_flight: set[int] = set()
        self._dispatcher: Dispatcher | None = None
        self._lock = threading.Lock()

    def prepare(self) -> None:
        with self.api.sessions.begin() as session:
            store.requeue_orphans(session)

    def step(self) -> None:
        with self.api.sessions() as session:
            queued = queries.queued_ids(session)
            running = queries.running_ids(session)
        self.requeue_lost(running)
        if not queued:
            return
        if self._dispatcher is None or self._dispatcher.client.status == "closed":  # see SchedulerExecutor
            self._dispatcher = Dispatcher(self.api.settings, self.api.sessions, self.api.executor().client())
        dispatcher = self._dispatcher
        with self._lock:
            fresh = [i for i in queued if i not in self.in_flight]
            self.in_flight.update(fresh)
        for future, submission_id in dispatcher.dispatch(fresh).items():
            future.add_done_callback(partial(self._settled, dispatcher, submission_id))

    def requeue_lost(self, running: list[int]) -> list[int]:
        """Put back in the queue the ``running`` submissions whose task this service does not
        hold: their result would never be judged. A worker claimed one after Dask lost its task
        (the scheduler went away while the task started), or recording its result failed. A
        submission is in flight from before its task can claim it until its result is recorded,
        and only a running one is requeued, so one that settles meanwhile stays as recorded."""
        with self._lock:
            unheld = [i for i in running if i not in self.in_flight]
        requeued = []
        for submission_id in unheld:
            with self.api.sessions.begin() as session:
                if store.requeue(session, submission_id, "requeued: no task of the service was running it"):
                    requeued.append(submission_id)
        if requeued:
            log.warning("submissions %s: running without a task; requeued", requeued)
        return requeued

    def _settled(self, dispatcher: Dispatcher, submission_id: int, future: Future) -> None:
        try:
            if future.cancelled():  # the client lost its scheduler: the task is gone, not failed
                with self.api.sessions.begin() as session:
                    requeued = store.requeue(session, submission_id, "requeued: its task was lost with Dask")
                log.warning(
                    "submission %s: task lost (%s)%s",
                    submission_id,
                    future.status,
                    "; requeued" if requeued else "",
                )
                return
            settle = partial(dispatcher.settle, submission_id, future)
            finished = reconnecting(settle, f"submission {submission_id}: recording its run")
            log.info("submission %s: %s", submission_id, finished.outcome)
        except Exception:  # left running and no longer in flight: the next step requeues it
            log.exception("submission %s: its run could not be settled; it runs again", submission_id)
        finally:
            with self._lock:
                self.in_flight.discard(submission_id)
