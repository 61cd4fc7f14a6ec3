"""Documentation that must not drift from the code."""

from pathlib import Path

from kundenakte import hookspecs

ROOT = Path(__file__).resolve().parents[1]


def test_plugin_hooks_are_documented():
    guide = (ROOT / "docs" / "plugins.md").read_text(encoding="utf-8")
    for name in hookspecs.hook_names():
        info = hookspecs.describe(name)
        assert f"### `{name}`" in guide, f"docs/plugins.md lacks hook {name}"
        assert info["doc"].splitlines()[0] in guide, f"docs/plugins.md has an outdated description of {name}"


def test_readme_starts_with_the_two_commands():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    first_block = readme.split("```")[1]
    assert "make run" in first_block and "make test" in first_block
    assert "make test" in (ROOT / ".ci" / "run").read_text(encoding="utf-8")


def test_deploy_settings_table_is_generated_from_the_declarations():
    from dataclasses import fields

    from kundenakte.core import config, settings_table

    assert {f.name for f in fields(config.Settings) if not f.metadata.get("raw")} == set(config.DOCS)
    text = (ROOT / "docs" / "deploy.md").read_text(encoding="utf-8")
    assert settings_table.render(text) == text, (
        "docs/deploy.md's settings table is out of date: python -m kundenakte.core.settings_table --write")
    for variable in ("KUNDENAKTE_COMMUNICATION_SMTP_HOST", "KUNDENAKTE_SMTP_HOST", "KUNDENAKTE_MAIL_RETRY_SECONDS"):
        assert f"`{variable}`" in text
