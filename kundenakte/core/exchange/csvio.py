"""CSV reading and writing in the layouts of Outlook (de/en), Google Contacts, Thunderbird and our own.

Reading: the layout is chosen by the headers (or ``mapping``): ``outlook`` (German or English
headers), ``google`` (current and older layout), ``thunderbird`` and ``kundenakte`` (our former
export). Every column with a value is either mapped to the record (all e-mail addresses, phone
numbers, websites and addresses with their kinds, birthday, notes, nickname, department, ...) or
named in the record's ``not_kept``. Encodings: UTF-8 with or without BOM, UTF-16 (with BOM, or
without, as Google's "Outlook CSV" writes it), else cp1252. Delimiter: ``;``, ``,`` or tab,
whichever splits the header line into the most columns. Quoted fields may hold newlines.

Writing (:func:`write_csv`): ``outlook-de`` / ``outlook-en`` – the 92 columns Outlook writes, in its
order, cp1252, comma, every field quoted, CRLF; ``google`` – the current Google Contacts layout,
UTF-8, comma. What a layout cannot hold (a fourth e-mail address in Outlook, the gender in Google,
a character outside cp1252) is named per record in ``lost``: the export says so instead of dropping
it silently.

Formula injection (CSV injection): spreadsheet programs execute a cell that starts with ``=``,
``+``, ``-`` or ``@`` (and tab/CR tricks). :func:`neutralise` puts an apostrophe in front of such a
cell – except a plausible phone number (``+`` then only digits, spaces and ``()/.-``), which cannot
call a function and which Outlook and Google would otherwise import with the apostrophe. A cell
that already starts with apostrophes followed by such a character gets one more, so that
:func:`restore` – applied to every layout when reading – removes exactly the one added
("=1+1" -> "'=1+1" -> "=1+1"; "'=x" -> "''=x" -> "'=x"; "+49 30 1234" stays as it is).
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Callable, Iterable
from datetime import date
from typing import IO

from kundenakte.core.exchange import (
    Address,
    ContactRecord,
    ExchangeError,
    Point,
    parse_bool,
    parse_date,
    parse_gender,
    parse_language,
    preferred_of,
    split_prefix,
)
from kundenakte.core.exchange.csvlayouts import (
    GOOGLE_ADDRESS_PARTS,
    GOOGLE_DEFAULT_LABELS,
    GOOGLE_HEAD,
    GOOGLE_PHONE_LABELS,
    GOOGLE_PLACE_LABELS,
    OUTLOOK_ADDRESSES,
    OUTLOOK_ALIASES,
    OUTLOOK_DE,
    OUTLOOK_DE_NAMES,
    OUTLOOK_DEFAULTS_DE,
    OUTLOOK_DEFAULTS_EN,
    OUTLOOK_EMAILS,
    OUTLOOK_EN,
    OUTLOOK_GENDER,
    OUTLOOK_PHONE_SLOTS,
    OUTLOOK_PHONES,
)
from kundenakte.core.exchange.vcard import decode_bytes

FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
_NEEDS_QUOTE = re.compile(r"'*[=+\-@\t\r]")  # .match() anchors at the start (or pos)
_PHONE = re.compile(r"\+[0-9][0-9 ()/.\-]*\Z")  # "+49 30 1234-5": no letters, no second operator

# Our former export: field -> header. The order is the column order. It holds one e-mail address,
# one phone number and one address; read for old files, written only by the benchmark.
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
MAPPINGS = ("outlook", "google", "thunderbird", "kundenakte")
LAYOUTS = ("outlook-de", "outlook-en", "google")  # what write_csv writes for other programs

# Headers that only one layout has; they decide the auto-detection.
_MARKERS = {
    "kundenakte": {"Firmenadresse verwenden", "Briefanrede", "Firma PLZ", "Kundenbetreuer"},
    "outlook": {"E-Mail-Adresse", "Telefon geschäftlich", "Straße geschäftlich", "Postleitzahl geschäftlich",
                "Ort geschäftlich", "E-mail Address", "Business Phone", "Business Street", "Weitere Vornamen"},
    "google": {"E-mail 1 - Value", "Organization Name", "Organization 1 - Name", "Given Name", "Family Name",
               "Phone 1 - Value", "Address 1 - Street"},
    "thunderbird": {"Primary Email", "Secondary Email", "Work ZipCode", "Home ZipCode", "Mobile Number",
                    "Web Page 1", "Fax Number"},
}


def _addresses_to_write(rec: ContactRecord, lost: list[str]) -> list[Address]:
    """The contact's own addresses, the company's first when the contact uses it (then it is the
    contact's business address in the target program); a company address it does not use is lost."""
    addresses = list(rec.addresses)
    if rec.use_company_address and rec.company_name and rec.has_company_address():
        street, _, extra = rec.company_street.partition("\n")
        addresses.insert(0, Address("work", street, extra, rec.company_postal_code, rec.company_city,
                                    rec.company_country))
    elif rec.has_company_address():
        lost.append("Firmenadresse")
    return addresses


def _norm(header: str) -> str:
    return " ".join(header.replace("\ufeff", "").strip().strip('"').casefold().split())


def neutralise(value: str) -> str:
    """Defuse a spreadsheet formula by a leading apostrophe; plausible phone numbers stay (module doc)."""
    if not value or not _NEEDS_QUOTE.match(value) or _PHONE.match(value):
        return value
    return "'" + value


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
    scores = {name: sum(1 for m in markers if _norm(m) in present) for name, markers in _MARKERS.items()}
    best = max(scores, key=lambda k: scores[k])
    if scores[best] == 0:
        raise ExchangeError(
            "CSV-Format nicht erkannt (Spalten: " + ", ".join(headers[:8]) + "). "
            "Bitte --mapping outlook, google, thunderbird oder kundenakte angeben."
        )
    return best


class _Row:
    """One data row: values by header; remembers which columns were used."""

    def __init__(self, headers: list[str], index: dict[str, int], cells: list[str]) -> None:
        self.headers, self.index, self.cells = headers, index, cells
        self.used: set[int] = set()
        self.not_kept: list[str] = []

    def get(self, *names: str) -> str:
        """The first non-empty value of these headers; every one of them present counts as read."""
        found = ""
        for name in names:
            i = self.index.get(_norm(name))
            if i is None or i >= len(self.cells):
                continue
            self.used.add(i)
            if not found:
                found = restore(self.cells[i].strip())
        return found

    def unused(self) -> list[str]:
        return [self.headers[i].strip().lstrip("\ufeff") for i, v in enumerate(self.cells)
                if i < len(self.headers) and i not in self.used and v.strip()]


def _birthday(rec: ContactRecord, row: _Row, value: str, label: str) -> None:
    born = parse_date(value)
    if isinstance(born, date):
        rec.birthday = born
    elif born:
        row.not_kept.append(label)


def _split_many(value: str) -> list[str]:
    """Google joins several values of one cell with " ::: "."""
    return [x.strip() for x in value.split(":::") if x.strip()]


def _report_display(row: _Row, rec: ContactRecord, shown: list[tuple[str, str]]) -> None:
    """A display name is derived from the name parts; one that says more is reported as not kept."""
    person = " ".join(x for x in (rec.title, rec.first_name, rec.last_name) if x)
    forms = {_norm(x) for x in (person, f"{rec.first_name} {rec.last_name}", f"{rec.last_name}, {rec.first_name}",
                                f"{rec.last_name} {rec.first_name}", rec.company_name, "")}
    for label, value in shown:
        if _norm(value) not in forms:
            row.not_kept.append(label)


def _read_outlook(row: _Row, rec: ContactRecord) -> None:
    def o(concept: str) -> str:
        value = row.get(concept, OUTLOOK_DE_NAMES[concept], *OUTLOOK_ALIASES.get(concept, ()))
        return "" if value in (OUTLOOK_DEFAULTS_EN.get(concept), OUTLOOK_DEFAULTS_DE.get(concept)) else value

    for concept in ("Priority", "Sensitivity", "Private", "Anniversary"):
        if not o(concept):
            continue  # the default: consumed
        row.used.discard(row.index.get(_norm(concept), -1))
        row.used.discard(row.index.get(_norm(OUTLOOK_DE_NAMES[concept]), -1))
    rec.first_name = " ".join(x for x in (o("First Name"), o("Middle Name")) if x)
    rec.last_name = o("Last Name")
    hint, rec.title = split_prefix(o("Title"))
    given = parse_gender(o("Gender"))
    rec.gender = given if given and given != "unknown" else (hint or given)
    rec.company_name, rec.department, rec.position = o("Company"), o("Department"), o("Job Title")
    rec.language = parse_language(o("Language"))
    rec.notes = o("Notes").replace("\r\n", "\n")  # Outlook writes CRLF inside the notes
    _birthday(rec, row, o("Birthday"), "Birthday")
    for prefix, kind in OUTLOOK_ADDRESSES:
        street = o(f"{prefix} Street")
        extra = ", ".join(x for x in (o(f"{prefix} Street 2"), o(f"{prefix} Street 3"),
                                      o(f"{'Other' if prefix == 'Other' else prefix} Address PO Box")) if x)
        adr = Address(kind, street, extra, o(f"{prefix} Postal Code"), o(f"{prefix} City"), o(f"{prefix} Country/Region"))
        if not adr.is_empty():
            rec.addresses.append(adr)
    for address_col, type_col, display_col, kind in OUTLOOK_EMAILS:
        value, etype = o(address_col), o(type_col)
        o(display_col)  # "Name (address)": how Outlook shows the address, derived from it
        if value and etype.upper() == "EX":  # an Exchange directory path, not an e-mail address
            row.not_kept.append(row.headers[row.index[_norm(address_col)]] if _norm(address_col) in row.index
                                else OUTLOOK_DE_NAMES[address_col])
        elif value:
            rec.emails.append(Point(value, kind))
    for column, kind in OUTLOOK_PHONES:
        value = o(column)
        if value:
            rec.phones.append(Point(value, kind))
    primary = o("Primary Phone")
    if primary:
        match = next((p for p in rec.phones if p.value == primary), None)
        if match:
            match.preferred = True
        else:
            rec.phones.insert(0, Point(primary, "work", True))
    rec.company_phone = o("Company Main Phone")
    web = o("Web Page")
    if web:
        rec.websites.append(Point(web, "work"))


def _google_label(label: str) -> tuple[str, bool]:
    """"* Work" -> ("work", True): Google marks the preferred entry with "* "."""
    preferred = label.startswith("*")
    return label.lstrip("* ").strip().casefold(), preferred


def _read_google(row: _Row, rec: ContactRecord) -> None:
    g = row.get
    shown = [(label, g(label)) for label in ("Name", "File As")]  # display forms, made of the parts below
    labels = g("Labels", "Group Membership")
    if labels and labels not in (GOOGLE_DEFAULT_LABELS, "* My Contacts"):
        row.not_kept.append("Labels" if _norm("Labels") in row.index else "Group Membership")
    rec.first_name = " ".join(x for x in (g("First Name", "Given Name"), g("Middle Name", "Additional Name")) if x)
    rec.last_name = g("Last Name", "Family Name")
    hint, rec.title = split_prefix(g("Name Prefix"))
    given = parse_gender(g("Gender"))
    rec.gender = given if given and given != "unknown" else (hint or given)
    rec.nickname = g("Nickname")
    rec.company_name = g("Organization Name", "Organization 1 - Name")
    rec.position = g("Organization Title", "Organization 1 - Title")
    rec.department = g("Organization Department", "Organization 1 - Department")
    rec.language = parse_language(g("Language"))
    rec.notes = g("Notes")
    _birthday(rec, row, g("Birthday"), "Birthday")
    _report_display(row, rec, shown)
    for n in range(1, 100):
        if not any(_norm(f"{what} {n} - Value") in row.index or _norm(f"Address {n} - Street") in row.index
                   for what in ("E-mail", "Phone", "Website")):
            break
        for what, target in (("E-mail", rec.emails), ("Phone", rec.phones), ("Website", rec.websites)):
            label, preferred = _google_label(g(f"{what} {n} - Label", f"{what} {n} - Type"))
            for value in _split_many(g(f"{what} {n} - Value")):
                if what == "Phone":
                    kind = ("fax" if "fax" in label else "mobile" if label == "mobile" else
                            label if label in ("work", "home", "pager") else "other")
                else:
                    kind = label if label in ("work", "home") else "other"
                target.append(Point(value, kind, preferred))
        label, preferred = _google_label(g(f"Address {n} - Label", f"Address {n} - Type"))
        parts = {part: g(f"Address {n} - {part}") for part in GOOGLE_ADDRESS_PARTS[1:]}
        formatted = parts.pop("Formatted")
        if parts.pop("Region"):
            row.not_kept.append(f"Address {n} - Region")
        street = parts["Street"] or ("" if any(parts.values()) else formatted)
        lines = [x.strip() for x in street.splitlines() if x.strip()]
        extra = ", ".join(x for x in (*lines[1:], parts["Extended Address"], parts["PO Box"]) if x)
        adr = Address(label if label in ("work", "home") else "other", lines[0] if lines else "", extra,
                      parts["Postal Code"], parts["City"], parts["Country"], preferred)
        if not adr.is_empty():
            rec.addresses.append(adr)


def _read_thunderbird(row: _Row, rec: ContactRecord) -> None:
    g = row.get
    rec.first_name, rec.last_name, rec.nickname = g("First Name"), g("Last Name"), g("Nickname")
    display = g("Display Name")
    if not (rec.first_name or rec.last_name) and display:
        *first, last = display.split()
        rec.first_name, rec.last_name = " ".join(first), last
    _report_display(row, rec, [("Display Name", display)])
    rec.position, rec.department, rec.company_name = g("Job Title"), g("Department"), g("Organization")
    rec.notes = g("Notes")
    for column, kind in (("Primary Email", "work"), ("Secondary Email", "home")):
        if g(column):
            rec.emails.append(Point(g(column), kind))
    for column, kind in (("Work Phone", "work"), ("Home Phone", "home"), ("Mobile Number", "mobile"),
                         ("Fax Number", "fax"), ("Pager Number", "pager")):
        if g(column):
            rec.phones.append(Point(g(column), kind))
    for prefix, kind in (("Work", "work"), ("Home", "home")):
        adr = Address(kind, g(f"{prefix} Address"), g(f"{prefix} Address 2"), g(f"{prefix} ZipCode"),
                      g(f"{prefix} City"), g(f"{prefix} Country"))
        if not adr.is_empty():
            rec.addresses.append(adr)
    for column, kind in (("Web Page 1", "work"), ("Web Page 2", "home")):
        if g(column):
            rec.websites.append(Point(g(column), kind))
    year, month, day = g("Birth Year"), g("Birth Month"), g("Birth Day")
    if year or month or day:
        _birthday(rec, row, f"{year}-{month.zfill(2)}-{day.zfill(2)}" if year else f"--{month}{day}", "Birth Year")


def _read_kundenakte(row: _Row, rec: ContactRecord) -> None:
    values = {key: row.get(header) for key, header in KUNDENAKTE_HEADERS.items()}
    for key, value in values.items():
        if key == "use_company_address":
            rec.use_company_address = parse_bool(value) if value else None
        elif key == "gender":
            rec.gender = parse_gender(value)
        elif key == "language":
            rec.language = parse_language(value)
        else:
            setattr(rec, key, value)
    rec.emails = [Point(rec.email, "work", True)] if rec.email else []
    rec.phones = [Point(rec.phone, "work", True)] if rec.phone else []
    street, _, extra = rec.street.partition("\n")
    adr = Address("work", street, extra, rec.postal_code, rec.city, rec.country, True)
    rec.addresses = [] if adr.is_empty() else [adr]


_READERS: dict[str, Callable[[_Row, ContactRecord], None]] = {
    "outlook": _read_outlook, "google": _read_google, "thunderbird": _read_thunderbird, "kundenakte": _read_kundenakte,
}
_NAME_COLUMNS = {"outlook": ("Last Name", "Nachname", "First Name", "Vorname"),
                 "google": ("Last Name", "Family Name", "First Name", "Given Name", "Organization Name",
                            "Organization 1 - Name"),
                 "thunderbird": ("Last Name", "First Name", "Display Name"),
                 "kundenakte": ("Nachname", "Vorname")}


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
    if mapping not in _READERS:
        raise ExchangeError(f"Unbekannte Zuordnung: {mapping} (outlook, google, thunderbird oder kundenakte)")
    index: dict[str, int] = {}
    for i, h in enumerate(headers):
        index.setdefault(_norm(h), i)
    if not any(_norm(name) in index for name in _NAME_COLUMNS[mapping]):
        raise ExchangeError(f"Die CSV-Datei hat keine Namensspalte für die Zuordnung „{mapping}“.")
    read = _READERS[mapping]
    records = []
    line = reader.line_num + 1
    for cells in reader:
        start, line = line, reader.line_num + 1
        if not any(cell.strip() for cell in cells):
            continue
        row = _Row(headers, index, cells)
        rec = ContactRecord(source=f"Zeile {start}")
        read(row, rec)
        for items in (rec.emails, rec.phones, rec.websites, rec.addresses):
            if items and not any(x.preferred for x in items):
                items[0].preferred = True
        if not (rec.first_name or rec.last_name) and rec.company_name and mapping != "kundenakte":
            rec.is_company = True
        rec.not_kept = list(dict.fromkeys(row.not_kept + row.unused()))
        rec.sync()
        records.append(rec)
    return records


# -- writing -------------------------------------------------------------------------------------


def _take_slots(items: list[Point], slots: dict[str, tuple[str, ...]], label: str, lost: list[str]) -> dict[str, str]:
    """Put each entry into the next free column of its kind; name what does not fit in ``lost``."""
    free = {kind: list(columns) for kind, columns in slots.items()}
    out: dict[str, str] = {}
    for item in items:
        columns = free.get(item.kind) or free.get("other") or []
        if not columns:
            lost.append(f"{label} {item.value}")
            continue
        out[columns.pop(0)] = item.value
    return out


def _ordered(items: list[Point]) -> list[Point]:
    """The preferred entry first (layouts without a preference mark take the first as preferred)."""
    best = preferred_of(items)
    return [best, *[x for x in items if x is not best]] if best else []


def outlook_row(rec: ContactRecord, lang: str, lost: list[str]) -> dict[str, str]:
    """A record in the English-named Outlook columns (the German layout renames them)."""
    defaults = OUTLOOK_DEFAULTS_DE if lang == "de" else OUTLOOK_DEFAULTS_EN
    row = dict(defaults)
    row.update({"Title": rec.title, "First Name": rec.first_name, "Last Name": rec.last_name,
                "Company": rec.company_name, "Department": rec.department, "Job Title": rec.position,
                "Notes": rec.notes, "Language": rec.language, "Company Main Phone": rec.company_phone})
    row["Gender"] = OUTLOOK_GENDER[lang].get(rec.gender, defaults["Gender"])
    if rec.gender == "diverse":
        lost.append("Geschlecht divers")
    if rec.birthday:
        b = rec.birthday
        row["Birthday"] = f"{b.day}.{b.month}.{b.year}" if lang == "de" else f"{b.month}/{b.day}/{b.year}"
    addresses = _addresses_to_write(rec, lost)
    free = {kind: prefix for prefix, kind in OUTLOOK_ADDRESSES}
    for adr in addresses:
        prefix = free.pop(adr.kind, None) or free.pop("other", None)
        if prefix is None:
            lost.append("Adresse " + ", ".join(x for x in adr.parts() if x))
            continue
        row.update({f"{prefix} Street": adr.street, f"{prefix} Street 2": adr.extra,
                    f"{prefix} Postal Code": adr.postal_code, f"{prefix} City": adr.city,
                    f"{prefix} Country/Region": adr.country})
    emails = _ordered(rec.emails)
    full = " ".join(x for x in (rec.first_name, rec.last_name) if x)
    for (address_col, type_col, display_col, _kind), point in zip(OUTLOOK_EMAILS, emails, strict=False):
        row.update({address_col: point.value, type_col: "SMTP",
                    display_col: f"{full} ({point.value})" if full else point.value})
    lost.extend(f"E-Mail {p.value}" for p in emails[3:])
    row.update(_take_slots(rec.phones, dict(OUTLOOK_PHONE_SLOTS), "Telefon", lost))
    best = preferred_of(rec.phones)
    if best is not None and len(rec.phones) > 1:
        row["Primary Phone"] = best.value
    sites = _ordered(rec.websites)
    if sites:
        row["Web Page"] = sites[0].value
    lost.extend(f"Website {p.value}" for p in sites[1:])
    for label, value in (("Spitzname", rec.nickname), ("Briefanrede", rec.salutation_override),
                         ("Kundenbetreuer", rec.account_manager), ("Firma E-Mail", rec.company_email),
                         ("Firma Web", rec.company_web), ("Firma USt-IdNr.", rec.company_vat_id)):
        if value:
            lost.append(label)
    return row


def google_counts(rec: ContactRecord) -> tuple[int, int, int, int]:
    """How many e-mail, phone, address and website column groups this record needs in Google's layout."""
    addresses = len(rec.addresses) + (1 if rec.use_company_address and rec.has_company_address() else 0)
    return len(rec.emails), len(rec.phones), addresses, len(rec.websites)


def google_headers(counts: tuple[int, int, int, int]) -> list[str]:
    emails, phones, addresses, websites = (max(n, 1) for n in counts)
    headers = list(GOOGLE_HEAD)
    headers += [f"E-mail {n} - {x}" for n in range(1, emails + 1) for x in ("Label", "Value")]
    headers += [f"Phone {n} - {x}" for n in range(1, phones + 1) for x in ("Label", "Value")]
    headers += [f"Address {n} - {x}" for n in range(1, addresses + 1) for x in GOOGLE_ADDRESS_PARTS]
    headers += [f"Website {n} - {x}" for n in range(1, websites + 1) for x in ("Label", "Value")]
    return headers


def google_row(rec: ContactRecord, lost: list[str]) -> dict[str, str]:
    row = {"First Name": rec.first_name, "Last Name": rec.last_name, "Name Prefix": rec.title,
           "Nickname": rec.nickname, "Organization Name": rec.company_name, "Organization Title": rec.position,
           "Organization Department": rec.department, "Notes": rec.notes, "Labels": GOOGLE_DEFAULT_LABELS,
           "Birthday": rec.birthday.isoformat() if rec.birthday else ""}

    def mark(label: str, preferred: bool) -> str:
        return ("* " if preferred else "") + label

    for what, items, labels in (("E-mail", rec.emails, GOOGLE_PLACE_LABELS), ("Phone", rec.phones, GOOGLE_PHONE_LABELS),
                                ("Website", rec.websites, GOOGLE_PLACE_LABELS)):
        best = preferred_of(items)
        for n, item in enumerate(items, 1):
            row[f"{what} {n} - Label"] = mark(labels.get(item.kind, "Other"), item is best)
            row[f"{what} {n} - Value"] = item.value
    addresses = _addresses_to_write(rec, lost)
    best_adr = preferred_of(rec.addresses)
    for n, adr in enumerate(addresses, 1):
        formatted = "\n".join(x for x in (adr.street, adr.extra, f"{adr.postal_code} {adr.city}".strip(), adr.country) if x)
        row.update({f"Address {n} - Label": mark(GOOGLE_PLACE_LABELS.get(adr.kind, "Other"), adr is best_adr),
                    f"Address {n} - Formatted": formatted, f"Address {n} - Street": adr.street,
                    f"Address {n} - City": adr.city, f"Address {n} - Postal Code": adr.postal_code,
                    f"Address {n} - Country": adr.country, f"Address {n} - Extended Address": adr.extra})
    for label, value in (("Geschlecht", rec.gender if rec.gender not in ("", "unknown") else ""),
                         ("Sprache", rec.language), ("Briefanrede", rec.salutation_override),
                         ("Kundenbetreuer", rec.account_manager), ("Firma Telefon", rec.company_phone),
                         ("Firma E-Mail", rec.company_email), ("Firma Web", rec.company_web),
                         ("Firma USt-IdNr.", rec.company_vat_id)):
        if value:
            lost.append(label)
    return row


def record_row(rec: ContactRecord) -> list[str]:
    """A record in our former layout (one e-mail, phone and address)."""
    row = []
    for key in KUNDENAKTE_HEADERS:
        value = getattr(rec, key)
        if key == "gender":
            value = GENDER_LABELS.get(value or "unknown", "unbekannt")
        elif key == "use_company_address":
            value = "ja" if value in (None, True) else "nein"
        row.append(neutralise(value or ""))
    return row


def write_csv(records: Iterable[ContactRecord], out: IO[str], *, layout: str = "kundenakte", delimiter: str = ";",
              google_columns: tuple[int, int, int, int] = (1, 1, 1, 1),
              lost: dict[str, list[str]] | None = None) -> int:
    """Write ``records`` in ``layout``; returns the number of rows.

    ``outlook-de``/``outlook-en``/``google`` ignore ``delimiter`` (comma, as those programs write);
    ``google_columns`` is the number of e-mail, phone, address and website groups (the maxima over
    all records, see :func:`google_counts`). ``lost`` receives, per record source, what the layout
    could not hold. Open ``out`` with ``newline=""``; the encoding is the caller's (cp1252 for
    Outlook, UTF-8 for Google, UTF-8 with BOM for our own layout).
    """
    lost = lost if lost is not None else {}
    if layout == "kundenakte":
        writer = csv.writer(out, delimiter=delimiter, lineterminator="\r\n", quoting=csv.QUOTE_MINIMAL)
        writer.writerow(KUNDENAKTE_HEADERS.values())
        n = 0
        for rec in records:
            extra = len(rec.emails[1:]) + len(rec.phones[1:]) + len(rec.addresses[1:]) + len(rec.websites)
            if extra:
                lost.setdefault(rec.source, []).append(f"{extra} weitere E-Mail/Telefon/Adresse/Website")
            writer.writerow(record_row(rec))
            n += 1
        return n
    if layout not in LAYOUTS:
        raise ValueError(f"Unbekanntes CSV-Layout: {layout} ({', '.join(LAYOUTS)})")
    # Outlook quotes every field; Google only where needed
    writer = (csv.writer(out, delimiter=",", lineterminator="\r\n", quoting=csv.QUOTE_ALL) if layout.startswith("outlook")
              else csv.writer(out, delimiter=",", lineterminator="\r\n", quoting=csv.QUOTE_MINIMAL))
    if layout == "google":
        headers = google_headers(google_columns)
        writer.writerow(headers)
    else:
        lang = layout.rsplit("-", 1)[1]
        headers = list(OUTLOOK_EN)
        writer.writerow(OUTLOOK_DE if lang == "de" else OUTLOOK_EN)
    n = 0
    for rec in records:
        problems: list[str] = []
        values = google_row(rec, problems) if layout == "google" else outlook_row(rec, lang, problems)
        cells = [neutralise(values.get(h, "")) for h in headers]
        if layout == "outlook-de":  # the German layout's order differs: rename, then reorder
            by_de = {OUTLOOK_DE_NAMES[h]: c for h, c in zip(headers, cells, strict=True)}
            cells = [by_de[h] for h in OUTLOOK_DE]
        if layout.startswith("outlook"):
            fixed = [c.encode("cp1252", errors="replace").decode("cp1252") for c in cells]
            if fixed != cells:
                problems.append("Zeichen außerhalb von Windows-1252 (als „?“ geschrieben)")
            cells = fixed
        if problems:
            lost.setdefault(rec.source, []).extend(problems)
        writer.writerow(cells)
        n += 1
    return n
