"""Ids are never reused on SQLite (AUTOINCREMENT), display names are unique in every spelling.

* SQLite hands out the highest rowid again after that row is deleted, unless the table is
  ``AUTOINCREMENT``: a new document would get the id of a deleted one (and URLs, bookmarks or
  audit entries naming it). SQLite can only change that by rebuilding the table, which drops
  the table's triggers: the overview counters' triggers of 0003_core are dropped first and created
  again, with 0003's own code, once every table is rebuilt. PostgreSQL sequences never hand out an
  id twice; there nothing is rebuilt.
* ``users.display_name_key`` holds ``core.text.name_key(display_name)`` under a unique
  constraint. Existing duplicates are resolved first: every user after the first with a name
  gets " (login)" appended, recorded in the audit trail.

Revision ID: 0005_core
Revises: 0004_core
Create Date: 2026-11-28
"""
from __future__ import annotations

import importlib.util
from pathlib import Path
from types import ModuleType

import sqlalchemy as sa
from alembic import op

revision = "0005_core"
# Re-pointed at 0004_core when the session work (its own migration) is merged.
down_revision = "0004_core"
branch_labels = None
depends_on = None

# Every core table whose rows the audit trail names by id (in foreign-key order for the rebuild).
REBUILT = ("users", "groups", "folders", "companies", "contacts", "documents", "attachments", "api_tokens",
           "audit_log")
NAME_KEY_LENGTH = 200


def _overview_versions() -> ModuleType:
    path = Path(__file__).with_name("0003_core_overview_versions.py")
    spec = importlib.util.spec_from_file_location("kundenakte_migration_0003_core", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


_users = sa.table("users", sa.column("id", sa.Integer), sa.column("login", sa.String),
                  sa.column("display_name", sa.String), sa.column("display_name_key", sa.String))
_audit = sa.table("audit_log", sa.column("at", sa.DateTime), sa.column("user_id", sa.Integer),
                  sa.column("action", sa.String), sa.column("object_type", sa.String),
                  sa.column("object_id", sa.Integer), sa.column("details", sa.JSON))


def _fill_name_keys() -> None:
    from kundenakte.core.models import utcnow
    from kundenakte.core.text import name_key

    bind = op.get_bind()
    taken: set[str] = set()
    for user_id, login, name in bind.execute(sa.select(_users.c.id, _users.c.login, _users.c.display_name)
                                             .order_by(_users.c.id)).all():
        new_name, key = name, name_key(name)
        if key in taken:
            new_name = f"{name} ({login})"[:200]
            key = name_key(new_name)
            if key in taken:
                new_name = f"{name} ({login} #{user_id})"[:200]
                key = name_key(new_name)
            bind.execute(sa.insert(_audit).values(at=utcnow(), user_id=None, action="changed", object_type="user",
                                                  object_id=user_id, details={"display_name": [name, new_name],
                                                                              "reason": "duplicate display name"}))
        taken.add(key)
        bind.execute(sa.update(_users).where(_users.c.id == user_id).values(display_name=new_name, display_name_key=key))


def upgrade() -> None:
    sqlite = op.get_bind().dialect.name == "sqlite"
    op.add_column("users", sa.Column("display_name_key", sa.String(length=NAME_KEY_LENGTH), nullable=True))
    _fill_name_keys()
    if not sqlite:
        op.alter_column("users", "display_name_key", nullable=False)
        op.create_unique_constraint(op.f("uq_users_display_name_key"), "users", ["display_name_key"])
        return

    triggers = _overview_versions()
    triggers.drop_triggers()
    for table in REBUILT:
        with op.batch_alter_table(table, recreate="always", table_kwargs={"sqlite_autoincrement": True}) as batch:
            if table == "users":
                batch.alter_column("display_name_key", existing_type=sa.String(length=NAME_KEY_LENGTH),
                                   nullable=False)
                batch.create_unique_constraint(op.f("uq_users_display_name_key"), ["display_name_key"])
    triggers.create_triggers()


def downgrade() -> None:
    sqlite = op.get_bind().dialect.name == "sqlite"
    if not sqlite:
        op.drop_constraint(op.f("uq_users_display_name_key"), "users", type_="unique")
        op.drop_column("users", "display_name_key")
        return
    triggers = _overview_versions()
    triggers.drop_triggers()
    for table in REBUILT:
        with op.batch_alter_table(table, recreate="always", table_kwargs={"sqlite_autoincrement": False}) as batch:
            if table == "users":
                batch.drop_constraint(op.f("uq_users_display_name_key"), type_="unique")
                batch.drop_column("display_name_key")
    triggers.create_triggers()
