"""outbox: who claimed a row and when, so a run only recovers rows whose sender is gone

Revision ID: c0002_outbox_claims
Revises: c0001_communication
Create Date: 2026-11-27
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "c0002_outbox_claims"
down_revision = "c0001_communication"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("comm_outbox") as batch:
        batch.add_column(sa.Column("claimed_at", sa.DateTime(), nullable=True))
        batch.add_column(sa.Column("claimed_by", sa.String(length=120), nullable=False, server_default=""))


def downgrade() -> None:
    with op.batch_alter_table("comm_outbox") as batch:
        batch.drop_column("claimed_by")
        batch.drop_column("claimed_at")
