"""vCard reading (2.1, 3.0, 4.0) and writing (3.0, 4.0), hand-written after RFC 2426 and RFC 6350.

Reading
    * any number of cards per file (a naive parser that stops after the first END:VCARD loses the
      rest, cf. SuiteCRM #2620); nested cards (2.1 AGENT) are skipped;
    * folded lines (CRLF or LF followed by a space or tab), 2.1 quoted-printable soft line breaks,
      ``ENCODING=QUOTED-PRINTABLE`` with ``CHARSET``, group prefixes (``item1.EMAIL``), bare 2.1
      type parameters (``TEL;WORK;VOICE``), quoted parameter values;
    * the file's encoding: UTF-8 (with or without BOM), UTF-16 with BOM, else cp1252.

Mapping to :class:`ContactRecord`
    N family;given;additional;prefix;suffix – the prefix is the title ("Dr."), salutation words in it
    ("Herr", "Frau") give the gender; FN is used when N is empty. GENDER (4.0) or X-GENDER:
    F→female, M→male, O→diverse, N/U→unknown. ORG (first component) is the company, TITLE (else
    ROLE) the position. EMAIL/TEL/ADR: the one typed ``work`` wins, then ``pref``, then the first.
    LANG (4.0) / X-KUNDENAKTE-LANG. Our own extensions ``X-KUNDENAKTE-*`` carry what vCard has no
    property for (letter salutation, company master data, account manager, "use company address"),
    so an export imports back without loss.

Writing
    CRLF line ends, UTF-8, lines folded at 75 octets (never inside a UTF-8 sequence), text escaped
    (``\\`` ``,`` ``;`` and newlines). 4.0 writes GENDER and LANG; 3.0 has neither and writes
    X-GENDER and X-KUNDENAKTE-LANG instead.
"""

from __future__ import annotations

import quopri
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from kundenakte.core.exchange import (
    GENDER_CODES,
    Address,
    ContactRecord,
    Point,
    parse_bool,
    parse_date,
    parse_gender,
    parse_language,
    preferred_of,
    split_prefix,
)

# -- reading -------------------------------------------------------------------------------------


def decode_bytes(data: bytes) -> str:
    """UTF-8 (BOM optional), UTF-16 with BOM, else cp1252 (latin-1 for its five undefined bytes)."""
    if data.startswith(b"\xef\xbb\xbf"):
        return data[3:].decode("utf-8", errors="replace")
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        return data.decode("utf-16")
    head = data[:200]
    if len(head) >= 2 and head.count(0) * 3 >= len(head):  # UTF-16 without BOM (Roundcube's sample)
        return data.decode("utf-16-be" if head[0] == 0 else "utf-16-le", errors="replace")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        try:
            return data.decode("cp1252")
        except UnicodeDecodeError:
            return data.decode("latin-1")


@dataclass
class Property:
    name: str  # upper case, group removed
    params: dict[str, list[str]] = field(default_factory=dict)  # upper-case keys
    value: str = ""  # raw (still escaped) unless decoded from quoted-printable
    line: int = 0
    group: str = ""  # "item1" of item1.EMAIL (Apple ties X-ABLabel to its entry so)
    types: set[str] = field(default_factory=set)  # lower case TYPE values, set by parse_property
    preferred: bool = False  # TYPE=pref (2.1/3.0) or a PREF parameter (4.0)

    @property
    def text(self) -> str:
        return unescape(self.value).strip()


def _split_unquoted(text: str, sep: str) -> list[str]:
    """Split at ``sep`` outside double quotes."""
    if '"' not in text:  # the common case, and the hot path of a large import
        return text.split(sep)
    parts: list[str] = []
    buf: list[str] = []
    quoted = False
    for ch in text:
        if ch == '"':
            quoted = not quoted
            buf.append(ch)
        elif ch == sep and not quoted:
            parts.append("".join(buf))
            buf = []
        else:
            buf.append(ch)
    parts.append("".join(buf))
    return parts


def _find_value_colon(line: str) -> int:
    first = line.find(":")
    if first < 0 or '"' not in line[:first]:
        return first
    quoted = False
    for i, ch in enumerate(line):
        if ch == '"':
            quoted = not quoted
        elif ch == ":" and not quoted:
            return i
    return -1


def parse_property(line: str, lineno: int = 0) -> Property | None:
    colon = _find_value_colon(line)
    if colon < 0:
        return None
    head, value = line[:colon], line[colon + 1:]
    parts = _split_unquoted(head, ";")
    name = parts[0].strip().upper()
    group = ""
    if "." in name:  # group prefix: item1.EMAIL
        group, name = name.rsplit(".", 1)
    params: dict[str, list[str]] = {}
    for p in parts[1:]:
        key, eq, raw = p.partition("=")
        if eq:
            key = key.strip().upper()
            values = [v.strip().strip('"') for v in _split_unquoted(raw, ",")] if "," in raw or '"' in raw else [raw.strip()]
        elif not p.strip():
            continue
        else:  # vCard 2.1 bare parameter: TEL;WORK;VOICE
            key, values = "TYPE", [p.strip()]
        if key == "TYPE" and any("," in v for v in values):  # TYPE="work,voice"
            values = [v for raw_v in values for v in raw_v.split(",")]
        params.setdefault(key, []).extend(v for v in values if v)
    types = {t.lower() for t in params.get("TYPE", ())}
    prop = Property(name=name, params=params, value=value, line=lineno, group=group, types=types,
                    preferred="pref" in types or "PREF" in params)
    if "quoted-printable" in types or "QUOTED-PRINTABLE" in {e.upper() for e in params.get("ENCODING", ())}:
        charset = (params.get("CHARSET") or ["utf-8"])[0]
        raw_bytes = quopri.decodestring(value.encode("latin-1", errors="replace"))
        try:
            prop.value = raw_bytes.decode(charset)
        except (LookupError, UnicodeDecodeError):
            prop.value = raw_bytes.decode("cp1252", errors="replace")
    return prop


def _is_qp_start(line: str) -> bool:
    if "uoted" not in line and "UOTED" not in line:  # cheap test first: most lines are not quoted-printable
        return False
    colon = _find_value_colon(line)
    return colon >= 0 and "QUOTED-PRINTABLE" in line[:colon].upper()


def unfold(text: str) -> Iterator[tuple[int, str]]:
    """Logical lines with the number of their first physical line (1-based)."""
    current: list[str] = []
    start = 0
    qp = False
    for number, raw in enumerate(re.split(r"\r\n|\n|\r", text), 1):
        if current and raw[:1] in (" ", "\t"):
            current.append(raw[1:])
            continue
        if current and qp and current[-1].endswith("="):
            current[-1] = current[-1][:-1]  # quoted-printable soft line break
            current.append(raw)
            continue
        if current:
            yield start, "".join(current)
        if not raw.strip():
            current = []
            qp = False
            continue
        current, start = [raw], number
        qp = _is_qp_start(raw)
    if current:
        yield start, "".join(current)


def unescape(value: str) -> str:
    if "\\" not in value:
        return value
    out: list[str] = []
    i = 0
    while i < len(value):
        ch = value[i]
        if ch == "\\" and i + 1 < len(value):
            nxt = value[i + 1]
            out.append("\n" if nxt in "nN" else nxt)
            i += 2
            continue
        out.append(ch)
        i += 1
    return "".join(out)


def split_escaped(value: str, sep: str = ";") -> list[str]:
    """Split a raw value at unescaped ``sep``; the parts stay escaped."""
    if "\\" not in value:
        return value.split(sep)
    parts: list[str] = []
    buf: list[str] = []
    i = 0
    while i < len(value):
        ch = value[i]
        if ch == "\\" and i + 1 < len(value):
            buf.append(value[i:i + 2])
            i += 2
            continue
        if ch == sep:
            parts.append("".join(buf))
            buf = []
        else:
            buf.append(ch)
        i += 1
    parts.append("".join(buf))
    return parts


def components(value: str, count: int) -> list[str]:
    """Structured value (N, ADR, ORG): unescaped components, list parts joined by a space."""
    parts = split_escaped(value, ";")
    parts += [""] * (count - len(parts))
    out = []
    for part in parts[:count]:
        items = [unescape(x).strip() for x in split_escaped(part, ",")]
        out.append(" ".join(x for x in items if x))
    return out


def iter_cards(text: str) -> Iterator[tuple[int, list[Property]]]:
    """Every top-level card as (first line number, properties)."""
    depth = 0
    props: list[Property] = []
    start = 0
    for lineno, line in unfold(text):
        # only the ends of a line can mark a card (a long NOTE is not upper-cased for that)
        upper = line[:12].lstrip().upper()
        if upper.startswith("BEGIN:VCARD") or line.rstrip()[-12:].upper() == ":BEGIN:VCARD":
            upper = line.strip().upper()
            depth += 1
            if depth == 1:
                props, start = [], lineno
            elif depth == 2:  # a nested card (2.1 AGENT): not read, but reported as not kept
                props.append(Property(name=upper.split(":", 1)[0].split(";")[0].rsplit(".", 1)[-1] or "AGENT",
                                      value="BEGIN:VCARD", line=lineno))
            continue
        if upper.startswith("END:VCARD"):
            if depth == 1:
                yield start, props
            depth = max(depth - 1, 0)
            continue
        if depth == 1:
            prop = parse_property(line, lineno)
            if prop is not None:
                props.append(prop)
    if depth >= 1 and props:  # a last card without END:VCARD is still a card
        yield start, props


# Properties that describe the file or the card, not the person: consumed without a report.
META = {"VERSION", "PRODID", "REV", "X-MS-OL-DEFAULT-POSTAL-ADDRESS", "X-KUNDENAKTE-FORMAT"}
# Written since the address lists: its absence marks an older export, whose ADR was the company's
# address when the contact used it.
FORMAT_MARK = "X-KUNDENAKTE-FORMAT:2"
OWN_EXTENSIONS = {
    "X-KUNDENAKTE-SALUTATION": "salutation_override", "X-KUNDENAKTE-ACCOUNT-MANAGER": "account_manager",
    "X-KUNDENAKTE-COMPANY-TEL": "company_phone", "X-KUNDENAKTE-COMPANY-EMAIL": "company_email",
    "X-KUNDENAKTE-COMPANY-URL": "company_web", "X-KUNDENAKTE-COMPANY-ACCOUNT-MANAGER": "company_account_manager",
    "X-KUNDENAKTE-COMPANY-VAT-ID": "company_vat_id",
}
COMPANY_ROLE = "X-KUNDENAKTE-ROLE"  # ADR;X-KUNDENAKTE-ROLE=company: the company's address


def _uri_value(text: str, scheme: str) -> str:
    return text[len(scheme):] if text.lower().startswith(scheme) else text


def email_kind(types: set[str]) -> str:
    return "work" if "work" in types else "home" if "home" in types else "other"


def phone_kind(types: set[str]) -> str:
    for key, kind in (("fax", "fax"), ("cell", "mobile"), ("pager", "pager"), ("work", "work"), ("home", "home")):
        if key in types:
            return kind
    return "other"


def _mark_preferred(items: list[Any]) -> None:
    """Exactly one preferred entry: the first one the file marks, else the first business one, else the first."""
    seen = False
    for item in items:
        item.preferred = item.preferred and not seen
        seen = seen or item.preferred
    if items and not seen:
        next((x for x in items if x.kind == "work"), items[0]).preferred = True


def _address(prop: Property, kind: str, not_kept: list[str]) -> Address:
    pobox, ext, street, city, region, code, country = components_lines(prop.value, 7)
    lines = [x.strip() for x in street.split("\n") if x.strip()]
    extra = [x for x in (ext, *lines[1:], pobox) if x]
    if region:
        not_kept.append(f"{prop.name} (Region)")
    return Address(kind, lines[0] if lines else "", ", ".join(extra), code, city, country, prop.preferred)


def components_lines(value: str, count: int) -> list[str]:
    """Like :func:`components`, but list parts joined by a comma and newlines kept (ADR street lines)."""
    parts = split_escaped(value, ";")
    parts += [""] * (count - len(parts))
    return [", ".join(y for y in (unescape(x).strip() for x in split_escaped(part, ",")) if y) for part in parts[:count]]


def card_to_record(props: list[Property], source: str = "") -> ContactRecord:
    """Map one card; every property with a value is either kept or named in ``not_kept``."""
    rec = ContactRecord(source=source)
    used: set[int] = set()
    not_kept: list[str] = []

    by_name: dict[str, list[int]] = {}
    for i, p in enumerate(props):
        by_name.setdefault(p.name, []).append(i)

    def take(*names: str) -> list[Property]:
        """The not yet used properties of these names that have a value, in file order; now used."""
        if len(names) == 1:
            found = [i for i in by_name.get(names[0], ()) if i not in used and props[i].value.strip()]
        else:
            found = sorted(i for name in names for i in by_name.get(name, ()) if i not in used and props[i].value.strip())
        used.update(found)
        return [props[i] for i in found]

    new_format = any(p.name == "X-KUNDENAKTE-FORMAT" for p in props)
    take(*META)
    n = next(iter(take("N")), None)
    if n is not None:
        family, given, additional, prefix, suffix = components(n.value, 5)
        rec.last_name = family
        rec.first_name = " ".join(x for x in (given, additional) if x)
        hint, rec.title = split_prefix(prefix)
        rec.gender = hint
        if suffix:
            not_kept.append("N (Namenszusatz)")
    orgs = take("ORG")
    if orgs:
        org_parts = [x for x in components_lines(orgs[0].value, 8)]
        rec.company_name = org_parts[0]
        rec.department = ", ".join(x for x in org_parts[1:] if x)
        not_kept.extend("ORG" for _ in orgs[1:])
    kind = " ".join(p.text.lower() for p in take("KIND", "X-ABSHOWAS"))
    fn = " ".join(p.text for p in take("FN"))
    person = bool(rec.last_name or rec.first_name)
    org_only = not person and rec.company_name and fn.casefold() in ("", rec.company_name.casefold())
    if kind in ("org", "organization", "company") or org_only:
        rec.is_company = bool(rec.company_name)
        if rec.is_company:
            rec.last_name = rec.first_name = ""
    elif not person and fn:
        words = fn.split()
        hint, title = split_prefix(" ".join(w for w in words[:-1] if w.endswith(".") or w.casefold() in ("herr", "frau")))
        names = [w for w in words if not (w.endswith(".") or w.casefold() in ("herr", "frau"))]
        if names:
            rec.last_name = names[-1]
            rec.first_name = " ".join(names[:-1])
            rec.title = rec.title or title
            rec.gender = rec.gender or hint
    genders = take("GENDER", "X-GENDER", "X-KUNDENAKTE-GENDER")
    gender = genders[0].text if genders else ""
    not_kept.extend(p.name for p in genders[1:] if p.text != gender)
    if gender:
        # GENDER is "sex;identity text": only the sex letter counts.
        parsed = parse_gender(split_escaped(gender, ";")[0]) or parse_gender(gender)
        rec.gender = parsed or rec.gender
    langs = take("LANG", "X-KUNDENAKTE-LANG", "X-LANG")
    lang = next((p for p in langs if p.preferred), langs[0] if langs else None)
    rec.language = parse_language(unescape(lang.value) if lang else "")
    not_kept.extend(p.name for p in langs if parse_language(p.text) != rec.language)
    titles, roles = take("TITLE"), take("ROLE")
    rec.position = (titles or roles)[0].text if (titles or roles) else ""
    # one position: every further TITLE/ROLE that says something else is reported
    not_kept.extend(p.name for p in (*titles, *roles) if p.text != rec.position)
    rec.nickname = ", ".join(x for p in take("NICKNAME") for x in (unescape(v).strip() for v in split_escaped(p.value, ",")) if x)
    rec.notes = "\n\n".join(p.text for p in take("NOTE") if p.text)
    for p in take("BDAY"):
        born = parse_date(p.text)
        if isinstance(born, date) and rec.birthday is None:
            rec.birthday = born
        else:
            not_kept.append("BDAY")
    rec.emails = [Point(_uri_value(p.text, "mailto:"), email_kind(p.types), p.preferred) for p in take("EMAIL")]
    rec.phones = [Point(_uri_value(p.text, "tel:"), phone_kind(p.types), p.preferred) for p in take("TEL")]
    rec.websites = [Point(p.text, email_kind(p.types), p.preferred) for p in take("URL")]
    for name, attr in OWN_EXTENSIONS.items():
        found = take(name)
        if found:
            setattr(rec, attr, found[0].text)
            not_kept.extend(p.name for p in found[1:] if p.text != found[0].text)
    flag_props = take("X-KUNDENAKTE-USE-COMPANY-ADDRESS")
    flag = parse_bool(flag_props[0].text) if flag_props else None
    adrs = take("ADR")
    company_adr = [p for p in adrs if (p.params.get(COMPANY_ROLE) or [""])[0].lower() == "company"]
    old_own = take("X-KUNDENAKTE-ADR")  # exports before the address lists
    company_extra = take("X-KUNDENAKTE-COMPANY-ADR")
    if flag and rec.company_name and not new_format and not company_extra and adrs:
        company_adr = [adrs[0]]  # an old export: the shown ADR was the company's
    own = [p for p in adrs if p not in company_adr]
    rec.addresses = [_address(p, email_kind(p.types), not_kept) for p in own + old_own]
    for p in company_adr + company_extra:
        a = _address(p, "work", not_kept)
        rec.company_street, rec.company_postal_code, rec.company_city, rec.company_country = a.parts()
        break
    rec.use_company_address = flag
    default_adr = [p.text for p in props if p.name == "X-MS-OL-DEFAULT-POSTAL-ADDRESS"]
    if default_adr and not any(a.preferred for a in rec.addresses):
        wanted = {"1": "home", "2": "work", "3": "other"}.get(default_adr[0], "")
        for a in rec.addresses:
            if a.kind == wanted:
                a.preferred = True
                break
    for items in (rec.emails, rec.phones, rec.websites, rec.addresses):
        _mark_preferred(items)
    if rec.addresses:
        take("LABEL")  # the printed form of an address kept above
    # Apple's labels of grouped entries ("_$!<HomePage>!$_") are kept as the entry's kind.
    kept_groups = {p.group for i, p in enumerate(props) if i in used and p.group}
    used.update(i for i, p in enumerate(props) if p.name == "X-ABLABEL" and p.group in kept_groups)
    for i, p in enumerate(props):
        if i not in used and p.value.strip():
            not_kept.append(p.name)
    rec.not_kept = list(dict.fromkeys(not_kept))
    rec.sync()
    return rec


def parse_vcards(data: bytes | str) -> list[ContactRecord]:
    text = decode_bytes(data) if isinstance(data, bytes) else data
    records = []
    for number, (lineno, props) in enumerate(iter_cards(text), 1):
        records.append(card_to_record(props, source=f"Karte {number} (Zeile {lineno})"))
    return records


# -- writing -------------------------------------------------------------------------------------


def escape(value: str) -> str:
    return (
        value.replace("\\", "\\\\").replace(",", "\\,").replace(";", "\\;")
        .replace("\r\n", "\\n").replace("\n", "\\n").replace("\r", "\\n")
    )


def fold_line(line: str, limit: int = 75) -> str:
    """Fold one content line at ``limit`` octets (UTF-8), never splitting a character."""
    encoded = line.encode("utf-8")
    if len(encoded) <= limit:
        return line
    pieces: list[str] = []
    current: list[str] = []
    size = 0
    room = limit
    for ch in line:
        n = len(ch.encode("utf-8"))
        if size + n > room:
            pieces.append("".join(current))
            current, size, room = [], 0, limit - 1  # continuation lines start with a space
        current.append(ch)
        size += n
    pieces.append("".join(current))
    return "\r\n ".join(pieces)


def _structured(*parts: str) -> str:
    return ";".join(escape(p) for p in parts)


_PHONE_TYPES = {"work": "work,voice", "home": "home,voice", "mobile": "cell", "fax": "fax", "pager": "pager",
                "other": "voice"}


def _typed(name: str, kind: str, preferred: bool, v4: bool, extra: str = "") -> str:
    """``EMAIL;TYPE=work;PREF=1`` (4.0) or ``EMAIL;TYPE=WORK,PREF`` (3.0); kind "other" has no type."""
    types = [t for t in (extra, "" if kind == "other" else kind) if t]
    if v4:
        head = name + (f";TYPE={','.join(types)}" if types else "") + (";PREF=1" if preferred else "")
    else:
        types += ["pref"] if preferred else []
        head = name + (f";TYPE={','.join(types).upper()}" if types else "")
    return head + ":"


def _flags(items: list[Any]) -> list[tuple[Any, bool]]:
    """Each entry with whether it is the preferred one (exactly one per non-empty list)."""
    best = preferred_of(items)
    return [(item, item is best) for item in items]


def record_to_card(rec: ContactRecord, version: str = "4.0") -> str:
    if version not in ("3.0", "4.0"):
        raise ValueError(f"vCard-Version {version} wird nicht unterstützt (3.0 oder 4.0)")
    v4 = version == "4.0"
    lines = ["BEGIN:VCARD", f"VERSION:{version}", "PRODID:-//Kundenakte//Kundenakte//DE", FORMAT_MARK]
    full = " ".join(x for x in (rec.title, rec.first_name, rec.last_name) if x) or rec.company_name or "-"
    lines.append("FN:" + escape(full))
    lines.append("N:" + _structured(rec.last_name, rec.first_name, "", rec.title, ""))
    if rec.nickname:
        lines.append("NICKNAME:" + escape(rec.nickname))
    gender = GENDER_CODES.get(rec.gender or "unknown", "U")
    lines.append(("GENDER:" if v4 else "X-GENDER:") + gender)
    if rec.birthday:
        born = rec.birthday  # machine format, not a display: 4.0 basic (19700401), 3.0 extended (1970-04-01)
        lines.append("BDAY:" + (f"{born.year:04d}{born.month:02d}{born.day:02d}" if v4 else born.isoformat()))
    if rec.language:
        lines.append(("LANG:" if v4 else "X-KUNDENAKTE-LANG:") + escape(rec.language))
    if rec.company_name or rec.department:
        lines.append("ORG:" + _structured(rec.company_name, *([rec.department] if rec.department else [])))
    if rec.position:
        lines.append("TITLE:" + escape(rec.position))
    for point, pref in _flags(rec.emails):
        lines.append(_typed("EMAIL", point.kind, pref, v4, "" if v4 else "internet") + escape(point.value))
    for point, pref in _flags(rec.phones):
        types = _PHONE_TYPES.get(point.kind, "voice")
        lines.append(_typed("TEL", "other", pref, v4, types) + escape(point.value))
    for point, pref in _flags(rec.websites):
        lines.append(_typed("URL", point.kind, pref, v4) + escape(point.value))
    for adr, pref in _flags(rec.addresses):
        lines.append(_typed("ADR", adr.kind, pref, v4)
                     + _structured("", adr.extra, adr.street, adr.city, "", adr.postal_code, adr.country))
    company = (rec.company_street, rec.company_postal_code, rec.company_city, rec.company_country)
    if any(company):
        street, _, extra = rec.company_street.partition("\n")
        value = _structured("", extra, street, rec.company_city, "", rec.company_postal_code, rec.company_country)
        use_company = bool(rec.use_company_address) and bool(rec.company_name)
        # Other programs show the company's address as the contact's business address when it uses it.
        lines.append((f"ADR;TYPE={'work' if v4 else 'WORK'};{COMPANY_ROLE}=company:" if use_company
                      else "X-KUNDENAKTE-COMPANY-ADR:") + value)
    if rec.notes:
        lines.append("NOTE:" + escape(rec.notes))
    flag = rec.use_company_address if rec.use_company_address is not None else True
    lines.append("X-KUNDENAKTE-USE-COMPANY-ADDRESS:" + ("TRUE" if flag else "FALSE"))
    for name, attr in OWN_EXTENSIONS.items():
        value = getattr(rec, attr)
        if value:
            lines.append(f"{name}:" + escape(value))
    lines.append("END:VCARD")
    return "".join(fold_line(line) + "\r\n" for line in lines)


def dump_vcards(records: Iterable[ContactRecord], version: str = "4.0") -> Iterator[str]:
    """The cards one by one (join or write them; each ends with CRLF)."""
    for rec in records:
        yield record_to_card(rec, version)
