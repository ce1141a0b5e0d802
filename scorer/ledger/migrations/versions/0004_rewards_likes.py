"""Rewards granted exactly once (with compensating rows), rewarder failures, and likes.

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-05
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

from scorer.ledger.migrations.triggers import allow_changes, forbid_changes

revision: str = "0004"
down_revision: str | Sequence[str] | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

JSON = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")
TIME = sa.DateTime(timezone=True)
APPEND_ONLY = ("rewards", "rewarder_failures", "likes")


MOMENTS = ("live", "settlement")


def _one_of(column: str, values: Sequence[str], name: str) -> sa.CheckConstraint:
    listed = ", ".join(f"'{v}'" for v in values)
    return sa.CheckConstraint(f"{column} IN ({listed})", name=op.f(name))


def upgrade() -> None:
    op.create_table(
        "rewards",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("idempotency_key", sa.String(512), nullable=False),
        sa.Column("at", TIME, nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("compensates", sa.Integer(), nullable=True),
        sa.Column("challenge_id", sa.String(63), nullable=False),
        sa.Column("phase_id", sa.String(63), nullable=False),
        sa.Column("person_id", sa.Integer(), nullable=False),
        sa.Column("rewarder_type", sa.String(63), nullable=False),
        sa.Column("rewarder_index", sa.Integer(), nullable=False),
        sa.Column("moment", sa.String(16), nullable=False),
        sa.Column("scope", sa.String(255), nullable=False),
        sa.Column("amount_micro", sa.BigInteger(), nullable=False),
        sa.Column("unit", sa.String(32), nullable=False),
        sa.Column("submission_id", sa.Integer(), nullable=True),
        sa.Column("commit_sha", sa.String(40), nullable=True),
        sa.Column("evidence", JSON, nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_rewards")),
        sa.UniqueConstraint("idempotency_key", name=op.f("uq_rewards_idempotency_key")),
        sa.UniqueConstraint("compensates", name=op.f("uq_rewards_compensates")),
        sa.ForeignKeyConstraint(["compensates"], ["rewards.id"], name=op.f("fk_rewards_compensates_rewards")),
        sa.ForeignKeyConstraint(
            ["challenge_id"], ["challenges.id"], name=op.f("fk_rewards_challenge_id_challenges")
        ),
        sa.ForeignKeyConstraint(["person_id"], ["people.id"], name=op.f("fk_rewards_person_id_people")),
        sa.ForeignKeyConstraint(
            ["submission_id"], ["submissions.id"], name=op.f("fk_rewards_submission_id_submissions")
        ),
        _one_of("kind", ("grant", "compensation"), "ck_rewards_reward_kind"),
        _one_of("moment", MOMENTS, "ck_rewards_reward_moment"),
    )
    op.create_index("ix_rewards_phase", "rewards", ["challenge_id", "phase_id", "id"])
    op.create_index("ix_rewards_person", "rewards", ["person_id", "id"])
    op.create_index("ix_rewards_submission", "rewards", ["submission_id"])
    op.create_table(
        "rewarder_failures",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("at", TIME, nullable=False),
        sa.Column("challenge_id", sa.String(63), nullable=False),
        sa.Column("phase_id", sa.String(63), nullable=False),
        sa.Column("rewarder_type", sa.String(63), nullable=False),
        sa.Column("rewarder_index", sa.Integer(), nullable=False),
        sa.Column("moment", sa.String(16), nullable=False),
        sa.Column("submission_id", sa.Integer(), nullable=True),
        sa.Column("error", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_rewarder_failures")),
        sa.ForeignKeyConstraint(
            ["challenge_id"], ["challenges.id"], name=op.f("fk_rewarder_failures_challenge_id_challenges")
        ),
        sa.ForeignKeyConstraint(
            ["submission_id"], ["submissions.id"], name=op.f("fk_rewarder_failures_submission_id_submissions")
        ),
        _one_of("moment", MOMENTS, "ck_rewarder_failures_failure_moment"),
    )
    op.create_index("ix_rewarder_failures_phase", "rewarder_failures", ["challenge_id", "phase_id", "id"])
    op.create_table(
        "likes",
        sa.Column("submission_id", sa.Integer(), nullable=False),
        sa.Column("person_id", sa.Integer(), nullable=False),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("liked", sa.Boolean(), nullable=False),
        sa.Column("at", TIME, nullable=False),
        sa.PrimaryKeyConstraint("submission_id", "person_id", "seq", name=op.f("pk_likes")),
        sa.ForeignKeyConstraint(
            ["submission_id"], ["submissions.id"], name=op.f("fk_likes_submission_id_submissions")
        ),
        sa.ForeignKeyConstraint(["person_id"], ["people.id"], name=op.f("fk_likes_person_id_people")),
    )
    op.create_index("ix_likes_person", "likes", ["person_id"])
    for table in APPEND_ONLY:
        forbid_changes(table)


def downgrade() -> None:
    for table in reversed(APPEND_ONLY):
        allow_changes(table)
    op.drop_index("ix_likes_person", table_name="likes")
    op.drop_table("likes")
    op.drop_index("ix_rewarder_failures_phase", table_name="rewarder_failures")
    op.drop_table("rewarder_failures")
    op.drop_index("ix_rewards_submission", table_name="rewards")
    op.drop_index("ix_rewards_person", table_name="rewards")
    op.drop_index("ix_rewards_phase", table_name="rewards")
    op.drop_table("rewards")
