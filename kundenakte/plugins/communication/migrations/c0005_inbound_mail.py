"""inbound mail: mail accounts (Postfächer) and the messages seen in them

Revision ID: c0005_inbound_mail
Revises: c0004_template_languages
Create Date: 2026-12-01
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "c0005_inbound_mail"
down_revision = "c0004_template_languages"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "comm_mail_accounts",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("owner_id", sa.Integer(), nullable=True),
        sa.Column("address", sa.String(length=254), nullable=False),
        sa.Column("host", sa.String(length=255), nullable=False),
        sa.Column("port", sa.Integer(), nullable=False),
        sa.Column("security", sa.String(length=20), nullable=False),
        sa.Column("username", sa.String(length=255), nullable=False),
        sa.Column("password_encrypted", sa.Text(), nullable=False),
        sa.Column("folder", sa.String(length=255), nullable=False),
        sa.Column("after_import", sa.String(length=20), nullable=False),
        sa.Column("move_folder", sa.String(length=255), nullable=False),
        sa.Column("poll_minutes", sa.Integer(), nullable=False),
        sa.Column("max_size_mb", sa.Integer(), nullable=False),
        sa.Column("readers", sa.JSON(), nullable=False),
        sa.Column("editors", sa.JSON(), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("created_by", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("last_fetch_at", sa.DateTime(), nullable=True),
        sa.Column("last_error", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(["owner_id"], ["users.id"], name="fk_comm_mail_accounts_owner_id_users", ondelete="SET NULL"),
        sa.ForeignKeyConstraint(["created_by"], ["users.id"], name="fk_comm_mail_accounts_created_by_users", ondelete="SET NULL"),
        sa.PrimaryKeyConstraint("id", name="pk_comm_mail_accounts"),
        sqlite_autoincrement=True,
    )
    op.create_table(
        "comm_inbound_messages",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("account_id", sa.Integer(), nullable=True),
        sa.Column("uidvalidity", sa.BigInteger(), nullable=False),
        sa.Column("uid", sa.BigInteger(), nullable=False),
        sa.Column("message_id", sa.String(length=998), nullable=False),
        sa.Column("state", sa.String(length=20), nullable=False),
        sa.Column("document_id", sa.Integer(), nullable=True),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("size", sa.BigInteger(), nullable=False),
        sa.Column("source", sa.String(length=20), nullable=False),
        sa.Column("handled", sa.Boolean(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(["account_id"], ["comm_mail_accounts.id"],
                                name="fk_comm_inbound_messages_account_id_comm_mail_accounts", ondelete="SET NULL"),
        sa.ForeignKeyConstraint(["document_id"], ["documents.id"], name="fk_comm_inbound_messages_document_id_documents",
                                ondelete="SET NULL"),
        sa.PrimaryKeyConstraint("id", name="pk_comm_inbound_messages"),
        sa.UniqueConstraint("account_id", "uidvalidity", "uid", name="uq_comm_inbound_messages_account_uid"),
        sqlite_autoincrement=True,
    )
    op.create_index("ix_comm_inbound_messages_account_id", "comm_inbound_messages", ["account_id"])
    op.create_index("ix_comm_inbound_messages_message_id", "comm_inbound_messages", ["message_id"])
    op.create_index("ix_comm_inbound_messages_state", "comm_inbound_messages", ["state"])
    op.create_index("ix_comm_inbound_messages_document_id", "comm_inbound_messages", ["document_id"])


def downgrade() -> None:
    op.drop_index("ix_comm_inbound_messages_document_id", table_name="comm_inbound_messages")
    op.drop_index("ix_comm_inbound_messages_state", table_name="comm_inbound_messages")
    op.drop_index("ix_comm_inbound_messages_message_id", table_name="comm_inbound_messages")
    op.drop_index("ix_comm_inbound_messages_account_id", table_name="comm_inbound_messages")
    op.drop_table("comm_inbound_messages")
    op.drop_table("comm_mail_accounts")
