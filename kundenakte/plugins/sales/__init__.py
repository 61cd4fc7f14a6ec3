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
from kundenakte.core.plugin_settings import Setting
from kundenakte.plugins.sales.chain import allowed_followups
from kundenakte.plugins.sales.types import INVOICE_TYPES, OFFER_TYPES, PRINTABLE_TYPES, VOUCHER_KEYS, VOUCHERS

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
def register_settings() -> list[Setting]:
    from kundenakte.plugins.sales.settings import SETTINGS

    return list(SETTINGS)


@hookimpl
def document_actions(document: Document, viewer: Viewer, can_edit: bool) -> list[MenuItem]:
    if document.type_key not in VOUCHER_KEYS:
        return _received_items(document)
    from kundenakte.plugins.sales.finalise import is_finalised
    from kundenakte.plugins.sales.numbering import VOUCHER_TYPES

    items: list[MenuItem] = []
    finalised = is_finalised(document)
    if document.type_key in PRINTABLE_TYPES:
        if can_edit and not finalised and document.archived_at is None:
            items.append(MenuItem("Abschließen (PDF erstellen)", endpoint="sales.finalise", values={"document_id": document.id},
                                  method="post", group="sales", order=5, label_en="Finalise (create PDF)"))
        if not finalised:
            items.append(MenuItem("PDF-Vorschau", endpoint="sales.preview", values={"document_id": document.id},
                                  group="sales", order=6, label_en="PDF preview"))
    if document.type_key in PRINTABLE_TYPES:
        from kundenakte.plugins.sales.mailing import send_by_mail_item

        mail_item = send_by_mail_item(document)
        if mail_item is not None:
            items.append(mail_item)
    if document.type_key in INVOICE_TYPES and can_edit and document.archived_at is None:
        items.append(MenuItem("Zahlung erfassen (bezahlt am)", endpoint="sales.payment", values={"document_id": document.id},
                              group="sales", order=7, label_en="Record payment (paid on)"))
    items += _received_items(document)
    for target in allowed_followups(document.type_key):
        from kundenakte.plugins.sales.types import LABELS_EN

        items.append(MenuItem(f"Folgebeleg: {VOUCHER_TYPES[target]}", label_en=f"Follow-up voucher: {LABELS_EN[target]}",
                              endpoint="sales.followup",
                              values={"document_id": document.id, "target": target}, method="post", group="sales", order=20))
    return items


def _received_items(document: Document) -> list[MenuItem]:
    """ "E-Rechnung lesen" for XML and PDF attachments of any document (received invoices come as mail or upload)."""
    from kundenakte.plugins.sales.receiving import looks_like_einvoice

    return [MenuItem(f"E-Rechnung lesen: {att.filename}", endpoint="sales.received",
                     values={"document_id": document.id, "attachment_id": att.id}, group="sales", order=30,
                     label_en=f"Read e-invoice: {att.filename}")
            for att in document.attachments if not att.inline and looks_like_einvoice(att.filename, att.mime_type)]


@hookimpl
def prepare_document(ka: Any, session: Session, document: Document, created: bool) -> None:
    from kundenakte.plugins.sales.service import on_prepare
    from kundenakte.plugins.sales.views import apply_form_lines

    on_prepare(ka, session, document, created)
    apply_form_lines(session, document)


@hookimpl
def demo_data(ka: Any) -> None:
    from kundenakte.plugins.sales.demo import load_demo_vouchers

    load_demo_vouchers(ka)


@hookimpl
def extra_index_fields(document: Document) -> dict[str, str]:
    from kundenakte.plugins.sales.receiving import index_fields

    fields = index_fields(document)
    if document.type_key in VOUCHER_KEYS:
        fields["belegnummer"] = str((document.data or {}).get("number") or "")
    return fields


@hookimpl
def page_notices(ka: Any, viewer: Viewer, page: str, document: Document | None) -> list[str]:
    if page != "document" or document is None:
        return []
    from kundenakte.plugins.sales.receiving import notices

    return notices(document)


@hookimpl
def document_saved(ka: Any, document_id: int, created: bool, user_id: int | None) -> None:
    from kundenakte.plugins.sales.receiving import record_received

    record_received(ka, document_id)


def _receivables(ka: Any, session: Session, readable_ids: Any) -> Any:
    from kundenakte.plugins.sales.payments import receivables_figures

    return receivables_figures(ka, session, readable_ids)


@hookimpl
def register_overview_sections() -> list[OverviewSection]:
    # One meaning per sum: an opportunity's weighted volume is no invoice amount, an offer no revenue.
    voucher_filters = (
        OverviewFilter("all", "alle", None, "all"),
        OverviewFilter("open", "offen", ("open",), "open"),
        OverviewFilter("won", "gewonnen", ("won",), "won"),
        OverviewFilter("lost", "verloren", ("lost",), "lost"),
        OverviewFilter("discontinued", "eingestellt", ("discontinued",), "discontinued"),
    )
    return [
        OverviewSection(
            key="sales", label="Vertrieb: Opportunities", label_en="Sales: opportunities",
            type_keys=("opportunity",), filters=voucher_filters,
            columns=("number", "expected_volume", "probability"), show_sum=True,
            sum_label="Pipeline (gewichtet)", sum_label_en="Pipeline (weighted)", order=39,
        ),
        OverviewSection(
            key="sales_offers", label="Vertrieb: Angebote und Aufträge", label_en="Sales: quotes and orders",
            type_keys=OFFER_TYPES, filters=voucher_filters, columns=("number", "gross"), show_sum=False, order=40,
        ),
        OverviewSection(
            key="sales_invoices", label="Vertrieb: Rechnungen", label_en="Sales: invoices",
            type_keys=INVOICE_TYPES, filters=voucher_filters[:3], columns=("number", "gross", "due_date"), show_sum=True,
            sum_label="Fakturiert (brutto, Gutschriften abgezogen)", sum_label_en="Invoiced (gross, net of credit notes)",
            figures=_receivables, order=41,
        ),
    ]


@hookimpl
def register_blueprints() -> list[Blueprint]:
    from kundenakte.plugins.sales.views import bp

    return [bp]
