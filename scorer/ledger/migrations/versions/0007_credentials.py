"""Federation: credentials imported from other instances (once per issuer and jti), and the
link codes that bind them to a person here.

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-05
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0007"
down_revision: str | Sequence[str] | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

JSON = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")
TIME = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "imported_credentials",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("person_id", sa.Integer(), nullable=False),
        sa.Column("issuer", sa.String(255), nullable=False),
        sa.Column("jti", sa.String(255), nullable=False),
        sa.Column("issued_to", sa.String(255), nullable=False),
        sa.Column("kind", sa.String(31), nullable=False),
        sa.Column("name", sa.String(255), nullable=False),
        sa.Column("skills", JSON, nullable=False),
        sa.Column("evidence_url", sa.Text(), nullable=False),
        sa.Column("payload", JSON, nullable=False),
        sa.Column("token", sa.Text(), nullable=False),
        sa.Column("issued_at", TIME, nullable=False),
        sa.Column("expires_at", TIME, nullable=False),
        sa.Column("imported_at", TIME, nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_imported_credentials")),
        sa.UniqueConstraint("issuer", "jti", name=op.f("uq_imported_credentials_issuer_jti")),
        sa.ForeignKeyConstraint(
            ["person_id"], ["people.id"], name=op.f("fk_imported_credentials_person_id_people")
        ),
    )
    op.create_index("ix_imported_credentials_person_id", "imported_credentials", ["person_id"])
    op.create_table(
        "link_codes",
        sa.Column("code_hash", sa.String(64), nullable=False),
        sa.Column("person_id", sa.Integer(), nullable=False),
        sa.Column("created_at", TIME, nullable=False),
        sa.Column("expires_at", TIME, nullable=False),
        sa.Column("issuer", sa.String(255), nullable=True),
        sa.Column("issued_to", sa.String(255), nullable=True),
        sa.PrimaryKeyConstraint("code_hash", name=op.f("pk_link_codes")),
        sa.ForeignKeyConstraint(["person_id"], ["people.id"], name=op.f("fk_link_codes_person_id_people")),
    )
    op.create_index("ix_link_codes_person_id", "link_codes", ["person_id"])


def downgrade() -> None:
    op.drop_index("ix_link_codes_person_id", table_name="link_codes")
    op.drop_table("link_codes")
    op.drop_index("ix_imported_credentials_person_id", table_name="imported_credentials")
    op.drop_table("imported_credentials")
