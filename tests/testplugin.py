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
        Field("subject", "text", "Betreff", required=True, searchable=True, in_list=True, max_length=50),
        Field("details", "longtext", "Details", searchable=True),
        Field("body", "richtext", "Text"),
        Field("due", "date", "Fällig am"),
        Field("price", "money", "Preis", min_value=Decimal("0")),
        Field("ratio", "decimal", "Anteil"),
        Field("minutes", "integer", "Minuten", min_value=Decimal("0"), max_value=Decimal("600")),
        Field("direction", "choice", "Richtung", choices=(Choice("in", "eingehend"), Choice("out", "ausgehend"))),
        Field("owner", "user", "Zuständig"),
        Field("person", "contact", "Gesprächspartner"),
        Field("urgent", "boolean", "Dringend"),
    ),
    statuses=(Status("open", "offen"), Status("done", "erledigt", closed=True)),
    retention_days=720,
    amount_field="price",
    due_field="due",
)


@hookimpl
def register_document_types() -> list[DocumentType]:
    return [NOTE]
