"""Fixtures for testing Kundenakte and its plugins, shipped as the pytest plugin ``kundenakte.testing``.

Installed with Kundenakte (entry point ``pytest11``), or named explicitly with
``pytest_plugins = ["kundenakte.testing"]`` / ``-p kundenakte.testing``:

* ``database`` – every test using it runs twice: on SQLite (a copy of a migrated template) and on
  PostgreSQL (127.0.0.1:5432, database ``test``, or ``KUNDENAKTE_TEST_PG_URL``; skipped when no
  server answers, unless ``KUNDENAKTE_REQUIRE_PG=1``). Mark a test ``sqlite_only`` to skip the
  second run.
* ``ka`` – an instance on that database with the installed plugins plus
  ``kundenakte_extra_plugins`` (a fixture to override, default none); ``make_ka(tmp_path, database,
  **settings)`` builds more.
* ``people`` – users ``owner``, ``reader``, ``grouped``, ``nested``, ``editor``, ``outsider``,
  ``admin`` and the inactive ``nobody`` (password ``PASSWORD``), groups "Vertrieb" ⊃ "Vertrieb
  Nord", folders; ``people.viewer(login)`` is their ``acl.Viewer``.
* ``app``, ``client``, ``runner`` – the Flask app of ``ka``, its test client and CLI runner.
* ``live_server`` – the app on a free loopback port; ``chromium`` – Debian's Chromium through
  Playwright (skipped when missing).
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest
from sqlalchemy import create_engine, text

from kundenakte.core import acl, migrate
from kundenakte.core.config import load_settings
from kundenakte.core.models import Base, Folder, Group, User
from kundenakte.core.runtime import Kundenakte
from kundenakte.core.services.folders import create_folder
from kundenakte.core.users import add_members, create_group, create_user

if TYPE_CHECKING:
    from flask import Flask
    from flask.testing import FlaskClient, FlaskCliRunner

PG_URL = os.environ.get("KUNDENAKTE_TEST_PG_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")
REQUIRE_PG = os.environ.get("KUNDENAKTE_REQUIRE_PG") == "1"
PASSWORD = "geheim-123"


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "sqlite_only: run only on the embedded database")


def _pg_available() -> str | None:
    try:
        engine = create_engine(PG_URL)
        with engine.connect() as conn:
            conn.execute(text("select 1"))
        engine.dispose()
        return None
    except Exception as exc:  # noqa: BLE001 - any failure means "not reachable"
        return f"{type(exc).__name__}: {exc}".splitlines()[0]


@pytest.fixture(scope="session")
def _pg_ready(tmp_path_factory: pytest.TempPathFactory, kundenakte_extra_plugins: list[tuple[str, object]]) -> Iterator[str]:
    reason = _pg_available()
    if reason:
        if REQUIRE_PG:
            pytest.fail(f"PostgreSQL required (KUNDENAKTE_REQUIRE_PG=1) but unreachable: {reason}")
        pytest.skip(f"PostgreSQL not reachable: {reason}")
    # A schema of this run's own, so parallel test runs on one server do not clobber each other.
    schema = f"ka_test_{os.getpid()}"
    engine = create_engine(PG_URL)
    with engine.begin() as conn:
        conn.execute(text(f"DROP SCHEMA IF EXISTS {schema} CASCADE"))
        conn.execute(text(f"CREATE SCHEMA {schema}"))
    engine.dispose()
    sep = "&" if "?" in PG_URL else "?"
    url = f"{PG_URL}{sep}options=-csearch_path%3D{schema}"
    ka = Kundenakte(load_settings({"instance": tmp_path_factory.mktemp("pgmig"), "database_url": url}),
                    extra_plugins=kundenakte_extra_plugins)
    migrate.upgrade(ka)
    ka.close()
    yield url
    engine = create_engine(PG_URL)
    with engine.begin() as conn:
        conn.execute(text(f"DROP SCHEMA IF EXISTS {schema} CASCADE"))
    engine.dispose()


@pytest.fixture(scope="session")
def _sqlite_template(tmp_path_factory: pytest.TempPathFactory, kundenakte_extra_plugins: list[tuple[str, object]]) -> Path:
    folder = tmp_path_factory.mktemp("sqlite-template")
    ka = Kundenakte(load_settings({"instance": folder}), extra_plugins=kundenakte_extra_plugins)
    migrate.upgrade(ka)
    ka.close()
    return folder / "kundenakte.sqlite3"


def _truncate_pg(url: str) -> None:
    engine = create_engine(url)
    with engine.begin() as conn:
        names = [t.name for t in Base.metadata.sorted_tables] + ["search_entry"]  # the last from a migration
        existing = set(conn.execute(text("select tablename from pg_tables where schemaname = current_schema()")).scalars())
        names = [n for n in names if n in existing]
        if names:
            conn.execute(text("TRUNCATE " + ", ".join(f'"{n}"' for n in names) + " RESTART IDENTITY CASCADE"))
    engine.dispose()


@pytest.fixture(params=["sqlite", "postgres"])
def database(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "sqlite":
        template = request.getfixturevalue("_sqlite_template")
        shutil.copy(template, tmp_path / "kundenakte.sqlite3")
        return "sqlite"
    if request.node.get_closest_marker("sqlite_only"):
        pytest.skip("embedded database only")
    url: str = request.getfixturevalue("_pg_ready")
    _truncate_pg(url)
    return url


def make_ka(tmp_path: Path, database: str, **overrides: Any) -> Kundenakte:
    """An instance in ``tmp_path`` on ``database`` (the fixture's value); overrides are settings.

    ``extra_plugins=[("name", module)]`` adds plugins that are not installed as entry points.
    """
    settings: dict[str, Any] = {"instance": tmp_path, "index_async": False, "testing": True}
    if database != "sqlite":
        settings["database_url"] = database
    settings.update(overrides)
    extra = settings.pop("extra_plugins", [])
    return Kundenakte(load_settings(settings), extra_plugins=extra)


@pytest.fixture(scope="session")
def kundenakte_extra_plugins() -> list[tuple[str, object]]:
    """Plugins given to every ``ka`` (and migrated into the template databases); override it in a conftest."""
    return []


@pytest.fixture
def ka(tmp_path: Path, database: str, kundenakte_extra_plugins: list[tuple[str, object]]) -> Iterator[Kundenakte]:
    """An instance on SQLite and, as a second run of the test, on PostgreSQL."""
    instance = make_ka(tmp_path, database, extra_plugins=kundenakte_extra_plugins)
    yield instance
    instance.close()


_HASHES: dict[str, str] = {}


def password_hash() -> str:
    """scrypt takes ~0.3 s on purpose; hash the shared test password once per run."""
    if PASSWORD not in _HASHES:
        from kundenakte.core.passwords import hash_password

        _HASHES[PASSWORD] = hash_password(PASSWORD)
    return _HASHES[PASSWORD]


class People:
    """The cast of the permission tests, created once per test."""

    def __init__(self, ka: Kundenakte) -> None:
        with ka.db.write() as s:
            create_group(s, "Vertrieb")
            create_group(s, "Vertrieb Nord", parent="Vertrieb")
            self.users: dict[str, int] = {}
            for login, admin in (("owner", False), ("reader", False), ("grouped", False), ("nested", False),
                                 ("editor", False), ("outsider", False), ("admin", True), ("nobody", False)):
                self.users[login] = create_user(s, login, PASSWORD, display_name=login.title(), is_admin=admin,
                                                email=f"{login}@example.org", password_hash=password_hash()).id
            add_members(s, "Vertrieb", ["grouped"])
            add_members(s, "Vertrieb Nord", ["nested"])
            self.groups = {g.name: g.id for g in s.query(Group)}
            for name in ("DOCHOUSE 4", "Schriftverkehr"):
                create_folder(s, name, by=None)
            self.folders = {f.name: f.id for f in s.query(Folder)}
        with ka.db.write() as s:
            nobody = s.get(User, self.users["nobody"])
            assert nobody is not None
            nobody.active = False
        self.ka = ka

    def viewer(self, login: str) -> acl.Viewer:
        with self.ka.db.read() as s:
            return acl.viewer_for(s, s.get(User, self.users[login]))


@pytest.fixture
def people(ka: Kundenakte) -> People:
    return People(ka)


@pytest.fixture
def app(ka: Kundenakte) -> Flask:
    from kundenakte.web.app import create_app

    flask_app = create_app(ka=ka)
    flask_app.config.update(TESTING=True)
    return flask_app


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    return app.test_client()


@pytest.fixture
def runner(app: Flask) -> FlaskCliRunner:
    return app.test_cli_runner()


CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                 "--disable-sync", "--no-first-run"]


@pytest.fixture(scope="session")
def chromium() -> Iterator[Any]:
    """Debian's Chromium driven by Playwright, one per test session.

    Every browser test uses this one: Playwright's sync API keeps an event loop running while it is
    open, so a second ``sync_playwright()`` in the same session would refuse to start.
    """
    sync_api = pytest.importorskip("playwright.sync_api")
    if not os.path.exists(CHROMIUM):
        pytest.skip("chromium not installed (apt-get install chromium)")
    with sync_api.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture
def live_server(app: Any) -> Iterator[str]:
    """The test's app on a free loopback port (threaded werkzeug) in a background thread."""
    import threading

    from werkzeug.serving import make_server

    srv = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=srv.serve_forever, name="live-server", daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{srv.server_port}"
    srv.shutdown()
    thread.join(5)
