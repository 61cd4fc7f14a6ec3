"""sales tables: line items, number sequences, number formats

Revision ID: s0001_sales
Revises:
Create Date: 2026-11-27
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "s0001_sales"
down_revision = None
branch_labels = ("sales",)
depends_on = "0001_core"


def upgrade() -> None:
    op.create_table(
        "sales_line_items",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("document_id", sa.Integer(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("article", sa.String(length=120), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("quantity", sa.Numeric(18, 4), nullable=False),
        sa.Column("unit", sa.String(length=20), nullable=False),
        sa.Column("unit_price", sa.Numeric(18, 4), nullable=False),
        sa.Column("discount_percent", sa.Numeric(5, 2), nullable=False),
        sa.Column("vat_rate", sa.Numeric(5, 2), nullable=False),
        sa.ForeignKeyConstraint(["document_id"], ["documents.id"], name="fk_sales_line_items_document_id_documents", ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id", name="pk_sales_line_items"),
    )
    op.create_index("ix_sales_line_items_document_id", "sales_line_items", ["document_id"])
    op.create_table(
        "sales_number_sequences",
        sa.Column("type_key", sa.String(length=60), nullable=False),
        sa.Column("year", sa.Integer(), nullable=False),
        sa.Column("last_value", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("type_key", "year", name="pk_sales_number_sequences"),
    )
    op.create_table(
        "sales_number_formats",
        sa.Column("type_key", sa.String(length=60), nullable=False),
        sa.Column("prefix", sa.String(length=10), nullable=False),
        sa.Column("pattern", sa.String(length=60), nullable=False),
        sa.PrimaryKeyConstraint("type_key", name="pk_sales_number_formats"),
    )


def downgrade() -> None:
    op.drop_table("sales_number_formats")
    op.drop_table("sales_number_sequences")
    op.drop_index("ix_sales_line_items_document_id", table_name="sales_line_items")
    op.drop_table("sales_line_items")
