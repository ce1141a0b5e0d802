"""The ledger's tables as SQLAlchemy 2 declarative models.

Times are stored in UTC and always read back timezone-aware. JSON columns are JSONB on
PostgreSQL. Tables marked :class:`AppendOnly` refuse updates and deletes in the ORM (here)
and in the database (triggers created by the migrations).
"""

from __future__ import annotations

from datetime import UTC, datetime
from enum import StrEnum
from typing import Any, ClassVar

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    DateTime,
    Dialect,
    Enum,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Text,
    TypeDecorator,
    UniqueConstraint,
    event,
    false,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import DeclarativeBase, Mapped, ORMExecuteState, Session, mapped_column

from coop_client.models import FINISHED as FINISHED  # the API's names of the states
from coop_client.models import SubmissionStatus as SubmissionStatus
from coop_client.utc import as_utc
from scorer.exceptions import AppendOnlyViolation, FailureClass

NAMING_CONVENTION = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Split(StrEnum):
    PUBLIC = "public"
    PRIVATE = "private"


class UTCDateTime(TypeDecorator[datetime]):
    """A timezone-aware UTC datetime on every backend (naive input is taken as UTC)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        value = as_utc(value)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return as_utc(value)


JSONDocument = JSON().with_variant(JSONB(), "postgresql")


def _values(enum: type[StrEnum]) -> list[str]:
    return [member.value for member in enum]


def _string_enum(enum: type[StrEnum], name: str, length: int) -> Enum:
    return Enum(
        enum,
        name=name,
        native_enum=False,
        create_constraint=True,
        length=length,
        values_callable=_values,
        validate_strings=True,
    )


def utcnow() -> datetime:
    return datetime.now(UTC)


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)
    type_annotation_map: ClassVar[dict[Any, Any]] = {
        datetime: UTCDateTime(),
        dict[str, Any]: JSONDocument,
    }


class AppendOnly:
    """Marks an audit table: rows are inserted, never updated or deleted."""

    __tablename__: str


class ChallengeRow(Base):
    """A published challenge and its validated spec (``Challenge.model_dump(mode="json")``)."""

    __tablename__ = "challenges"

    id: Mapped[str] = mapped_column(String(63), primary_key=True)
    title: Mapped[str] = mapped_column(Text)
    repo_url: Mapped[str] = mapped_column(Text)
    spec: Mapped[dict[str, Any]]
    spec_hash: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)


class Person(Base):
    """One person across challenges, named by their JupyterHub username."""

    __tablename__ = "people"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    username: Mapped[str] = mapped_column(String(255), unique=True)
    display_name: Mapped[str] = mapped_column(String(255))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class Submission(Base):
    """One run of one notebook at one commit in one phase."""

    __tablename__ = "submissions"
    __table_args__ = (
        Index("ix_submissions_queue", "challenge_id", "phase_id", "status"),
        Index("ix_submissions_person", "person_id", "created_at"),
        Index("ix_submissions_commit", "commit_sha"),
        Index("ix_submissions_status", "status"),
        Index("ix_submissions_rescore_of", "rescore_of"),
        Index("ix_submissions_reproduces", "reproduces"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    challenge_id: Mapped[str] = mapped_column(String(63), ForeignKey("challenges.id"))
    phase_id: Mapped[str] = mapped_column(String(63))
    commit_sha: Mapped[str] = mapped_column(String(40))
    notebook_path: Mapped[str] = mapped_column(Text)
    person_id: Mapped[int] = mapped_column(ForeignKey("people.id"))
    status: Mapped[SubmissionStatus] = mapped_column(_string_enum(SubmissionStatus, "submission_status", 16))
    failure_class: Mapped[FailureClass | None] = mapped_column(
        _string_enum(FailureClass, "failure_class", 32)
    )
    failure_reason: Mapped[str | None] = mapped_column(Text)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    worker: Mapped[str | None] = mapped_column(String(255))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    started_at: Mapped[datetime | None]
    finished_at: Mapped[datetime | None]
    run_time: Mapped[float | None] = mapped_column(Float)
    peak_memory: Mapped[float | None] = mapped_column(Float, doc="MiB")
    parameters: Mapped[dict[str, Any]] = mapped_column(default=dict)
    input_hash: Mapped[str | None] = mapped_column(String(128))
    scorer_version: Mapped[str | None] = mapped_column(String(64))
    environment_hash: Mapped[str | None] = mapped_column(String(128), doc="the platform's own")
    #: The key of the challenge environment the kernel ran in; None: the platform's own.
    challenge_environment: Mapped[str | None] = mapped_column(String(64))
    provenance: Mapped[dict[str, Any] | None]
    executed_notebook: Mapped[bytes | None] = mapped_column(LargeBinary, deferred=True)
    rescore_of: Mapped[int | None] = mapped_column(ForeignKey("submissions.id"))
    #: The submission this run reproduces (an organiser's reproduction run), if any.
    reproduces: Mapped[int | None] = mapped_column(ForeignKey("submissions.id"))


class Score(Base):
    """One metric of one submission on one split of the hidden test set."""

    __tablename__ = "scores"

    submission_id: Mapped[int] = mapped_column(ForeignKey("submissions.id"), primary_key=True)
    metric: Mapped[str] = mapped_column(String(63), primary_key=True)
    split: Mapped[Split] = mapped_column(_string_enum(Split, "score_split", 8), primary_key=True)
    value: Mapped[float | None] = mapped_column(Float, doc="NULL when not a finite number")


class SubmissionEvent(AppendOnly, Base):
    """The audit trail of a submission's status changes (append-only)."""

    __tablename__ = "submission_events"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    submission_id: Mapped[int] = mapped_column(ForeignKey("submissions.id"), index=True)
    at: Mapped[datetime] = mapped_column(default=utcnow)
    status_from: Mapped[SubmissionStatus | None] = mapped_column(
        _string_enum(SubmissionStatus, "event_status_from", 16)
    )
    status_to: Mapped[SubmissionStatus] = mapped_column(_string_enum(SubmissionStatus, "event_status_to", 16))
    detail: Mapped[dict[str, Any]] = mapped_column(default=dict)


class LeaderboardEntry(Base):
    """A person's representative submission on one leaderboard of one phase.

    Denormalised so that a leaderboard reads one row per person. ``public`` and ``private``
    hold that submission's values (metric keys plus ``time`` and ``memory``) on each split;
    the representative is always chosen on the public values.
    """

    __tablename__ = "leaderboard_entries"

    challenge_id: Mapped[str] = mapped_column(String(63), ForeignKey("challenges.id"), primary_key=True)
    phase_id: Mapped[str] = mapped_column(String(63), primary_key=True)
    board: Mapped[str] = mapped_column(String(63), primary_key=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("people.id"), primary_key=True)
    submission_id: Mapped[int] = mapped_column(ForeignKey("submissions.id"))
    submitted_at: Mapped[datetime]
    public: Mapped[dict[str, Any]]
    private: Mapped[dict[str, Any]]


class LeaderboardVersion(Base):
    """A token replaced by every transaction that changes a phase's leaderboard entries.

    Readers key their caches on it. A random token rather than a counter, so that a database
    recreated at the same URL can never match a cached view.
    """

    __tablename__ = "leaderboard_versions"

    challenge_id: Mapped[str] = mapped_column(String(63), ForeignKey("challenges.id"), primary_key=True)
    phase_id: Mapped[str] = mapped_column(String(63), primary_key=True)
    token: Mapped[str] = mapped_column(String(32))
    #: The token this one replaced, and the one person whose entries changed in between
    #: (``None``: unknown, or more than one): a view cached under ``previous`` then needs
    #: only that person's entries re-read.
    previous: Mapped[str | None] = mapped_column(String(32))
    person_id: Mapped[int | None]


class CommitRow(AppendOnly, Base):
    """A commit as it first arrived in a push. ``pusher_id`` comes from the token that pushed;
    author, committer and co-authors are the commit's claims, kept as evidence only."""

    __tablename__ = "commits"
    __table_args__ = (Index("ix_commits_pusher", "pusher_id", "pushed_at"),)

    challenge_id: Mapped[str] = mapped_column(String(63), ForeignKey("challenges.id"), primary_key=True)
    sha: Mapped[str] = mapped_column(String(40), primary_key=True)
    pusher_id: Mapped[int] = mapped_column(ForeignKey("people.id"))
    pushed_at: Mapped[datetime]
    ref: Mapped[str] = mapped_column(Text)
    parents: Mapped[list[str]] = mapped_column(JSONDocument)
    author_name: Mapped[str] = mapped_column(Text)
    author_email: Mapped[str] = mapped_column(Text)
    committer_name: Mapped[str] = mapped_column(Text)
    committer_email: Mapped[str] = mapped_column(Text)
    committed_at: Mapped[int] = mapped_column(BigInteger)
    co_authors: Mapped[list[dict[str, str]]] = mapped_column(JSONDocument)
    notebooks: Mapped[dict[str, Any]]


class EmailAlias(Base):
    """An email address that belongs to a person: kept by the platform, never read from the
    repository (a committed ``.mailmap`` would let anyone claim others' commits)."""

    __tablename__ = "email_aliases"

    email: Mapped[str] = mapped_column(String(320), primary_key=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("people.id"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class WebhookDelivery(AppendOnly, Base):
    """A forge webhook delivery, stored once per ``(forge, delivery_id)``: a replay finds it and
    creates nothing. ``outcome`` says what it led to (queued submissions, ignored event…)."""

    __tablename__ = "webhook_deliveries"

    forge: Mapped[str] = mapped_column(String(16), primary_key=True)
    delivery_id: Mapped[str] = mapped_column(String(128), primary_key=True)
    challenge_id: Mapped[str] = mapped_column(String(63), ForeignKey("challenges.id"))
    event: Mapped[str] = mapped_column(String(63))
    received_at: Mapped[datetime] = mapped_column(default=utcnow)
    outcome: Mapped[dict[str, Any]] = mapped_column(default=dict)


class AuditEvent(AppendOnly, Base):
    """An organiser's change made through the API (open a phase, edit a rewarder, rescore):
    who, when, what, and the details needed to understand it later (append-only)."""

    __tablename__ = "audit_events"
    __table_args__ = (Index("ix_audit_events_challenge", "challenge_id", "at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    at: Mapped[datetime] = mapped_column(default=utcnow)
    actor_id: Mapped[int] = mapped_column(ForeignKey("people.id"))
    challenge_id: Mapped[str] = mapped_column(String(63), ForeignKey("challenges.id"))
    action: Mapped[str] = mapped_column(String(63))
    detail: Mapped[dict[str, Any]] = mapped_column(default=dict)


class RewardKind(StrEnum):
    GRANT = "grant"
    COMPENSATION = "compensation"


class Moment(StrEnum):
    """When rewarders are asked: as a submission is scored (public scores), or when a phase
    is settled (private scores)."""

    LIVE = "live"
    SETTLEMENT = "settlement"


class Reward(AppendOnly, Base):
    """One grant of a rewarder to a person, or the compensation that offsets one (append-only).

    ``idempotency_key`` is unique: a grant recorded again (a retried or re-dispatched scoring)
    finds the first and adds nothing. ``compensates`` is unique too: a grant is offset at most
    once. Amounts are integers of millionths (``amount_micro``) so that balances are exact sums
    on every backend.
    """

    __tablename__ = "rewards"
    __table_args__ = (
        Index("ix_rewards_phase", "challenge_id", "phase_id", "id"),
        Index("ix_rewards_person", "person_id", "id"),
        Index("ix_rewards_submission", "submission_id"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    idempotency_key: Mapped[str] = mapped_column(String(512), unique=True)
    at: Mapped[datetime] = mapped_column(default=utcnow)
    kind: Mapped[RewardKind] = mapped_column(_string_enum(RewardKind, "reward_kind", 16))
    compensates: Mapped[int | None] = mapped_column(ForeignKey("rewards.id"), unique=True)
    challenge_id: Mapped[str] = mapped_column(String(63), ForeignKey("challenges.id"))
    phase_id: Mapped[str] = mapped_column(String(63))
    person_id: Mapped[int] = mapped_column(ForeignKey("people.id"))
    rewarder_type: Mapped[str] = mapped_column(String(63))
    rewarder_index: Mapped[int] = mapped_column(Integer)
    moment: Mapped[Moment] = mapped_column(_string_enum(Moment, "reward_moment", 16))
    scope: Mapped[str] = mapped_column(String(255))
    amount_micro: Mapped[int] = mapped_column(BigInteger)
    unit: Mapped[str] = mapped_column(String(32))
    submission_id: Mapped[int | None] = mapped_column(ForeignKey("submissions.id"))
    commit_sha: Mapped[str | None] = mapped_column(String(40))
    evidence: Mapped[dict[str, Any]]


class RewarderFailure(AppendOnly, Base):
    """A rewarder that raised instead of deciding (append-only); scoring went on without it."""

    __tablename__ = "rewarder_failures"
    __table_args__ = (Index("ix_rewarder_failures_phase", "challenge_id", "phase_id", "id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    at: Mapped[datetime] = mapped_column(default=utcnow)
    challenge_id: Mapped[str] = mapped_column(String(63), ForeignKey("challenges.id"))
    phase_id: Mapped[str] = mapped_column(String(63))
    rewarder_type: Mapped[str] = mapped_column(String(63))
    rewarder_index: Mapped[int] = mapped_column(Integer)
    moment: Mapped[Moment] = mapped_column(_string_enum(Moment, "failure_moment", 16))
    submission_id: Mapped[int | None] = mapped_column(ForeignKey("submissions.id"))
    error: Mapped[str] = mapped_column(Text)


class LikeEvent(AppendOnly, Base):
    """A person liking (``liked``) or unliking a submission (append-only).

    ``seq`` counts one person's events on one submission from 1; the latest says whether they
    like it now. Being part of the primary key, it lets only one of two racing toggles land.
    """

    __tablename__ = "likes"
    __table_args__ = (Index("ix_likes_person", "person_id"),)

    submission_id: Mapped[int] = mapped_column(ForeignKey("submissions.id"), primary_key=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("people.id"), primary_key=True)
    seq: Mapped[int] = mapped_column(Integer, primary_key=True)
    liked: Mapped[bool] = mapped_column(Boolean)
    at: Mapped[datetime] = mapped_column(default=utcnow)


class Settlement(AppendOnly, Base):
    """A phase's rewards closed on private scores, once per phase (append-only): who settled
    it (a username, or ``coop (phase ended)``), when, and what was granted and what failed."""

    __tablename__ = "settlements"
    __table_args__ = (UniqueConstraint("challenge_id", "phase_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    challenge_id: Mapped[str] = mapped_column(String(63), ForeignKey("challenges.id"))
    phase_id: Mapped[str] = mapped_column(String(63))
    at: Mapped[datetime] = mapped_column(default=utcnow)
    actor: Mapped[str] = mapped_column(String(255))
    summary: Mapped[dict[str, Any]]


class Invalidation(AppendOnly, Base):
    """A submission an organiser marked as an exploit, once (append-only): it leaves the
    leaderboards and its rewards are compensated."""

    __tablename__ = "invalidations"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    submission_id: Mapped[int] = mapped_column(ForeignKey("submissions.id"), unique=True)
    at: Mapped[datetime] = mapped_column(default=utcnow)
    actor: Mapped[str] = mapped_column(String(255))
    reason: Mapped[str] = mapped_column(Text)


class Profile(Base):
    """What a person says about themselves on their profile page; no row until they edit it.

    ``display_name`` overrides the person's hub name when set; ``hidden`` keeps the page from
    everyone but the person and organisers.
    """

    __tablename__ = "profiles"

    person_id: Mapped[int] = mapped_column(ForeignKey("people.id"), primary_key=True)
    display_name: Mapped[str | None] = mapped_column(String(255))
    affiliation: Mapped[str | None] = mapped_column(String(255))
    orcid: Mapped[str | None] = mapped_column(String(19))
    links: Mapped[list[str]] = mapped_column(JSONDocument, default=list)
    hidden: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)


class ImportedCredential(Base):
    """A credential another instance signed, imported by the person it names here; the issuer's
    ``jti`` is imported once."""

    __tablename__ = "imported_credentials"
    __table_args__ = (UniqueConstraint("issuer", "jti"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("people.id"), index=True)
    issuer: Mapped[str] = mapped_column(String(255))
    jti: Mapped[str] = mapped_column(String(255))
    issued_to: Mapped[str] = mapped_column(String(255))  # the person's login at the issuer
    kind: Mapped[str] = mapped_column(String(31))
    name: Mapped[str] = mapped_column(String(255))
    skills: Mapped[list[str]] = mapped_column(JSONDocument)  # the achievement's alignments
    evidence_url: Mapped[str] = mapped_column(Text)
    payload: Mapped[dict[str, Any]] = mapped_column(JSONDocument)
    token: Mapped[str] = mapped_column(Text)
    issued_at: Mapped[datetime] = mapped_column()
    expires_at: Mapped[datetime] = mapped_column()
    imported_at: Mapped[datetime] = mapped_column(default=utcnow)


class LinkCode(Base):
    """A code a person asked for here, to name them in credentials another instance exports;
    only its SHA-256 is kept. The first import links it to one login at one issuer."""

    __tablename__ = "link_codes"

    code_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("people.id"), index=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime] = mapped_column()
    issuer: Mapped[str | None] = mapped_column(String(255))
    issued_to: Mapped[str | None] = mapped_column(String(255))


def append_only_tables() -> set[str]:
    return {
        mapper.class_.__tablename__
        for mapper in Base.registry.mappers
        if issubclass(mapper.class_, AppendOnly)
    }


@event.listens_for(Session, "before_flush")
def _refuse_audit_changes(session: Session, _context: Any, _instances: Any) -> None:
    for obj in session.deleted:
        if isinstance(obj, AppendOnly):
            raise AppendOnlyViolation(type(obj).__tablename__, "DELETE")
    for obj in session.dirty:
        if isinstance(obj, AppendOnly) and session.is_modified(obj, include_collections=False):
            raise AppendOnlyViolation(type(obj).__tablename__, "UPDATE")


@event.listens_for(Session, "do_orm_execute")
def _refuse_bulk_audit_changes(state: ORMExecuteState) -> None:
    if not (state.is_update or state.is_delete):
        return
    table = getattr(state.statement, "table", None)
    name = getattr(table, "name", None)
    if name in append_only_tables():
        raise AppendOnlyViolation(name, "UPDATE" if state.is_update else "DELETE")
