"""The plugin manager: loads built-in and third-party plugins the same way, calls hooks safely.

Built-in plugins are ordinary entry points of the ``kundenakte.plugins`` group, declared in the
project's own ``pyproject.toml``. A plugin that fails to import or to register is reported with
its name and reason and left out; the instance starts without it. Enabling and disabling is a
per-request filter (``disabled`` names), so toggling a plugin needs no restart and keeps its data.
"""

from __future__ import annotations

import importlib
import logging
import traceback
from importlib.metadata import entry_points
from typing import Any, Iterable

import pluggy

from kundenakte import hookspecs
from kundenakte.core.contributions import PluginReport
from kundenakte.core.db import WriteRace
from kundenakte.core.doctypes import ValidationError

log = logging.getLogger(__name__)

ENTRY_POINT_GROUP = "kundenakte.plugins"
BUILTIN_PREFIX = "kundenakte.plugins."
# The core's own contributions (categories, ...): loaded under any allow-list, like Datasette's
# default plugins. Found through its entry point; loaded by module name when the installed
# metadata predates that entry point (an editable install made before it was added).
DEFAULTS = ("defaults", "kundenakte.plugins.defaults")


class PluginHost:
    def __init__(
        self,
        *,
        allowed: Iterable[str] | None = None,
        blocked: Iterable[str] = (),
        extra: Iterable[tuple[str, object]] = (),
    ) -> None:
        self.pm = pluggy.PluginManager("kundenakte")
        self.pm.add_hookspecs(hookspecs)
        self.reports: dict[str, PluginReport] = {}
        allowed_set = set(allowed) if allowed is not None else None
        blocked_set = set(blocked)
        for ep in sorted(entry_points(group=ENTRY_POINT_GROUP), key=lambda e: e.name):
            if ep.name != DEFAULTS[0] and (ep.name in blocked_set or (allowed_set is not None and ep.name not in allowed_set)):
                continue
            report = PluginReport(name=ep.name, module=ep.value, builtin=ep.value.startswith(BUILTIN_PREFIX))
            self.reports[ep.name] = report
            try:
                module = ep.load()
            except Exception as exc:  # a broken third-party package must not stop the instance
                self._fail(report, f"import failed: {type(exc).__name__}: {exc}", exc)
                continue
            self._register(report, module)
        if DEFAULTS[0] not in self.reports:
            report = PluginReport(name=DEFAULTS[0], module=DEFAULTS[1], builtin=True)
            self.reports[DEFAULTS[0]] = report
            self._register(report, importlib.import_module(DEFAULTS[1]))
        for name, plugin in extra:
            report = PluginReport(name=name, module=getattr(plugin, "__name__", repr(plugin)))
            self.reports[name] = report
            if isinstance(plugin, str):
                try:
                    plugin = importlib.import_module(plugin)
                except Exception as exc:
                    self._fail(report, f"import failed: {type(exc).__name__}: {exc}", exc)
                    continue
            self._register(report, plugin)
        self._add_plugin_hookspecs()

    def _add_plugin_hookspecs(self) -> None:
        # Like pytest_addhooks: a plugin's own hookspecs exist before anyone calls a hook. Pluggy
        # checks the implementations already registered against a spec when it is added.
        for impl in reversed(self.pm.hook.add_hookspecs.get_hookimpls()):
            try:
                impl.function(**({"pm": self.pm} if "pm" in impl.argnames else {}))
            except Exception as exc:
                report = self.reports.get(impl.plugin_name)
                if report is not None:
                    self._fail(report, f"add_hookspecs failed: {type(exc).__name__}: {exc}", exc)
                    self.pm.unregister(name=impl.plugin_name)

    def _register(self, report: PluginReport, plugin: object) -> None:
        try:
            self.pm.register(plugin, name=report.name)
        except Exception as exc:  # pluggy validates hook names and signatures here
            self._fail(report, f"registration failed: {type(exc).__name__}: {exc}", exc)
            return
        report.loaded = True

    def _fail(self, report: PluginReport, message: str, exc: BaseException) -> None:
        report.loaded = False
        report.error = message
        log.error("plugin %s left out: %s\n%s", report.name, message, "".join(traceback.format_exception(exc)))

    @property
    def loaded_names(self) -> list[str]:
        return [n for n, r in self.reports.items() if r.loaded]

    def call(self, hook_name: str, *, disabled: Iterable[str] = (), strict: bool = False, **kwargs: Any) -> list[tuple[str, Any]]:
        """Call a hook on every enabled plugin separately; returns ``(plugin name, result)`` pairs.

        Each implementation runs on its own so that one raising plugin is reported and skipped
        instead of failing the whole call (pluggy would propagate the first exception). With
        ``strict`` a failure propagates: used where skipping would store wrong data (a voucher
        without its number), so the transaction rolls back instead.
        """
        off = set(disabled)
        caller = getattr(self.pm.hook, hook_name)
        results: list[tuple[str, Any]] = []
        for impl in reversed(caller.get_hookimpls()):  # registration order
            if impl.plugin_name in off:
                continue
            args = {name: kwargs[name] for name in impl.argnames if name in kwargs}
            missing = [name for name in impl.argnames if name not in kwargs]
            if missing:
                log.error("hook %s of plugin %s asks for unknown arguments %s", hook_name, impl.plugin_name, missing)
                continue
            try:
                result = impl.function(**args)
            except (ValidationError, WriteRace):
                # a plugin refusing a save with field errors is an answer, not a failure; a race
                # restarts the whole request (core/db.py), it must not be skipped
                raise
            except Exception:
                if strict:
                    raise
                log.exception("hook %s of plugin %s failed", hook_name, impl.plugin_name)
                if impl.plugin_name in self.reports:
                    self.reports[impl.plugin_name].error = f"hook {hook_name} failed"
                continue
            if result is not None:
                results.append((impl.plugin_name, result))
        return results

    def collect(self, hook_name: str, *, disabled: Iterable[str] = (), **kwargs: Any) -> list[tuple[str, Any]]:
        """Like :meth:`call` for ``register_*`` style hooks: flattens the returned lists."""
        items: list[tuple[str, Any]] = []
        for plugin, result in self.call(hook_name, disabled=disabled, **kwargs):
            for item in result if isinstance(result, (list, tuple)) else [result]:
                items.append((plugin, item))
        return items
