"""Contact exchange: CSV and vCard import and export.

Every format is parsed into the neutral :class:`ContactRecord` (company fields inline) and written
from it, so the importer (dedupe, dry run, apply) and the exporter know no format:

* ``vcard``    – vCard 2.1 (read), 3.0 and 4.0 (read and write); hand-written, no dependency.
* ``csvio``    – CSV with header presets ``outlook``, ``google`` and ``kundenakte`` (our export),
  encoding detection (UTF-8 with/without BOM, UTF-16, cp1252) and delimiter sniffing.
* ``importer`` – ``plan_import(session, records)`` (a dry run that changes nothing) and
  ``apply_import(ka, plan)`` (chunked Core bulk writes).
* ``exporter`` – ``export_contacts(ka, path, fmt=..., version=...)``.

Field semantics of a record:

* ``street``/``postal_code``/``city``/``country`` are the contact's *own* address.
* ``company_*`` are the company's master data.
* ``use_company_address`` is ``True``/``False`` when the file says so (our own formats) and
  ``None`` for foreign files, where the importer decides by comparing the address with the
  company's (see ``importer``).
* ``language`` and ``gender`` are ``""`` when the file does not say; the importer uses the
  defaults ("de", "unknown") for new contacts and leaves existing ones alone.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field, fields
from datetime import date
from typing import Any

GENDER_CODES = {"female": "F", "male": "M", "diverse": "O", "unknown": "U"}

_GENDER_WORDS = {
    "f": "female", "w": "female", "female": "female", "weiblich": "female", "frau": "female", "woman": "female",
    "mrs": "female", "mrs.": "female", "ms": "female", "ms.": "female",
    "m": "male", "male": "male", "männlich": "male", "maennlich": "male", "herr": "male", "man": "male",
    "mr": "male", "mr.": "male",
    "o": "diverse", "d": "diverse", "x": "diverse", "diverse": "diverse", "divers": "diverse", "other": "diverse",
    "n": "unknown", "u": "unknown", "unknown": "unknown", "unbekannt": "unknown", "none": "unknown",
    "nicht angegeben": "unknown", "unspecified": "unknown", "keine angabe": "unknown",
}


def parse_gender(value: str | None) -> str:
    """Map the many spellings (vCard F/M/O/N/U, Outlook "Weiblich", "Herr", ...) to our keys; "" if unknown."""
    if not value:
        return ""
    return _GENDER_WORDS.get(value.strip().casefold(), "")


def parse_language(value: str | None) -> str:
    """"de-DE" -> "de"; "" when empty or not a plausible language tag."""
    if not value:
        return ""
    primary = value.strip().replace("_", "-").split("-")[0].strip().lower()
    return primary if primary.isalpha() and 2 <= len(primary) <= 3 else ""


def parse_bool(value: str | None) -> bool | None:
    if value is None:
        return None
    v = value.strip().casefold()
    if v in ("ja", "j", "yes", "y", "true", "wahr", "1", "x"):
        return True
    if v in ("nein", "n", "no", "false", "falsch", "0"):
        return False
    return None


_DATE_FORMATS = (
    (re.compile(r"^(\d{4})-?(\d{2})-?(\d{2})(?:T.*)?$"), (1, 2, 3)),  # 19800322, 1980-03-22, …T00:00:00Z
    (re.compile(r"^(\d{1,2})\.(\d{1,2})\.(\d{4})$"), (3, 2, 1)),  # 22.3.1980 (German Outlook)
    (re.compile(r"^(\d{1,2})/(\d{1,2})/(\d{4})$"), (3, 1, 2)),  # 3/22/1980 (English Outlook)
)


def parse_date(value: str | None) -> date | None | str:
    """A birthday: a date, None when empty (also Outlook's "0/0/00"), or the text itself when it is not
    a full date (e.g. "--0322" without a year), so the caller can report it as not kept."""
    text = (value or "").strip()
    if not text or text in ("0/0/00", "0.0.00", "00.00.00", "00.00.0000"):
        return None
    for pattern, (y, m, d) in _DATE_FORMATS:
        match = pattern.match(text)
        if match:
            try:
                return date(int(match.group(y)), int(match.group(m)), int(match.group(d)))
            except ValueError:
                return text
    return text


# Prefix words that are a salutation (gender hint), not an academic title.
SALUTATION_WORDS = {"herr": "male", "herrn": "male", "frau": "female", "mr": "male", "mr.": "male",
                    "mrs": "female", "mrs.": "female", "ms": "female", "ms.": "female"}


def split_prefix(prefix: str) -> tuple[str, str]:
    """"Herr Dr." -> ("male", "Dr."); "Prof. Dr." -> ("", "Prof. Dr.")."""
    words = prefix.replace(",", " ").split()
    hints = [SALUTATION_WORDS[w.casefold()] for w in words if w.casefold() in SALUTATION_WORDS]
    if not hints:
        return "", prefix.strip()  # untouched, so "Dr., MBA" stays as it is
    return hints[0], " ".join(w for w in words if w.casefold() not in SALUTATION_WORDS)


PHONE_KINDS = ("work", "mobile", "home", "fax", "pager", "other")
PLACE_KINDS = ("work", "home", "other")  # e-mail, web, postal address


@dataclass
class Point:
    """One e-mail address, phone number or website of a record (channel given by the list holding it)."""

    value: str
    kind: str = "work"
    preferred: bool = False


@dataclass
class Address:
    """One postal address of a record; ``extra`` is the Adresszusatz (c/o, building, PO box)."""

    kind: str = "work"
    street: str = ""
    extra: str = ""
    postal_code: str = ""
    city: str = ""
    country: str = ""
    preferred: bool = False

    def is_empty(self) -> bool:
        return not any((self.street, self.extra, self.postal_code, self.city, self.country))

    def parts(self) -> tuple[str, str, str, str]:
        """(street, postal code, city, country): what the old single address columns hold."""
        street = "\n".join(x for x in (self.street, self.extra) if x)
        return street, self.postal_code, self.city, self.country


def preferred_of(items: list[Any]) -> Any:
    """The entry marked preferred, else the first; None for an empty list."""
    return next((x for x in items if x.preferred), items[0] if items else None)


@dataclass
class ContactRecord:
    """One contact as read from or written to a file, company fields inline.

    The lists (``emails``, ``phones``, ``websites``, ``addresses``) hold every entry; the single
    fields ``email``, ``phone`` and ``street``/``postal_code``/``city``/``country`` are copies of the
    preferred entry (as in the database), kept in step by :meth:`sync`. Giving only a single field
    to the constructor creates a one-entry list.
    """

    last_name: str = ""
    first_name: str = ""
    title: str = ""
    gender: str = ""  # female / male / diverse / unknown, "" = not given
    salutation_override: str = ""
    language: str = ""  # "" = not given
    position: str = ""
    email: str = ""
    phone: str = ""
    use_company_address: bool | None = None  # None = not given, decided by the importer
    street: str = ""
    postal_code: str = ""
    city: str = ""
    country: str = ""
    account_manager: str = ""  # user login
    company_name: str = ""
    company_street: str = ""
    company_postal_code: str = ""
    company_city: str = ""
    company_country: str = ""
    company_phone: str = ""
    company_email: str = ""
    company_web: str = ""
    company_account_manager: str = ""
    company_vat_id: str = ""
    birthday: date | None = None
    nickname: str = ""
    department: str = ""
    notes: str = ""
    emails: list[Point] = field(default_factory=list)
    phones: list[Point] = field(default_factory=list)
    websites: list[Point] = field(default_factory=list)
    addresses: list[Address] = field(default_factory=list)  # the contact's own addresses
    # True: the file describes an organisation, not a person (vCard KIND:org, an ORG-only card);
    # the importer then creates a company from it.
    is_company: bool = False
    # Names of the file's properties/columns this record carried but that are not kept, for the
    # dry run and the import report ("PHOTO", "X-ANNIVERSARY", "Kategorien"). Not data.
    not_kept: list[str] = field(default_factory=list, compare=False)
    # Where the record came from ("Zeile 4", "Karte 2"), for messages; not data.
    source: str = field(default="", compare=False)

    def __post_init__(self) -> None:
        if self.email and not self.emails:
            self.emails = [Point(self.email, "work", True)]
        if self.phone and not self.phones:
            self.phones = [Point(self.phone, "work", True)]
        if not self.addresses and any((self.street, self.postal_code, self.city, self.country)):
            street, _, extra = self.street.partition("\n")
            self.addresses = [Address("work", street, extra, self.postal_code, self.city, self.country, True)]
        self.sync()

    def sync(self) -> None:
        """Set the single fields from the lists' preferred entries (after changing a list)."""
        email, phone, address = preferred_of(self.emails), preferred_of(self.phones), preferred_of(self.addresses)
        self.email = email.value if email else ""
        self.phone = phone.value if phone else ""
        self.street, self.postal_code, self.city, self.country = address.parts() if address else ("", "", "", "")

    def has_own_address(self) -> bool:
        return any(not a.is_empty() for a in self.addresses)

    def has_company_address(self) -> bool:
        return any((self.company_street, self.company_postal_code, self.company_city, self.company_country))

    def cleaned(self) -> ContactRecord:
        """Strip surrounding whitespace from every text field and entry; drop empty entries (a new record)."""
        values = dict(self.__dict__)
        for name in _TEXT_FIELDS:
            v = values[name]
            if v and (v[0].isspace() or v[-1].isspace()):
                values[name] = v.strip()
        for name in ("emails", "phones", "websites"):
            # entries are shared with the original unless they need stripping (an import's hot path)
            values[name] = [p if p.value == p.value.strip() else Point(p.value.strip(), p.kind, p.preferred)
                            for p in values[name] if p.value.strip()]
        values["addresses"] = [
            Address(a.kind, a.street.strip(), a.extra.strip(), a.postal_code.strip(), a.city.strip(),
                    a.country.strip(), a.preferred) for a in values["addresses"] if not a.is_empty()]
        values["not_kept"] = list(self.not_kept)
        return ContactRecord(**values)


DATA_FIELDS = tuple(f.name for f in fields(ContactRecord) if f.name not in ("source", "not_kept"))
_TEXT_FIELDS = tuple(f.name for f in fields(ContactRecord) if f.type in ("str", str))


class ExchangeError(Exception):
    """A file that cannot be read at all (unknown format, no header, ...); message in German."""


from kundenakte.core.exchange.csvio import read_csv, write_csv  # noqa: E402
from kundenakte.core.exchange.vcard import dump_vcards, parse_vcards  # noqa: E402


def detect_format(data: bytes, filename: str = "") -> str:
    """"vcard" or "csv", by content first, then by file name."""
    head = data[:4096].lstrip(b"\xef\xbb\xbf").lstrip()
    for enc in ("utf-8", "utf-16"):
        try:
            text = data[:4096].decode(enc, errors="ignore").lstrip("\ufeff").lstrip()
        except LookupError:  # pragma: no cover
            continue
        if text[:11].upper() == "BEGIN:VCARD":
            return "vcard"
    if head[:11].upper() == b"BEGIN:VCARD":
        return "vcard"
    lower = filename.lower()
    if lower.endswith((".vcf", ".vcard")):
        return "vcard"
    return "csv"


def read_records(data: bytes, *, fmt: str = "auto", mapping: str | None = None, filename: str = "") -> list[ContactRecord]:
    """Parse a whole file's bytes into records."""
    if fmt == "auto":
        fmt = detect_format(data, filename)
    if fmt == "vcard":
        return parse_vcards(data)
    if fmt == "csv":
        return read_csv(data, mapping=mapping)
    raise ExchangeError(f"Unbekanntes Format: {fmt}")


__all__ = [
    "Address", "ContactRecord", "DATA_FIELDS", "PHONE_KINDS", "PLACE_KINDS", "Point", "preferred_of", "ExchangeError",
    "GENDER_CODES", "detect_format", "dump_vcards", "parse_bool", "parse_date", "parse_gender", "parse_language",
    "parse_vcards", "read_csv", "read_records", "split_prefix", "write_csv",
]
