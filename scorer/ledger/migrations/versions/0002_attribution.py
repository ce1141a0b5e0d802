"""Attribution: every commit as it first arrived (pusher, claimed identities, trailers,
notebook fingerprints), and the server-side email aliases of people.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-28
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

from scorer.ledger.migrations.triggers import allow_changes, forbid_changes

revision: str = "0002"
down_revision: str | Sequence[str] | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

JSON = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")
TIME = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "commits",
        sa.Column("challenge_id", sa.String(63), nullable=False),
        sa.Column("sha", sa.String(40), nullable=False),
        sa.Column("pusher_id", sa.Integer(), nullable=False),
        sa.Column("pushed_at", TIME, nullable=False),
        sa.Column("ref", sa.Text(), nullable=False),
        sa.Column("parents", JSON, nullable=False),
        sa.Column("author_name", sa.Text(), nullable=False),
        sa.Column("author_email", sa.Text(), nullable=False),
        sa.Column("committer_name", sa.Text(), nullable=False),
        sa.Column("committer_email", sa.Text(), nullable=False),
        sa.Column("committed_at", sa.BigInteger(), nullable=False),
        sa.Column("co_authors", JSON, nullable=False),
        sa.Column("notebooks", JSON, nullable=False),
        sa.PrimaryKeyConstraint("challenge_id", "sha", name=op.f("pk_commits")),
        sa.ForeignKeyConstraint(
            ["challenge_id"], ["challenges.id"], name=op.f("fk_commits_challenge_id_challenges")
        ),
        sa.ForeignKeyConstraint(["pusher_id"], ["people.id"], name=op.f("fk_commits_pusher_id_people")),
    )
    op.create_index("ix_commits_pusher", "commits", ["pusher_id", "pushed_at"])
    op.create_table(
        "email_aliases",
        sa.Column("email", sa.String(320), nullable=False),
        sa.Column("person_id", sa.Integer(), nullable=False),
        sa.Column("created_at", TIME, nullable=False),
        sa.PrimaryKeyConstraint("email", name=op.f("pk_email_aliases")),
        sa.ForeignKeyConstraint(["person_id"], ["people.id"], name=op.f("fk_email_aliases_person_id_people")),
    )
    forbid_changes("commits")


def downgrade() -> None:
    allow_changes("commits")
    op.drop_table("email_aliases")
    op.drop_index("ix_commits_pusher", table_name="commits")
    op.drop_table("commits")
