"""Overview versions: a counter per company and per contact, bumped by triggers on every change.

Every write to ``documents`` or ``document_acl`` — through the core, a plugin, an import or plain
SQL — bumps the counters of the companies and contacts it touches, in the writer's transaction;
renaming (or deleting) a contact or user bumps the shared ``names`` counter. An
overview computed under one version is valid exactly as long as the version is unchanged, which is
what lets the web layer reuse counts and page rows (core/overview_cache.py).

Revision ID: 0003_core
Revises: 0002_core
Create Date: 2026-11-27
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003_core"
down_revision = "0002_core"
branch_labels = None
depends_on = None

# (trigger suffix, table, event, scopes the row touches); NEW/OLD as the event has them.
_DOC_OLD = ("'c:' || coalesce(OLD.company_id, 0)", "'p:' || coalesce(OLD.contact_id, 0)")
_DOC_NEW = ("'c:' || coalesce(NEW.company_id, 0)", "'p:' || coalesce(NEW.contact_id, 0)")


def _acl(row: str) -> tuple[str, str]:
    return (
        f"'c:' || coalesce((SELECT company_id FROM documents WHERE id = {row}.document_id), 0)",
        f"'p:' || coalesce((SELECT contact_id FROM documents WHERE id = {row}.document_id), 0)",
    )


# Names shown in overview rows live in contacts and users; renaming one is rare, so one shared
# counter for all scopes is enough.
_NAMES = ("'names'",)

TRIGGERS = (
    ("documents_ins", "documents", "INSERT", _DOC_NEW),
    ("documents_upd", "documents", "UPDATE", _DOC_OLD + _DOC_NEW),
    ("documents_del", "documents", "DELETE", _DOC_OLD),
    ("acl_ins", "document_acl", "INSERT", _acl("NEW")),
    ("acl_upd", "document_acl", "UPDATE", _acl("OLD") + _acl("NEW")),
    ("acl_del", "document_acl", "DELETE", _acl("OLD")),
    ("contact_names", "contacts", "UPDATE OF title, first_name, last_name", _NAMES),
    ("contact_del", "contacts", "DELETE", _NAMES),
    ("user_names", "users", "UPDATE OF display_name", _NAMES),
    ("user_del", "users", "DELETE", _NAMES),
)


def _bump(scope_sql: str) -> str:
    return (f"INSERT INTO overview_versions (scope, version) VALUES ({scope_sql}, 1) "
            "ON CONFLICT (scope) DO UPDATE SET version = overview_versions.version + 1;")


def create_triggers(tables: frozenset[str] | None = None) -> None:
    """Create the counters' triggers (on ``tables`` only, if given); later table rebuilds reuse this."""
    postgres = op.get_bind().dialect.name == "postgresql"
    for suffix, table, event, scopes in TRIGGERS:
        if tables is not None and table not in tables:
            continue
        body = " ".join(_bump(s) for s in scopes)
        name = f"overview_version_{suffix}"
        if postgres:
            row = "OLD" if event == "DELETE" else "NEW"  # ignored for AFTER triggers, but required
            op.execute(f"CREATE FUNCTION {name}() RETURNS trigger LANGUAGE plpgsql AS $$ "
                       f"BEGIN {body} RETURN {row}; END $$")
            op.execute(f"CREATE TRIGGER {name} AFTER {event} ON {table} FOR EACH ROW EXECUTE FUNCTION {name}()")
        else:
            op.execute(f"CREATE TRIGGER {name} AFTER {event} ON {table} FOR EACH ROW BEGIN {body} END")


def drop_triggers(tables: frozenset[str] | None = None) -> None:
    # IF EXISTS: a later SQLite table rebuild may already have dropped a table's triggers.
    postgres = op.get_bind().dialect.name == "postgresql"
    for suffix, table, _event, _scopes in TRIGGERS:
        if tables is not None and table not in tables:
            continue
        name = f"overview_version_{suffix}"
        op.execute(f"DROP TRIGGER IF EXISTS {name} ON {table}" if postgres else f"DROP TRIGGER IF EXISTS {name}")
        if postgres:
            op.execute(f"DROP FUNCTION IF EXISTS {name}()")


def upgrade() -> None:
    op.create_table(
        "overview_versions",
        sa.Column("scope", sa.String(length=40), nullable=False),
        sa.Column("version", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("scope", name=op.f("pk_overview_versions")),
    )
    create_triggers()


def downgrade() -> None:
    drop_triggers()
    op.drop_table("overview_versions")
