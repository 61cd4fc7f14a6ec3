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

from dataclasses import dataclass, field, fields

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


@dataclass
class ContactRecord:
    """One contact as read from or written to a file, company fields inline."""

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
    # Where the record came from ("Zeile 4", "Karte 2"), for messages; not data.
    source: str = field(default="", compare=False)

    def has_own_address(self) -> bool:
        return any((self.street, self.postal_code, self.city, self.country))

    def has_company_address(self) -> bool:
        return any((self.company_street, self.company_postal_code, self.company_city, self.company_country))

    def cleaned(self) -> ContactRecord:
        """Strip surrounding whitespace from every text field (a new record)."""
        values = dict(self.__dict__)
        for name in _TEXT_FIELDS:
            v = values[name]
            if v and (v[0].isspace() or v[-1].isspace()):
                values[name] = v.strip()
        return ContactRecord(**values)


DATA_FIELDS = tuple(f.name for f in fields(ContactRecord) if f.name != "source")
_TEXT_FIELDS = tuple(f.name for f in fields(ContactRecord) if f.name not in ("source", "use_company_address"))


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
    "ContactRecord", "DATA_FIELDS", "ExchangeError", "GENDER_CODES", "detect_format", "dump_vcards",
    "parse_bool", "parse_gender", "parse_language", "parse_vcards", "read_csv", "read_records", "split_prefix",
    "write_csv",
]
