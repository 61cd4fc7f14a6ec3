"""Every hook a Kundenakte plugin can implement.

Hook families follow Datasette's naming: ``register_*`` hooks return lists of things the plugin
adds, ``*_actions`` and ``*_links`` return menu entries, ``extra_*`` add to something the core
builds, and ``document_*`` are events fired after a database commit succeeded. A plugin implements
any subset, with any subset of the parameters, decorated with ``kundenakte.hookimpl``.

Hooks are called for enabled plugins only, except those that register something once at start
(``add_hookspecs``, ``register_settings``, ``register_blueprints``, ``extra_template_dirs``,
``register_api_operations``) and ``shutdown`` and ``blob_references``, which every loaded plugin
answers; what they registered is hidden per request while the plugin is disabled. A hook that
raises is reported with the plugin's name and skipped; it never takes a page or the app down.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import pluggy

if TYPE_CHECKING:
    import click
    from flask import Blueprint
    from sqlalchemy.orm import Session

    from kundenakte.core.acl import Viewer
    from kundenakte.core.contributions import Category, MenuItem, OverviewSection, Placeholder
    from kundenakte.core.doctypes import DocumentType
    from kundenakte.core.models import Company, Contact, Document
    from kundenakte.core.plugin_settings import Setting
    from kundenakte.core.runtime import Kundenakte
    from kundenakte.web.api.openapi import ApiOperation

hookspec = pluggy.HookspecMarker("kundenakte")
hookimpl = pluggy.HookimplMarker("kundenakte")


@hookspec
def add_hookspecs(pm: pluggy.PluginManager) -> None:
    """Add hookspecs that only this plugin calls, with ``pm.add_hookspecs(module)``.

    Modelled on pytest's ``pytest_addhooks``: called once for every loaded plugin right after all
    plugins are registered, before any other hook, so other plugins may implement the new hooks
    (their implementations are checked against the specs then). The plugin calls its hooks through
    ``ka.call(name, ...)`` or ``kundenakte.core.documents.after_commit``. Return values are ignored.
    """


@hookspec
def startup(ka: Kundenakte) -> None:
    """Called once when an instance has been created (web app, CLI, tests), before any request.

    :param ka: the running instance (settings, database, type registry, storage, search).
    The database may not be migrated yet, so do not query it here. Not ``firstresult``; return
    values are ignored.
    """


@hookspec
def shutdown(ka: Kundenakte) -> None:
    """Called once when an instance is closed (``ka.close()``), before its database is disposed.

    Stop background threads the plugin started and release what it holds. Called for every loaded
    plugin, also one an admin disabled, since its threads may still run. Return values are ignored.
    """


@hookspec
def register_document_types() -> list[DocumentType]:
    """Return the document types this plugin declares.

    Called once when the type registry is built. Keys must be unique across plugins; a clash is
    reported as an error of the second plugin. The declaration drives forms, lists, index and API.
    """


@hookspec
def register_categories() -> list[Category]:
    """Return the categories (areas) this plugin adds: key, German and English label, order.

    Document types refer to a category by ``DocumentType.category``, menu items by
    ``MenuItem.group``. The core knows no category by name: their labels head the "…" menus and
    the overview's fallback sections, sorted by ``order``. Worked out once per set of disabled
    plugins; the first plugin to declare a key wins, a later one is reported.
    """


@hookspec
def register_settings() -> list[Setting]:
    """Return the typed settings this plugin reads (``kundenakte.core.plugin_settings.Setting``).

    A setting ``name`` is read from ``KUNDENAKTE_<PLUGIN>_<NAME>`` (or the ``KUNDENAKTE_CONFIG``
    key ``<plugin>_<name>``); ``aliases`` keep older variable names working. Called once when the
    instance starts, for every loaded plugin, also a disabled one: a malformed value stops the start
    with a message naming the variable. Read values with ``ka.plugin_settings(plugin).name``. The
    deploy guide's settings table is generated from these declarations.
    """


@hookspec
def register_migrations() -> list[str]:
    """Return paths of Alembic version folders holding this plugin's own tables.

    Called by ``kundenakte db upgrade``. Each folder's first revision must carry a branch label
    named after the plugin and ``depends_on`` the core's first revision.
    """


@hookspec
def register_blueprints() -> list[Blueprint]:
    """Return Flask blueprints with the plugin's own pages.

    Called once by the application factory for every loaded plugin, also one disabled at that
    moment; while a plugin is disabled its blueprints' URLs answer 404, so enabling it needs no
    restart. Views must load documents through the core's permission functions
    (``kundenakte.core.acl``).
    """


@hookspec
def register_api_operations() -> list[ApiOperation]:
    """Return the JSON API operations this plugin adds under ``/api/v1`` (``kundenakte.web.api.extend``).

    Called once by the application factory for every loaded plugin, also one disabled at that
    moment; while a plugin is disabled its operations answer 404 and are left out of
    ``/api/v1/openapi.json``. Views need a valid token, get path ids and parsed query ``args`` like
    the core's, and must load documents through ``kundenakte.core.acl``.
    """


@hookspec
def register_commands(cli: click.Group) -> None:
    """Add click commands or groups to the ``kundenakte`` command line.

    :param cli: the top-level command group; call ``cli.add_command(...)`` or decorate with
        ``@cli.command()``. Called once when the CLI starts.
    """


@hookspec
def register_overview_sections() -> list[OverviewSection]:
    """Return the sections this plugin adds to the company and contact overview.

    Called when the first overview is built after start-up or after an admin enabled or disabled
    a plugin; the result is kept for every later overview, so it must not depend on the request
    or the database. Sections are sorted by their ``order``.
    """


@hookspec
def register_placeholders() -> list[Placeholder]:
    """Return placeholders users may insert into templates, with a resolver for each.

    Called when a template is validated or rendered and when the placeholder picker is shown.
    The resolver receives only plain dictionaries (contact, company, sender, dates), never
    database objects.
    """


@hookspec
def contact_actions(contact: Contact, viewer: Viewer) -> list[MenuItem]:
    """Return entries for the "…" menu of a contact page.

    :param contact: the contact shown; :param viewer: the person asking (principals, admin flag).
    Entries with ``type_key`` open a new document of that type pre-filled with the contact and its
    company. Called on every contact page.
    """


@hookspec
def company_actions(company: Company, viewer: Viewer) -> list[MenuItem]:
    """Return entries for the "…" menu of a company page. Called on every company page."""


@hookspec
def document_actions(document: Document, viewer: Viewer, can_edit: bool) -> list[MenuItem]:
    """Return entries for the "…" menu of a document the viewer may read.

    :param can_edit: whether the viewer may change it; offer changing actions only then.
    Items with ``toolbar=True`` are buttons in the document's toolbar instead (in the edit form
    they save first, then open their ``get`` target).
    """


@hookspec
def page_notices(ka: Kundenakte, viewer: Viewer, page: str, document: Document | None) -> list[str]:
    """Return short German notices to show prominently on a page (plain text, escaped).

    :param page: ``"document"`` (a document's view and edit page, with ``document``) or
    ``"settings"`` (Einstellungen, ``document`` None). For states the user must know about,
    e.g. the communication plugin's "no mail server: e-mails are not sent".
    """


@hookspec
def navigation_links(viewer: Viewer) -> list[MenuItem]:
    """Return entries for the left navigation (e.g. "Aufgaben"). Called on every page."""


@hookspec
def settings_links(viewer: Viewer) -> list[MenuItem]:
    """Return entries for the Einstellungen page (e.g. "Kommunikation → Vorlagen")."""


@hookspec
def extra_template_dirs() -> list[str]:
    """Return folders searched for templates before the core's, to override or extend pages.

    Collected once by the application factory for every loaded plugin; a disabled plugin's folders
    are skipped per request, and a template loaded from them is reloaded after a switch.
    """


@hookspec
def prepare_document(ka: Kundenakte, session: Session, document: Document, created: bool) -> None:
    """Called inside the write transaction just before a document is flushed.

    A plugin may compute derived values (totals, numbers, deadlines) for its own types, or raise
    ``kundenakte.core.doctypes.ValidationError`` to refuse the save with field errors. Check
    ``document.type_key`` first: the hook is called for every type.
    """


@hookspec
def blob_references(session: Session, sha256s: list[str]) -> list[str]:
    """Return which of the given attachment content hashes this plugin's own tables still use.

    Called before a stored file is deleted (after its last attachment row went) and by
    ``kundenakte storage gc``. A plugin that keeps its own file rows (e.g. template files) must
    answer, or its files could be removed. Not ``firstresult``: every plugin is asked.
    """


@hookspec
def extra_index_fields(document: Document) -> dict[str, str]:
    """Return extra searchable text for a document's index entry, as ``{field name: text}``.

    Called when a document is (re)indexed, after its commit. Keys become searchable with
    ``name:word`` in the search syntax.
    """


@hookspec
def document_saved(ka: Kundenakte, document_id: int, created: bool, user_id: int | None) -> None:
    """Called after the transaction that created or changed a document has committed.

    Once per document and transaction, however many writes it had (a save with three new files is
    one call; ``created`` is true if the transaction created the document). Never called for a
    rolled-back transaction, nor for a released savepoint. Open your own session through ``ka.db``
    if you need one.
    """


@hookspec
def document_deleted(ka: Kundenakte, document_id: int, user_id: int | None) -> None:
    """Called after the transaction that deleted a document has committed."""


@hookspec
def document_archived(ka: Kundenakte, document_id: int) -> None:
    """Called after a document was archived by retention (``kundenakte archive``) and committed."""


@hookspec
def demo_data(ka: Kundenakte) -> None:
    """Called once after the core's demo data was loaded (``kundenakte demo``, ``serve --demo``).

    Add what makes the plugin's own types realistic (voucher lines, a finished invoice …) through
    the core services, as the demo users; the demo companies and contacts exist by then.
    """


def hook_names(module: Any = None) -> list[str]:
    """Every hookspec defined here (or in ``module``, a plugin's own hookspecs), in definition order."""
    import inspect

    space = vars(module) if module is not None else globals()
    return [name for name, obj in space.items() if inspect.isfunction(obj) and hasattr(obj, "kundenakte_spec")]


def describe(name: str, module: Any = None) -> dict[str, Any]:
    """Signature and docstring of one hookspec."""
    import inspect

    func = (vars(module) if module is not None else globals())[name]
    return {"name": name, "signature": str(inspect.signature(func)), "doc": inspect.getdoc(func) or ""}


def reference(module: Any = None) -> str:
    """The hook reference of docs/plugins.md: one block per hookspec, its signature and whole docstring."""
    blocks = []
    for name in hook_names(module):
        info = describe(name, module)
        blocks.append(f"### `{name}`\n\n```python\n{name}{info['signature']}\n```\n\n{info['doc']}\n")
    return "\n".join(blocks)
