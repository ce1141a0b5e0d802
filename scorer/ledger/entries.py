"""Keeping ``leaderboard_entries`` current: one row per person, board and phase.

A person's representative submission is chosen on PUBLIC values by
:func:`scorer.ranking.leaderboard.select_representatives` (best or last, per the board); its private
values ride along, so the private board ranks the same submissions (HiggsML's shake-up).

Rescores: a rescore points (``rescore_of``) at the original submission. Among the scored
submissions of one phase that share an original, only the newest counts, and it counts as
submitted when the original was. An independent re-run (``reproduces``) never counts.
"""

from __future__ import annotations

import math
import uuid
from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import Any

from sqlalchemy import and_, delete, func, or_, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session, aliased

from scorer.challenge.spec import Challenge, Leaderboard
from scorer.ledger.invalidations import is_invalidated
from scorer.ledger.models import (
    LeaderboardEntry,
    LeaderboardVersion,
    Person,
    Score,
    Split,
    Submission,
    SubmissionStatus,
)
from scorer.ranking.leaderboard import Entry, select_representatives

Values = dict[str, float | None]


def finite(value: object) -> float | None:
    """A finite float, or ``None`` (JSON and PostgreSQL cannot hold NaN or infinity)."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    value = float(value)
    return value if math.isfinite(value) else None


def values_of(metrics: Mapping[str, object], run_time: float | None, peak_memory: float | None) -> Values:
    """What a leaderboard sees of one submission on one split: metrics, ``time``, ``memory``."""
    values = {key: finite(value) for key, value in metrics.items()}
    values["time"] = finite(run_time)
    values["memory"] = finite(peak_memory)
    return values


def dialect_insert(session: Session) -> Any:
    """``insert`` with ``on_conflict_do_nothing`` for the session's backend."""
    name = session.get_bind().dialect.name
    if name == "postgresql":
        return postgresql.insert
    if name == "sqlite":
        return sqlite.insert
    raise NotImplementedError(f"the ledger supports SQLite and PostgreSQL, not {name}")


def offer(
    session: Session,
    challenge: Challenge,
    submission: Submission,
    username: str,
    public: Values,
    private: Values,
) -> None:
    """Update the phase's entries after ``submission`` scored (inside its transaction)."""
    if submission.reproduces is not None:
        return  # a re-run checks a score, it is none of its own
    if session.scalar(select(Submission.id).where(Submission.id == submission.id, is_invalidated())):
        return  # a rescore of an invalidated submission stays off the boards
    phase = challenge.phase(submission.phase_id)
    if _has_scored_siblings(session, submission):
        rebuild(session, challenge, submission.phase_id, person_id=submission.person_id)
        return
    new = Entry(username, submission.id, submitted_at_of(session, submission), public)
    boards = challenge.phase_leaderboards(phase)
    changed = [_offer_to_board(session, challenge, b, submission, new, private) for b in boards]
    if any(changed):
        touch(session, submission.challenge_id, submission.phase_id, submission.person_id)


def touch(session: Session, challenge_id: str, phase_id: str, person_id: int | None = None) -> None:
    """Give a phase's leaderboards a new version token: cached views of them go stale.

    ``person_id``: the only person whose entries changed (readers then update a cached view
    in place of ranking from scratch); ``None`` when unknown.
    """
    token = uuid.uuid4().hex
    v = LeaderboardVersion
    insert = dialect_insert(session)(v).values(
        challenge_id=challenge_id, phase_id=phase_id, token=token, person_id=person_id
    )
    changed = {"token": token, "previous": v.token, "person_id": person_id}
    session.execute(insert.on_conflict_do_update(index_elements=["challenge_id", "phase_id"], set_=changed))


def _offer_to_board(
    session: Session,
    challenge: Challenge,
    board: Leaderboard,
    submission: Submission,
    new: Entry,
    private: Values,
) -> bool:
    """Make ``new`` the person's entry on ``board`` if it beats the current one."""
    e = LeaderboardEntry
    where = (
        e.challenge_id == submission.challenge_id,
        e.phase_id == submission.phase_id,
        e.board == board.key,
        e.person_id == submission.person_id,
    )
    current_query = select(e.submission_id, e.submitted_at, e.public).where(*where).with_for_update()
    current = session.execute(current_query).first()
    if current is None:
        row = {
            "challenge_id": submission.challenge_id,
            "phase_id": submission.phase_id,
            "board": board.key,
            "person_id": submission.person_id,
            "submission_id": new.submission_id,
            "submitted_at": new.submitted_at,
            "public": dict(new.values),
            "private": private,
        }
        insert = dialect_insert(session)(e).values(row).on_conflict_do_nothing()
        # RETURNING, not rowcount: psycopg reports no rowcount for INSERT ... ON CONFLICT.
        if session.execute(insert.returning(e.submission_id)).first() is not None:
            return True
        current = session.execute(current_query).one()  # a concurrent writer got there first
    held = Entry(new.person, current[0], current[1], current[2])
    (chosen,) = select_representatives(challenge, board, [held, new])
    if chosen is not new:
        return False
    session.execute(
        update(e)
        .where(*where)
        .values(
            submission_id=new.submission_id,
            submitted_at=new.submitted_at,
            public=dict(new.values),
            private=private,
        )
        .execution_options(synchronize_session=False)
    )
    return True


def _has_scored_siblings(session: Session, submission: Submission) -> bool:
    """Whether another scored submission of this phase shares the same original."""
    original = submission.rescore_of or submission.id
    s = Submission
    found = session.execute(
        select(s.id)
        .where(
            s.challenge_id == submission.challenge_id,
            s.phase_id == submission.phase_id,
            s.status == SubmissionStatus.SCORED,
            s.id != submission.id,
            or_(s.id == original, s.rescore_of == original),
        )
        .limit(1)
    ).first()
    return found is not None


def scored_entries(
    session: Session, challenge_id: str, phase_id: str, person_id: int | None = None
) -> tuple[list[Entry], dict[int, Values], dict[int, int]]:
    """Every counted scored submission of a phase, as public entries.

    Returns the entries, the private values per submission id and the person id per
    submission id. Superseded submissions (an older score of a rescored original) and
    invalidated ones are left out.
    """
    s, original = Submission, aliased(Submission)
    filters = [
        s.challenge_id == challenge_id,
        s.phase_id == phase_id,
        s.status == SubmissionStatus.SCORED,
        s.reproduces.is_(None),
        ~is_invalidated(),
    ]
    if person_id is not None:
        filters.append(s.person_id == person_id)
    rows = session.execute(
        select(
            s.id,
            s.person_id,
            Person.username,
            func.coalesce(s.rescore_of, s.id),
            func.coalesce(original.created_at, s.created_at),
            s.run_time,
            s.peak_memory,
        )
        .join(Person, Person.id == s.person_id)
        .outerjoin(original, and_(original.id == s.rescore_of, original.phase_id == s.phase_id))
        .where(*filters)
        .order_by(s.id)
    ).all()
    metrics: dict[int, dict[Split, dict[str, float | None]]] = {
        row[0]: {Split.PUBLIC: {}, Split.PRIVATE: {}} for row in rows
    }
    score_rows = session.execute(
        select(Score.submission_id, Score.split, Score.metric, Score.value)
        .join(s, s.id == Score.submission_id)
        .where(*filters)
    )
    for submission_id, split, metric, value in score_rows:
        metrics[submission_id][split][metric] = value
    newest: dict[int, Any] = {}
    for row in rows:  # ascending ids: the newest of each original wins
        newest[row[3]] = row
    entries: list[Entry] = []
    private: dict[int, Values] = {}
    people: dict[int, int] = {}
    for sid, pid, username, _original, submitted_at, run_time, memory in newest.values():
        scores = metrics[sid]
        entries.append(Entry(username, sid, submitted_at, values_of(scores[Split.PUBLIC], run_time, memory)))
        private[sid] = values_of(scores[Split.PRIVATE], run_time, memory)
        people[sid] = pid
    entries.sort(key=lambda entry: entry.submission_id)
    return entries, private, people


def rebuild(session: Session, challenge: Challenge, phase_id: str, *, person_id: int | None = None) -> int:
    """Recompute the entries of a phase (or of one person in it) from scored submissions.

    Returns the number of entries written.
    """
    phase = challenge.phase(phase_id)
    entries, private, people = scored_entries(session, challenge.id, phase_id, person_id)
    e = LeaderboardEntry
    stale = delete(e).where(e.challenge_id == challenge.id, e.phase_id == phase_id)
    if person_id is not None:
        stale = stale.where(e.person_id == person_id)
    session.execute(stale.execution_options(synchronize_session=False))
    rows: list[dict[str, Any]] = []
    for board in challenge.phase_leaderboards(phase):
        rows += _rows(challenge, board, phase_id, entries, private, people)
    if rows:
        session.execute(dialect_insert(session)(e), rows)
    touch(session, challenge.id, phase_id, person_id)
    return len(rows)


def _rows(
    challenge: Challenge,
    board: Leaderboard,
    phase_id: str,
    entries: Iterable[Entry],
    private: Mapping[int, Values],
    people: Mapping[int, int],
) -> list[dict[str, Any]]:
    return [
        {
            "challenge_id": challenge.id,
            "phase_id": phase_id,
            "board": board.key,
            "person_id": people[entry.submission_id],
            "submission_id": entry.submission_id,
            "submitted_at": entry.submitted_at,
            "public": dict(entry.values),
            "private": private[entry.submission_id],
        }
        for entry in select_representatives(challenge, board, entries)
    ]


def submitted_at_of(session: Session, submission: Submission) -> datetime:
    """When a submission counts as submitted: its original's time for a same-phase rescore."""
    if submission.rescore_of is None:
        return submission.created_at
    original = session.get(Submission, submission.rescore_of)
    if original is None or original.phase_id != submission.phase_id:
        return submission.created_at
    return original.created_at
