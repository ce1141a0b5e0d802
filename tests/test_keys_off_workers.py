"""Answer keys stay off the scoring workers: a real `dask worker` whose file system has no phase
data at all (a bubblewrap mount namespace with an empty folder over ``<home>/data``) runs the
notebooks; the scorer process, which alone reads the keys, judges what they return."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest
from distributed import Client

from scorer.dispatch.dispatcher import Dispatcher
from scorer.scoring.inputs import inputs_root

pytestmark = pytest.mark.needs("bwrap")
DASK = str(Path(sys.executable).with_name("dask"))


def test_workers_that_cannot_see_the_keys_still_score(challenge, tmp_path):
    data_root = challenge.settings.data_root
    good = challenge.solution(challenge.baseline.cells[3].source, user="alice")
    short = challenge.solution(challenge.baseline.cells[3].source + "\ntest = test.iloc[1:]", user="bob")
    [expected] = challenge.score(challenge.solution(challenge.baseline.cells[3].source, user="carol"))
    assert expected.outcome == "scored"
    api = challenge.api()
    try:
        ids = [q.submission_id for sha in (good, short) for q in api.enqueue_commit(str(challenge.bare), sha)]
    finally:
        api.close()

    scheduler_file = tmp_path / "scheduler.json"
    loopback = ["--no-dashboard", "--host", "127.0.0.1"]
    scheduler = [DASK, "scheduler", *loopback, "--port", "0", "--scheduler-file", str(scheduler_file)]
    worker = [DASK, "worker", *loopback, "--nthreads", "1", "--scheduler-file", str(scheduler_file)]
    hide_data = [shutil.which("bwrap") or "bwrap", "--dev-bind", "/", "/", "--tmpfs", str(data_root), "--"]
    processes = [subprocess.Popen(scheduler, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)]
    try:
        while not scheduler_file.exists() and processes[0].poll() is None:
            time.sleep(0.1)
        processes.append(
            subprocess.Popen([*hide_data, *worker], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        )
        api = challenge.api()
        with Client(scheduler_file=str(scheduler_file), timeout="30s") as client:
            client.wait_for_workers(1, timeout=60)
            # The worker sees an empty folder where the phase data is; this process sees the key.
            assert client.submit(os.listdir, str(data_root), pure=False).result() == []
            assert any(data_root.rglob("answers.csv"))
            dispatcher = Dispatcher(challenge.settings, api.sessions, client)
            inputs = dispatcher.inputs(ids[0])
            assert inputs is not None and inputs.folder.parent == inputs_root(challenge.settings)
            assert not inputs.folder.is_relative_to(data_root)
            done = {f.submission_id: f.outcome for f in dispatcher.wait(dispatcher.dispatch(ids))}
        assert done == {ids[0]: "scored", ids[1]: "predictions_invalid"}
        view, scores = api.submission(ids[0], organiser=True)
        assert (scores.public, scores.private) == (expected.scores.public, expected.scores.private)
        assert view.worker and view.worker != expected.view.worker
        assert view.provenance["answers_hash"] == expected.view.provenance["answers_hash"]
        failed, _ = api.submission(ids[1], organiser=True)
        assert "1 missing, e.g." in (failed.failure_reason or ""), failed.failure_reason
        api.close()
    finally:
        for process in reversed(processes):
            process.terminate()
        for process in processes:
            process.wait(timeout=30)
