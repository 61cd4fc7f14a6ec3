"""communication tables: templates, template files, outbox

Revision ID: c0001_communication
Revises:
Create Date: 2026-11-27
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "c0001_communication"
down_revision = None
branch_labels = ("communication",)
depends_on = "0001_core"


def upgrade() -> None:
    op.create_table(
        "comm_templates",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("base_type", sa.String(length=60), nullable=False),
        sa.Column("kind", sa.String(length=120), nullable=False),
        sa.Column("display_title", sa.String(length=300), nullable=False),
        sa.Column("sender_format", sa.String(length=20), nullable=False),
        sa.Column("sender_mode", sa.String(length=20), nullable=False),
        sa.Column("sender_user_id", sa.Integer(), nullable=True),
        sa.Column("folders", sa.JSON(), nullable=False),
        sa.Column("retention_days", sa.Integer(), nullable=True),
        sa.Column("doc_readers", sa.JSON(), nullable=False),
        sa.Column("doc_editors", sa.JSON(), nullable=False),
        sa.Column("subject", sa.Text(), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("appendix", sa.Text(), nullable=False),
        sa.Column("readers", sa.JSON(), nullable=False),
        sa.Column("editors", sa.JSON(), nullable=False),
        sa.Column("created_by", sa.Integer(), nullable=True),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(["sender_user_id"], ["users.id"], name="fk_comm_templates_sender_user_id_users", ondelete="SET NULL"),
        sa.ForeignKeyConstraint(["created_by"], ["users.id"], name="fk_comm_templates_created_by_users", ondelete="SET NULL"),
        sa.PrimaryKeyConstraint("id", name="pk_comm_templates"),
    )
    op.create_table(
        "comm_template_files",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("template_id", sa.Integer(), nullable=False),
        sa.Column("filename", sa.String(length=255), nullable=False),
        sa.Column("mime_type", sa.String(length=120), nullable=False),
        sa.Column("size", sa.Integer(), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.ForeignKeyConstraint(["template_id"], ["comm_templates.id"], name="fk_comm_template_files_template_id_comm_templates",
                                ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id", name="pk_comm_template_files"),
    )
    op.create_index("ix_comm_template_files_template_id", "comm_template_files", ["template_id"])
    op.create_index("ix_comm_template_files_sha256", "comm_template_files", ["sha256"])
    op.create_table(
        "comm_outbox",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("document_id", sa.Integer(), nullable=False),
        sa.Column("message_id", sa.String(length=255), nullable=False),
        sa.Column("state", sa.String(length=20), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("next_attempt_at", sa.DateTime(), nullable=True),
        sa.Column("last_error", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("sent_at", sa.DateTime(), nullable=True),
        sa.Column("eml_path", sa.String(length=500), nullable=False),
        sa.ForeignKeyConstraint(["document_id"], ["documents.id"], name="fk_comm_outbox_document_id_documents", ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id", name="pk_comm_outbox"),
        sa.UniqueConstraint("message_id", name="uq_comm_outbox_message_id"),
    )
    op.create_index("ix_comm_outbox_document_id", "comm_outbox", ["document_id"])
    op.create_index("ix_comm_outbox_state", "comm_outbox", ["state"])


def downgrade() -> None:
    op.drop_index("ix_comm_outbox_state", table_name="comm_outbox")
    op.drop_index("ix_comm_outbox_document_id", table_name="comm_outbox")
    op.drop_table("comm_outbox")
    op.drop_index("ix_comm_template_files_sha256", table_name="comm_template_files")
    op.drop_index("ix_comm_template_files_template_id", table_name="comm_template_files")
    op.drop_table("comm_template_files")
    op.drop_table("comm_templates")
