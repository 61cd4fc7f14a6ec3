"""Fixtures for the search backend tests.

``search_backend`` runs each test on the Whoosh backend (in tmp_path) and on
the PostgreSQL backend. PostgreSQL is 127.0.0.1:5432/test or
``KUNDENAKTE_TEST_PG_URL``; every test session gets its own schema, so
parallel runs do not clash. Unreachable PostgreSQL skips, or fails when
``KUNDENAKTE_REQUIRE_PG=1``.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import Engine

from kundenakte.search.base import SearchBackend
from kundenakte.search.pg_backend import PgSearchBackend
from kundenakte.search.whoosh_backend import WhooshBackend

SEARCH_PG_URL = os.environ.get("KUNDENAKTE_TEST_PG_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")
SEARCH_REQUIRE_PG = os.environ.get("KUNDENAKTE_REQUIRE_PG") == "1"


@dataclass(frozen=True)
class BackendSpec:
    """Enough to open the same backend again in another process."""

    kind: str  # "whoosh" | "pg"
    location: str  # index folder, or database URL
    schema: str = ""

    def open(self, **options) -> SearchBackend:
        if self.kind == "whoosh":
            return WhooshBackend(self.location, **options)
        return PgSearchBackend(pg_engine_for(self.location, self.schema))


def pg_engine_for(url: str, schema: str) -> Engine:
    return create_engine(url, connect_args={"options": f"-csearch_path={schema}"}, pool_pre_ping=True)


def _load_migration(filename: str):  # type: ignore[no-untyped-def]
    import importlib.util

    import kundenakte.core.migrate as migrate

    path = migrate.HERE / "versions" / filename
    spec = importlib.util.spec_from_file_location(f"_migration_{path.stem}", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="session")
def search_pg_schema() -> Iterator[str]:
    schema = f"ka_search_{uuid.uuid4().hex[:10]}"
    admin = create_engine(SEARCH_PG_URL)
    try:
        with admin.begin() as conn:
            conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    except Exception as exc:  # no server, wrong credentials, no database
        admin.dispose()
        reason = f"PostgreSQL not reachable at {SEARCH_PG_URL}: {type(exc).__name__}: {str(exc).splitlines()[0]}"
        if SEARCH_REQUIRE_PG:
            pytest.fail(reason + " (KUNDENAKTE_REQUIRE_PG=1)")
        pytest.skip(reason)
    # The table comes from the Alembic migration, as in a real instance.
    migration = _load_migration("search0001_search_entry.py")
    engine = pg_engine_for(SEARCH_PG_URL, schema)
    with engine.begin() as conn:
        for stmt in migration._DDL:
            conn.execute(text(stmt))
    engine.dispose()
    try:
        yield schema
    finally:
        with admin.begin() as conn:
            conn.execute(text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
        admin.dispose()


@pytest.fixture(params=["whoosh", "pg"])
def backend_spec(request, tmp_path: Path) -> BackendSpec:
    if request.param == "whoosh":
        return BackendSpec("whoosh", str(tmp_path / "index"))
    return BackendSpec("pg", SEARCH_PG_URL, request.getfixturevalue("search_pg_schema"))


@pytest.fixture
def search_backend(backend_spec: BackendSpec) -> Iterator[SearchBackend]:
    backend = backend_spec.open()
    backend.clear()  # the PostgreSQL schema lives for the whole session
    try:
        yield backend
    finally:
        backend.close()
        if isinstance(backend, PgSearchBackend):
            backend.engine.dispose()
