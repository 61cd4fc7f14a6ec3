"""sales payments: received payments per invoice

Revision ID: s0002_payments
Revises: s0001_sales
Create Date: 2026-12-01
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "s0002_payments"
down_revision = "s0001_sales"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "sales_payments",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("document_id", sa.Integer(), nullable=False),
        sa.Column("paid_on", sa.Date(), nullable=False),
        sa.Column("amount", sa.Numeric(18, 2), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(["document_id"], ["documents.id"], name="fk_sales_payments_document_id_documents", ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id", name="pk_sales_payments"),
    )
    op.create_index("ix_sales_payments_document_id", "sales_payments", ["document_id"])


def downgrade() -> None:
    op.drop_index("ix_sales_payments_document_id", table_name="sales_payments")
    op.drop_table("sales_payments")
