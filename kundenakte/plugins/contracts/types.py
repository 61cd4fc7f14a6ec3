"""The contract document type."""

from decimal import Decimal

from kundenakte.core.doctypes import Choice, DocumentType, Field, Status

UNIT_CHOICES = (
    Choice("days", "Tage", "days"), Choice("weeks", "Wochen", "weeks"),
    Choice("months", "Monate", "months"), Choice("years", "Jahre", "years"),
)

CONTRACT = DocumentType(
    key="contract",
    label="Vertrag",
    label_en="Contract",
    category="contracts",
    fields=(
        Field("number", "text", "Vertragsnummer", "Contract number", searchable=True, in_list=True, max_length=60),
        Field("subject", "text", "Gegenstand", "Subject", searchable=True, required=True),
        Field("start", "date", "Beginn", "Start", required=True, in_list=True),
        Field("end", "date", "Ende (leer = unbefristet)", "End (empty = indefinite)", in_list=True),
        Field("notice_amount", "integer", "Kündigungsfrist", "Notice period", min_value=Decimal(0), max_value=Decimal(3650), default=3),
        Field("notice_unit", "choice", "Einheit der Kündigungsfrist", "Notice unit", choices=UNIT_CHOICES, default="months"),
        Field("notice_to", "choice", "Kündigung zum", "Notice to", choices=(
            Choice("end_of_term", "Laufzeitende", "end of term"), Choice("end_of_month", "Monatsende", "end of month"),
            Choice("end_of_quarter", "Quartalsende", "end of quarter"), Choice("any_day", "jederzeit", "any day"),
        ), default="end_of_term"),
        Field("renewal_amount", "integer", "Automatische Verlängerung um", "Automatic renewal by", min_value=Decimal(0),
              max_value=Decimal(120)),
        Field("renewal_unit", "choice", "Einheit der Verlängerung", "Renewal unit", choices=UNIT_CHOICES),
        Field("value", "money", "Wert je Zeitraum", "Value per period", in_list=True),
        Field("period", "choice", "Zeitraum", "Period", choices=(
            Choice("month", "Monat", "month"), Choice("quarter", "Quartal", "quarter"), Choice("year", "Jahr", "year"),
        ), default="month"),
        Field("notice_deadline", "date", "Kündigungsfrist endet am", "Notice deadline", computed=True, in_list=True),
    ),
    statuses=(
        Status("active", "aktiv", "active"),
        Status("cancelled", "gekündigt", "cancelled", closed=True),
        Status("ended", "beendet", "ended", closed=True),
    ),
    default_folders=("Verträge",),
    retention_days=3650,
    amount_field="value",
    icon="file-signature",
    menu_order=400,
)
