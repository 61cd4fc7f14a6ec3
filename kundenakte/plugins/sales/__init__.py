"""Vertrieb: opportunities and sales vouchers with lines, totals, numbers and follow-ups."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy.orm import Session

from kundenakte import hookimpl
from kundenakte.core.acl import Viewer
from kundenakte.core.contributions import Category, MenuItem, OverviewFilter, OverviewSection
from kundenakte.core.doctypes import DocumentType
from kundenakte.core.models import Contact, Document
from kundenakte.plugins.sales.chain import allowed_followups
from kundenakte.plugins.sales.types import LINE_TYPES, VOUCHER_KEYS, VOUCHERS

if TYPE_CHECKING:
    from flask import Blueprint


@hookimpl
def register_document_types() -> list[DocumentType]:
    return list(VOUCHERS)

@hookimpl
def register_categories() -> list[Category]:
    return [Category("sales", "Vertrieb", "Sales", order=30)]



@hookimpl
def register_migrations() -> list[str]:
    return [str(Path(__file__).resolve().parent / "migrations")]


@hookimpl
def contact_actions(contact: Contact, viewer: Viewer) -> list[MenuItem]:
    return [MenuItem(t.label, type_key=t.key, group="sales", order=t.menu_order, label_en=t.label_en) for t in VOUCHERS]


@hookimpl
def document_actions(document: Document, viewer: Viewer, can_edit: bool) -> list[MenuItem]:
    if document.type_key not in VOUCHER_KEYS:
        return []
    items: list[MenuItem] = []
    if document.type_key in LINE_TYPES:
        items.append(MenuItem("Positionen", endpoint="sales.lines", values={"document_id": document.id}, group="sales", order=10,
                              label_en="Line items"))
    for target in allowed_followups(document.type_key):
        from kundenakte.plugins.sales.numbering import VOUCHER_TYPES

        items.append(MenuItem(f"Folgebeleg: {VOUCHER_TYPES[target]}", endpoint="sales.followup",
                              values={"document_id": document.id, "target": target}, method="post", group="sales", order=20))
    return items


@hookimpl
def prepare_document(ka: Any, session: Session, document: Document, created: bool) -> None:
    from kundenakte.plugins.sales.service import on_prepare

    on_prepare(ka, session, document, created)


@hookimpl
def extra_index_fields(document: Document) -> dict[str, str]:
    if document.type_key not in VOUCHER_KEYS:
        return {}
    return {"belegnummer": str((document.data or {}).get("number") or "")}


@hookimpl
def register_overview_sections() -> list[OverviewSection]:
    return [
        OverviewSection(
            key="sales",
            label="Vertrieb",
            label_en="Sales",
            type_keys=VOUCHER_KEYS,
            filters=(
                OverviewFilter("all", "alle", None, "all"),
                OverviewFilter("open", "offen", ("open",), "open"),
                OverviewFilter("won", "gewonnen", ("won",), "won"),
                OverviewFilter("lost", "verloren", ("lost",), "lost"),
                OverviewFilter("discontinued", "eingestellt", ("discontinued",), "discontinued"),
            ),
            columns=("number", "gross"),
            show_sum=True,
            order=40,
        )
    ]


@hookimpl
def register_blueprints() -> list[Blueprint]:
    from kundenakte.plugins.sales.views import bp

    return [bp]
