"""The whole path on PostgreSQL: queue, Dask workers, sandbox, ledger, leaderboard."""

from __future__ import annotations

import pytest

from scorer.facade import CoopAPI
from tests.pg import schema_url

pytestmark = [pytest.mark.postgres, pytest.mark.needs("bwrap")]


def test_submissions_score_on_postgresql(challenge):
    with schema_url("pipeline") as url:
        challenge.settings.db_url = url
        api = CoopAPI(challenge.settings)
        try:
            api.prepare(str(challenge.bare), seed=7)
            ids = []
            for user in ("alice", "bob"):
                sha = challenge.commit(user, {f"solutions/{user}/fit.ipynb": challenge.baseline})
                ids += [q.submission_id for q in api.enqueue_commit(str(challenge.bare), sha)]
            broken = challenge.solution("raise RuntimeError('no fit')", user="carol")
            ids += [q.submission_id for q in api.enqueue_commit(str(challenge.bare), broken)]
            outcomes = {f.submission_id: f.outcome for f in api.run(ids)}
            assert sorted(outcomes.values()) == ["exception", "scored", "scored"]
            board = api.leaderboard(challenge.challenge_id)
            assert sorted(row.person for row in board.rows) == ["alice", "bob"]
            view, _scores = api.submission(ids[-1])
            assert view.failure_reason == "RuntimeError: no fit (in cell 4: \"raise RuntimeError('no fit')\")"
        finally:
            api.close()
