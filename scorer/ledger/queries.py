"""The read side of the ledger, and the one place that applies visibility rules.

THE RULE for private scores: they are hidden until ``phase.private_visible_at()`` has passed
(``None`` means never), except from organisers. Closed code (``open_code``) is likewise hidden
from everyone but its author and organisers until it opens. Every API route and dashboard
reads through these functions and so inherits both rules.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, cast

from sqlalchemy import JSON, func, select, type_coerce
from sqlalchemy.orm import Session

from coop_client.utc import as_utc
from scorer.challenge.spec import Challenge, Column, Leaderboard, Phase
from scorer.exceptions import (
    CodeHidden,
    LedgerError,
    PrivateScoresHidden,
    UnknownChallenge,
    UnknownLeaderboard,
    UnknownPhase,
    UnknownSubmission,
)
from scorer.ledger.cache import ViewCache, cache_for, version
from scorer.ledger.models import (
    ChallengeRow,
    LeaderboardEntry,
    Person,
    Score,
    Split,
    Submission,
    SubmissionEvent,
    SubmissionStatus,
)
from scorer.ranking.leaderboard import Entry, RankedRow, rank_changes
from scorer.ranking.ranked import RankedBoard, ranked_board

_SPEC_CACHE_SIZE = 64
_specs: dict[str, Challenge] = {}


@dataclass(frozen=True)
class LeaderboardView:
    """One ranked board of one phase on one split, as a viewer may see it.

    ``columns`` and each row's ``columns`` omit hidden columns unless the viewer organises.
    ``rank_changes`` (private boards only) maps a person to public rank minus private rank.
    """

    challenge_id: str
    phase_id: str
    board: Leaderboard
    split: str
    private: bool
    columns: list[Column]
    rows: list[RankedRow]
    rank_changes: dict[str, int] | None = None
    #: The phase's version token the view was ranked at; ``follows``: the token of the cached
    #: view it was updated from (one person's entries changed in between), else ``None``.
    version: str | None = None
    follows: str | None = None


@dataclass(frozen=True)
class SubmissionView:
    """A submission without its scores (read those with :func:`scores`)."""

    id: int
    challenge_id: str
    phase_id: str
    commit_sha: str
    notebook_path: str
    username: str
    status: SubmissionStatus
    failure_class: str | None
    failure_reason: str | None
    attempts: int
    worker: str | None
    created_at: datetime
    started_at: datetime | None
    finished_at: datetime | None
    run_time: float | None
    peak_memory: float | None
    parameters: dict[str, Any]
    input_hash: str | None
    scorer_version: str | None
    environment_hash: str | None
    challenge_environment: str | None
    provenance: dict[str, Any] | None
    rescore_of: int | None


@dataclass(frozen=True)
class SubmissionScores:
    """A submission's metrics; ``private`` is ``None`` when not asked for."""

    submission_id: int
    public: dict[str, float | None]
    private: dict[str, float | None] | None


@dataclass(frozen=True)
class EventView:
    id: int
    submission_id: int
    at: datetime
    status_from: SubmissionStatus | None
    status_to: SubmissionStatus
    detail: dict[str, Any]


# --- the rules ---------------------------------------------------------------------------------


def private_scores_visible(phase: Phase, *, now: datetime, viewer_is_organiser: bool) -> bool:
    if viewer_is_organiser:
        return True
    visible_at = phase.private_visible_at()
    return visible_at is not None and as_utc(now) >= as_utc(visible_at)


def require_private_visible(phase: Phase, *, now: datetime, viewer_is_organiser: bool) -> None:
    """Raise :class:`PrivateScoresHidden` unless the viewer may see private scores now."""
    if not private_scores_visible(phase, now=now, viewer_is_organiser=viewer_is_organiser):
        never = phase.test_split.private_visible == "never"
        raise PrivateScoresHidden(phase.id, phase.private_visible_at(), never)


def code_visible(phase: Phase, *, now: datetime, viewer_is_author: bool, viewer_is_organiser: bool) -> bool:
    if viewer_is_author or viewer_is_organiser or phase.open_code is True:
        return True
    return isinstance(phase.open_code, datetime) and as_utc(now) >= as_utc(phase.open_code)


# --- challenges --------------------------------------------------------------------------------


def load_challenge(session: Session, challenge_id: str) -> Challenge:
    """The stored, validated spec of a challenge (parsed once per spec version)."""
    digest = session.execute(
        select(ChallengeRow.spec_hash).where(ChallengeRow.id == challenge_id)
    ).scalar_one_or_none()
    if digest is None:
        raise UnknownChallenge(challenge_id)
    cached = _specs.get(digest)
    if cached is None:
        document = session.execute(
            select(ChallengeRow.spec).where(ChallengeRow.id == challenge_id)
        ).scalar_one()
        cached = Challenge.model_validate(document)
        if len(_specs) >= _SPEC_CACHE_SIZE:
            _specs.pop(next(iter(_specs)))
        _specs[digest] = cached
    return cached


def challenge_ids(session: Session) -> list[str]:
    """The id of every registered challenge, in order."""
    return list(session.execute(select(ChallengeRow.id).order_by(ChallengeRow.id)).scalars())


def repo_url(session: Session, challenge_id: str) -> str:
    """Where the challenge was registered from (the repository the scorer reads commits from)."""
    found = session.execute(
        select(ChallengeRow.repo_url).where(ChallengeRow.id == challenge_id)
    ).scalar_one_or_none()
    if found is None:
        raise UnknownChallenge(challenge_id)
    return found


def phase_of(challenge: Challenge, phase_id: str) -> Phase:
    try:
        return challenge.phase(phase_id)
    except KeyError:
        raise UnknownPhase(challenge.id, phase_id) from None


def board_of(challenge: Challenge, phase: Phase, board_key: str) -> Leaderboard:
    for board in challenge.phase_leaderboards(phase):
        if board.key == board_key:
            return board
    raise UnknownLeaderboard(phase.id, board_key)


# --- leaderboards ------------------------------------------------------------------------------


def leaderboard(
    session: Session,
    challenge: Challenge,
    phase_id: str,
    board_key: str,
    *,
    split: str = "public",
    viewer_is_organiser: bool = False,
    now: datetime,
    cached: bool = True,
) -> LeaderboardView:
    """A ranked leaderboard; private boards raise :class:`PrivateScoresHidden` while hidden.

    Views are cached until the phase's entries change (``cached=False`` always recomputes);
    the returned view is shared with later callers, so treat it as read-only. When one
    person's entries changed since the cached view, only their entry is read and moved.
    """
    phase = phase_of(challenge, phase_id)
    board = board_of(challenge, phase, board_key)
    try:
        private = Split(split) == Split.PRIVATE
    except ValueError:
        raise LedgerError(f"unknown split {split!r} (public or private)") from None
    if private:
        require_private_visible(phase, now=now, viewer_is_organiser=viewer_is_organiser)
    views: ViewCache[_Ranked] = cache_for(session)
    # The version is read before the entries: a cached view is never older than its key.
    found = version(session, challenge.id, phase_id) if cached else None
    key = (challenge.id, phase_id, board_key, private, viewer_is_organiser)
    hit = views.get((*key, found.token), challenge) if found else None
    if hit is not None:
        return hit.view
    base, person_id = None, None
    if found is not None and found.previous is not None and found.person_id is not None:
        base, person_id = views.get((*key, found.previous), challenge), found.person_id
    if base is not None and person_id is not None:  # one person's entries changed since base
        public, ranked = _updated(session, base, phase_id, person_id)
    else:
        shown = [c.key for c in board.columns if viewer_is_organiser or not c.hidden]
        rows = _board_rows(session, challenge.id, phase_id, board_key, private=private)
        public = ranked_board(challenge, board, [Entry(r[0], r[1], r[2], r[3]) for r in rows], shown)
        ranked = (
            ranked_board(challenge, board, [Entry(r[0], r[1], r[2], r[4]) for r in rows], shown)
            if private
            else None
        )
    view = LeaderboardView(
        challenge_id=challenge.id,
        phase_id=phase_id,
        board=board,
        split=Split.PRIVATE.value if private else Split.PUBLIC.value,
        private=private,
        columns=[c for c in board.columns if c.key in public.shown],
        rows=(ranked or public).rows,
        rank_changes=rank_changes(public.rows, ranked.rows) if ranked else None,
        version=found.token if found else None,
        follows=base.view.version if base else None,
    )
    if found is not None:
        views.put((*key, found.token), challenge, _Ranked(view, public, ranked))
        if base is not None:  # its token will not come back: leave its place to other boards
            views.discard((*key, found.previous))
    return view


@dataclass(frozen=True)
class _Ranked:
    """A cached view with the ranked boards it came from (public, and private for a private view)."""

    view: LeaderboardView
    public: RankedBoard
    private: RankedBoard | None


def _updated(
    session: Session, base: _Ranked, phase_id: str, person_id: int
) -> tuple[RankedBoard, RankedBoard | None]:
    """``base``'s boards with the person's entry read again (or gone)."""
    board = base.public.board
    found = _board_rows(
        session,
        base.view.challenge_id,
        phase_id,
        board.key,
        private=base.private is not None,
        person_id=person_id,
    )
    if not found:
        person = session.execute(select(Person.username).where(Person.id == person_id)).scalar_one()
        return base.public.remove(person), base.private.remove(person) if base.private else None
    (row,) = found
    public = base.public.put(Entry(row[0], row[1], row[2], row[3]))
    return public, base.private.put(Entry(row[0], row[1], row[2], row[4])) if base.private else None


def _board_rows(
    session: Session,
    challenge_id: str,
    phase_id: str,
    board_key: str,
    *,
    private: bool,
    person_id: int | None = None,
) -> list[list[Any]]:
    """``[username, submission_id, submitted_at, public(, private)]`` per entry of a board
    (of one person's entry, if any, with ``person_id``).

    The database assembles all rows into one JSON document: one parse of it costs about half
    of decoding 5,000 rows and their JSON cells one by one (measured on SQLite).
    """
    e, people = LeaderboardEntry.__table__.c, Person.__table__.c
    fields = [people.username, e.submission_id, e.submitted_at, e.public]
    if private:
        fields.append(e.private)
    dialect = session.get_bind().dialect.name
    if dialect == "sqlite":
        values = [func.json(f) for f in fields[3:]]  # embed as JSON, not as quoted text
        document = func.json_group_array(func.json_array(*fields[:3], *values))
    elif dialect == "postgresql":
        document = func.json_agg(func.json_build_array(*fields))
    else:
        raise NotImplementedError(f"the ledger supports SQLite and PostgreSQL, not {dialect}")
    query = (
        select(type_coerce(document, JSON()))
        .select_from(LeaderboardEntry.__table__)
        .join(Person.__table__, people.id == e.person_id)
        .where(e.challenge_id == challenge_id, e.phase_id == phase_id, e.board == board_key)
    )
    if person_id is not None:
        query = query.where(e.person_id == person_id)
    found = cast("list[list[Any]]", session.connection().execute(query).scalar() or [])
    for row in found:  # in place: fewer objects for the garbage collector to walk
        row[2] = _timestamp(row[2])
    return found


def _timestamp(text: str) -> datetime:
    return as_utc(datetime.fromisoformat(text))


# --- submissions -------------------------------------------------------------------------------


def _view(sub: Submission, username: str) -> SubmissionView:
    return SubmissionView(
        id=sub.id,
        challenge_id=sub.challenge_id,
        phase_id=sub.phase_id,
        commit_sha=sub.commit_sha,
        notebook_path=sub.notebook_path,
        username=username,
        status=sub.status,
        failure_class=sub.failure_class.value if sub.failure_class else None,
        failure_reason=sub.failure_reason,
        attempts=sub.attempts,
        worker=sub.worker,
        created_at=sub.created_at,
        started_at=sub.started_at,
        finished_at=sub.finished_at,
        run_time=sub.run_time,
        peak_memory=sub.peak_memory,
        parameters=sub.parameters,
        input_hash=sub.input_hash,
        scorer_version=sub.scorer_version,
        environment_hash=sub.environment_hash,
        challenge_environment=sub.challenge_environment,
        provenance=sub.provenance,
        rescore_of=sub.rescore_of,
    )


def submission(session: Session, submission_id: int) -> SubmissionView:
    row = session.execute(
        select(Submission, Person.username)
        .join(Person, Person.id == Submission.person_id)
        .where(Submission.id == submission_id)
    ).first()
    if row is None:
        raise UnknownSubmission(submission_id)
    return _view(*row)


def submissions(
    session: Session,
    *,
    challenge_id: str | None = None,
    phase_id: str | None = None,
    username: str | None = None,
    commit: str | None = None,
    status: SubmissionStatus | str | Sequence[SubmissionStatus | str] | None = None,
    limit: int | None = 100,
    offset: int = 0,
) -> list[SubmissionView]:
    """Newest first (``limit=None``: all; ``offset`` skips as many). ``commit`` may be an
    abbreviated SHA (a prefix)."""
    query = select(Submission, Person.username).join(Person, Person.id == Submission.person_id)
    if challenge_id is not None:
        query = query.where(Submission.challenge_id == challenge_id)
    if phase_id is not None:
        query = query.where(Submission.phase_id == phase_id)
    if username is not None:
        query = query.where(Person.username == username)
    if commit is not None:
        prefix = commit.lower()
        if len(prefix) >= 40:
            query = query.where(Submission.commit_sha == prefix)
        else:  # a range, so that the commit index serves prefixes on every backend
            query = query.where(Submission.commit_sha >= prefix, Submission.commit_sha < prefix + "g")
    if status is not None:
        wanted = [status] if isinstance(status, str) else list(status)
        query = query.where(Submission.status.in_([SubmissionStatus(s) for s in wanted]))
    query = query.order_by(Submission.id.desc()).limit(limit).offset(offset)
    return [_view(sub, username) for sub, username in session.execute(query)]


def queued_ids(session: Session) -> list[int]:
    """The ids of the submissions waiting to be scored, oldest first."""
    return _ids_in(session, SubmissionStatus.QUEUED)


def running_ids(session: Session) -> list[int]:
    """The ids of the submissions a worker has claimed and not finished, oldest first."""
    return _ids_in(session, SubmissionStatus.RUNNING)


def _ids_in(session: Session, status: SubmissionStatus) -> list[int]:
    return list(
        session.execute(
            select(Submission.id).where(Submission.status == status).order_by(Submission.id)
        ).scalars()
    )


def counted_times(session: Session, challenge_id: str, phase_id: str, username: str) -> list[datetime]:
    """When the person's earlier submissions in the phase were made, as the submission limits
    count them: not rejected ones, not rescores (those are the organiser's), not re-runs. Under
    :func:`scorer.ledger.locks.lock_person` the count stays true until the transaction ends."""
    return list(
        session.execute(
            select(Submission.created_at)
            .join(Person, Person.id == Submission.person_id)
            .where(
                Submission.challenge_id == challenge_id,
                Submission.phase_id == phase_id,
                Person.username == username,
                Submission.status != SubmissionStatus.REJECTED,
                Submission.rescore_of.is_(None),
                Submission.reproduces.is_(None),
            )
        ).scalars()
    )


def scores(
    session: Session,
    submission_id: int,
    *,
    include_private: bool,
    viewer_is_organiser: bool = False,
    now: datetime | None = None,
) -> SubmissionScores:
    """A submission's metrics; private ones obey the same rule as private leaderboards."""
    sub = session.get(Submission, submission_id)
    if sub is None:
        raise UnknownSubmission(submission_id)
    if include_private:
        challenge = load_challenge(session, sub.challenge_id)
        phase = phase_of(challenge, sub.phase_id)
        require_private_visible(phase, now=now or datetime.now(UTC), viewer_is_organiser=viewer_is_organiser)
    query = select(Score.metric, Score.split, Score.value).where(Score.submission_id == submission_id)
    if not include_private:
        query = query.where(Score.split == Split.PUBLIC)
    found: dict[Split, dict[str, float | None]] = {Split.PUBLIC: {}, Split.PRIVATE: {}}
    for metric, split, value in session.execute(query):
        found[split][metric] = value
    return SubmissionScores(
        submission_id, found[Split.PUBLIC], found[Split.PRIVATE] if include_private else None
    )


def code_submission(
    session: Session,
    submission_id: int,
    *,
    viewer: str | None,
    viewer_is_organiser: bool = False,
    now: datetime | None = None,
) -> SubmissionView:
    """A submission whose code (notebook, diff) ``viewer`` may read; :class:`CodeHidden` while
    the phase's ``open_code`` keeps it from them."""
    sub = submission(session, submission_id)
    challenge = load_challenge(session, sub.challenge_id)
    phase = phase_of(challenge, sub.phase_id)
    when = now or datetime.now(UTC)
    if not code_visible(
        phase,
        now=when,
        viewer_is_author=viewer is not None and viewer == sub.username,
        viewer_is_organiser=viewer_is_organiser,
    ):
        opens = phase.open_code if isinstance(phase.open_code, datetime) else None
        raise CodeHidden(phase.id, opens)
    return sub


def executed_notebook(
    session: Session,
    submission_id: int,
    *,
    viewer: str | None,
    viewer_is_organiser: bool = False,
    now: datetime | None = None,
) -> bytes | None:
    """The executed notebook, if the phase's ``open_code`` lets ``viewer`` read it."""
    code_submission(session, submission_id, viewer=viewer, viewer_is_organiser=viewer_is_organiser, now=now)
    return session.execute(
        select(Submission.executed_notebook).where(Submission.id == submission_id)
    ).scalar_one()


def events(session: Session, submission_id: int) -> list[EventView]:
    """A submission's audit trail, oldest first."""
    rows = session.execute(
        select(SubmissionEvent)
        .where(SubmissionEvent.submission_id == submission_id)
        .order_by(SubmissionEvent.id)
    ).scalars()
    return [EventView(e.id, e.submission_id, e.at, e.status_from, e.status_to, e.detail) for e in rows]
