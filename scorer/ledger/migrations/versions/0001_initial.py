"""The ledger: challenges, people, submissions, scores, audit events, leaderboard entries.

Also the leaderboard version tokens that readers key their caches on.

Revision ID: 0001
Revises:
Create Date: 2026-05-09
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

from scorer.ledger.migrations.triggers import allow_changes, forbid_changes

revision: str = "0001"
down_revision: str | Sequence[str] | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

STATUSES = ("queued", "running", "scored", "failed", "rejected")
FAILURE_CLASSES = (
    "timeout",
    "exception",
    "memory_exceeded",
    "predictions_missing",
    "predictions_invalid",
    "scoring_error",
    "infrastructure",
    "invalid_notebook",
    "policy",
)
JSON = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")
TIME = sa.DateTime(timezone=True)
#: Tables whose rows may be inserted but never updated or deleted.
APPEND_ONLY = ("submission_events",)


def _one_of(column: str, values: Sequence[str], name: str) -> sa.CheckConstraint:
    listed = ", ".join(f"'{v}'" for v in values)
    return sa.CheckConstraint(f"{column} IN ({listed})", name=op.f(name))


def upgrade() -> None:
    op.create_table(
        "challenges",
        sa.Column("id", sa.String(63), nullable=False),
        sa.Column("title", sa.Text(), nullable=False),
        sa.Column("repo_url", sa.Text(), nullable=False),
        sa.Column("spec", JSON, nullable=False),
        sa.Column("spec_hash", sa.String(64), nullable=False),
        sa.Column("created_at", TIME, nullable=False),
        sa.Column("updated_at", TIME, nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_challenges")),
    )
    op.create_table(
        "people",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("username", sa.String(255), nullable=False),
        sa.Column("display_name", sa.String(255), nullable=False),
        sa.Column("created_at", TIME, nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_people")),
        sa.UniqueConstraint("username", name=op.f("uq_people_username")),
    )
    op.create_table(
        "submissions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("challenge_id", sa.String(63), nullable=False),
        sa.Column("phase_id", sa.String(63), nullable=False),
        sa.Column("commit_sha", sa.String(40), nullable=False),
        sa.Column("notebook_path", sa.Text(), nullable=False),
        sa.Column("person_id", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("failure_class", sa.String(32), nullable=True),
        sa.Column("failure_reason", sa.Text(), nullable=True),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("worker", sa.String(255), nullable=True),
        sa.Column("created_at", TIME, nullable=False),
        sa.Column("started_at", TIME, nullable=True),
        sa.Column("finished_at", TIME, nullable=True),
        sa.Column("run_time", sa.Float(), nullable=True),
        sa.Column("peak_memory", sa.Float(), nullable=True),
        sa.Column("parameters", JSON, nullable=False),
        sa.Column("input_hash", sa.String(128), nullable=True),
        sa.Column("scorer_version", sa.String(64), nullable=True),
        sa.Column("environment_hash", sa.String(128), nullable=True),
        sa.Column("provenance", JSON, nullable=True),
        sa.Column("executed_notebook", sa.LargeBinary(), nullable=True),
        sa.Column("rescore_of", sa.Integer(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_submissions")),
        sa.ForeignKeyConstraint(
            ["challenge_id"], ["challenges.id"], name=op.f("fk_submissions_challenge_id_challenges")
        ),
        sa.ForeignKeyConstraint(["person_id"], ["people.id"], name=op.f("fk_submissions_person_id_people")),
        sa.ForeignKeyConstraint(
            ["rescore_of"], ["submissions.id"], name=op.f("fk_submissions_rescore_of_submissions")
        ),
        _one_of("status", STATUSES, "ck_submissions_submission_status"),
        _one_of("failure_class", FAILURE_CLASSES, "ck_submissions_failure_class"),
    )
    op.create_index("ix_submissions_queue", "submissions", ["challenge_id", "phase_id", "status"])
    op.create_index("ix_submissions_person", "submissions", ["person_id", "created_at"])
    op.create_index("ix_submissions_commit", "submissions", ["commit_sha"])
    op.create_index("ix_submissions_status", "submissions", ["status"])
    op.create_index("ix_submissions_rescore_of", "submissions", ["rescore_of"])
    op.create_table(
        "scores",
        sa.Column("submission_id", sa.Integer(), nullable=False),
        sa.Column("metric", sa.String(63), nullable=False),
        sa.Column("split", sa.String(8), nullable=False),
        sa.Column("value", sa.Float(), nullable=True),
        sa.PrimaryKeyConstraint("submission_id", "metric", "split", name=op.f("pk_scores")),
        sa.ForeignKeyConstraint(
            ["submission_id"], ["submissions.id"], name=op.f("fk_scores_submission_id_submissions")
        ),
        _one_of("split", ("public", "private"), "ck_scores_score_split"),
    )
    op.create_table(
        "submission_events",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("submission_id", sa.Integer(), nullable=False),
        sa.Column("at", TIME, nullable=False),
        sa.Column("status_from", sa.String(16), nullable=True),
        sa.Column("status_to", sa.String(16), nullable=False),
        sa.Column("detail", JSON, nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_submission_events")),
        sa.ForeignKeyConstraint(
            ["submission_id"],
            ["submissions.id"],
            name=op.f("fk_submission_events_submission_id_submissions"),
        ),
        _one_of("status_from", STATUSES, "ck_submission_events_event_status_from"),
        _one_of("status_to", STATUSES, "ck_submission_events_event_status_to"),
    )
    op.create_index("ix_submission_events_submission_id", "submission_events", ["submission_id"])
    op.create_table(
        "leaderboard_entries",
        sa.Column("challenge_id", sa.String(63), nullable=False),
        sa.Column("phase_id", sa.String(63), nullable=False),
        sa.Column("board", sa.String(63), nullable=False),
        sa.Column("person_id", sa.Integer(), nullable=False),
        sa.Column("submission_id", sa.Integer(), nullable=False),
        sa.Column("submitted_at", TIME, nullable=False),
        sa.Column("public", JSON, nullable=False),
        sa.Column("private", JSON, nullable=False),
        sa.PrimaryKeyConstraint(
            "challenge_id", "phase_id", "board", "person_id", name=op.f("pk_leaderboard_entries")
        ),
        sa.ForeignKeyConstraint(
            ["challenge_id"],
            ["challenges.id"],
            name=op.f("fk_leaderboard_entries_challenge_id_challenges"),
        ),
        sa.ForeignKeyConstraint(
            ["person_id"], ["people.id"], name=op.f("fk_leaderboard_entries_person_id_people")
        ),
        sa.ForeignKeyConstraint(
            ["submission_id"],
            ["submissions.id"],
            name=op.f("fk_leaderboard_entries_submission_id_submissions"),
        ),
    )
    op.create_table(
        "leaderboard_versions",
        sa.Column("challenge_id", sa.String(63), nullable=False),
        sa.Column("phase_id", sa.String(63), nullable=False),
        sa.Column("token", sa.String(32), nullable=False),
        sa.PrimaryKeyConstraint("challenge_id", "phase_id", name=op.f("pk_leaderboard_versions")),
        sa.ForeignKeyConstraint(
            ["challenge_id"],
            ["challenges.id"],
            name=op.f("fk_leaderboard_versions_challenge_id_challenges"),
        ),
    )
    for table in APPEND_ONLY:
        forbid_changes(table)


def downgrade() -> None:
    for table in APPEND_ONLY:
        allow_changes(table)
    op.drop_table("leaderboard_versions")
    op.drop_table("leaderboard_entries")
    op.drop_index("ix_submission_events_submission_id", table_name="submission_events")
    op.drop_table("submission_events")
    op.drop_table("scores")
    for name in ("queue", "person", "commit", "status", "rescore_of"):
        op.drop_index(f"ix_submissions_{name}", table_name="submissions")
    op.drop_table("submissions")
    op.drop_table("people")
    op.drop_table("challenges")
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP FUNCTION IF EXISTS coop_append_only()")
