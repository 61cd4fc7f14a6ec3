"""Revocable sessions and a shared login/API throttle.

``users.session_generation`` is bound into every login session and remember-me cookie; raising it
ends them all (logout, password change, deactivation, "alle Sitzungen beenden").
``auth_throttle`` counts failed logins and unknown API tokens per hashed key, shared by every
worker and host of the instance; rows expire and are pruned (core/throttle.py).

``op.add_column`` is a plain ``ALTER TABLE ADD COLUMN`` on SQLite as well, so ``users`` is not
rebuilt and the 0003 triggers on it stay in place.

Revision ID: 0004_core
Revises: 0003_core
Create Date: 2026-12-03
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004_core"
down_revision = "0003_core"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("users", sa.Column("session_generation", sa.Integer(), nullable=False, server_default="0"))
    op.create_table(
        "auth_throttle",
        sa.Column("key", sa.String(length=64), nullable=False),
        sa.Column("failures", sa.Integer(), nullable=False),
        sa.Column("window_start", sa.DateTime(), nullable=False),
        sa.Column("expires_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("key", name=op.f("pk_auth_throttle")),
    )
    op.create_index(op.f("ix_auth_throttle_expires_at"), "auth_throttle", ["expires_at"])


def downgrade() -> None:
    op.drop_index(op.f("ix_auth_throttle_expires_at"), table_name="auth_throttle")
    op.drop_table("auth_throttle")
    # SQLite >= 3.35 drops a column in place (no rebuild; the triggers on users do not name it).
    op.drop_column("users", "session_generation")
