"""sales received invoices: key fields of received e-invoice attachments

Revision ID: s0003_received_invoices
Revises: s0002_payments
Create Date: 2026-12-01
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "s0003_received_invoices"
down_revision = "s0002_payments"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "sales_received_invoices",
        sa.Column("attachment_id", sa.Integer(), nullable=False),
        sa.Column("document_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("valid", sa.Boolean(), nullable=False),
        sa.Column("number", sa.String(length=120), nullable=False),
        sa.Column("supplier", sa.String(length=300), nullable=False),
        sa.Column("amount", sa.Numeric(18, 2), nullable=True),
        sa.ForeignKeyConstraint(["attachment_id"], ["attachments.id"], name="fk_sales_received_invoices_attachment_id_attachments",
                                ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["document_id"], ["documents.id"], name="fk_sales_received_invoices_document_id_documents",
                                ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("attachment_id", name="pk_sales_received_invoices"),
    )
    op.create_index("ix_sales_received_invoices_document_id", "sales_received_invoices", ["document_id"])


def downgrade() -> None:
    op.drop_index("ix_sales_received_invoices_document_id", table_name="sales_received_invoices")
    op.drop_table("sales_received_invoices")
