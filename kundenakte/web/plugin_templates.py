"""Template folders of plugins (``extra_template_dirs``), consulted per request for enabled plugins only.

Every loaded plugin's folders are collected once at app creation, also a plugin disabled at that
moment, so enabling it later needs no restart. A disabled plugin's folders are skipped; since a
cached template would outlive the switch, each template loaded through this loader is up to date
only while the set of disabled plugins is the one it was loaded under.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from flask import has_request_context
from jinja2 import BaseLoader, Environment, FileSystemLoader, TemplateNotFound

from kundenakte.core.runtime import Kundenakte


class PluginTemplateLoader(BaseLoader):
    """Plugins' folders first (enabled plugins only, in registration order), then the core's."""

    def __init__(self, ka: Kundenakte, plugin_dirs: list[tuple[str, str]], core_dir: str) -> None:
        self.ka = ka
        self.plugin_loaders = [(plugin, FileSystemLoader(folder)) for plugin, folder in plugin_dirs]
        self.core = FileSystemLoader(core_dir)

    def _disabled(self) -> frozenset[str]:
        if has_request_context():
            from kundenakte.web.context import db

            return self.ka.disabled_plugins(db())
        return self.ka.disabled_plugins()

    def get_source(self, environment: Environment, template: str) -> tuple[str, str | None, Callable[[], bool] | None]:
        disabled = self._disabled() if self.plugin_loaders else frozenset()
        found: tuple[str, str | None, Callable[[], bool] | None] | None = None
        for plugin, loader in self.plugin_loaders:
            if plugin in disabled:
                continue
            try:
                found = loader.get_source(environment, template)
                break
            except TemplateNotFound:
                continue
        if found is None:
            found = self.core.get_source(environment, template)
        source, filename, uptodate = found
        if not self.plugin_loaders:
            return source, filename, uptodate

        def current() -> bool:
            return self._disabled() == disabled and (uptodate is None or uptodate())

        return source, filename, current

    def list_templates(self) -> list[str]:
        names: set[str] = set(self.core.list_templates())
        for _plugin, loader in self.plugin_loaders:
            names.update(loader.list_templates())
        return sorted(names)


def install(app: Any, ka: Kundenakte, core_dir: str) -> None:
    """Collect every loaded plugin's folders and make them the app's template loader."""
    dirs = [(plugin, str(folder)) for plugin, folder in ka.plugins.collect("extra_template_dirs")]
    app.jinja_loader = PluginTemplateLoader(ka, dirs, core_dir)
    if dirs:
        # Jinja only asks a cached template whether it is up to date when auto_reload is on; with
        # plugin folders that is what makes switching a plugin take effect on the next request.
        app.jinja_env.auto_reload = True
