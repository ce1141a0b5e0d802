"""Scoring while the service runs: queued submissions are handed to Dask as they appear.

The database holds the queue (a push's post-receive hook only writes ``queued`` rows), so this
loop polls it; on start it first puts back what a previous run left running. Dask is started
(or reached) when the first submission waits, so an instance with nothing to score runs no
cluster. A submission dispatched twice is still recorded once.
"""

from __future__ import annotations

import logging
import threading
from functools import partial

from distributed import Future

from scorer.dispatch.dispatcher import Dispatcher
from scorer.facade import CoopAPI
from scorer.ledger import queries, store

log = logging.getLogger("coop.service.dispatcher")


class BackgroundDispatcher:
    """A thread that polls for queued submissions every ``interval`` seconds."""

    def __init__(self, api: CoopAPI, interval: float = 1.0) -> None:
        self.api = api
        self.interval = interval
        self.in_flight: set[int] = set()
        self._dispatcher: Dispatcher | None = None
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="coop-dispatcher", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=30)

    def _run(self) -> None:
        with self.api.sessions.begin() as session:
            store.requeue_orphans(session)
        while not self._stop.is_set():
            try:
                self._dispatch()
            except Exception:  # the loop must outlive a database or scheduler hiccup
                log.exception("dispatching queued submissions failed; trying again")
            self._stop.wait(self.interval)

    def _dispatch(self) -> None:
        with self.api.sessions() as session:
            queued = queries.queued_ids(session)
        if not queued:
            return
        if self._dispatcher is None:
            self._dispatcher = Dispatcher(self.api.settings, self.api.sessions, self.api.executor().client())
        dispatcher = self._dispatcher
        with self._lock:
            fresh = [i for i in queued if i not in self.in_flight]
            self.in_flight.update(fresh)
        for future, submission_id in dispatcher.dispatch(fresh).items():
            future.add_done_callback(partial(self._settled, dispatcher, submission_id))

    def _settled(self, dispatcher: Dispatcher, submission_id: int, future: Future) -> None:
        try:
            finished = dispatcher.settle(submission_id, future)
            log.info("submission %s: %s", submission_id, finished.outcome)
        finally:
            with self._lock:
                self.in_flight.discard(submission_id)
