"""``Kundenakte``: everything one running instance needs, created by the app factory and the CLI."""

from __future__ import annotations

import logging
from collections.abc import Iterable
from types import SimpleNamespace
from typing import Any

from sqlalchemy import event, select
from sqlalchemy.orm import Session

from kundenakte.core.clock import Clock
from kundenakte.core.config import Settings, instance_secret, prepare_instance
from kundenakte.core.db import Database
from kundenakte.core.doctypes import DocumentType, TypeRegistry
from kundenakte.core.models import Attachment, PluginState
from kundenakte.core.overview_cache import OverviewCache
from kundenakte.core.plugin_settings import Setting
from kundenakte.core.plugin_settings import resolve as resolve_plugin_settings
from kundenakte.core.plugins import PluginHost
from kundenakte.core.storage import BlobStore
from kundenakte.core.unit_of_work import unit_of

log = logging.getLogger(__name__)


def _disabled(session: Session) -> frozenset[str]:
    # Every request asks this; plain SQL on the session's connection skips the statement machinery,
    # which cost more than the query (bench/web_bench.py). NOT works on SQLite's 0/1 and PostgreSQL.
    rows = session.connection().exec_driver_sql(f"SELECT name FROM {PluginState.__tablename__} WHERE NOT enabled")
    return frozenset(name for (name,) in rows)


def _once_per_document(events: list[tuple[str, dict[str, Any]]]) -> list[tuple[str, dict[str, Any]]]:
    """``document_saved`` once per document and transaction (created if any of its saves created it).

    A save that also attaches files queues one event per write; plugins want to hear about the
    document once its transaction has committed, not about every step of it.
    """
    out: list[tuple[str, dict[str, Any]]] = []
    saved: dict[Any, dict[str, Any]] = {}
    for hook, kwargs in events:
        if hook == "document_saved":
            key = kwargs.get("document_id")
            if key in saved:
                saved[key]["created"] = bool(saved[key].get("created")) or bool(kwargs.get("created"))
                continue
            kwargs = dict(kwargs)
            saved[key] = kwargs
        out.append((hook, kwargs))
    return out


class Kundenakte:
    def __init__(self, settings: Settings, *, extra_plugins: Iterable[tuple[str, object]] = ()) -> None:
        self.settings = settings
        prepare_instance(settings)
        self.db = Database(settings.effective_database_url)
        self.clock = Clock()
        self.plugins = PluginHost(
            allowed=settings.plugins_allowed, blocked=settings.plugins_blocked, extra=extra_plugins
        )
        self._plugin_settings = self._resolve_plugin_settings()
        self.types = self._build_types()
        self.storage = BlobStore(settings.files_dir, max_bytes=settings.max_upload_mb * 1024 * 1024)
        self.storage._referenced_checker = self._blob_referenced  # type: ignore[assignment]
        for factory in self.db.factories:
            event.listen(factory, "after_commit", self._after_commit)
            event.listen(factory, "after_soft_rollback", self._after_rollback)
        from kundenakte.core.throttle import Throttle
        from kundenakte.search.service import SearchService

        self.throttle = Throttle(self, lambda: instance_secret(settings))

        self.search = SearchService(self)
        # Values derived only from the installed plugins and the set of disabled ones, per process.
        self.derived: dict[str, Any] = {}
        # Per process; None switches reuse off (KUNDENAKTE_OVERVIEW_CACHE=false).
        self.overview_cache = OverviewCache() if settings.overview_cache else None
        self.plugins.call("startup", ka=self)

    # -- plugins -----------------------------------------------------------------------------

    def _build_types(self) -> TypeRegistry:
        registry = TypeRegistry()
        for plugin, doctype in self.plugins.collect("register_document_types"):
            if not isinstance(doctype, DocumentType):
                self.plugins.reports[plugin].error = f"register_document_types returned {type(doctype).__name__}"
                continue
            from dataclasses import replace

            doctype = replace(doctype, plugin=plugin)
            try:
                registry.add(doctype)
            except ValueError as exc:
                log.error("plugin %s: %s", plugin, exc)
                self.plugins.reports[plugin].error = str(exc)
                continue
            self.plugins.reports[plugin].types.append(doctype.key)
        return registry

    def _resolve_plugin_settings(self) -> dict[str, SimpleNamespace]:
        # Every loaded plugin's, also a disabled one's: a bad value must stop the start, not the
        # moment an admin enables the plugin.
        declared = []
        for plugin, setting in self.plugins.collect("register_settings"):
            if isinstance(setting, Setting):
                declared.append((plugin, setting))
            else:
                self.plugins.reports[plugin].error = f"register_settings returned {type(setting).__name__}"
        return resolve_plugin_settings(declared, self.settings)

    def plugin_settings(self, plugin: str) -> SimpleNamespace:
        """The values of the settings ``plugin`` declared (``register_settings``), by name."""
        return self._plugin_settings.setdefault(plugin, SimpleNamespace())

    def disabled_plugins(self, session: Session | None = None) -> frozenset[str]:
        """Plugins an admin switched off; read from the database once per session (request)."""
        if session is None:
            with self.db.read() as s:
                return _disabled(s)
        unit = unit_of(session)
        if unit.disabled_plugins is None:
            unit.disabled_plugins = _disabled(session)
        return unit.disabled_plugins

    def call(self, hook: str, session: Session | None = None, **kwargs: Any) -> list[tuple[str, Any]]:
        """Call a hook on the enabled plugins."""
        return self.plugins.call(hook, disabled=self.disabled_plugins(session), **kwargs)

    def collect(self, hook: str, session: Session | None = None, **kwargs: Any) -> list[tuple[str, Any]]:
        return self.plugins.collect(hook, disabled=self.disabled_plugins(session), **kwargs)

    def enabled_types(self, session: Session | None = None) -> list[DocumentType]:
        return self.types.enabled(self.disabled_plugins(session))

    # -- transaction events ------------------------------------------------------------------

    def _after_commit(self, session: Session) -> None:
        # SQLAlchemy reports a released savepoint as a commit too; the events wait for the real one
        # (a hook reading the document in its own session would not see it yet, and a rollback of
        # the outer transaction would have announced a change that never happened).
        if session.in_nested_transaction():
            return
        unit = unit_of(session)
        events, shas = unit.events, unit.blobs_to_check
        unit.events, unit.blobs_to_check, unit.disabled_plugins = [], [], None
        for sha in shas:
            self.storage.remove_if_unreferenced(sha)
        if not events:
            return
        self.search.notify()
        for hook, kwargs in _once_per_document(events):
            self.call(hook, ka=self, **kwargs)

    def _after_rollback(self, session: Session, previous: Any) -> None:
        if getattr(previous, "parent", None) is None:
            unit = unit_of(session)
            unit.events, unit.blobs_to_check, unit.disabled_plugins = [], [], None

    def _blob_referenced(self, sha: str) -> bool:
        return bool(self.referenced_blobs([sha]))

    def referenced_blobs(self, sha256s: list[str] | None = None) -> set[str]:
        """Content hashes still named by an attachment row or by a plugin's own table.

        Plugins are asked even when disabled: their rows keep their files.
        """
        with self.db.read() as s:
            stmt = select(Attachment.sha256).distinct()
            if sha256s is not None:
                stmt = stmt.where(Attachment.sha256.in_(sha256s))
            used = set(s.scalars(stmt))
            if sha256s is None:
                candidates = [sha for sha, _path in self.storage.iter_blobs() if sha not in used]
            else:
                candidates = [sha for sha in sha256s if sha not in used]
            if candidates:
                for _plugin, found in self.plugins.collect("blob_references", session=s, sha256s=candidates):
                    used.add(str(found))
        return used

    def close(self) -> None:
        # Plugins stop their background threads first, while the database is still usable; every
        # loaded plugin is asked, also a disabled one, since its threads may still run.
        self.plugins.call("shutdown", ka=self)
        self.search.close()
        self.db.dispose()
