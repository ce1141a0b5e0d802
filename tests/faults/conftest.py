"""Real processes to break: ``dask scheduler`` and ``dask worker`` (each worker a process of its
own, without a nanny, so that killing it kills the worker) and ``coop serve``, and what every
fault test checks afterwards in the ledger: each submission finished once, nothing twice."""

from __future__ import annotations

import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from distributed import Client
from sqlalchemy import func, select

from scorer.facade import CoopAPI
from scorer.ledger.models import Reward, Score, Submission, SubmissionEvent
from tests.test_dispatch import DASK


@dataclass
class Dask:
    """A scheduler on a fixed loopback port (so that it can come back at the same address)."""

    port: int
    folder: Path
    scheduler: subprocess.Popen | None = None
    workers: list[subprocess.Popen] = field(default_factory=list)

    @property
    def address(self) -> str:
        return f"tcp://127.0.0.1:{self.port}"

    def start_scheduler(self) -> None:
        command = [DASK, "scheduler", "--host", "127.0.0.1", "--port", str(self.port), "--no-dashboard"]
        self.scheduler = self._popen(command, "scheduler")

    def start_worker(self) -> subprocess.Popen:
        command = [DASK, "worker", self.address, "--nthreads", "1", "--no-nanny", "--no-dashboard"]
        worker = self._popen([*command, "--host", "127.0.0.1"], f"worker-{len(self.workers)}")
        self.workers.append(worker)
        return worker

    def _popen(self, command: list[str], name: str) -> subprocess.Popen:
        with (self.folder / f"{name}.log").open("a") as log:
            return subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT)

    def wait_for_workers(self, count: int) -> None:
        with Client(self.address, timeout="60s") as client:
            client.wait_for_workers(count, timeout=120)

    def stop(self) -> None:
        for process in [*self.workers, self.scheduler]:
            if process is not None and process.poll() is None:
                process.terminate()
                process.wait(30)


@contextmanager
def dask(port: int, folder: Path, workers: int = 2) -> Iterator[Dask]:
    cluster = Dask(port, folder)
    cluster.start_scheduler()
    try:
        for _ in range(workers):
            cluster.start_worker()
        cluster.wait_for_workers(workers)
        yield cluster
    finally:
        cluster.stop()


def statuses(api: CoopAPI, ids: list[int]) -> dict[int, str]:
    with api.sessions() as session:
        rows = session.execute(select(Submission.id, Submission.status).where(Submission.id.in_(ids)))
        return {row.id: str(row.status) for row in rows}


def count(api: CoopAPI, ids: list[int], status: str) -> int:
    return sum(1 for value in statuses(api, ids).values() if value == status)


def assert_finished_once(api: CoopAPI, ids: list[int], scores_each: int = 4) -> int:
    """Each submission scored, with one ``scored`` event, its scores once (two metrics, public and
    private), and at most one reward of each kind; returns how many rewards they were granted."""
    assert set(statuses(api, ids).values()) == {"scored"}, statuses(api, ids)
    with api.sessions() as session:
        for submission_id in ids:
            scored = select(func.count()).where(
                SubmissionEvent.submission_id == submission_id, SubmissionEvent.status_to == "scored"
            )
            assert session.scalar(scored) == 1, submission_id
            scores = select(func.count()).where(Score.submission_id == submission_id)
            assert session.scalar(scores) == scores_each, submission_id
        rewards = session.execute(
            select(Reward.submission_id, Reward.rewarder_index, Reward.kind, func.count())
            .where(Reward.submission_id.in_(ids))
            .group_by(Reward.submission_id, Reward.rewarder_index, Reward.kind)
        ).all()
        assert all(row[-1] == 1 for row in rewards), rewards
    return len(rewards)
