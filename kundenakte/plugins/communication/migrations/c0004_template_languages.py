"""comm_templates: language variants (default language plus the texts of further languages)

Existing templates were written in German: their subject, body and appendix become the German
variant, which is also their default language.

Revision ID: c0004_template_languages
Revises: c0003_template_ids
Create Date: 2026-12-01
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "c0004_template_languages"
down_revision = "c0003_template_ids"
branch_labels = None
depends_on = None


def upgrade() -> None:
    sqlite = op.get_bind().dialect.name == "sqlite"
    # recreate on SQLite must keep AUTOINCREMENT (c0003): ids named by the audit trail are never reused.
    table_kwargs = {"sqlite_autoincrement": True} if sqlite else {}
    with op.batch_alter_table("comm_templates", table_kwargs=table_kwargs) as batch:
        batch.add_column(sa.Column("language", sa.String(length=5), nullable=False, server_default="de"))
        batch.add_column(sa.Column("variants", sa.JSON(), nullable=False, server_default=sa.text("'{}'")))


def downgrade() -> None:
    sqlite = op.get_bind().dialect.name == "sqlite"
    table_kwargs = {"sqlite_autoincrement": True} if sqlite else {}
    with op.batch_alter_table("comm_templates", table_kwargs=table_kwargs) as batch:
        batch.drop_column("variants")
        batch.drop_column("language")
