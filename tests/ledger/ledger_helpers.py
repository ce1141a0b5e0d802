"""Helpers shared by the ledger tests (imported by name: this folder is on sys.path)."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime, timedelta

from sqlalchemy.orm import Session, sessionmaker

from scorer.challenge.spec import Challenge
from scorer.ledger import store
from scorer.scoring.results import RunResult

START = datetime(2024, 1, 1, tzinfo=UTC)
END = datetime(2024, 6, 1, tzinfo=UTC)


def challenge_spec(**overrides: object) -> Challenge:
    """Two metrics; boards ``main`` (best accuracy) and ``latest`` (last); phases p1 and p2."""
    document: dict[str, object] = {
        "id": "higgs",
        "title": "Higgs boson",
        "metrics": [
            {"key": "accuracy", "function": "accuracy"},
            {"key": "loss", "function": "loss", "direction": "minimize"},
        ],
        "leaderboards": [
            {
                "key": "main",
                "columns": [
                    {"key": "accuracy"},
                    {"key": "loss"},
                    {"key": "time", "hidden": True},
                ],
                "primary": "accuracy",
                "tie_break": ["loss"],
            },
            {
                "key": "latest",
                "columns": [{"key": "accuracy"}],
                "primary": "accuracy",
                "select": "last",
            },
        ],
        "phases": [
            {
                "id": "p1",
                "title": "Toy",
                "start": START.isoformat(),
                "end": END.isoformat(),
                "baseline": "baselines/p1.ipynb",
                "predictions": {"columns": ["label"]},
                "open_code": (END - timedelta(days=30)).isoformat(),
            },
            {
                "id": "p2",
                "title": "Real",
                "start": END.isoformat(),
                "baseline": "baselines/p2.ipynb",
                "predictions": {"columns": ["label"]},
                "test_split": {"private_visible": "never"},
                "leaderboards": ["main"],
            },
        ],
    }
    document.update(overrides)
    return Challenge.model_validate(document)


def run_result(
    public: Mapping[str, float], private: Mapping[str, float], *, run_time: float = 2.0
) -> RunResult:
    return RunResult(
        public=dict(public),
        private=dict(private),
        run_time=run_time,
        peak_memory=128.0,
        started_at=START,
        finished_at=START + timedelta(seconds=run_time),
        executed_notebook=b'{"cells": []}',
        provenance={"input_hash": "in-1", "scorer_version": "0.1.0", "environment_hash": "env-1"},
    )


def sha(n: int) -> str:
    return f"{n:040x}"


class Ledger:
    """Drives submissions through the store, one committed transaction per step."""

    def __init__(self, sessions: sessionmaker[Session], challenge: Challenge) -> None:
        self.sessions = sessions
        self.challenge = challenge
        self.count = 0

    def enqueue(
        self, username: str, *, phase: str = "p1", at: datetime | None = None, **kwargs: object
    ) -> int:
        self.count += 1
        moment = at or START + timedelta(minutes=self.count)
        with self.sessions.begin() as session:
            sub = store.enqueue(
                session,
                challenge_id=self.challenge.id,
                phase_id=phase,
                commit_sha=sha(self.count),
                notebook_path=f"solutions/{username}/main.ipynb",
                username=username,
                parameters={"seed": self.count},
                now=moment,
                **kwargs,  # type: ignore[arg-type]
            )
            return sub.id

    def claim(self, submission_id: int, worker: str = "w1") -> bool:
        with self.sessions.begin() as session:
            return store.claim(session, submission_id, worker)

    def record(self, submission_id: int, public: Mapping[str, float], private: Mapping[str, float]) -> bool:
        with self.sessions.begin() as session:
            return store.record_result(session, submission_id, run_result(public, private))

    def submit(
        self,
        username: str,
        accuracy: float,
        private_accuracy: float | None = None,
        *,
        loss: float = 1.0,
        phase: str = "p1",
        at: datetime | None = None,
        **kwargs: object,
    ) -> int:
        submission_id = self.enqueue(username, phase=phase, at=at, **kwargs)
        assert self.claim(submission_id)
        private = accuracy if private_accuracy is None else private_accuracy
        assert self.record(
            submission_id, {"accuracy": accuracy, "loss": loss}, {"accuracy": private, "loss": loss}
        )
        return submission_id
