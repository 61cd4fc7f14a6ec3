"""The communication document types: free document, e-mail, letter, short letter and reports."""

from __future__ import annotations

from decimal import Decimal

from kundenakte.core.doctypes import Choice, DocumentType, Field, MailFields, Status

# Set by the outbox alone (``status_managed``): nobody chooses "versendet" by hand. "filed" is
# what happens without an SMTP server: the message is complete, but only written to
# ``instance/outbox/*.eml`` — nobody received it.
EMAIL_STATUSES = (
    Status("draft", "Entwurf", "Draft"),
    Status("queued", "in Warteschlange", "Queued"),
    Status("sent", "versendet", "Sent", closed=True),
    Status("filed", "als Datei abgelegt", "Filed as a file", closed=True),
    Status("failed", "fehlgeschlagen", "Failed"),
    Status("uncertain", "unklar", "Uncertain"),
    Status("received", "empfangen", "Received", closed=True),  # inbound mail (inbound/filing.py)
)
DELIVERY_CHOICES = tuple(Choice(s.value, s.label, s.label_en) for s in EMAIL_STATUSES)
SIMPLE_STATUSES = (
    Status("draft", "Entwurf", "Draft"),
    Status("sent", "versendet", "Sent", closed=True),
)
RETENTION = 720
# How an e-mail names its sender: the writing user (default) or the organisation
# (``organisation_name`` setting); a template's ``sender_format`` is copied into its documents.
SENDER_FORMAT_CHOICES = (
    Choice("name_address", "Name", "Name"),
    Choice("company", "Firma", "Company"),
)
DEFAULT_SENDER_FORMAT = "name_address"

FREE_DOCUMENT = DocumentType(
    key="free_document", label="Freies Dokument", label_en="Free document", category="communication",
    retention_days=RETENTION, icon="file", menu_order=100,
)
EMAIL = DocumentType(
    key="email", label="E-Mail", label_en="E-mail", category="communication",
    fields=(
        Field("to_email", "text", "An (E-Mail-Adresse)", "To (e-mail address)", max_length=254, in_list=True),
        Field("to_name", "text", "An (Name)", "To (name)", max_length=200),
        Field("subject", "text", "Betreff", "Subject", searchable=True, in_list=True, max_length=500),
        Field("sender_format", "choice", "Absenderangabe", "Sender format", choices=SENDER_FORMAT_CHOICES,
              default=DEFAULT_SENDER_FORMAT),
        Field("appendix", "richtext", "Anhänge", "Postscript"),
        Field("sent_at", "datetime", "Versendet am", "Sent at", computed=True),
        Field("message_id", "text", "Message-ID", "Message-ID", computed=True),
        Field("delivery_status", "choice", "Versandstatus", "Delivery status", choices=DELIVERY_CHOICES, computed=True),
        Field("delivery_error", "text", "Versandhinweis", "Delivery note", computed=True),
        # Filled by the inbound importer (inbound/filing.py); a mail written here has none (= ausgehend).
        Field("direction", "choice", "Richtung", "Direction", computed=True,
              choices=(Choice("out", "ausgehend", "outgoing"), Choice("in", "eingehend", "incoming"))),
        Field("from_email", "text", "Von", "From", computed=True),
        Field("cc", "text", "Cc", "Cc", computed=True),
    ),
    statuses=EMAIL_STATUSES, status_managed=True, retention_days=RETENTION, icon="mail", menu_order=110,
    mail=MailFields(to_email="to_email", to_name="to_name", subject="subject"),
    # Names the contact address the mail goes to and offers the contact's others (recipients.py).
    form_template="communication/recipient_choices.html",
)
LETTER = DocumentType(
    key="letter", label="Brief", label_en="Letter", category="communication",
    fields=(
        Field("subject", "text", "Betreff", "Subject", searchable=True, in_list=True, max_length=500),
        Field("appendix", "richtext", "Anhänge", "Postscript"),
    ),
    statuses=SIMPLE_STATUSES, retention_days=RETENTION, icon="mail", menu_order=120,
)
SHORT_LETTER = DocumentType(
    key="short_letter", label="Kurzbrief", label_en="Short letter", category="communication",
    fields=(
        Field("subject", "text", "Betreff", "Subject", searchable=True, in_list=True, max_length=500),
        Field("appendix", "richtext", "Anhänge", "Postscript"),
    ),
    statuses=SIMPLE_STATUSES, retention_days=RETENTION, icon="mail", menu_order=130,
)
VISIT_REPORT = DocumentType(
    key="visit_report", label="Besuchsbericht", label_en="Visit report", category="communication",
    fields=(
        Field("visit_date", "date", "Besuchsdatum", "Visit date", in_list=True),
        Field("participants", "longtext", "Teilnehmer", "Participants", searchable=True),
        Field("location", "text", "Ort", "Location", searchable=True),
    ),
    retention_days=RETENTION, icon="users", menu_order=140,
)
CONTACT_REPORT = DocumentType(
    key="contact_report", label="Kontaktbericht", label_en="Contact report", category="communication",
    fields=(
        Field("contact_kind", "choice", "Kontaktart", "Kind of contact", in_list=True, choices=(
            Choice("phone", "Telefon", "Phone"), Choice("visit", "Besuch", "Visit"),
            Choice("email", "E-Mail", "E-mail"), Choice("fair", "Messe", "Trade fair"),
            Choice("other", "Sonstiges", "Other"),
        )),
        Field("summary", "longtext", "Zusammenfassung", "Summary", searchable=True),
    ),
    retention_days=RETENTION, icon="message", menu_order=150,
)
PHONE_NOTE = DocumentType(
    key="phone_note", label="Telefonnotiz", label_en="Phone note", category="communication",
    fields=(
        Field("direction", "choice", "Richtung", "Direction", in_list=True,
              choices=(Choice("in", "eingehend", "incoming"), Choice("out", "ausgehend", "outgoing"))),
        Field("number", "text", "Rufnummer", "Number", max_length=60),
        Field("duration_minutes", "integer", "Dauer (Minuten)", "Duration (minutes)", min_value=Decimal(0), max_value=Decimal(1440)),
    ),
    retention_days=RETENTION, icon="phone", menu_order=160,
)

COMM_TYPES = (FREE_DOCUMENT, EMAIL, LETTER, SHORT_LETTER, VISIT_REPORT, CONTACT_REPORT, PHONE_NOTE)
COMM_KEYS = tuple(t.key for t in COMM_TYPES)
TEMPLATE_BASE_TYPES = ("email", "letter", "short_letter")
