"""Alembic environment: runs on the connection handed over by ``kundenakte.core.migrate``."""

from __future__ import annotations

from alembic import context

from kundenakte.core.models import Base

config = context.config
connection = config.attributes.get("connection")
if connection is None:  # pragma: no cover - only used through kundenakte.core.migrate
    raise RuntimeError("run migrations with `kundenakte db upgrade`")

context.configure(
    connection=connection,
    target_metadata=Base.metadata,
    render_as_batch=connection.dialect.name == "sqlite",
    compare_type=True,
)
with context.begin_transaction():
    context.run_migrations()
