"""Provenance: the challenge environment a submission's kernel ran in (the hash of its inputs),
beside the platform's own environment hash.

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-05
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0008"
down_revision: str | Sequence[str] | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("submissions", sa.Column("challenge_environment", sa.String(64), nullable=True))


def downgrade() -> None:
    # SQLite drops a plain column in place (3.35+); a batch copy would trip the foreign keys.
    op.drop_column("submissions", "challenge_environment")
