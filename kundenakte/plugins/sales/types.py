"""The eight sales voucher types, declared from one template."""

from __future__ import annotations

from decimal import Decimal

from kundenakte.core.doctypes import DocumentType, Field, Status
from kundenakte.plugins.sales.numbering import VOUCHER_TYPES

LABELS_EN = {
    "opportunity": "Opportunity", "price_info": "Price information", "quote": "Quote",
    "order_confirmation": "Order confirmation", "purchase_order": "Purchase order",
    "credit_note": "Credit note", "delivery_note": "Delivery note", "invoice": "Invoice",
}
STATUSES = (
    Status("open", "offen", "open"),
    Status("won", "gewonnen", "won", closed=True),
    Status("lost", "verloren", "lost", closed=True),
    Status("discontinued", "eingestellt", "discontinued", closed=True),
)
COMPUTED = (
    Field("number", "text", "Belegnummer", "Number", computed=True, searchable=True, in_list=True),
    Field("net", "money", "Netto", "Net", computed=True),
    Field("vat", "money", "USt.", "VAT", computed=True),
    Field("gross", "money", "Brutto", "Gross", computed=True, in_list=True),
)


INVOICE_TYPES = ("invoice", "credit_note")
#: Vouchers printed and handed to the customer (a PDF on "Abschließen").
PRINTABLE_TYPES = ("quote", "order_confirmation", "delivery_note", "invoice", "credit_note")

_REFERENCE = Field("reference", "text", "Ihre Referenz", "Your reference", searchable=True)
_PAYMENT_TERMS = Field("payment_terms", "text", "Zahlungsbedingungen", "Payment terms", default="14 Tage netto")
_SERVICE_DATE = Field("service_date", "date", "Leistungsdatum", "Date of service",
                      help="Tag der Lieferung oder Leistung; leer: Rechnungsdatum.")
_SERVICE_END = Field("service_end", "date", "Leistungszeitraum bis", "Service period until",
                     help="Nur bei einem Leistungszeitraum: dessen letzter Tag.")
_INVOICE_FIELDS: tuple[Field, ...] = (
    _SERVICE_DATE,
    _SERVICE_END,
    Field("payment_days", "integer", "Zahlungsziel (Tage)", "Payment term (days)", default=14,
          min_value=Decimal(0), max_value=Decimal(365)),
    Field("due_date", "date", "Fällig am", "Due date", computed=True, in_list=True),
    _REFERENCE,
    Field("leitweg_id", "text", "Leitweg-ID", "Routing ID (Leitweg-ID)", max_length=46, searchable=True,
          help="Nur für öffentliche Auftraggeber (XRechnung), z. B. 04011000-12345-03."),
)
_EXTRA_FIELDS: dict[str, tuple[Field, ...]] = {
    "price_info": (Field("valid_until", "date", "Gültig bis", "Valid until"), _PAYMENT_TERMS, _REFERENCE),
    "quote": (Field("valid_until", "date", "Gültig bis", "Valid until"), _PAYMENT_TERMS, _REFERENCE),
    "order_confirmation": (Field("delivery_date", "date", "Liefertermin", "Delivery date"), _PAYMENT_TERMS, _REFERENCE),
    "purchase_order": (Field("delivery_date", "date", "Liefertermin", "Delivery date"), _PAYMENT_TERMS, _REFERENCE),
    "delivery_note": (Field("service_date", "date", "Lieferdatum", "Delivery date"), _REFERENCE),
    "invoice": _INVOICE_FIELDS,
    "credit_note": (Field("invoice_number", "text", "Zur Rechnung", "For invoice", computed=True, searchable=True),
                    *_INVOICE_FIELDS),
}


def _voucher(key: str, order: int) -> DocumentType:
    return DocumentType(
        key=key, label=VOUCHER_TYPES[key], label_en=LABELS_EN[key], category="sales",
        fields=COMPUTED + _EXTRA_FIELDS[key], statuses=STATUSES,
        default_folders=("Angebote",) if key == "quote" else ("Buchhaltung",),
        retention_days=3650 + 365,  # ten years for commercial documents, counted generously
        amount_field="gross", icon="receipt", menu_order=300 + order,
        form_template="sales/lines_editor.html", view_template="sales/voucher_view.html",
    )


OPPORTUNITY = DocumentType(
    key="opportunity", label="Opportunity", label_en="Opportunity", category="sales",
    fields=(
        Field("number", "text", "Nummer", "Number", computed=True, searchable=True, in_list=True),
        Field("expected_volume", "money", "Erwartetes Volumen", "Expected volume", min_value=Decimal(0), in_list=True),
        Field("probability", "integer", "Wahrscheinlichkeit (%)", "Probability (%)", min_value=Decimal(0), max_value=Decimal(100),
              in_list=True),
        Field("expected_close", "date", "Erwarteter Abschluss", "Expected closing", in_list=True),
        # expected volume × probability: the opportunity's share of the pipeline (Document.amount)
        Field("weighted_volume", "money", "Gewichtetes Volumen", "Weighted volume", computed=True),
        Field("source", "text", "Quelle", "Source"),
    ),
    statuses=STATUSES, retention_days=3650, amount_field="weighted_volume", icon="target", menu_order=300,
)

VOUCHERS = [OPPORTUNITY] + [_voucher(k, i) for i, k in enumerate(VOUCHER_TYPES) if k != "opportunity"]
VOUCHER_KEYS = tuple(t.key for t in VOUCHERS)
LINE_TYPES = tuple(k for k in VOUCHER_KEYS if k != "opportunity")
OFFER_TYPES = tuple(k for k in LINE_TYPES if k not in INVOICE_TYPES)
