"""Dispatch through real Dask processes: `dask scheduler` and `dask worker` on loopback."""

from __future__ import annotations

import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from concurrent.futures import Future
from pathlib import Path

import pytest
from distributed import Client
from distributed.scheduler import Scheduler
from sqlalchemy import func, select
from sqlalchemy.exc import DBAPIError

from scorer.config import ScorerSettings
from scorer.dispatch.background import BackgroundDispatcher
from scorer.dispatch.dispatcher import Dispatcher, Finished
from scorer.dispatch.executors import LocalClusterExecutor, SchedulerExecutor
from scorer.facade import CoopAPI
from scorer.ledger import db, store
from scorer.ledger.models import Score, SubmissionEvent

pytestmark = pytest.mark.needs("bwrap")
DASK = str(Path(sys.executable).with_name("dask"))


@pytest.fixture(scope="module")
def scheduler(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    folder = tmp_path_factory.mktemp("dask")
    scheduler_file = folder / "scheduler.json"
    processes = [
        subprocess.Popen(
            [
                DASK,
                "scheduler",
                "--host",
                "127.0.0.1",
                "--port",
                "0",
                "--no-dashboard",
                "--scheduler-file",
                str(scheduler_file),
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
    ]
    deadline = time.monotonic() + 60
    while not scheduler_file.exists() and time.monotonic() < deadline:
        time.sleep(0.1)
    processes.append(
        subprocess.Popen(
            [
                DASK,
                "worker",
                "--scheduler-file",
                str(scheduler_file),
                "--nworkers",
                "2",
                "--nthreads",
                "1",
                "--no-dashboard",
                "--host",
                "127.0.0.1",
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
    )
    try:
        with Client(scheduler_file=str(scheduler_file), timeout="30s") as client:
            client.wait_for_workers(2, timeout=60)
            address = client.scheduler.address
        yield address
    finally:
        for process in reversed(processes):
            process.terminate()
        for process in processes:
            process.wait(timeout=30)


def _queue(challenge, users: list[str]) -> list[int]:
    ids = []
    api = challenge.api()
    try:
        for user in users:
            sha = challenge.commit(user, {f"solutions/{user}/fit.ipynb": challenge.baseline})
            ids += [q.submission_id for q in api.enqueue_commit(str(challenge.bare), sha)]
    finally:
        api.close()
    return ids


def test_submissions_run_on_an_existing_scheduler(challenge, scheduler):
    ids = _queue(challenge, ["alice", "bob"])
    challenge.settings.scheduler_address = scheduler
    challenge.settings.executor = "scheduler"
    api = CoopAPI(challenge.settings)
    try:
        done = api.run(ids)
        assert sorted(f.outcome for f in done) == ["scored", "scored"]
        workers = {api.submission(i)[0].worker for i in ids}
        assert all(workers), workers
        board = api.leaderboard(challenge.challenge_id)
        assert [row.person for row in board.rows] != [] and len(board.rows) == 2
    finally:
        api.close()


def test_restart_redispatches_queued_and_orphaned_running(challenge, scheduler):
    ids = _queue(challenge, ["carol", "dave"])
    api = CoopAPI(challenge.settings)
    try:
        with api.sessions.begin() as session:  # a worker claimed it, then the whole scorer died
            assert store.claim(session, ids[0], "worker-that-died")
        challenge.settings.scheduler_address = scheduler
        challenge.settings.executor = "scheduler"
        done = api.recover()
        assert sorted(f.submission_id for f in done) == sorted(ids)
        assert {api.submission(i)[0].status for i in ids} == {"scored"}
    finally:
        api.close()


def test_a_result_is_stored_once_however_often_its_task_runs(challenge, scheduler):
    [submission_id] = _queue(challenge, ["erin"])
    api = CoopAPI(challenge.settings)
    try:
        with Client(scheduler, timeout="30s") as client:
            dispatcher = Dispatcher(challenge.settings, api.sessions, client)
            futures = dispatcher.dispatch([submission_id, submission_id, submission_id])
            outcomes = sorted(f.outcome for f in dispatcher.wait(futures))
        assert outcomes.count("scored") == 1, outcomes
        assert set(outcomes) <= {"scored", "skipped"}
        with api.sessions() as session:
            scores = session.scalar(select(func.count()).where(Score.submission_id == submission_id))
            scored_events = session.scalar(
                select(func.count()).where(
                    SubmissionEvent.submission_id == submission_id, SubmissionEvent.status_to == "scored"
                )
            )
        assert scored_events == 1
        assert scores == 2 * 2  # two metrics, public and private, once
    finally:
        api.close()


def test_local_cluster_is_the_default_and_a_one_off_run_starts_none(challenge):
    """One submission on the local executor runs in this process (still in the sandbox): no
    Dask scheduler is created, the ledger names no Dask worker."""
    ids = _queue(challenge, ["frank"])
    api = CoopAPI(challenge.settings)
    schedulers = set(Scheduler._instances)
    try:
        assert challenge.settings.executor is LocalClusterExecutor
        assert [f.outcome for f in api.run(ids)] == ["scored"]
        assert set(Scheduler._instances) <= schedulers
        view = api.submission(ids[0])[0]
        assert view.worker == f"{socket.gethostname()}:local" and (view.provenance or {})["sandboxed"]
    finally:
        api.close()


def test_the_local_cluster_runs_submissions_side_by_side(challenge):
    """Two submissions and two workers: worth starting the LocalCluster, whose workers run them."""
    ids = _queue(challenge, ["grace", "heidi"])
    challenge.settings.n_workers = 2
    api = CoopAPI(challenge.settings)
    schedulers = set(Scheduler._instances)
    try:
        assert sorted(f.outcome for f in api.run(ids)) == ["scored", "scored"]
        assert set(Scheduler._instances) - schedulers  # a LocalCluster was started
        workers = {api.submission(i)[0].worker for i in ids}
        assert all(w and not w.endswith(":local") for w in workers), workers
    finally:
        api.close()


def test_a_client_dask_closed_is_connected_anew(scheduler, tmp_path):
    """Dask closes a client whose scheduler was away longer than it waits, for good: the executor
    connects a new one, so the service's dispatcher goes on once the scheduler is back."""
    executor = SchedulerExecutor(ScorerSettings(home=str(tmp_path), scheduler_address=scheduler))
    try:
        first = executor.client()
        first.close()
        second = executor.client()
        assert second is not first and second.status == "running"
        assert second.submit(sum, [1, 2]).result(timeout=60) == 3
    finally:
        executor.close()


def test_a_running_submission_no_task_of_the_service_holds_goes_back_to_the_queue(challenge):
    """A worker that claims its submission after Dask lost the task (the scheduler went away as
    it started) leaves it running with nothing to judge its run: the service's dispatcher puts
    it back in the queue; one whose task it holds stays running."""
    lost, held = _queue(challenge, ["gina", "hugo"])
    api = CoopAPI(challenge.settings)
    try:
        with api.sessions.begin() as session:
            assert store.claim(session, lost, "worker-whose-scheduler-went-away")
            assert store.claim(session, held, "worker-running-it")
        background = BackgroundDispatcher(api)
        background.in_flight.add(held)
        assert background.requeue_lost([lost, held]) == [lost]
        assert background.requeue_lost([held]) == []
        assert [api.submission(i)[0].status for i in (lost, held)] == ["queued", "running"]
    finally:
        api.close()


def test_a_run_whose_recording_failed_is_recorded_again_or_runs_again(challenge, monkeypatch, caplog):
    """Recording a returned run that loses its database connection is tried again; one that
    fails otherwise leaves the submission to :meth:`BackgroundDispatcher.requeue_lost`."""
    first, second = _queue(challenge, ["ines", "jude"])
    api = CoopAPI(challenge.settings)
    calls: list[int] = []

    def settle(self: Dispatcher, submission_id: int, future: Future) -> Finished:
        calls.append(submission_id)
        if submission_id == second:
            raise DBAPIError("UPDATE submissions", {}, Exception("disk I/O error"))
        if calls.count(submission_id) == 1:
            raise DBAPIError(
                "UPDATE submissions", {}, Exception("server closed"), connection_invalidated=True
            )
        return Finished(submission_id, "scored")

    monkeypatch.setattr(Dispatcher, "settle", settle)
    monkeypatch.setattr(db.time, "sleep", lambda _s: None)
    try:
        with api.sessions.begin() as session:
            for submission_id in (first, second):
                assert store.claim(session, submission_id, "worker")
        background = BackgroundDispatcher(api)
        dispatcher = Dispatcher(api.settings, api.sessions, client=None)  # type: ignore[arg-type]
        done: Future = Future()
        done.set_result("a run")
        for submission_id in (first, second):
            background.in_flight.add(submission_id)
            background._settled(dispatcher, submission_id, done)  # type: ignore[arg-type]
        assert calls == [first, first, second] and background.in_flight == set()
        assert f"submission {first}: recording its run lost its database connection; again" in caplog.text
        assert f"submission {second}: its run could not be settled; it runs again" in caplog.text
        assert background.requeue_lost([first, second]) == [first, second]  # both still running here
    finally:
        api.close()
