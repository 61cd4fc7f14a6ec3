"""Indexes for the contact list order, the overview pages and, on PostgreSQL, for prefix filters on folded names.

Revision ID: 0002_core
Revises: 0001_core
Create Date: 2026-11-27
"""
from __future__ import annotations

from alembic import op

revision = "0002_core"
down_revision = "0001_core"
branch_labels = None
depends_on = None

# LIKE 'doc%' uses a b-tree index on PostgreSQL only under the C collation or with text_pattern_ops.
PATTERN_INDEXES = (
    ("ix_companies_name_folded_pattern", "companies", "name_folded"),
    ("ix_companies_city_folded_pattern", "companies", "city_folded"),
    ("ix_contacts_name_folded_pattern", "contacts", "name_folded"),
    ("ix_contacts_city_folded_pattern", "contacts", "city_folded"),
)


def upgrade() -> None:
    op.create_index("ix_contacts_name_order", "contacts", ["last_name", "first_name", "id"])
    op.create_index("ix_documents_company_date", "documents", ["company_id", "document_date", "id"])
    op.create_index("ix_documents_contact_date", "documents", ["contact_id", "document_date", "id"])
    if op.get_bind().dialect.name == "postgresql":
        for name, table, column in PATTERN_INDEXES:
            op.execute(f"CREATE INDEX {name} ON {table} ({column} text_pattern_ops)")


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        for name, _table, _column in PATTERN_INDEXES:
            op.execute(f"DROP INDEX {name}")
    op.drop_index("ix_documents_contact_date", table_name="documents")
    op.drop_index("ix_documents_company_date", table_name="documents")
    op.drop_index("ix_contacts_name_order", table_name="contacts")
