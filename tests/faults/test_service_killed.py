"""``kill -9`` of ``coop serve`` while it has 20 submissions queued and 2 running on a real Dask
scheduler and workers: the next ``coop serve`` puts the running ones back in the queue, and all
20 end scored exactly once (one ``scored`` event, one set of scores, no reward twice), the two
interrupted ones with their requeue recorded."""

from __future__ import annotations

import time
from pathlib import Path

import nbformat
import pytest
from sqlalchemy import select

from scorer.facade import CoopAPI
from scorer.ledger.models import SubmissionEvent
from scorer.ports import hold
from tests.conftest import make_challenge
from tests.faults.conftest import assert_finished_once, count, dask
from tests.service.test_push_spool import TOKENS, coop_serve, wait_for

pytestmark = pytest.mark.needs("bwrap")
LIMITS = {"wall_time": 60, "cell_time": 30, "memory": "1GiB", "disk": "200MB", "output": "1MB"}
SUBMISSIONS = 20


def test_submissions_queued_and_running_when_the_service_is_killed_are_scored_once(tmp_path: Path) -> None:
    fixture = make_challenge(
        tmp_path / "challenge", edit={"phases.0.limits": LIMITS, "phases.0.submissions": {}}
    )
    home = Path(fixture.settings.home)
    tokens = tmp_path / "tokens.yaml"
    tokens.write_text(TOKENS)
    baseline = nbformat.writes(fixture.baseline)
    sha = fixture.commit("alice", {f"solutions/alice/n{i:02}.ipynb": baseline for i in range(SUBMISSIONS)})
    api = CoopAPI(fixture.settings, migrate=False)
    started = time.monotonic()
    try:
        ids = [q.submission_id for q in api.enqueue_commit(str(fixture.bare), sha)]
        assert len(ids) == SUBMISSIONS
        with hold(2) as ports, dask(ports.numbers[0], tmp_path) as cluster:
            port, log = ports.numbers[1], tmp_path / "serve.log"
            env = {"COOP_SCHEDULER": cluster.address}
            with coop_serve(home, port, tokens, log, env) as service:
                wait_for("two running", lambda: count(api, ids, "running") == 2, timeout=60)
                service.kill()
                service.wait(30)
            interrupted = [i for i in ids if count(api, [i], "running")]
            assert count(api, ids, "queued") >= SUBMISSIONS - 2
            with coop_serve(home, port, tokens, log, env):
                wait_for("all scored", lambda: count(api, ids, "scored") == SUBMISSIONS, timeout=600)
        assert assert_finished_once(api, ids) == 1  # the template's score-threshold reward, once
        with api.sessions() as session:
            requeued = session.scalars(
                select(SubmissionEvent.submission_id).where(
                    SubmissionEvent.submission_id.in_(ids),
                    SubmissionEvent.status_to == "queued",
                    SubmissionEvent.status_from == "running",
                )
            ).all()
        # a run interrupted may still have finished on its worker before the restart requeued it
        assert set(requeued) <= set(interrupted)
        print(f"20 submissions, kill -9 and restart: {time.monotonic() - started:.1f} s; requeued {requeued}")
    finally:
        api.close()
