"""The PostgreSQL full-text search table (branch ``search``); nothing on SQLite, where Whoosh indexes.

``search_entry`` holds one row per document, contact or company: folded text in a ``german``
tsvector (weights A title, B company, C contact, D body), keyword tokens for field filters and the
read principals as a prefilter. Until this migration the backend created it at run time.

Revision ID: search0001
Revises:
Create Date: 2026-12-01
"""
from __future__ import annotations

from alembic import op

revision = "search0001"
down_revision = None
branch_labels = ("search",)
depends_on = "0001_core"

_DDL = [
    """CREATE TABLE IF NOT EXISTS search_entry (
        id text PRIMARY KEY,
        kind text NOT NULL,
        type text NOT NULL DEFAULT '',
        category text NOT NULL DEFAULT '',
        title text NOT NULL DEFAULT '',
        body text NOT NULL DEFAULT '',
        folders text[] NOT NULL DEFAULT '{}',
        status text NOT NULL DEFAULT '',
        date date,
        archived boolean NOT NULL DEFAULT false,
        read_principals text[] NOT NULL DEFAULT '{}',
        updated double precision NOT NULL DEFAULT 0,
        kw text[] NOT NULL DEFAULT '{}',
        tsv tsvector NOT NULL
    )""",
    "CREATE INDEX IF NOT EXISTS search_entry_tsv_idx ON search_entry USING gin (tsv)",
    "CREATE INDEX IF NOT EXISTS search_entry_principals_idx ON search_entry USING gin (read_principals)",
    "CREATE INDEX IF NOT EXISTS search_entry_kw_idx ON search_entry USING gin (kw)",
    "CREATE INDEX IF NOT EXISTS search_entry_kind_idx ON search_entry (kind, archived)",
]


def upgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    for stmt in _DDL:
        op.execute(stmt)


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP TABLE IF EXISTS search_entry")
