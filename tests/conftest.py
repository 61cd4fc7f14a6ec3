"""The project's fixtures: those of the pytest plugin ``kundenakte.testing``, plus the test type.

Every test that uses ``ka`` runs on SQLite and on PostgreSQL (see ``kundenakte/testing.py``); every
instance here also loads the test plugin ``tests/testplugin.py`` (the type ``testnote``).
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest

from kundenakte import testing
from kundenakte.core.runtime import Kundenakte
from kundenakte.testing import (  # noqa: F401 - fixtures and helpers, registered by this import
    PASSWORD,
    PG_URL,
    REQUIRE_PG,
    People,
    _pg_ready,
    _sqlite_template,
    _truncate_pg,
    app,
    chromium,
    client,
    database,
    ka,
    live_server,
    password_hash,
    people,
    runner,
)
from tests import hardening, sizing, testplugin

SHARED = Path(__file__).resolve().parents[1].parent / "shared"
TEST_PLUGINS: list[tuple[str, object]] = [("testtypes", testplugin)]


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption("--full", action="store_true", default=False,
                     help="run the slow batteries at full size (default: CI-sized); same as KUNDENAKTE_HARDENING_FULL=1")


def pytest_configure(config: pytest.Config) -> None:
    testing.pytest_configure(config)
    if config.getoption("--full"):
        # Test modules read the sizes when they are imported, after this hook; the hardening
        # package may already be imported (its conftest loads early), so its flag is set too.
        os.environ[sizing.FULL_ENV] = "1"
        hardening.FULL = True


@pytest.fixture(scope="session")
def kundenakte_extra_plugins() -> list[tuple[str, object]]:
    return list(TEST_PLUGINS)


def make_ka(tmp_path: Path, database: str, **overrides: Any) -> Kundenakte:  # noqa: F811 - the fixture value
    """``kundenakte.testing.make_ka`` with the test plugin unless ``extra_plugins`` says otherwise."""
    overrides.setdefault("extra_plugins", list(TEST_PLUGINS))
    return testing.make_ka(tmp_path, database, **overrides)


@pytest.fixture
def shared_pdf() -> Path:
    folder = SHARED / "testdata" / "pdf"
    if not folder.is_dir():
        pytest.skip("../shared/testdata/pdf is not available")
    return folder
