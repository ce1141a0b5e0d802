"""Forge webhook deliveries (deduplicated by delivery id) and the organisers' audit trail.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-28
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

from scorer.ledger.migrations.triggers import allow_changes, forbid_changes

revision: str = "0003"
down_revision: str | Sequence[str] | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

JSON = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")
TIME = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "webhook_deliveries",
        sa.Column("forge", sa.String(16), nullable=False),
        sa.Column("delivery_id", sa.String(128), nullable=False),
        sa.Column("challenge_id", sa.String(63), nullable=False),
        sa.Column("event", sa.String(63), nullable=False),
        sa.Column("received_at", TIME, nullable=False),
        sa.Column("outcome", JSON, nullable=False),
        sa.PrimaryKeyConstraint("forge", "delivery_id", name=op.f("pk_webhook_deliveries")),
        sa.ForeignKeyConstraint(
            ["challenge_id"], ["challenges.id"], name=op.f("fk_webhook_deliveries_challenge_id_challenges")
        ),
    )
    op.create_table(
        "audit_events",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("at", TIME, nullable=False),
        sa.Column("actor_id", sa.Integer(), nullable=False),
        sa.Column("challenge_id", sa.String(63), nullable=False),
        sa.Column("action", sa.String(63), nullable=False),
        sa.Column("detail", JSON, nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_audit_events")),
        sa.ForeignKeyConstraint(["actor_id"], ["people.id"], name=op.f("fk_audit_events_actor_id_people")),
        sa.ForeignKeyConstraint(
            ["challenge_id"], ["challenges.id"], name=op.f("fk_audit_events_challenge_id_challenges")
        ),
    )
    op.create_index("ix_audit_events_challenge", "audit_events", ["challenge_id", "at"])
    forbid_changes("webhook_deliveries")
    forbid_changes("audit_events")


def downgrade() -> None:
    allow_changes("audit_events")
    allow_changes("webhook_deliveries")
    op.drop_index("ix_audit_events_challenge", table_name="audit_events")
    op.drop_table("audit_events")
    op.drop_table("webhook_deliveries")
