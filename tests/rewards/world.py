"""A small challenge in a real ledger, driven submission by submission through the store, with
every rewarder the granting tests need (``World.spec``) and a trusted tree holding the
organiser's ``checks.py``."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import nbformat
from sqlalchemy.orm import Session, sessionmaker

from scorer.challenge.spec import Challenge
from scorer.ledger import rewards, store
from scorer.rewards import granting
from scorer.scoring.results import RunResult

START = datetime(2024, 1, 1, tzinfo=UTC)
CHECKS = """
def single_model(notebook, metrics):
    source = "\\n".join(cell.source for cell in notebook.cells)
    if "crash" in source:
        raise ValueError("cannot read this notebook")
    if "VotingClassifier" in source:
        return False, "an ensemble"
    return True, f"one model, accuracy {metrics['accuracy']}"
"""
#: Rewarder indices of phase p1.
THRESHOLD, RECORD, EXPLODES, CHECK, LIKES, PRIZE, SHARE, BASELINE, REPRODUCED = range(9)


def spec() -> Challenge:
    return Challenge.model_validate(
        {
            "id": "higgs",
            "title": "Higgs boson",
            "metrics": [{"key": "accuracy", "function": "accuracy"}],
            "leaderboards": [{"key": "main", "columns": [{"key": "accuracy"}], "primary": "accuracy"}],
            "phases": [
                {
                    "id": "p1",
                    "title": "Toy",
                    "start": START.isoformat(),
                    "baseline": "baselines/p1.ipynb",
                    "predictions": {"columns": ["label"]},
                    "rewarders": [
                        {
                            "type": "score-threshold",
                            "amount": 10,
                            "threshold": 0.8,
                            "params": {"metric": "accuracy"},
                        },
                        {"type": "new-record", "amount": 5, "params": {"metric": "accuracy"}},
                        {"type": "explodes", "amount": 1},
                        {
                            "type": "organiser-check",
                            "amount": 30,
                            "params": {"function": "checks.py:single_model"},
                        },
                        {"type": "peer-likes", "amount": 2, "params": {"levels": [1, 2]}},
                        {
                            "type": "rank-prize",
                            "amount": 50,
                            "params": {"leaderboard": "main", "amounts": [30, 20]},
                        },
                        {"type": "credit-share", "amount": 100, "params": {"metric": "accuracy"}},
                        {"type": "beat-baseline", "amount": 20, "params": {"metric": "accuracy"}},
                        {"type": "reproduced", "amount": 5, "params": {"tolerance": 1e-9}},
                    ],
                }
            ],
        }
    )


def notebook(source: str) -> bytes:
    return nbformat.writes(nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(source)])).encode()


@dataclass
class World:
    sessions: sessionmaker[Session]
    challenge: Challenge
    trusted: Path
    count: int = 0

    @classmethod
    def create(cls, sessions: sessionmaker[Session], trusted: Path) -> World:
        challenge = spec()
        with sessions.begin() as session:
            store.upsert_challenge(session, challenge, "https://git.example.org/higgs.git")
        trusted.mkdir(parents=True)
        (trusted / "checks.py").write_text(CHECKS)
        return cls(sessions, challenge, trusted)

    def queue(self, person: str, *, commit: int | None = None, **kwargs: object) -> int:
        self.count += 1
        with self.sessions.begin() as session:
            return store.enqueue(
                session,
                challenge_id="higgs",
                phase_id="p1",
                commit_sha=f"{commit or self.count:040x}",
                notebook_path=f"solutions/{person}/main.ipynb",
                username=person,
                parameters={},
                now=START + timedelta(minutes=self.count),
                **kwargs,  # type: ignore[arg-type]
            ).id

    def score(
        self,
        submission_id: int,
        public: float,
        private: float | None = None,
        *,
        source: str = "fit()",
        worker: str = "w1",
    ) -> None:
        result = RunResult(
            public={"accuracy": public},
            private={"accuracy": public if private is None else private},
            run_time=2.0,
            peak_memory=100.0,
            started_at=START,
            finished_at=START + timedelta(seconds=2),
            executed_notebook=notebook(source),
            provenance={},
        )
        with self.sessions.begin() as session:
            assert store.claim(session, submission_id, worker)
            assert store.record_result(session, submission_id, result)

    def submit(self, person: str, public: float, private: float | None = None, **kwargs: object) -> int:
        """Queue, score and judge a submission live; its id."""
        source = str(kwargs.pop("source", "fit()"))
        submission_id = self.queue(person, **kwargs)
        self.score(submission_id, public, private, source=source)
        self.grant(submission_id)
        return submission_id

    def grant(self, submission_id: int) -> granting.Granted:
        with self.sessions.begin() as session:
            return granting.grant_live(session, submission_id, trusted=lambda: self.trusted)

    def history(self) -> list[rewards.RewardView]:
        with self.sessions() as session:
            return rewards.history(session, "higgs")

    def granted(self, index: int) -> list[tuple[str, str, float]]:
        """``(person, scope, amount)`` of rewarder ``index``'s rows (compensations negative)."""
        return [(r.person, r.scope, float(r.amount)) for r in self.history() if r.rewarder_index == index]

    def failures(self) -> list[rewards.FailureView]:
        with self.sessions() as session:
            return rewards.rewarder_failures(session, "higgs", "p1")

    def balance(self, person: str) -> float:
        with self.sessions() as session:
            found = rewards.balances(session, "higgs", person=person)
        return float(sum(b.amount for b in found))
