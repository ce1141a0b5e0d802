"""Importing many already-scored submissions at once.

For benchmarks (100k submissions in seconds rather than minutes through
:func:`scorer.ledger.store.record_result`) and for bringing a challenge's history over from
another platform. Rows go in with multi-row INSERTs; leaderboard entries are rebuilt once.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from itertools import islice
from typing import Any

from sqlalchemy import insert, select
from sqlalchemy.orm import Session

from scorer.ledger import entries
from scorer.ledger.models import Person, Score, Split, Submission, SubmissionEvent, SubmissionStatus
from scorer.ledger.queries import load_challenge, phase_of
from scorer.ledger.store import check_commit, jsonable

BATCH = 5_000


@dataclass(frozen=True)
class ScoredRecord:
    """One submission that was scored elsewhere (or is made up for a benchmark)."""

    username: str
    commit_sha: str
    submitted_at: datetime
    public: Mapping[str, float | None]
    private: Mapping[str, float | None]
    run_time: float
    peak_memory: float
    notebook_path: str = ""
    parameters: Mapping[str, Any] = field(default_factory=dict)
    provenance: Mapping[str, Any] | None = None
    executed_notebook: bytes | None = None


def import_scored(
    session: Session, challenge_id: str, phase_id: str, records: Iterable[ScoredRecord]
) -> list[int]:
    """Insert scored submissions with their scores and events, then rebuild the entries.

    Returns the new submission ids in the order of ``records``. Does not commit.
    """
    phase_of(load_challenge(session, challenge_id), phase_id)
    ids: list[int] = []
    iterator = iter(records)
    while batch := list(islice(iterator, BATCH)):
        ids += _import_batch(session, challenge_id, phase_id, batch)
    entries.rebuild(session, load_challenge(session, challenge_id), phase_id)
    return ids


def people_ids(session: Session, usernames: Iterable[str]) -> dict[str, int]:
    """Username -> person id, creating the missing people."""
    wanted = sorted(set(usernames))
    known: dict[str, int] = {}
    for start in range(0, len(wanted), 900):  # SQLite allows ~1000 bound parameters (IN ...)
        chunk = wanted[start : start + 900]
        query = select(Person.username, Person.id).where(Person.username.in_(chunk))
        known.update((name, pid) for name, pid in session.execute(query))
    missing = [name for name in wanted if name not in known]
    if missing:
        now = datetime.now(UTC)
        session.execute(
            entries.dialect_insert(session)(Person).on_conflict_do_nothing(index_elements=["username"]),
            [{"username": n, "display_name": n, "created_at": now} for n in missing],
        )
        return people_ids(session, wanted)
    return known


def _import_batch(session: Session, challenge_id: str, phase_id: str, batch: list[ScoredRecord]) -> list[int]:
    people = people_ids(session, (r.username for r in batch))
    rows = [
        {
            "challenge_id": challenge_id,
            "phase_id": phase_id,
            "commit_sha": check_commit(r.commit_sha),
            "notebook_path": r.notebook_path,
            "person_id": people[r.username],
            "status": SubmissionStatus.SCORED,
            "attempts": 1,
            "created_at": r.submitted_at,
            "started_at": r.submitted_at,
            "finished_at": r.submitted_at,
            "run_time": r.run_time,
            "peak_memory": r.peak_memory,
            "parameters": dict(r.parameters),
            "provenance": jsonable(r.provenance) if r.provenance is not None else None,
            "executed_notebook": r.executed_notebook,
        }
        for r in batch
    ]
    ids = list(
        session.execute(
            insert(Submission).returning(Submission.id, sort_by_parameter_order=True), rows
        ).scalars()
    )
    scores = [
        {"submission_id": sid, "metric": metric, "split": split, "value": entries.finite(value)}
        for sid, r in zip(ids, batch, strict=True)
        for split, metrics in ((Split.PUBLIC, r.public), (Split.PRIVATE, r.private))
        for metric, value in metrics.items()
    ]
    if scores:
        session.execute(insert(Score), scores)
    events = [
        {
            "submission_id": sid,
            "at": r.submitted_at,
            "status_from": None,
            "status_to": SubmissionStatus.SCORED,
            "detail": {"imported": True},
        }
        for sid, r in zip(ids, batch, strict=True)
    ]
    session.execute(insert(SubmissionEvent), events)
    return ids
