"""Configuration, migrations from an empty database, and the CLI."""

import pytest
from click.testing import CliRunner
from sqlalchemy import inspect

from kundenakte.core import migrate
from kundenakte.core.config import ConfigError, load_settings
from tests.conftest import make_ka


def test_settings_from_environment_and_errors_name_the_variable(tmp_path):
    settings = load_settings(environ={"KUNDENAKTE_INSTANCE": str(tmp_path), "KUNDENAKTE_MAX_UPLOAD_MB": "7",
                                      "KUNDENAKTE_SESSION_COOKIE_SECURE": "yes"})
    assert settings.instance == tmp_path and settings.max_upload_mb == 7 and settings.session_cookie_secure
    assert settings.effective_database_url.startswith("sqlite:///")
    for env, name in ((("KUNDENAKTE_MAX_UPLOAD_MB", "viel"), "KUNDENAKTE_MAX_UPLOAD_MB"),
                      (("KUNDENAKTE_DATABASE_URL", "mysql://x"), "KUNDENAKTE_DATABASE_URL"),
                      (("KUNDENAKTE_SEARCH_BACKEND", "solr"), "KUNDENAKTE_SEARCH_BACKEND"),
                      (("KUNDENAKTE_CONFIG", str(tmp_path / "nope.json")), "KUNDENAKTE_CONFIG")):
        with pytest.raises(ConfigError, match=name):
            load_settings(environ=dict([env]))


def test_migrations_build_every_table_from_an_empty_database(tmp_path):
    ka = make_ka(tmp_path / "fresh", "sqlite", extra_plugins=[])
    try:
        assert migrate.pending(ka)
        migrate.upgrade(ka)
        assert not migrate.pending(ka)
        tables = set(inspect(ka.db.engine).get_table_names())
        from kundenakte.core.models import Base

        core = {t.name for t in Base.metadata.sorted_tables if not t.name.startswith(("sales_", "comm_"))}
        assert core <= tables
        assert {"sales_line_items", "sales_number_sequences"} <= tables  # a plugin's own branch
        migrate.upgrade(ka)  # idempotent
        with ka.db.engine.connect() as conn:
            assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
            assert conn.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
    finally:
        ka.close()


def test_cli_init_user_group_archive(tmp_path, monkeypatch):
    from kundenakte import cli as cli_module

    monkeypatch.setenv("KUNDENAKTE_INSTANCE", str(tmp_path / "inst"))
    monkeypatch.setenv("KUNDENAKTE_INDEX_ASYNC", "false")
    runner = CliRunner()
    steps = [
        ["init"],
        ["user", "create", "lea", "--name", "Lea Müller", "--password", "sehr-geheim"],
        ["group", "create", "Vertrieb"],
        ["group", "create", "Vertrieb Nord", "--parent", "Vertrieb"],
        ["group", "add", "Vertrieb Nord", "lea"],
        ["archive"],
        ["search", "check"],
    ]
    for args in steps:
        result = runner.invoke(cli_module.cli, args, obj=cli_module.Context())
        assert result.exit_code == 0, (args, result.output, result.exception)
    out = runner.invoke(cli_module.cli, ["group", "list"], obj=cli_module.Context()).output
    assert "Vertrieb Nord (in Vertrieb): lea" in out
    bad = runner.invoke(cli_module.cli, ["user", "create", "lea", "--password", "sehr-geheim"], obj=cli_module.Context())
    assert bad.exit_code != 0 and "gibt es schon" in bad.output
    short = runner.invoke(cli_module.cli, ["user", "create", "tom", "--password", "kurz"], obj=cli_module.Context())
    assert short.exit_code != 0 and "8 Zeichen" in short.output
