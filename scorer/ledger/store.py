"""The write side of the ledger. Every function takes a ``Session`` and never commits.

Exactly once: a submission leaves ``queued``/``running`` through one conditional UPDATE
(``... WHERE id = :id AND status = :expected``). Only the caller whose UPDATE changed the row
writes the outcome (scores, notebook, event, leaderboard entries), all in the caller's
transaction; everyone else gets ``False`` and writes nothing. Callers should run each of
:func:`claim`, :func:`record_result`, :func:`record_failure` and :func:`reject` in a
transaction of its own, or together with writes that must share its fate (rewards).
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from typing import Any, cast

from sqlalchemy import CursorResult, select, update
from sqlalchemy.orm import Session

from scorer.challenge.spec import Challenge
from scorer.exceptions import FailureClass, InvalidCommit, UnknownSubmission
from scorer.ledger import entries
from scorer.ledger.models import (
    ChallengeRow,
    Person,
    Score,
    Split,
    Submission,
    SubmissionEvent,
    SubmissionStatus,
)
from scorer.ledger.queries import load_challenge, phase_of, queued_ids
from scorer.scoring.results import RunResult

COMMIT_SHA = re.compile(r"^[0-9a-f]{40}$")
#: Keys of a run's provenance copied into their own columns.
PROVENANCE_COLUMNS = ("input_hash", "scorer_version", "environment_hash", "challenge_environment")
PENDING = (SubmissionStatus.RUNNING, SubmissionStatus.QUEUED)


def _now(now: datetime | None) -> datetime:
    return now if now is not None else datetime.now(UTC)


def spec_digest(document: Mapping[str, Any]) -> str:
    canonical = json.dumps(document, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(canonical.encode()).hexdigest()


def jsonable(document: Mapping[str, Any]) -> dict[str, Any]:
    """A JSON-safe copy: paths, times and other objects become strings, NaN and infinities null."""
    text = json.dumps(dict(document), default=str)
    return json.loads(text, parse_constant=lambda _constant: None)


def check_commit(commit_sha: str) -> str:
    """The SHA in lower case; raises :class:`InvalidCommit` unless it is 40 hex digits."""
    sha = commit_sha.strip().lower()
    if not COMMIT_SHA.match(sha):
        raise InvalidCommit(commit_sha)
    return sha


def upsert_challenge(
    session: Session, spec: Challenge, repo_url: str, *, now: datetime | None = None
) -> ChallengeRow:
    """Store a validated challenge; ``spec_hash`` changes when the spec does.

    A changed spec may change rankings: call :func:`rebuild_leaderboard_entries` afterwards.
    """
    document = spec.model_dump(mode="json")
    digest = spec_digest(document)
    row = session.get(ChallengeRow, spec.id)
    moment = _now(now)
    if row is None:
        row = ChallengeRow(
            id=spec.id,
            title=spec.title,
            repo_url=repo_url,
            spec=document,
            spec_hash=digest,
            created_at=moment,
            updated_at=moment,
        )
        session.add(row)
    elif (row.spec_hash, row.repo_url, row.title) != (digest, repo_url, spec.title):
        row.title, row.repo_url, row.spec, row.spec_hash = spec.title, repo_url, document, digest
        row.updated_at = moment
    session.flush()
    return row


def person(session: Session, username: str, *, display_name: str | None = None) -> Person:
    """The person called ``username``, created on first sight (safe under concurrency)."""
    query = select(Person).where(Person.username == username)
    found = session.execute(query).scalar_one_or_none()
    if found is not None:
        return found
    insert = entries.dialect_insert(session)(Person).values(
        username=username, display_name=display_name or username, created_at=datetime.now(UTC)
    )
    session.execute(insert.on_conflict_do_nothing(index_elements=["username"]))
    return session.execute(query).scalar_one()


def enqueue(
    session: Session,
    *,
    challenge_id: str,
    phase_id: str,
    commit_sha: str,
    notebook_path: str,
    username: str,
    parameters: Mapping[str, Any],
    rescore_of: int | None = None,
    reproduces: int | None = None,
    now: datetime | None = None,
) -> Submission:
    """A new queued submission (and its first event).

    ``rescore_of`` names the submission being rescored; a rescore of a rescore points at the
    original, so that every score of one piece of work shares one ``rescore_of``.
    ``reproduces`` names the submission an independent re-run checks (``reproduced``): such a
    run counts against no limit and never reaches a leaderboard.
    """
    sha = check_commit(commit_sha)
    phase_of(load_challenge(session, challenge_id), phase_id)
    original = None
    if rescore_of is not None:
        earlier = session.get(Submission, rescore_of)
        if earlier is None:
            raise UnknownSubmission(rescore_of)
        original = earlier.rescore_of or earlier.id
    moment = _now(now)
    sub = Submission(
        challenge_id=challenge_id,
        phase_id=phase_id,
        commit_sha=sha,
        notebook_path=notebook_path,
        person_id=person(session, username).id,
        status=SubmissionStatus.QUEUED,
        attempts=0,
        created_at=moment,
        parameters=dict(parameters),
        rescore_of=original,
        reproduces=reproduces,
    )
    session.add(sub)
    session.flush()
    detail: dict[str, Any] = {"commit": sha}
    if original is not None:
        detail["rescore_of"] = original
    if reproduces is not None:
        detail["reproduces"] = reproduces
    _event(session, sub.id, None, SubmissionStatus.QUEUED, moment, detail)
    return sub


def claim(session: Session, submission_id: int, worker: str, *, now: datetime | None = None) -> bool:
    """Mark a submission running on ``worker``; ``False`` once it has finished."""
    moment = _now(now)
    source = _transition(
        session,
        submission_id,
        (SubmissionStatus.QUEUED, SubmissionStatus.RUNNING),
        SubmissionStatus.RUNNING,
        attempts=Submission.attempts + 1,
        started_at=moment,
        worker=worker,
    )
    if source is None:
        return False
    _event(session, submission_id, source, SubmissionStatus.RUNNING, moment, {"worker": worker})
    return True


def record_result(
    session: Session, submission_id: int, result: RunResult, *, now: datetime | None = None
) -> bool:
    """Record a scored run exactly once; ``False`` (and nothing written) if already finished."""
    moment = _now(now)
    provenance = jsonable(result.provenance)
    source = _transition(
        session,
        submission_id,
        PENDING,
        SubmissionStatus.SCORED,
        finished_at=result.finished_at,
        run_time=result.run_time,
        peak_memory=result.peak_memory,
        executed_notebook=result.executed_notebook,
        provenance=provenance,
        failure_class=None,
        failure_reason=None,
        **_provenance_columns(provenance),
    )
    if source is None:
        return False
    sub = session.get_one(Submission, submission_id)
    if sub.started_at is None:
        sub.started_at = result.started_at
    session.add_all(
        Score(submission_id=submission_id, metric=metric, split=split, value=entries.finite(value))
        for split, metrics in ((Split.PUBLIC, result.public), (Split.PRIVATE, result.private))
        for metric, value in metrics.items()
    )
    _event(
        session,
        submission_id,
        source,
        SubmissionStatus.SCORED,
        moment,
        {"run_time": result.run_time, "peak_memory": result.peak_memory},
    )
    session.flush()
    challenge = load_challenge(session, sub.challenge_id)
    if any(phase.id == sub.phase_id for phase in challenge.phases):
        username = session.get_one(Person, sub.person_id).username
        entries.offer(
            session,
            challenge,
            sub,
            username,
            entries.values_of(result.public, result.run_time, result.peak_memory),
            entries.values_of(result.private, result.run_time, result.peak_memory),
        )
    return True


def record_failure(
    session: Session,
    submission_id: int,
    failure_class: FailureClass | str,
    reason: str,
    *,
    provenance: Mapping[str, Any] | None = None,
    executed_notebook: bytes | None = None,
    now: datetime | None = None,
) -> bool:
    """Record a failed run exactly once; ``reason`` is the message the participant sees, and
    the executed notebook (when the run got that far) shows them the failing cell."""
    return _finish(
        session,
        submission_id,
        SubmissionStatus.FAILED,
        FailureClass(failure_class),
        reason,
        {"failure_class": FailureClass(failure_class).value, "reason": reason},
        provenance,
        _now(now),
        executed_notebook,
    )


def reject(
    session: Session,
    submission_id: int,
    code: str,
    reason: str,
    *,
    now: datetime | None = None,
) -> bool:
    """Refuse a submission under the phase's rules (``code`` is a short reason code)."""
    return _finish(
        session,
        submission_id,
        SubmissionStatus.REJECTED,
        FailureClass.POLICY,
        reason,
        {"code": code, "reason": reason},
        None,
        _now(now),
    )


def requeue_orphans(session: Session, *, now: datetime | None = None) -> list[int]:
    """Everything to dispatch after a restart: running ones go back to queued. Oldest first."""
    moment = _now(now)
    requeued = session.execute(
        update(Submission)
        .where(Submission.status == SubmissionStatus.RUNNING)
        .values(status=SubmissionStatus.QUEUED, worker=None)
        .returning(Submission.id)
        .execution_options(synchronize_session=False)
    ).scalars()
    for submission_id in sorted(requeued):
        _expire(session, submission_id)
        _event(
            session,
            submission_id,
            SubmissionStatus.RUNNING,
            SubmissionStatus.QUEUED,
            moment,
            {"reason": "requeued after a restart"},
        )
    session.flush()
    return queued_ids(session)


def requeue(session: Session, submission_id: int, reason: str, *, now: datetime | None = None) -> bool:
    """Put a running submission back in the queue (its task was lost: the scheduler went away);
    ``False`` unless it was running. Should the lost run still end somewhere, its result and
    the next run's are recorded once, as for any submission dispatched twice."""
    moment = _now(now)
    source = _transition(
        session, submission_id, (SubmissionStatus.RUNNING,), SubmissionStatus.QUEUED, worker=None
    )
    if source is None:
        return False
    _event(session, submission_id, source, SubmissionStatus.QUEUED, moment, {"reason": reason})
    return True


def rebuild_leaderboard_entries(session: Session, challenge_id: str, phase_id: str) -> int:
    """Recompute a phase's leaderboard entries from all its scored submissions.

    Use after a rescore or a spec change. Returns the number of entries written.
    """
    challenge = load_challenge(session, challenge_id)
    phase_of(challenge, phase_id)
    return entries.rebuild(session, challenge, phase_id)


# --- helpers -----------------------------------------------------------------------------------


def _transition(
    session: Session,
    submission_id: int,
    sources: Sequence[SubmissionStatus],
    target: SubmissionStatus,
    **values: Any,
) -> SubmissionStatus | None:
    """Move the submission from one of ``sources`` to ``target`` with one conditional UPDATE
    per source; returns the state it left, or ``None`` when it was in none of them."""
    values["status"] = target
    try:
        for source in sources:
            done = session.execute(
                update(Submission)
                .where(Submission.id == submission_id, Submission.status == source)
                .values(**values)
                .execution_options(synchronize_session=False)
            )
            changed = cast("CursorResult[Any]", done).rowcount  # an UPDATE's result is a cursor's
            if changed == 1:
                return source
        return None
    finally:
        _expire(session, submission_id)


def _finish(
    session: Session,
    submission_id: int,
    target: SubmissionStatus,
    failure_class: FailureClass,
    reason: str,
    detail: dict[str, Any],
    provenance: Mapping[str, Any] | None,
    moment: datetime,
    executed_notebook: bytes | None = None,
) -> bool:
    values: dict[str, Any] = {
        "failure_class": failure_class,
        "failure_reason": reason,
        "finished_at": moment,
    }
    if executed_notebook:
        values["executed_notebook"] = executed_notebook
    if provenance is not None:
        values["provenance"] = jsonable(provenance)
        values.update(_provenance_columns(provenance))
    source = _transition(session, submission_id, PENDING, target, **values)
    if source is None:
        return False
    _event(session, submission_id, source, target, moment, detail)
    session.flush()
    return True


def _provenance_columns(provenance: Mapping[str, Any]) -> dict[str, str]:
    columns = Submission.__table__.c
    return {
        key: str(provenance[key])[: columns[key].type.length]  # type: ignore[attr-defined]
        for key in PROVENANCE_COLUMNS
        if provenance.get(key)
    }


def _event(
    session: Session,
    submission_id: int,
    source: SubmissionStatus | None,
    target: SubmissionStatus,
    moment: datetime,
    detail: dict[str, Any],
) -> None:
    session.add(
        SubmissionEvent(
            submission_id=submission_id,
            at=moment,
            status_from=source,
            status_to=target,
            detail=detail,
        )
    )


def _expire(session: Session, submission_id: int) -> None:
    """Forget a cached copy of the row after a Core UPDATE changed it behind the ORM."""
    cached = session.identity_map.get(session.identity_key(Submission, (submission_id,)))
    if cached is not None:
        session.expire(cached)
