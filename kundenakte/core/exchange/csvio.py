"""CSV reading with header presets and CSV writing with our own headers.

Presets map each record field to the header names that may carry it (first non-empty column
wins, so "Telefon geschäftlich" beats "Mobiltelefon"):

* ``outlook``    – Outlook's CSV export, German and English headers;
* ``google``     – Google Contacts, current ("First Name", "E-mail 1 - Value") and older
  ("Given Name", "Organization 1 - Name") headers;
* ``kundenakte`` – our own export (:data:`KUNDENAKTE_HEADERS`).

Without ``mapping`` the preset is chosen by the headers present. Encodings: UTF-8 with or without
BOM, UTF-16 with BOM (Outlook's "Unicode" export), else cp1252. Delimiter: ``;``, ``,`` or tab,
whichever splits the header line into the most columns. Quoted fields may hold newlines.

Formula injection (CSV injection): spreadsheet programs execute a cell that starts with ``=``,
``+``, ``-`` or ``@`` (and tab/CR tricks). :func:`neutralise` puts an apostrophe in front of such a
cell on export, and also in front of a cell that already starts with apostrophes followed by such a
character, so that :func:`restore` – applied when reading the ``kundenakte`` preset – removes
exactly one apostrophe and a round trip is lossless ("=1+1" -> "'=1+1" -> "=1+1"; "'=x" -> "''=x"
-> "'=x"). Foreign presets are read verbatim.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterable
from typing import IO

from kundenakte.core.exchange import (
    ContactRecord,
    ExchangeError,
    parse_bool,
    parse_gender,
    parse_language,
    split_prefix,
)
from kundenakte.core.exchange.vcard import decode_bytes

FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
_NEEDS_QUOTE = re.compile(r"'*[=+\-@\t\r]")  # .match() anchors at the start (or pos)

# Our own export: field -> header. The order is the column order.
KUNDENAKTE_HEADERS: dict[str, str] = {
    "gender": "Geschlecht",
    "title": "Titel",
    "first_name": "Vorname",
    "last_name": "Nachname",
    "salutation_override": "Briefanrede",
    "language": "Sprache",
    "company_name": "Firma",
    "position": "Position",
    "email": "E-Mail",
    "phone": "Telefon",
    "use_company_address": "Firmenadresse verwenden",
    "street": "Straße",
    "postal_code": "PLZ",
    "city": "Ort",
    "country": "Land",
    "account_manager": "Kundenbetreuer",
    "company_street": "Firma Straße",
    "company_postal_code": "Firma PLZ",
    "company_city": "Firma Ort",
    "company_country": "Firma Land",
    "company_phone": "Firma Telefon",
    "company_email": "Firma E-Mail",
    "company_web": "Firma Web",
    "company_account_manager": "Firma Kundenbetreuer",
}
GENDER_LABELS = {"female": "weiblich", "male": "männlich", "diverse": "divers", "unknown": "unbekannt"}

PRESETS: dict[str, dict[str, list[str]]] = {
    "kundenakte": {k: [v] for k, v in KUNDENAKTE_HEADERS.items()},
    "outlook": {
        "salutation": ["Anrede", "Title"],
        "first_name": ["Vorname", "First Name"],
        "middle_name": ["Weitere Vornamen", "Middle Name"],
        "last_name": ["Nachname", "Last Name"],
        "gender": ["Geschlecht", "Gender"],
        "company_name": ["Firma", "Company"],
        "position": ["Position", "Job Title"],
        "email": ["E-Mail-Adresse", "E-mail Address", "E-Mail 2: Adresse", "E-mail 2 Address",
                  "E-Mail 3: Adresse", "E-mail 3 Address"],
        "phone": ["Telefon geschäftlich", "Business Phone", "Telefon geschäftlich 2", "Business Phone 2",
                  "Mobiltelefon", "Mobile Phone", "Telefon privat", "Home Phone"],
        "street": ["Straße geschäftlich", "Business Street"],
        "postal_code": ["Postleitzahl geschäftlich", "Business Postal Code"],
        "city": ["Ort geschäftlich", "Business City"],
        "country": ["Land/Region geschäftlich", "Land geschäftlich", "Business Country/Region", "Business Country"],
        "company_phone": ["Telefon Firma", "Company Main Phone"],
        "company_web": ["Webseite", "Web Page"],
        "language": ["Sprache", "Language"],
    },
    "google": {
        "salutation": ["Name Prefix"],
        "first_name": ["First Name", "Given Name"],
        "middle_name": ["Middle Name", "Additional Name"],
        "last_name": ["Last Name", "Family Name"],
        "gender": ["Gender"],
        "company_name": ["Organization Name", "Organization 1 - Name"],
        "position": ["Organization Title", "Organization 1 - Title"],
        "email": ["E-mail 1 - Value", "E-mail 2 - Value", "E-mail 3 - Value"],
        "phone": ["Phone 1 - Value", "Phone 2 - Value", "Phone 3 - Value"],
        "street": ["Address 1 - Street"],
        "postal_code": ["Address 1 - Postal Code"],
        "city": ["Address 1 - City"],
        "country": ["Address 1 - Country"],
        "company_web": ["Website 1 - Value"],
        "language": ["Language"],
    },
}
# Headers that only one preset has; they decide the auto-detection.
_MARKERS = {
    "kundenakte": {"Firmenadresse verwenden", "Briefanrede", "Firma PLZ", "Kundenbetreuer"},
    "outlook": {"E-Mail-Adresse", "Telefon geschäftlich", "Straße geschäftlich", "Postleitzahl geschäftlich",
                "Ort geschäftlich", "E-mail Address", "Business Phone", "Business Street", "Weitere Vornamen"},
    "google": {"E-mail 1 - Value", "Organization Name", "Organization 1 - Name", "Given Name", "Family Name",
               "Phone 1 - Value", "Address 1 - Street"},
}


def _norm(header: str) -> str:
    return " ".join(header.replace("\ufeff", "").strip().strip('"').casefold().split())


def neutralise(value: str) -> str:
    """Defuse a spreadsheet formula by a leading apostrophe (see the module doc)."""
    return "'" + value if value and _NEEDS_QUOTE.match(value) else value


def restore(value: str) -> str:
    """Undo :func:`neutralise`: remove exactly the one apostrophe it added."""
    return value[1:] if value[:1] == "'" and _NEEDS_QUOTE.match(value, 1) else value


def sniff_delimiter(text: str) -> str:
    first = text.split("\n", 1)[0]
    best, best_n = ",", 0
    for delim in (";", ",", "\t"):
        try:
            n = len(next(csv.reader([first], delimiter=delim)))
        except (csv.Error, StopIteration):
            continue
        if n > best_n:
            best, best_n = delim, n
    return best


def detect_mapping(headers: list[str]) -> str:
    present = {_norm(h) for h in headers}
    scores = {}
    for name, markers in _MARKERS.items():
        scores[name] = sum(1 for m in markers if _norm(m) in present)
    best = max(scores, key=lambda k: scores[k])
    if scores[best] == 0:
        raise ExchangeError(
            "CSV-Format nicht erkannt (Spalten: " + ", ".join(headers[:8]) + "). "
            "Bitte --mapping outlook, google oder kundenakte angeben."
        )
    return best


def _first(row: list[str], columns: list[int]) -> str:
    for i in columns:
        if i < len(row) and row[i].strip():
            return row[i].strip()
    return ""


def row_to_record(values: dict[str, str], mapping: str, source: str) -> ContactRecord:
    rec = ContactRecord(source=source)
    if mapping == "kundenakte":
        values = {k: restore(v) for k, v in values.items()}
        for key in KUNDENAKTE_HEADERS:
            if key == "use_company_address":
                rec.use_company_address = parse_bool(values.get(key)) if values.get(key, "").strip() else None
            elif key == "gender":
                rec.gender = parse_gender(values.get(key))
            elif key == "language":
                rec.language = parse_language(values.get(key))
            else:
                setattr(rec, key, values.get(key, "").strip())
        return rec
    for key in ("first_name", "last_name", "company_name", "position", "phone", "street", "postal_code", "city",
                "country", "company_phone", "company_web"):
        setattr(rec, key, values.get(key, ""))
    if values.get("middle_name"):
        rec.first_name = " ".join(x for x in (rec.first_name, values["middle_name"]) if x)
    # Google joins several values of one cell with " ::: ".
    rec.email = values.get("email", "").split(":::")[0].strip()
    rec.phone = rec.phone.split(":::")[0].strip()
    hint, rec.title = split_prefix(values.get("salutation", ""))
    given = parse_gender(values.get("gender"))
    rec.gender = given if given and given != "unknown" else (hint or given)
    rec.language = parse_language(values.get("language"))
    return rec


def read_csv(data: bytes | str, *, mapping: str | None = None) -> list[ContactRecord]:
    text = decode_bytes(data) if isinstance(data, bytes) else data.lstrip("\ufeff")
    if not text.strip():
        return []
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=sniff_delimiter(text))
    try:
        headers = next(reader)
    except StopIteration:
        return []
    if mapping in (None, "", "auto"):
        mapping = detect_mapping(headers)
    if mapping not in PRESETS:
        raise ExchangeError(f"Unbekannte Zuordnung: {mapping} (outlook, google oder kundenakte)")
    index: dict[str, int] = {}
    for i, h in enumerate(headers):
        index.setdefault(_norm(h), i)
    columns = {
        key: [index[_norm(name)] for name in names if _norm(name) in index]
        for key, names in PRESETS[mapping].items()
    }
    if not columns.get("last_name") and not columns.get("first_name"):
        raise ExchangeError(f"Die CSV-Datei hat keine Namensspalte für die Zuordnung „{mapping}“.")
    records = []
    line = reader.line_num + 1
    for row in reader:
        start, line = line, reader.line_num + 1
        if not any(cell.strip() for cell in row):
            continue
        values = {key: _first(row, cols) if mapping != "kundenakte" else (row[cols[0]] if cols and cols[0] < len(row) else "")
                  for key, cols in columns.items()}
        records.append(row_to_record(values, mapping, source=f"Zeile {start}"))
    return records


def record_row(rec: ContactRecord) -> list[str]:
    row = []
    for key in KUNDENAKTE_HEADERS:
        value = getattr(rec, key)
        if key == "gender":
            value = GENDER_LABELS.get(value or "unknown", "unbekannt")
        elif key == "use_company_address":
            value = "ja" if value in (None, True) else "nein"
        row.append(neutralise(value or ""))
    return row


def write_csv(records: Iterable[ContactRecord], out: IO[str], *, delimiter: str = ";") -> int:
    """Our own headers, ``;`` (what German Excel expects), CRLF; returns the number of rows.

    Open ``out`` with ``newline=""`` and ``encoding="utf-8-sig"`` so Excel recognises UTF-8.
    """
    writer = csv.writer(out, delimiter=delimiter, lineterminator="\r\n", quoting=csv.QUOTE_MINIMAL)
    writer.writerow(KUNDENAKTE_HEADERS.values())
    n = 0
    for rec in records:
        writer.writerow(record_row(rec))
        n += 1
    return n
