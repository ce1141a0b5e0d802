"""Settlements of phases, invalidated submissions (both append-only), reproduction runs.

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-05
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

from scorer.ledger.migrations.triggers import allow_changes, forbid_changes

revision: str = "0005"
down_revision: str | Sequence[str] | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

JSON = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")
TIME = sa.DateTime(timezone=True)
APPEND_ONLY = ("settlements", "invalidations")


def _add_reproduces() -> None:
    if op.get_bind().dialect.name == "sqlite":
        # SQLite adds a column with its foreign key inline only (no ALTER ... ADD CONSTRAINT).
        op.execute("ALTER TABLE submissions ADD COLUMN reproduces INTEGER REFERENCES submissions (id)")
    else:
        op.add_column("submissions", sa.Column("reproduces", sa.Integer(), nullable=True))
        op.create_foreign_key(
            op.f("fk_submissions_reproduces_submissions"),
            "submissions",
            "submissions",
            ["reproduces"],
            ["id"],
        )
    op.create_index("ix_submissions_reproduces", "submissions", ["reproduces"])


def upgrade() -> None:
    op.create_table(
        "settlements",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("challenge_id", sa.String(63), nullable=False),
        sa.Column("phase_id", sa.String(63), nullable=False),
        sa.Column("at", TIME, nullable=False),
        sa.Column("actor", sa.String(255), nullable=False),
        sa.Column("summary", JSON, nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_settlements")),
        sa.UniqueConstraint("challenge_id", "phase_id", name=op.f("uq_settlements_challenge_id_phase_id")),
        sa.ForeignKeyConstraint(
            ["challenge_id"], ["challenges.id"], name=op.f("fk_settlements_challenge_id_challenges")
        ),
    )
    op.create_table(
        "invalidations",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("submission_id", sa.Integer(), nullable=False),
        sa.Column("at", TIME, nullable=False),
        sa.Column("actor", sa.String(255), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_invalidations")),
        sa.UniqueConstraint("submission_id", name=op.f("uq_invalidations_submission_id")),
        sa.ForeignKeyConstraint(
            ["submission_id"], ["submissions.id"], name=op.f("fk_invalidations_submission_id_submissions")
        ),
    )
    _add_reproduces()
    for table in APPEND_ONLY:
        forbid_changes(table)


def downgrade() -> None:
    for table in reversed(APPEND_ONLY):
        allow_changes(table)
    op.drop_index("ix_submissions_reproduces", table_name="submissions")
    if op.get_bind().dialect.name == "sqlite":
        op.execute("ALTER TABLE submissions DROP COLUMN reproduces")
    else:
        op.drop_constraint(op.f("fk_submissions_reproduces_submissions"), "submissions", type_="foreignkey")
        op.drop_column("submissions", "reproduces")
    op.drop_table("invalidations")
    op.drop_table("settlements")
