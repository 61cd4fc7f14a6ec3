"""A plugin used by the core tests: one document type with every field kind."""

from __future__ import annotations

from decimal import Decimal

from kundenakte import hookimpl
from kundenakte.core.doctypes import Choice, DocumentType, Field, Status

NOTE = DocumentType(
    key="testnote",
    label="Testnotiz",
    label_en="Test note",
    category="communication",
    fields=(
        Field("subject", "text", "Betreff", "Subject", required=True, searchable=True, in_list=True, max_length=50),
        Field("details", "longtext", "Details", "Details", searchable=True),
        Field("body", "richtext", "Text", "Text"),
        Field("due", "date", "Fällig am", "Due on"),
        Field("price", "money", "Preis", "Price", min_value=Decimal("0")),
        Field("ratio", "decimal", "Anteil", "Share"),
        Field("minutes", "integer", "Minuten", "Minutes", min_value=Decimal("0"), max_value=Decimal("600")),
        Field("direction", "choice", "Richtung", "Direction", choices=(Choice("in", "eingehend", "incoming"), Choice("out", "ausgehend", "outgoing"))),
        Field("owner", "user", "Zuständig", "Owner"),
        Field("person", "contact", "Gesprächspartner", "Contact person"),
        Field("urgent", "boolean", "Dringend", "Urgent"),
    ),
    statuses=(Status("open", "offen", "open"), Status("done", "erledigt", "done", closed=True)),
    retention_days=720,
    amount_field="price",
    due_field="due",
)


@hookimpl
def register_document_types() -> list[DocumentType]:
    return [NOTE]
