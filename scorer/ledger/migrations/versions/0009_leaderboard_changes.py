"""Leaderboard versions remember the token they replaced and the one person whose entries changed,
so a reader updates a cached ranked view for that person instead of ranking from scratch.

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-06
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0009"
down_revision: str | Sequence[str] | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("leaderboard_versions", sa.Column("previous", sa.String(32), nullable=True))
    op.add_column("leaderboard_versions", sa.Column("person_id", sa.Integer(), nullable=True))


def downgrade() -> None:
    # SQLite drops a plain column in place (3.35+); a batch copy would trip the foreign keys.
    op.drop_column("leaderboard_versions", "person_id")
    op.drop_column("leaderboard_versions", "previous")
