"""A served challenge (the scaffolded Curve, phase-1 paying 10 points for an RMSE ≤ 0.2) whose
submissions are real commits in the served repository, recorded as scored straight into the
ledger (no notebook runs) and granted their live rewards as the worker does: what the settle,
invalidate and rewarder-edit tests share."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import yaml

from scorer.challenge.scaffold import scaffold
from scorer.facade import CoopAPI
from scorer.ingest.served import serve_repository
from scorer.ledger import store
from scorer.rewards.granting import grant_live
from scorer.scoring.results import RunResult
from tests.conftest import ChallengeFixture, make_challenge

PAST = datetime(2024, 1, 1, tzinfo=UTC)
#: phase-1's second rewarder: 20 and 10 points for the best two private RMSEs at settlement.
RANK_PRIZE = {"type": "rank-prize", "amount": 30, "params": {"leaderboard": "main", "amounts": [20, 10]}}


@dataclass
class Served:
    fixture: ChallengeFixture
    api: CoopAPI
    repo: Path  # the served repository
    count: int = 0

    @property
    def cid(self) -> str:
        return self.fixture.challenge_id

    def submit(
        self, user: str, rmse: float, private_rmse: float | None = None, *, phase: str = "phase-1"
    ) -> int:
        """A scored submission of ``user`` (a new commit of their notebook) with its live rewards."""
        submission_id = self.queue(user, phase=phase)
        self.score(submission_id, rmse, private_rmse)
        return submission_id

    def queue(self, user: str, *, phase: str = "phase-1") -> int:
        """A queued submission of ``user``: a new commit of their notebook."""
        self.count += 1
        sha = self.fixture.solution(f"# version {self.count}\nmodel = None", user=user)
        serve_repository(Path(self.fixture.settings.home), self.cid, self.fixture.bare)
        [queued] = self.api.enqueue_commit(str(self.repo), sha, phase_id=phase, username=user)
        return queued.submission_id

    def score(self, submission_id: int, rmse: float, private_rmse: float | None = None) -> None:
        """Record a queued submission as scored, then grant its live rewards as the worker does."""
        private = rmse if private_rmse is None else private_rmse
        result = RunResult(
            public={"rmse": rmse, "mae": rmse},
            private={"rmse": private, "mae": private},
            run_time=1.0,
            peak_memory=100.0,
            started_at=PAST,
            finished_at=PAST + timedelta(seconds=1),
            executed_notebook=b'{"cells": []}',
            provenance={"input_hash": "in", "scorer_version": "0", "environment_hash": "env"},
        )
        with self.api.sessions.begin() as session:
            assert store.claim(session, submission_id, "w1")
        with self.api.sessions.begin() as session:
            assert store.record_result(session, submission_id, result)
        with self.api.sessions.begin() as session:
            grant_live(session, submission_id)


def served_challenge(
    tmp_path: Path, *, end: str | None = None, rewarders: Sequence[dict[str, Any]] = ()
) -> Served:
    """Curve with phase-1 (open, or from 2024 to ``end``; rewarders: the scaffold's
    score-threshold, :data:`RANK_PRIZE` and ``rewarders``) and an upcoming phase-2 without
    rewarders."""
    spec = yaml.safe_load((scaffold("Curve", tmp_path / "template") / "challenge.yaml").read_text())
    first = dict(spec["phases"][0])
    first["rewarders"] = [*first["rewarders"], RANK_PRIZE, *rewarders]
    if end is not None:
        first["start"] = PAST.strftime("%Y-%m-%dT%H:%M:%SZ")
        first["end"] = end
    later = (datetime.now(UTC) + timedelta(days=30)).strftime("%Y-%m-%dT%H:%M:%SZ")
    second = {**spec["phases"][0], "id": "phase-2", "title": "Later", "start": later, "rewarders": []}
    fixture = make_challenge(tmp_path, edit={"phases": [first, second]})
    repo = serve_repository(Path(fixture.settings.home), fixture.challenge_id, fixture.bare)
    api = fixture.api()
    api.register(str(repo.resolve()))
    return Served(fixture, api, repo)
