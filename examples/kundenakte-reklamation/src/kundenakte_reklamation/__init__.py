"""Reklamationen: an example third-party plugin for Kundenakte.

Everything a plugin contributes is a plain ``@hookimpl`` function returning declarations; the core
derives forms, lists, validation, the JSON API, the search index, permissions and the on/off switch
from them. This module shows each kind of contribution once:

* ``register_document_types``   – the "complaint" type (Reklamation) with its fields and statuses
* ``register_categories``       – its own category "complaints" (Reklamationen), heading of its menus
* ``contact_actions`` / ``company_actions`` – "Reklamation" in the "…" menus, heading "Reklamationen"
* ``register_overview_sections`` – the "Reklamationen" section of the Übersicht with its filters
* ``register_settings``         – typed settings ``KUNDENAKTE_REKLAMATION_HOTLINE`` and
  ``KUNDENAKTE_REKLAMATION_RESPONSE_DAYS``, checked when the instance starts
* ``startup``                   – keeps the instance's values for the placeholder resolvers
* ``register_placeholders``     – ``{{ reklamation.hotline }}`` and ``{{ reklamation.frist }}`` for
  e-mail and letter templates of the communication plugin
* ``register_api_operations``   – ``GET /api/v1/complaints/summary``: readable complaints per status
* ``extra_index_fields``        – the serial number as ``seriennummer:…`` in the search

The plugin has no tables, views or migrations of its own: the core stores complaints as ordinary
documents (values in ``Document.data``), so disabling the plugin hides them and enabling it again
brings them back unchanged.
"""

from __future__ import annotations

import datetime as dt
from types import SimpleNamespace
from typing import TYPE_CHECKING, Any

from kundenakte import hookimpl
from kundenakte.core.acl import Viewer
from kundenakte.core.contributions import Category, MenuItem, OverviewFilter, OverviewSection, Placeholder
from kundenakte.core.doctypes import DocumentType, Field, Status
from kundenakte.core.models import Company, Contact, Document
from kundenakte.core.plugin_settings import Setting

if TYPE_CHECKING:
    from kundenakte.core.runtime import Kundenakte

__all__ = ["CATEGORY", "COMPLAINT", "DEFAULT_HOTLINE", "GROUP", "INDEX_FIELD", "PLUGIN", "SETTINGS", "hotline",
           "response_deadline"]

GROUP = "Reklamationen"  # heading of the "…" menu entries and label of the overview section
CATEGORY = Category("complaints", GROUP, "Complaints", order=70)
INDEX_FIELD = "seriennummer"  # search syntax: seriennummer:SN-123
DEFAULT_HOTLINE = "0800 123 45 67"
PLUGIN = "reklamation"  # the entry point's name: settings are read from KUNDENAKTE_REKLAMATION_*
SETTINGS = (
    Setting("hotline", default=DEFAULT_HOTLINE, help="the service hotline printed into complaint letters"),
    Setting("response_days", "integer", 14, minimum=1,
            help="days until the customer gets an answer (`{{ reklamation.frist }}`)"),
)
# The values of the instance that started last; placeholder resolvers receive no instance.
_settings = SimpleNamespace(hotline=DEFAULT_HOTLINE, response_days=14)

COMPLAINT = DocumentType(
    key="complaint",
    label="Reklamation",
    label_en="Complaint",
    # A category of its own, declared by register_categories below (see README, "Eine eigene Kategorie").
    category=CATEGORY.key,
    fields=(
        Field("article", "text", "Artikel", "Article", required=True, searchable=True, in_list=True, max_length=200),
        Field("serial_number", "text", "Seriennummer", "Serial number", searchable=True, max_length=100,
              help="Wie auf dem Typenschild, z. B. SN-2024-0815."),
        Field("defect", "longtext", "Mangel", "Defect", searchable=True, max_length=5000),
        Field("resolution", "longtext", "Lösung", "Resolution", max_length=5000),
    ),
    statuses=(
        Status("open", "offen", "open"),
        Status("in_progress", "in Bearbeitung", "in progress"),
        Status("done", "erledigt", "done", closed=True),
    ),
    retention_days=6 * 365,  # commercial letters: § 257 HGB
    menu_order=300,
)


def hotline() -> str:
    """The service hotline printed into letters; set ``KUNDENAKTE_REKLAMATION_HOTLINE`` to change it."""
    return str(_settings.hotline).strip() or DEFAULT_HOTLINE


def response_deadline(context: dict[str, Any]) -> str:
    """"Today" of the letter plus ``response_days`` (14), as TT.MM.JJJJ: the date the customer gets an answer by.

    Resolvers only receive plain dictionaries (``contact``, ``company``, ``sender``, ``today`` as an
    ISO date), never database objects.
    """
    try:
        today = dt.date.fromisoformat(str(context.get("today") or ""))
    except ValueError:
        today = dt.date.today()
    due = today + dt.timedelta(days=int(_settings.response_days))
    return f"{due.day:02d}.{due.month:02d}.{due.year}"


# -- hooks -------------------------------------------------------------------------------------------


@hookimpl
def register_document_types() -> list[DocumentType]:
    return [COMPLAINT]


@hookimpl
def register_settings() -> list[Setting]:
    return list(SETTINGS)


@hookimpl
def startup(ka: Kundenakte) -> None:
    global _settings
    _settings = ka.plugin_settings(PLUGIN)


@hookimpl
def register_api_operations() -> list[Any]:
    from kundenakte_reklamation.api import OPERATIONS

    return list(OPERATIONS)


@hookimpl
def register_categories() -> list[Category]:
    # Heads the "…" menu group and names a fallback overview section for complaints.
    return [CATEGORY]


def _menu_entry() -> MenuItem:
    return MenuItem("Reklamation", type_key=COMPLAINT.key, group=CATEGORY.key, order=300, label_en="Complaint")


@hookimpl
def contact_actions(contact: Contact, viewer: Viewer) -> list[MenuItem]:
    # type_key: the core links to a new complaint pre-filled with the contact and its company.
    return [_menu_entry()]


@hookimpl
def company_actions(company: Company, viewer: Viewer) -> list[MenuItem]:
    return [_menu_entry()]


@hookimpl
def register_overview_sections() -> list[OverviewSection]:
    # The core runs the ACL-filtered counts and pages; a section only declares what to show.
    return [
        OverviewSection(
            key="complaints",
            label=GROUP,
            label_en="Complaints",
            type_keys=(COMPLAINT.key,),
            filters=(
                OverviewFilter("all", "alle", None, "all"),
                OverviewFilter("open", "offen", ("open",), "open"),
                OverviewFilter("in_progress", "in Bearbeitung", ("in_progress",), "in progress"),
                OverviewFilter("done", "erledigt", ("done",), "done"),
            ),
            default_filter="all",
            columns=("article", "serial_number"),
            order=60,
        )
    ]


@hookimpl
def register_placeholders() -> list[Placeholder]:
    return [
        Placeholder("reklamation", "hotline", "Service-Hotline", resolve=lambda context: hotline(),
                    label_en="Service hotline", example=DEFAULT_HOTLINE),
        Placeholder("reklamation", "frist", "Antwort bis (heute + 14 Tage)", resolve=response_deadline,
                    label_en="Answer by (today + 14 days)", example="11.12.2026"),
    ]


@hookimpl
def extra_index_fields(document: Document) -> dict[str, str]:
    # Called for every document type: answer for complaints only.
    if document.type_key != COMPLAINT.key:
        return {}
    serial = str((document.data or {}).get("serial_number") or "").strip()
    return {INDEX_FIELD: serial} if serial else {}
