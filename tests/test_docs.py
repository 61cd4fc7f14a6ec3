"""Documentation that must not drift from the code."""

from pathlib import Path

from kundenakte import hookspecs

ROOT = Path(__file__).resolve().parents[1]


def test_plugin_hooks_are_documented():
    """The hook reference holds every hookspec with its signature and whole docstring, in order."""
    from kundenakte.plugins.communication import hookspecs as communication_hookspecs

    guide = (ROOT / "docs" / "plugins.md").read_text(encoding="utf-8")
    for module in (None, communication_hookspecs):
        for name in hookspecs.hook_names(module):
            assert f"### `{name}`" in guide, f"docs/plugins.md lacks hook {name}"
        assert hookspecs.reference(module) in guide, (
            "docs/plugins.md has an outdated hook reference; regenerate it from kundenakte/hookspecs.py "
            "(kundenakte.hookspecs.reference())")


def test_every_hookspec_has_an_implementation():
    """Built-in plugins, the example plugin or the tests' plugins implement every hook (and tests run them)."""
    import importlib
    import inspect
    import pkgutil

    import kundenakte.plugins

    implemented: set[str] = set()
    modules = [m.name for m in pkgutil.walk_packages(kundenakte.plugins.__path__, "kundenakte.plugins.")]
    # the example plugin and the tests' plugins (tests/plugins/test_event_hooks.py: the event hooks)
    modules += ["kundenakte_reklamation", "tests.testplugin", "tests.pluginpages", "tests.plugins.test_event_hooks"]
    for name in modules:
        module = importlib.import_module(name)
        for obj in list(vars(module).values()):
            if not (inspect.isfunction(obj) or inspect.isclass(obj)):
                continue  # module objects, proxies of the request context, ...
            for member in [obj, *vars(obj).values()] if inspect.isclass(obj) else [obj]:
                member = getattr(member, "__func__", member)
                if inspect.isfunction(member) and hasattr(member, "kundenakte_impl"):
                    implemented.add(member.__name__)
    from kundenakte.plugins.communication import hookspecs as communication_hookspecs

    missing = set(hookspecs.hook_names()) | set(hookspecs.hook_names(communication_hookspecs))
    assert missing - implemented == set()


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
