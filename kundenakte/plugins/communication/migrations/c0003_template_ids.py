"""comm_templates: ids are never reused on SQLite (AUTOINCREMENT); the audit trail names them

Revision ID: c0003_template_ids
Revises: c0002_outbox_claims
Create Date: 2026-11-28
"""
from __future__ import annotations

from alembic import op

revision = "c0003_template_ids"
down_revision = "c0002_outbox_claims"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # PostgreSQL sequences never hand out an id twice; SQLite needs the table rebuilt.
    if op.get_bind().dialect.name == "sqlite":
        with op.batch_alter_table("comm_templates", recreate="always", table_kwargs={"sqlite_autoincrement": True}):
            pass


def downgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        with op.batch_alter_table("comm_templates", recreate="always", table_kwargs={"sqlite_autoincrement": False}):
            pass
