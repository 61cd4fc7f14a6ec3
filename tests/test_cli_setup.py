"""A command run before ``kundenakte init`` says in German what to do, not a traceback."""

from __future__ import annotations

from click.testing import CliRunner


def test_commands_before_init_say_run_init_first(tmp_path, monkeypatch):
    from kundenakte import cli as cli_module

    monkeypatch.setenv("KUNDENAKTE_INSTANCE", str(tmp_path / "inst"))
    runner = CliRunner()
    for args in (["plugins", "list"], ["user", "create", "lea", "--password", "sehr-geheim"], ["group", "list"]):
        result = runner.invoke(cli_module.cli, args, obj=cli_module.Context())
        assert result.exit_code == 1, (args, result.output, result.exception)
        assert "Bitte zuerst `kundenakte init` ausführen" in result.output, (args, result.output)
        assert "Traceback" not in result.output and "plugin_state" not in result.output
    assert runner.invoke(cli_module.cli, ["init"], obj=cli_module.Context()).exit_code == 0
    result = runner.invoke(cli_module.cli, ["plugins", "list"], obj=cli_module.Context())
    assert result.exit_code == 0 and "aktiv" in result.output and "init" not in result.output
