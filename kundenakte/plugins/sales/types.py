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


def _voucher(key: str, order: int) -> DocumentType:
    extra: tuple[Field, ...] = (
        Field("valid_until", "date", "Gültig bis", "Valid until"),
        Field("payment_terms", "text", "Zahlungsbedingungen", "Payment terms", default="14 Tage netto"),
        Field("reference", "text", "Ihre Referenz", "Your reference", searchable=True),
    )
    return DocumentType(
        key=key, label=VOUCHER_TYPES[key], label_en=LABELS_EN[key], category="sales",
        fields=COMPUTED + extra, statuses=STATUSES, default_folders=("Angebote",) if key == "quote" else ("Buchhaltung",),
        retention_days=3650 + 365,  # ten years for commercial documents, counted generously
        amount_field="gross", icon="receipt", menu_order=300 + order,
    )


OPPORTUNITY = DocumentType(
    key="opportunity", label="Opportunity", label_en="Opportunity", category="sales",
    fields=(
        Field("number", "text", "Nummer", "Number", computed=True, searchable=True, in_list=True),
        Field("expected_volume", "money", "Erwartetes Volumen", "Expected volume", min_value=Decimal(0), in_list=True),
        Field("probability", "integer", "Wahrscheinlichkeit (%)", "Probability (%)", min_value=Decimal(0), max_value=Decimal(100),
              in_list=True),
        Field("expected_close", "date", "Erwarteter Abschluss", "Expected closing", in_list=True),
        Field("source", "text", "Quelle", "Source"),
    ),
    statuses=STATUSES, retention_days=3650, amount_field="expected_volume", icon="target", menu_order=300,
)

VOUCHERS = [OPPORTUNITY] + [_voucher(k, i) for i, k in enumerate(VOUCHER_TYPES) if k != "opportunity"]
VOUCHER_KEYS = tuple(t.key for t in VOUCHERS)
LINE_TYPES = tuple(k for k in VOUCHER_KEYS if k != "opportunity")
