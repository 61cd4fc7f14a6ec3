"""Alembic migrations for the core and for every plugin that brings its own tables.

The core's versions live in ``core/migrations/versions`` (branch ``core``); a plugin returns its
own version folder from ``register_migrations`` and starts its branch with ``depends_on`` the
core's first revision. ``upgrade`` runs every branch to its head.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory

if TYPE_CHECKING:
    from kundenakte.core.runtime import Kundenakte

HERE = Path(__file__).resolve().parent / "migrations"


def alembic_config(ka: Kundenakte) -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(HERE))
    locations = [str(HERE / "versions")]
    # Plugin migrations are needed even for disabled plugins: their tables keep their data.
    for _plugin, path in ka.plugins.collect("register_migrations"):
        locations.append(str(path))
    cfg.set_main_option("version_locations", " ".join(locations))
    cfg.set_main_option("path_separator", "space")
    return cfg


def upgrade(ka: Kundenakte, revision: str = "heads") -> None:
    cfg = alembic_config(ka)
    with ka.db.engine.connect() as connection:
        sqlite = connection.dialect.name == "sqlite"
        if sqlite:
            # A table rebuild (batch mode) drops the old table; with foreign keys on, SQLite would
            # first delete its rows and cascade into every table that references it. The pragma
            # only takes effect outside a transaction, hence on the driver connection before BEGIN.
            _driver_execute(connection, "PRAGMA foreign_keys=OFF")
        try:
            with connection.begin():
                cfg.attributes["connection"] = connection
                command.upgrade(cfg, revision)
                if sqlite:
                    broken = connection.exec_driver_sql("PRAGMA foreign_key_check").fetchall()
                    if broken:
                        raise RuntimeError(f"migration left broken foreign keys: {broken[:5]}")
        finally:
            if sqlite:
                _driver_execute(connection, "PRAGMA foreign_keys=ON")


def _driver_execute(connection: Any, sql: str) -> None:
    cursor = connection.connection.dbapi_connection.cursor()
    try:
        cursor.execute(sql)
    finally:
        cursor.close()


def current_heads(ka: Kundenakte) -> set[str]:
    with ka.db.engine.connect() as connection:
        return set(MigrationContext.configure(connection).get_current_heads())


def pending(ka: Kundenakte) -> bool:
    """True when the database is behind the code (or empty)."""
    script = ScriptDirectory.from_config(alembic_config(ka))
    current = current_heads(ka)
    if not current:
        return True
    # A plugin branch that depends on the core makes the core's head implicit in the version table.
    applied = {rev.revision for rev in script.iterate_revisions(tuple(current), "base")}
    return not set(script.get_heads()) <= applied


def revision(ka: Kundenakte, message: str, *, autogenerate: bool = True, head: str = "core@head") -> None:
    """Developer helper: write a new core revision from the models."""
    cfg = alembic_config(ka)
    with ka.db.engine.begin() as connection:
        cfg.attributes["connection"] = connection
        command.revision(cfg, message=message, autogenerate=autogenerate, head=head)
