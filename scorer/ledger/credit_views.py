"""What credit reads from the ledger: a phase's scored notebook versions, who pushed each
commit, and which co-author emails are verified aliases (:mod:`scorer.ledger.commits`).

A version is one notebook at one commit; of several scored runs of it (rescores) the newest
counts. Scores are raw metric values per split: the private-score rule is the caller's to apply
(:func:`scorer.ledger.queries.private_scores_visible`) before asking for them.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from scorer.ledger.commits import aliases
from scorer.ledger.models import CommitRow, Invalidation, Person, Score, Split, Submission, SubmissionStatus

Values = dict[str, float | None]
#: Up to this many commits are looked up by SHA; more are read with the whole challenge's.
FEW = 500


@dataclass(frozen=True)
class ScoredVersion:
    """A scored notebook version: its submission, the person it counts for, and its values."""

    submission_id: int
    person: str
    commit: str
    notebook: str
    scored_at: datetime
    public: Values = field(default_factory=dict)
    private: Values = field(default_factory=dict)
    run_time: float | None = None
    memory: float | None = None


@dataclass(frozen=True)
class CommitPeople:
    """Who a commit may credit: its pusher, and its co-authors' emails that are verified aliases."""

    pusher: str | None
    co_authors: tuple[str, ...] = ()


def scored_versions(
    session: Session, challenge_id: str, phase_id: str, *, private: bool = False, after: int | None = None
) -> list[ScoredVersion]:
    """The phase's scored versions in the order they were submitted (private values only when
    ``private``; with ``after``, only submissions with a larger id: new versions, new runs)."""
    scored = [
        Submission.challenge_id == challenge_id,
        Submission.phase_id == phase_id,
        Submission.status == SubmissionStatus.SCORED,
        Submission.reproduces.is_(None),  # a re-run checks a version, it is none of its own
    ]
    if after is not None:
        scored.append(Submission.id > after)
    s = Submission
    rows = session.execute(
        select(
            s.id,
            Person.username,
            s.commit_sha,
            s.notebook_path,
            s.finished_at,
            s.created_at,
            s.run_time,
            s.peak_memory,
        )
        .join(Person, Person.id == s.person_id)
        .where(*scored)
        .order_by(s.id)
    ).all()
    newest = {(row.commit_sha, row.notebook_path): row for row in rows}  # the newest run of each
    splits = [Split.PUBLIC, Split.PRIVATE] if private else [Split.PUBLIC]
    values: dict[int, dict[Split, Values]] = {
        row.id: {Split.PUBLIC: {}, Split.PRIVATE: {}} for row in newest.values()
    }
    scores = session.execute(
        select(Score.submission_id, Score.split, Score.metric, Score.value)
        .join(Submission, Submission.id == Score.submission_id)
        .where(*scored, Score.split.in_(splits))
    )
    for submission_id, split, metric, value in scores:
        found = values.get(submission_id)
        if found is not None:
            found[split][metric] = value
    return [
        ScoredVersion(
            row.id,
            row.username,
            row.commit_sha,
            row.notebook_path,
            row.finished_at or row.created_at,
            values[row.id][Split.PUBLIC],
            values[row.id][Split.PRIVATE],
            row.run_time,
            row.peak_memory,
        )
        for row in sorted(newest.values(), key=lambda row: row.id)
    ]


def commit_people(session: Session, challenge_id: str, shas: Collection[str]) -> dict[str, CommitPeople]:
    """Each known commit's pusher and verified co-authors (unverified emails left out)."""
    query = (
        select(CommitRow.sha, Person.username, CommitRow.co_authors)
        .join(Person, Person.id == CommitRow.pusher_id)
        .where(CommitRow.challenge_id == challenge_id)
    )
    wanted = set(shas)
    if len(wanted) <= FEW:
        query = query.where(CommitRow.sha.in_(wanted))
    rows = session.execute(query).all()
    rows = [row for row in rows if row[0] in wanted]
    known = aliases(session, (entry["email"] for _, _, co in rows for entry in co))
    return {
        sha: CommitPeople(pusher, tuple(dict.fromkeys(known[e["email"]] for e in co if e["email"] in known)))
        for sha, pusher, co in rows
    }


def credit_token(session: Session, challenge_id: str, phase_id: str) -> tuple[int, int, int]:
    """Changes whenever a version of the phase is scored (a rescore is a new submission) or any
    submission is invalidated: a key for cached credit, read from indexes alone."""
    count, last = session.execute(
        select(func.count(), func.max(Submission.id)).where(
            Submission.challenge_id == challenge_id,
            Submission.phase_id == phase_id,
            Submission.status == SubmissionStatus.SCORED,
        )
    ).one()
    invalidation = session.scalar(select(func.max(Invalidation.id)))
    return count, last or 0, invalidation or 0
