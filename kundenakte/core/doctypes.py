"""Declared document types: fields, statuses and defaults from which forms, lists, index and API follow.

A plugin returns ``DocumentType`` objects from ``register_document_types``; the core never knows a
type by name.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from kundenakte.core.formatting import parse_decimal

# The one validation error (core.validation); document code has always imported it from here.
from kundenakte.core.validation import Message, too_long
from kundenakte.core.validation import ValidationError as ValidationError

FIELD_KINDS = ("text", "longtext", "richtext", "date", "money", "decimal", "integer", "choice", "user", "contact", "boolean",
               "datetime")

# Categories (``DocumentType.category``) are declared by plugins: kundenakte.core.categories.


@dataclass(frozen=True)
class Choice:
    value: str
    label: str
    label_en: str = ""


@dataclass(frozen=True)
class Field:
    """One type-specific field; its value lives in ``Document.data[name]``."""

    name: str
    kind: str
    label: str
    label_en: str = ""
    required: bool = False
    choices: tuple[Choice, ...] = ()
    searchable: bool = False
    in_list: bool = False
    help: str = ""
    min_value: Decimal | None = None
    max_value: Decimal | None = None
    max_length: int = 2000
    default: Any = None
    # Computed by the declaring plugin (prepare_document); shown read-only, never taken from input.
    computed: bool = False

    def __post_init__(self) -> None:
        if self.kind not in FIELD_KINDS:
            raise ValueError(f"field {self.name!r}: unknown kind {self.kind!r} (one of {', '.join(FIELD_KINDS)})")
        if self.kind == "datetime" and not self.computed:
            # A point in time (ISO, UTC) the declaring plugin records; nobody types one.
            raise ValueError(f"field {self.name!r}: datetime fields are computed only")
        if self.kind == "choice" and not self.choices:
            raise ValueError(f"field {self.name!r}: a choice field needs choices")
        if not re.fullmatch(r"[a-z][a-z0-9_]*", self.name):
            raise ValueError(f"field name {self.name!r} must be lower_snake_case")


@dataclass(frozen=True)
class MailFields:
    """A type that sends e-mail names its recipient and subject fields here, so other plugins can offer
    "Per E-Mail senden" (a prefilled draft) without knowing which plugin sends mail."""

    to_email: str
    to_name: str = ""
    subject: str = ""


@dataclass(frozen=True)
class Status:
    value: str
    label: str
    label_en: str = ""
    closed: bool = False  # counts as done/closed in "offen" filters


@dataclass(frozen=True)
class DocumentType:
    key: str
    label: str
    label_en: str
    category: str
    fields: tuple[Field, ...] = ()
    statuses: tuple[Status, ...] = ()
    default_folders: tuple[str, ...] = ()
    retention_days: int | None = None
    default_readers: tuple[str, ...] = ()
    default_editors: tuple[str, ...] = ()
    in_contact_menu: bool = True
    menu_order: int = 100
    # Names of one declared field each, mirrored into Document.amount / Document.due_date.
    amount_field: str | None = None
    due_field: str | None = None
    icon: str = "file"
    # The declaring plugin alone sets the status (an e-mail's comes from its delivery): forms show
    # it read-only and a save that tries to change it is refused.
    status_managed: bool = False
    # Templates (of the declaring plugin's template folder) the core includes in the document form
    # and the document page, e.g. a line item editor; they see the page's whole context.
    form_template: str = ""
    view_template: str = ""
    # Set by a type that sends e-mail (the communication plugin's E-Mail): see ``mail_type``.
    mail: MailFields | None = None
    plugin: str = ""  # filled by the registry: which plugin declared it

    def __post_init__(self) -> None:
        names = [f.name for f in self.fields]
        if len(names) != len(set(names)):
            raise ValueError(f"document type {self.key!r} declares a field twice")
        mail_refs = (self.mail.to_email, self.mail.to_name, self.mail.subject) if self.mail else ()
        for ref in (self.amount_field, self.due_field, *mail_refs):
            if ref and ref not in names:
                raise ValueError(f"document type {self.key!r} mirrors unknown field {ref!r}")
        # Lookups by name run per table cell; plain attributes beside the declared fields.
        object.__setattr__(self, "_fields_by_name", {f.name: f for f in self.fields})
        object.__setattr__(self, "_statuses_by_value", {s.value: s for s in self.statuses})

    def field(self, name: str) -> Field | None:
        return self._fields_by_name.get(name)  # type: ignore[attr-defined,no-any-return]

    def status(self, value: str) -> Status | None:
        return self._statuses_by_value.get(value)  # type: ignore[attr-defined,no-any-return]

    @property
    def open_statuses(self) -> tuple[str, ...]:
        return tuple(s.value for s in self.statuses if not s.closed)

    @property
    def default_status(self) -> str:
        return self.statuses[0].value if self.statuses else ""

    def label_for(self, language: str) -> str:
        return self.label_en if language == "en" and self.label_en else self.label


_DATE_FORMATS = ("%Y-%m-%d", "%d.%m.%Y", "%d.%m.%y")
MIN_YEAR, MAX_YEAR = 1000, 2999
MAX_AMOUNT = Decimal("1e12")  # the amount column holds 14 digits, two of them cents


def parse_date(raw: Any) -> dt.date:
    if isinstance(raw, dt.datetime):
        return raw.date()
    if isinstance(raw, dt.date):
        return raw
    text = str(raw).strip()
    for fmt in _DATE_FORMATS:
        try:
            value = dt.datetime.strptime(text, fmt).date()
        except ValueError:
            continue
        # Retention and deadlines add years to dates; far-out years would overflow, not help anyone.
        if not MIN_YEAR <= value.year <= MAX_YEAR:
            raise ValueError(f"Bitte ein Datum zwischen {MIN_YEAR} und {MAX_YEAR} angeben.")
        return value
    raise ValueError("Bitte ein gültiges Datum angeben (TT.MM.JJJJ).")


def _is_blank(raw: Any) -> bool:
    return raw is None or (isinstance(raw, str) and raw.strip() == "")


def clean_value(
    f: Field,
    raw: Any,
    *,
    known_users: set[int] | None = None,
    known_contacts: set[int] | None = None,
    locale: str | None = None,
) -> Any:
    """Convert one submitted value to its stored JSON form, or raise ValueError with a user message.

    Numbers are read in ``locale`` (what a person typed in a form) or, for ``None``, as machine input
    (API, import, stored data); see :mod:`kundenakte.core.formatting`.
    """
    if f.kind == "boolean":
        if isinstance(raw, bool):
            return raw
        return str(raw).strip().lower() in {"1", "true", "on", "yes", "ja"}
    if _is_blank(raw):
        if f.required:
            raise ValueError("Dieses Feld ist ein Pflichtfeld.")
        return None
    if f.kind in ("text", "longtext", "richtext"):
        text = str(raw)
        if f.kind == "text":
            text = text.strip()
        if f.kind == "richtext":
            from kundenakte.core.html import sanitize_html

            # Every writer (form, API, import) gets the same cleaning, not only the web form.
            return sanitize_html(text)
        if len(text) > f.max_length and f.kind != "richtext":
            raise ValueError(too_long(f.max_length))  # the master-data fields' message (services/fields.py)
        return text
    if f.kind == "date":
        return parse_date(raw).isoformat()
    if f.kind in ("money", "decimal", "integer"):
        number = parse_decimal(raw, locale, ("€", "EUR") if f.kind == "money" else ())
        if f.kind == "integer":
            if number != number.to_integral_value():
                raise ValueError("Bitte eine ganze Zahl angeben.")
            number = Decimal(int(number))
        if f.kind == "money":
            if number.as_tuple().exponent < -2:  # type: ignore[operator]
                raise ValueError("Beträge haben höchstens zwei Nachkommastellen.")
            number = number.quantize(Decimal("0.01"))
        if abs(number) >= MAX_AMOUNT:
            raise ValueError("Der Betrag ist zu groß.")
        if f.min_value is not None and number < f.min_value:
            raise ValueError(f"Der Wert darf nicht kleiner als {f.min_value} sein.")
        if f.max_value is not None and number > f.max_value:
            raise ValueError(f"Der Wert darf nicht größer als {f.max_value} sein.")
        return int(number) if f.kind == "integer" else str(number)
    if f.kind == "choice":
        value = str(raw)
        if value not in {c.value for c in f.choices}:
            raise ValueError("Bitte einen der angebotenen Werte wählen.")
        return value
    if f.kind in ("user", "contact"):
        try:
            ident = int(raw)
        except (TypeError, ValueError):
            raise ValueError("Ungültige Auswahl.") from None
        known = known_users if f.kind == "user" else known_contacts
        if known is not None and ident not in known:
            raise ValueError("Unbekannter Benutzer." if f.kind == "user" else "Unbekannter Kontakt.")
        return ident
    raise AssertionError(f.kind)


def validate_data(
    doctype: DocumentType,
    raw: Mapping[str, Any],
    *,
    known_users: set[int] | None = None,
    known_contacts: set[int] | None = None,
    partial: bool = False,
    locale: str | None = None,
) -> dict[str, Any]:
    """Clean every declared field; raise ValidationError with all errors at once.

    Unknown keys are refused rather than silently dropped, so an API client learns of a typo.
    """
    errors: dict[str, str] = {}
    declared = {f.name for f in doctype.fields}
    for key in raw:
        if key not in declared:
            errors[key] = "Unbekanntes Feld."
    cleaned: dict[str, Any] = {}
    for f in doctype.fields:
        if f.computed or (partial and f.name not in raw):
            continue
        try:
            cleaned[f.name] = clean_value(
                f, raw.get(f.name, f.default), known_users=known_users, known_contacts=known_contacts, locale=locale
            )
        except ValueError as exc:
            # A Message keeps its msgid, so the web shows it in the interface's language.
            errors[f.name] = exc.args[0] if exc.args and isinstance(exc.args[0], Message) else str(exc)
    if errors:
        raise ValidationError(errors)
    return cleaned


class TypeRegistry:
    """Every declared type by key, with the plugin that declared it."""

    def __init__(self, types: Iterable[DocumentType] = ()) -> None:
        self._types: dict[str, DocumentType] = {}
        for t in types:
            self.add(t)

    def add(self, doctype: DocumentType) -> None:
        if doctype.key in self._types:
            other = self._types[doctype.key].plugin
            raise ValueError(f"document type {doctype.key!r} is declared by {other!r} and {doctype.plugin!r}")
        if not re.fullmatch(r"[a-z][a-z0-9_]*", doctype.key):
            raise ValueError(f"document type key {doctype.key!r} must be lower_snake_case")
        self._types[doctype.key] = doctype

    def get(self, key: str) -> DocumentType | None:
        return self._types.get(key)

    def all(self) -> list[DocumentType]:
        return list(self._types.values())

    def enabled(self, disabled_plugins: Iterable[str]) -> list[DocumentType]:
        off = set(disabled_plugins)
        return [t for t in self._types.values() if t.plugin not in off]

    def mail_type(self, disabled_plugins: Iterable[str] = ()) -> DocumentType | None:
        """The enabled type that sends e-mail (declares ``mail``), if any: first by menu order."""
        found = [t for t in self.enabled(disabled_plugins) if t.mail is not None]
        return min(found, key=lambda t: (t.menu_order, t.key)) if found else None

    def by_category(self, category: str, disabled_plugins: Iterable[str] = ()) -> list[DocumentType]:
        return [t for t in self.enabled(disabled_plugins) if t.category == category]

    def __contains__(self, key: object) -> bool:
        return key in self._types
