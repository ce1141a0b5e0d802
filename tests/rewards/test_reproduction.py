"""``reproduced`` end to end on a real Dask cluster of two worker processes: scoring a
submission queues one re-run, the dispatcher sends it to the other worker, and the re-run's
matching metrics earn the original's author the reward."""

from __future__ import annotations

from pathlib import Path

import pytest

from scorer.config import ScorerSettings
from scorer.dispatch.dispatcher import Dispatcher
from scorer.dispatch.executors import LocalClusterExecutor
from scorer.facade import CoopAPI
from scorer.ledger import queries, reward_views, rewards
from tests.conftest import make_challenge

REWARDERS = [{"type": "reproduced", "amount": 5, "params": {"tolerance": 1e-9}}]
LIMITS = {"wall_time": 60, "cell_time": 30, "memory": "1GiB", "disk": "200MB", "output": "1MB"}


@pytest.mark.needs("bwrap")
def test_a_re_run_on_another_worker_reproduces_the_score(tmp_path: Path):
    fixture = make_challenge(tmp_path, edit={"phases.0.limits": LIMITS, "phases.0.rewarders": REWARDERS})
    settings = ScorerSettings(home=fixture.settings.home, n_workers=2, retries=0)
    sha = fixture.solution('test["y"] = np.polyval(np.polyfit(train.x, train.y, 3), test.x)', user="alice")
    api = CoopAPI(settings)
    executor = LocalClusterExecutor(settings)
    try:
        [item] = api.enqueue_commit(str(fixture.bare), sha)
        dispatcher = Dispatcher(settings, api.sessions, executor.client())
        [first] = dispatcher.wait(dispatcher.dispatch([item.submission_id]))
        with api.sessions() as session:
            [rerun] = reward_views.reproductions(session, item.submission_id)
        [second] = dispatcher.wait(dispatcher.dispatch([rerun]))
        assert (first.outcome, second.outcome) == ("scored", "scored")
        with api.sessions() as session:
            original, again = (
                queries.submission(session, item.submission_id),
                queries.submission(session, rerun),
            )
            history = rewards.history(session, fixture.challenge_id)
            board = queries.leaderboard(
                session,
                api.challenge(fixture.challenge_id),
                "phase-1",
                "main",
                now=original.created_at,
                cached=False,
            )
    finally:
        executor.close()
        api.close()
    assert again.worker is not None and original.worker is not None and again.worker != original.worker
    assert [(r.person, r.rewarder_type, r.scope) for r in history] == [
        ("alice", "reproduced", f"submission/{item.submission_id}")
    ]
    assert history[0].evidence["rule"].startswith(f"re-run on {again.worker} matched")
    assert [row.submission_id for row in board.rows] == [item.submission_id]
