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

from kundenakte.core.exchange import (
    GENDER_CODES,
    ContactRecord,
    parse_bool,
    parse_gender,
    parse_language,
    split_prefix,
)

# -- reading -------------------------------------------------------------------------------------


def decode_bytes(data: bytes) -> str:
    """UTF-8 (BOM optional), UTF-16 with BOM, else cp1252 (latin-1 for its five undefined bytes)."""
    if data.startswith(b"\xef\xbb\xbf"):
        return data[3:].decode("utf-8", errors="replace")
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        return data.decode("utf-16")
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

    @property
    def types(self) -> set[str]:
        return {t.lower() for t in self.params.get("TYPE", [])}

    @property
    def preferred(self) -> bool:
        return "pref" in self.types or "PREF" in self.params


def _split_unquoted(text: str, sep: str) -> list[str]:
    """Split at ``sep`` outside double quotes."""
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
    if "." in name:  # group prefix: item1.EMAIL
        name = name.rsplit(".", 1)[1]
    params: dict[str, list[str]] = {}
    for p in parts[1:]:
        if not p.strip():
            continue
        if "=" in p:
            key, _, raw = p.partition("=")
            key = key.strip().upper()
            values = [v.strip().strip('"') for v in _split_unquoted(raw, ",")]
        else:  # vCard 2.1 bare parameter: TEL;WORK;VOICE
            key, values = "TYPE", [p.strip()]
        if key == "TYPE":
            values = [v for raw_v in values for v in raw_v.split(",")]
        params.setdefault(key, []).extend(v for v in values if v)
    prop = Property(name=name, params=params, value=value, line=lineno)
    if "QUOTED-PRINTABLE" in {e.upper() for e in params.get("ENCODING", [])} or "quoted-printable" in prop.types:
        charset = (params.get("CHARSET") or ["utf-8"])[0]
        raw_bytes = quopri.decodestring(value.encode("latin-1", errors="replace"))
        try:
            prop.value = raw_bytes.decode(charset)
        except (LookupError, UnicodeDecodeError):
            prop.value = raw_bytes.decode("cp1252", errors="replace")
    return prop


def _is_qp_start(line: str) -> bool:
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
        upper = line.strip().upper()
        if upper.startswith("BEGIN:VCARD") or upper.endswith(":BEGIN:VCARD"):
            depth += 1
            if depth == 1:
                props, start = [], lineno
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


def _pick(props: list[Property], name: str) -> Property | None:
    """The ``work`` one, else the preferred one, else the first."""
    found = [p for p in props if p.name == name and p.value.strip()]
    if not found:
        return None
    for test in (lambda p: "work" in p.types and p.preferred, lambda p: "work" in p.types, lambda p: p.preferred):
        for p in found:
            if test(p):
                return p
    return found[0]


def _text(props: list[Property], *names: str) -> str:
    for name in names:
        for p in props:
            if p.name == name and p.value.strip():
                return unescape(p.value).strip()
    return ""


def _adr(prop: Property | None) -> tuple[str, str, str, str]:
    if prop is None:
        return "", "", "", ""
    pobox, ext, street, city, _region, code, country = components(prop.value, 7)
    street_full = "\n".join(x for x in (street, ext) if x) or pobox
    return street_full, code, city, country


def card_to_record(props: list[Property], source: str = "") -> ContactRecord:
    rec = ContactRecord(source=source)
    n = next((p for p in props if p.name == "N"), None)
    if n is not None:
        family, given, additional, prefix, _suffix = components(n.value, 5)
        rec.last_name = family
        rec.first_name = " ".join(x for x in (given, additional) if x)
        hint, rec.title = split_prefix(prefix)
        rec.gender = hint
    if not rec.last_name and not rec.first_name:
        fn = _text(props, "FN")
        words = fn.split()
        if words:
            hint, title = split_prefix(" ".join(w for w in words[:-1] if w.endswith(".") or w.casefold() in ("herr", "frau")))
            names = [w for w in words if not (w.endswith(".") or w.casefold() in ("herr", "frau"))]
            if names:
                rec.last_name = names[-1]
                rec.first_name = " ".join(names[:-1])
                rec.title = rec.title or title
                rec.gender = rec.gender or hint
    gender = _text(props, "GENDER", "X-GENDER", "X-KUNDENAKTE-GENDER")
    if gender:
        # GENDER is "sex;identity text": only the sex letter counts.
        parsed = parse_gender(split_escaped(gender, ";")[0]) or parse_gender(gender)
        rec.gender = parsed or rec.gender
    lang = next((p for p in props if p.name in ("LANG", "X-KUNDENAKTE-LANG", "X-LANG") and p.preferred), None)
    rec.language = parse_language(unescape(lang.value) if lang else _text(props, "LANG", "X-KUNDENAKTE-LANG", "X-LANG"))
    org = next((p for p in props if p.name == "ORG" and p.value.strip()), None)
    if org is not None:
        rec.company_name = components(org.value, 1)[0]
    rec.position = _text(props, "TITLE") or _text(props, "ROLE")
    email = _pick(props, "EMAIL")
    rec.email = unescape(email.value).strip() if email else ""
    if rec.email.lower().startswith("mailto:"):
        rec.email = rec.email[7:]
    tel = _pick(props, "TEL")
    rec.phone = unescape(tel.value).strip() if tel else ""
    if rec.phone.lower().startswith("tel:"):
        rec.phone = rec.phone[4:]
    rec.salutation_override = _text(props, "X-KUNDENAKTE-SALUTATION")
    rec.account_manager = _text(props, "X-KUNDENAKTE-ACCOUNT-MANAGER")
    rec.company_phone = _text(props, "X-KUNDENAKTE-COMPANY-TEL")
    rec.company_email = _text(props, "X-KUNDENAKTE-COMPANY-EMAIL")
    rec.company_web = _text(props, "X-KUNDENAKTE-COMPANY-URL")
    rec.company_account_manager = _text(props, "X-KUNDENAKTE-COMPANY-ACCOUNT-MANAGER")
    flag = parse_bool(_text(props, "X-KUNDENAKTE-USE-COMPANY-ADDRESS") or None)
    adr = _adr(_pick(props, "ADR"))
    if flag is None:
        rec.street, rec.postal_code, rec.city, rec.country = adr
    else:
        rec.use_company_address = flag
        own = _adr(next((p for p in props if p.name == "X-KUNDENAKTE-ADR"), None))
        company = _adr(next((p for p in props if p.name == "X-KUNDENAKTE-COMPANY-ADR"), None))
        if flag and rec.company_name:
            company, own = adr, own
        else:
            own = adr
        rec.street, rec.postal_code, rec.city, rec.country = own
        rec.company_street, rec.company_postal_code, rec.company_city, rec.company_country = company
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


def _adr_value(street: str, code: str, city: str, country: str) -> str:
    return _structured("", "", street, city, "", code, country)


def record_to_card(rec: ContactRecord, version: str = "4.0") -> str:
    if version not in ("3.0", "4.0"):
        raise ValueError(f"vCard-Version {version} wird nicht unterstützt (3.0 oder 4.0)")
    v4 = version == "4.0"
    lines = ["BEGIN:VCARD", f"VERSION:{version}", "PRODID:-//Kundenakte//Kundenakte//DE"]
    full = " ".join(x for x in (rec.title, rec.first_name, rec.last_name) if x) or rec.company_name or "-"
    lines.append("FN:" + escape(full))
    lines.append("N:" + _structured(rec.last_name, rec.first_name, "", rec.title, ""))
    gender = GENDER_CODES.get(rec.gender or "unknown", "U")
    lines.append(("GENDER:" if v4 else "X-GENDER:") + gender)
    if rec.language:
        lines.append(("LANG:" if v4 else "X-KUNDENAKTE-LANG:") + escape(rec.language))
    if rec.company_name:
        lines.append("ORG:" + escape(rec.company_name))
    if rec.position:
        lines.append("TITLE:" + escape(rec.position))
    work = "TYPE=work" if v4 else "TYPE=WORK"
    if rec.email:
        lines.append(f"EMAIL;{work}:" + escape(rec.email))
    if rec.phone:
        lines.append(f"TEL;{'TYPE=work,voice' if v4 else 'TYPE=WORK,VOICE'}:" + escape(rec.phone))
    own = (rec.street, rec.postal_code, rec.city, rec.country)
    company = (rec.company_street, rec.company_postal_code, rec.company_city, rec.company_country)
    use_company = bool(rec.use_company_address) and bool(rec.company_name)
    shown, hidden_name, hidden = (company, "X-KUNDENAKTE-ADR", own) if use_company else (own, "X-KUNDENAKTE-COMPANY-ADR", company)
    if any(shown):
        lines.append(f"ADR;{work}:" + _adr_value(*shown))
    if any(hidden):
        lines.append(f"{hidden_name}:" + _adr_value(*hidden))
    flag = rec.use_company_address if rec.use_company_address is not None else True
    lines.append("X-KUNDENAKTE-USE-COMPANY-ADDRESS:" + ("TRUE" if flag else "FALSE"))
    for name, value in (
        ("X-KUNDENAKTE-SALUTATION", rec.salutation_override),
        ("X-KUNDENAKTE-ACCOUNT-MANAGER", rec.account_manager),
        ("X-KUNDENAKTE-COMPANY-TEL", rec.company_phone),
        ("X-KUNDENAKTE-COMPANY-EMAIL", rec.company_email),
        ("X-KUNDENAKTE-COMPANY-URL", rec.company_web),
        ("X-KUNDENAKTE-COMPANY-ACCOUNT-MANAGER", rec.company_account_manager),
    ):
        if value:
            lines.append(f"{name}:" + escape(value))
    lines.append("END:VCARD")
    return "".join(fold_line(line) + "\r\n" for line in lines)


def dump_vcards(records: Iterable[ContactRecord], version: str = "4.0") -> Iterator[str]:
    """The cards one by one (join or write them; each ends with CRLF)."""
    for rec in records:
        yield record_to_card(rec, version)
