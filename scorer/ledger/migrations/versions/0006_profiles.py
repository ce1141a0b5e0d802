"""Profiles: what a person says about themselves (display name, affiliation, ORCID iD, links)
and whether their profile page is hidden.

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-05
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0006"
down_revision: str | Sequence[str] | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

JSON = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")
TIME = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "profiles",
        sa.Column("person_id", sa.Integer(), nullable=False),
        sa.Column("display_name", sa.String(255), nullable=True),
        sa.Column("affiliation", sa.String(255), nullable=True),
        sa.Column("orcid", sa.String(19), nullable=True),
        sa.Column("links", JSON, nullable=False),
        sa.Column("hidden", sa.Boolean(), server_default=sa.false(), nullable=False),
        sa.Column("updated_at", TIME, nullable=False),
        sa.PrimaryKeyConstraint("person_id", name=op.f("pk_profiles")),
        sa.ForeignKeyConstraint(["person_id"], ["people.id"], name=op.f("fk_profiles_person_id_people")),
    )


def downgrade() -> None:
    op.drop_table("profiles")
