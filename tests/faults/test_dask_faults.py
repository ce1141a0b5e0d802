"""Dask breaking under a real ``coop serve``: a worker killed (``kill -9``) mid-run, and the
scheduler killed and started again at its address (its workers stop with it and are started
again, as an orchestrator would). The service's dispatcher gets the work done on what is there
afterwards: every submission ends scored once, the interrupted run counted as an attempt."""

from __future__ import annotations

import os
import signal
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import nbformat
import pytest
from distributed import Client
from sqlalchemy import select

from scorer.facade import CoopAPI
from scorer.ledger.models import SubmissionEvent
from scorer.ports import hold
from tests.conftest import ChallengeFixture, make_challenge, require
from tests.faults.conftest import Dask, assert_finished_once, count, dask
from tests.faults.test_service_killed import LIMITS
from tests.service.test_push_spool import TOKENS, coop_serve, wait_for


@dataclass
class Served:
    fixture: ChallengeFixture
    api: CoopAPI
    cluster: Dask

    def queue(self, user: str, names: list[str]) -> list[int]:
        baseline = nbformat.writes(self.fixture.baseline)
        sha = self.fixture.commit(user, {f"solutions/{user}/{name}.ipynb": baseline for name in names})
        return [q.submission_id for q in self.api.enqueue_commit(str(self.fixture.bare), sha)]

    def events(self, submission_id: int) -> list[tuple[str | None, str, dict]]:
        with self.api.sessions() as session:
            rows = session.execute(
                select(SubmissionEvent.status_from, SubmissionEvent.status_to, SubmissionEvent.detail)
                .where(SubmissionEvent.submission_id == submission_id)
                .order_by(SubmissionEvent.id)
            )
            return [(str(a) if a else None, str(b), detail) for a, b, detail in rows]


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    require("bwrap")
    root = tmp_path_factory.mktemp("dask-faults")
    fixture = make_challenge(root / "challenge", edit={"phases.0.limits": LIMITS, "phases.0.submissions": {}})
    tokens = root / "tokens.yaml"
    tokens.write_text(TOKENS)
    api = CoopAPI(fixture.settings, migrate=False)
    try:
        with hold(2) as ports, dask(ports.numbers[0], root) as cluster:
            env = {"COOP_SCHEDULER": cluster.address}
            with coop_serve(Path(fixture.settings.home), ports.numbers[1], tokens, root / "serve.log", env):
                yield Served(fixture, api, cluster)
    finally:
        api.close()


def test_a_worker_killed_mid_run_is_retried_elsewhere_and_scored_once(served: Served) -> None:
    [submission_id] = served.queue("bob", ["killed"])
    wait_for("the run", lambda: count(served.api, [submission_id], "running") == 1)
    worker = served.api.submission(submission_id)[0].worker or ""
    with Client(served.cluster.address, timeout="30s") as client:
        pids = client.run(os.getpid)
    [pid] = [pid for address, pid in pids.items() if worker.endswith(address)]
    os.kill(pid, signal.SIGKILL)
    served.cluster.start_worker()  # the cluster is two workers again
    wait_for("the retry", lambda: count(served.api, [submission_id], "scored") == 1, timeout=300)
    assert_finished_once(served.api, [submission_id])
    view = served.api.submission(submission_id)[0]
    assert view.attempts == 2 and view.failure_class is None
    runs = [detail["worker"] for _, to, detail in served.events(submission_id) if to == "running"]
    assert runs[0] == worker and runs[1] != worker, runs


def test_the_scheduler_killed_and_back_the_dispatcher_reconnects(served: Served) -> None:
    ids = served.queue("carol", ["a", "b", "c"])
    wait_for("a run", lambda: count(served.api, ids, "running") >= 1)
    cluster = served.cluster
    assert cluster.scheduler is not None
    cluster.scheduler.kill()
    cluster.scheduler.wait(30)
    for worker in cluster.workers:  # a worker stops when its scheduler is gone
        worker.wait(60)
    cluster.workers.clear()
    cluster.start_scheduler()
    cluster.start_worker()
    cluster.start_worker()
    wait_for("all scored", lambda: count(served.api, ids, "scored") == len(ids), timeout=300)
    assert_finished_once(served.api, ids)
    requeued = [i for i in ids if any(to == "queued" and frm == "running" for frm, to, _ in served.events(i))]
    assert requeued, "a run the scheduler took down with it is put back in the queue"
