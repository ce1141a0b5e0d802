"""The frozen views rewarders read (:mod:`scorer.rewards.views`), built from the ledger.

A phase's *judged* submissions are its scored ones, oldest first, that count: the newest score
of each rescored original (placed at its original's time), never the baseline's runs (the
reference, see :func:`is_baseline`), never an independent re-run (``reproduces``), never an
invalidated submission or a rescore of one (:mod:`scorer.ledger.invalidations`).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, and_, func, or_, select
from sqlalchemy.orm import Session, aliased

from scorer.challenge.spec import Challenge, Phase
from scorer.ledger.invalidations import is_invalidated
from scorer.ledger.likes import likers
from scorer.ledger.models import Person, Score, Split, Submission, SubmissionStatus, utcnow
from scorer.ledger.queries import leaderboard
from scorer.rewards import views
from scorer.rewards.measures import phase_measures, scores

#: Who submits a phase's baseline (as the demo does); their runs are the reference.
BASELINE_PERSON = "baseline"
_CHUNK = 10_000


@dataclass(frozen=True)
class Facts:
    """What the granting edge needs to know about one submission before judging it."""

    id: int
    challenge_id: str
    phase_id: str
    status: SubmissionStatus
    person: str
    commit: str
    notebook: str
    parameters: dict[str, Any]
    rescore_of: int | None
    reproduces: int | None


def is_baseline(phase: Phase, person: str, notebook: str) -> bool:
    """A run of the phase's baseline: the organiser's notebook, or submitted by ``baseline``."""
    return notebook == phase.baseline or person == BASELINE_PERSON


def facts(session: Session, submission_id: int) -> Facts | None:
    row = session.execute(
        select(Submission, Person.username)
        .join(Person, Person.id == Submission.person_id)
        .where(Submission.id == submission_id)
    ).first()
    if row is None:
        return None
    sub, username = row
    return Facts(
        sub.id,
        sub.challenge_id,
        sub.phase_id,
        sub.status,
        username,
        sub.commit_sha,
        sub.notebook_path,
        sub.parameters,
        sub.rescore_of,
        sub.reproduces,
    )


def phase_view(session: Session, challenge: Challenge, phase: Phase) -> views.PhaseView:
    """The phase's measures, and the newest scored baseline run's scores (if any)."""
    runs = _runs(
        session,
        challenge,
        phase,
        [
            *_in_phase(challenge, phase),
            or_(Submission.notebook_path == phase.baseline, Person.username == BASELINE_PERSON),
        ],
    )
    baseline = runs[-1][1].scores if runs else None
    return views.PhaseView(challenge.id, phase.id, phase_measures(challenge, phase), baseline)


def judged(session: Session, challenge: Challenge, phase: Phase) -> tuple[views.Submission, ...]:
    """The phase's judged submissions, oldest first (see the module's docstring)."""
    newest: dict[int, views.Submission] = {}
    for original, run in _runs(session, challenge, phase, _in_phase(challenge, phase)):
        if not is_baseline(phase, run.person, run.notebook):
            newest[original] = run  # ascending ids: the newest score of each original wins
    return tuple(sorted(newest.values(), key=order))


def submission(session: Session, challenge: Challenge, phase: Phase, submission_id: int) -> views.Submission:
    """One scored submission's view (judged or not: a re-run, a superseded score)."""
    [(_original, found)] = _runs(session, challenge, phase, [Submission.id == submission_id])
    return found


def reruns(
    session: Session, challenge: Challenge, phase: Phase, submission_id: int
) -> list[views.Submission]:
    """The scored independent re-runs of a submission, oldest first."""
    where = [Submission.reproduces == submission_id]
    return [run for _original, run in _runs(session, challenge, phase, where)]


def family(session: Session, submission_id: int) -> list[tuple[int, SubmissionStatus]]:
    """Every run of the same piece of work, with its status: the original and its rescores."""
    original = session.scalar(select(Submission.rescore_of).where(Submission.id == submission_id))
    root = original or submission_id
    rows = session.execute(
        select(Submission.id, Submission.status)
        .where(or_(Submission.id == root, Submission.rescore_of == root))
        .order_by(Submission.id)
    )
    return [(submission_id, status) for submission_id, status in rows]


def reproductions(session: Session, submission_id: int) -> list[int]:
    """The independent re-runs queued for a submission (whatever their state)."""
    return list(session.scalars(select(Submission.id).where(Submission.reproduces == submission_id)))


def reproduced_worker(session: Session, submission_id: int) -> str | None:
    """For a re-run, the worker that scored the submission it reproduces; else ``None``."""
    original = aliased(Submission)
    return session.scalar(
        select(original.worker)
        .join(Submission, Submission.reproduces == original.id)
        .where(Submission.id == submission_id)
    )


def executed_notebook(session: Session, submission_id: int) -> bytes | None:
    return session.scalar(select(Submission.executed_notebook).where(Submission.id == submission_id))


def standings(
    session: Session, challenge: Challenge, phase: Phase, *, now: datetime | None = None
) -> dict[str, tuple[views.Standing, ...]]:
    """Each of the phase's boards ranked on private scores, as the ledger ranks them."""
    found = {}
    for board in challenge.phase_leaderboards(phase):
        ranked = leaderboard(
            session,
            challenge,
            phase.id,
            board.key,
            split=Split.PRIVATE.value,
            viewer_is_organiser=True,
            now=now or utcnow(),
            cached=False,
        )
        found[board.key] = tuple(
            views.Standing(
                row.rank, row.person, row.submission_id, views.finite(row.columns.get(board.primary))
            )
            for row in ranked.rows
        )
    return found


def in_order(session: Session, challenge: Challenge, phase: Phase, submission_id: int) -> list[int]:
    """The scored submissions to judge now that ``submission_id`` has finished, in judging
    order: none while work submitted before it is queued or running (it is judged when that
    work ends); else it (when scored) and those after it, up to the next one still going."""
    s, original = Submission, aliased(Submission)
    at = func.coalesce(original.created_at, s.created_at)
    runs = (
        select(s.id, s.status, at)
        .outerjoin(original, and_(original.id == s.rescore_of, original.phase_id == s.phase_id))
        .where(*_in_phase(challenge, phase))
    )
    mine = session.execute(runs.where(s.id == submission_id)).first()
    if mine is None:
        return []
    when = mine[2]
    before = or_(at < when, and_(at == when, s.id < submission_id))
    going = s.status.in_([SubmissionStatus.QUEUED, SubmissionStatus.RUNNING])
    if session.execute(runs.where(going, before).limit(1)).first() is not None:
        return []
    found = []
    for run_id, status, _at in session.execute(runs.where(~before).order_by(at, s.id)):
        if status in (SubmissionStatus.QUEUED, SubmissionStatus.RUNNING):
            break
        if status is SubmissionStatus.SCORED:
            found.append(run_id)
    return found


def order(submission: views.Submission) -> tuple[datetime, int]:
    """The order rewarders judge in: when the work was submitted (a rescore at its original's
    time), then the id."""
    return submission.submitted_at, submission.id


def _in_phase(challenge: Challenge, phase: Phase) -> list[ColumnElement[bool]]:
    return [
        Submission.challenge_id == challenge.id,
        Submission.phase_id == phase.id,
        Submission.reproduces.is_(None),
        ~is_invalidated(),
    ]


def _runs(
    session: Session, challenge: Challenge, phase: Phase, where: list[ColumnElement[bool]]
) -> list[tuple[int, views.Submission]]:
    """Scored submissions matching ``where`` in id order, each with its original's id."""
    s, original = Submission, aliased(Submission)
    filters = [s.status == SubmissionStatus.SCORED, *where]
    rows = session.execute(
        select(
            s.id,
            func.coalesce(s.rescore_of, s.id),
            Person.username,
            s.commit_sha,
            func.coalesce(original.created_at, s.created_at),
            s.notebook_path,
            s.worker,
            s.run_time,
            s.peak_memory,
        )
        .join(Person, Person.id == s.person_id)
        .outerjoin(original, and_(original.id == s.rescore_of, original.phase_id == s.phase_id))
        .where(*filters)
        .order_by(s.id)
    ).all()
    values: dict[int, dict[Split, dict[str, float | None]]] = {
        row[0]: {Split.PUBLIC: {}, Split.PRIVATE: {}} for row in rows
    }
    for submission_id, split, metric, value in session.execute(
        select(Score.submission_id, Score.split, Score.metric, Score.value)
        .join(s, s.id == Score.submission_id)
        .join(Person, Person.id == s.person_id)
        .where(*filters)
    ):
        values[submission_id][split][metric] = value
    ids = list(values)
    liked: dict[int, frozenset[str]] = {}
    for start in range(0, len(ids), _CHUNK):  # under the database's limit of bound values
        liked.update(likers(session, ids[start : start + _CHUNK]))
    return [
        (
            original,
            views.Submission(
                id=sid,
                person=username,
                commit=commit,
                submitted_at=submitted_at,
                scores=scores(
                    challenge, phase, values[sid][Split.PUBLIC], values[sid][Split.PRIVATE], run_time, memory
                ),
                notebook=notebook,
                worker=worker,
                likers=liked.get(sid, frozenset()),
            ),
        )
        for sid, original, username, commit, submitted_at, notebook, worker, run_time, memory in rows
    ]
