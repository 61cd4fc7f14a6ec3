"""Several e-mail addresses, phone numbers, websites and postal addresses per contact or company.

Input shape (the services, the API, the importer and the merge all use it)::

    "emails":    [{"value": "a@b.de", "kind": "work", "preferred": True}, ...]
    "phones":    [{"value": "+49 30 1234", "kind": "mobile"}, ...]
    "websites":  [{"value": "https://example.de", "kind": "work"}, ...]
    "addresses": [{"kind": "home", "street": "…", "extra": "", "postal_code": "…", "city": "…",
                   "country": "…", "preferred": True}, ...]

A given list replaces the stored one. At most one entry per list is preferred; when none is
marked the first one is. The preferred entry is copied into the owner's single column (``email``,
``phone``, ``web``, ``street``/``postal_code``/``city``/``country``), which every filter, the index,
salutations, letters and mail read: that copy is what "preferred" means everywhere. Entries that
repeat an earlier one of the same list (same :func:`value_key`) are dropped (nothing is lost:
the value is the same), keeping the earlier entry's kind and the preferred mark of either.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import Any

from sqlalchemy.orm import Session

from kundenakte.core.models import Company, Contact, ContactPoint, PostalAddress
from kundenakte.core.services.master import table_of
from kundenakte.core.validation import N_, Message, column_limits, is_email, is_web_address, too_long

CHANNELS = {"emails": "email", "phones": "phone", "websites": "web"}
LIST_KEYS = (*CHANNELS, "addresses")
KINDS: dict[str, tuple[str, ...]] = {
    "email": ("work", "home", "other"),
    "phone": ("work", "mobile", "home", "fax", "pager", "other"),
    "web": ("work", "home", "other"),
    "address": ("work", "home", "other"),
}
# German labels (the web translates them like every other msgid).
KIND_LABELS: dict[str, Message] = {
    "work": N_("geschäftlich"), "home": N_("privat"), "other": N_("andere"),
    "mobile": N_("mobil"), "fax": N_("Fax"), "pager": N_("Pager"),
}
ADDRESS_TEXT = ("street", "extra", "postal_code", "city", "country")
ADDRESS_LABELS = {"street": "Straße", "extra": "Adresszusatz", "postal_code": "PLZ", "city": "Ort", "country": "Land"}
# Owner columns that hold the preferred entry's copy (phone numbers must fit the owner's column).
SCALAR_OF = {"email": "email", "phone": "phone", "web": "web"}
_PHONE_LENGTH = 60
_ADDRESS_LIMITS = column_limits(PostalAddress)
_VALUE_LIMIT = column_limits(ContactPoint)["value"]


_NON_DIGIT = re.compile(r"\D")
_SCHEME = re.compile(r"^https?://")


def phone_key(number: str) -> str:
    """Digits only, German national form: "+49 (0)30 12-34" and "030 1234" give "0301234"."""
    text = number.strip()
    text = text.replace("(0)", "")
    plus = text.startswith("+")
    digits = _NON_DIGIT.sub("", text)
    if plus:
        digits = "00" + digits
    if digits.startswith("0049"):
        digits = "0" + digits[4:]
    return digits


def value_key(channel: str, value: str) -> str:
    """The form two entries are compared in: e-mail and web casefolded, phone digits only."""
    if channel == "phone":
        return phone_key(value)
    if channel == "web":
        text = value.strip().casefold()
        text = _SCHEME.sub("", text)
        return text.removeprefix("www.").rstrip("/")
    return value.strip().casefold()


def _check_point(channel: str, raw: Any, where: str, errors: dict[str, str]) -> dict[str, Any] | None:
    if type(raw) is not dict and not isinstance(raw, Mapping):  # dict first: an import checks 100k's
        errors[where] = N_("Erwartet wird ein Eintrag mit Wert und Art.")
        return None
    unknown = set(raw) - {"value", "kind", "preferred"}
    for key in sorted(unknown):
        errors[f"{where}.{key}"] = N_("Unbekanntes Feld.")
    value = raw.get("value")
    if not isinstance(value, str):
        errors[f"{where}.value"] = N_("Erwartet wird ein Text.")
        return None
    value = value.strip()
    if value.lower().startswith(("mailto:", "tel:")) and channel in ("email", "phone"):
        value = value.split(":", 1)[1].strip()
    limit = _PHONE_LENGTH if channel == "phone" else _VALUE_LIMIT
    problem: Message | None = None
    if "\x00" in value:
        problem = N_("Der Text enthält ein unzulässiges Steuerzeichen.")
    elif not value:
        problem = N_("Bitte einen Wert angeben.")
    elif len(value) > limit:
        problem = too_long(limit)
    elif channel == "email" and not is_email(value):
        problem = N_("Bitte eine gültige E-Mail-Adresse angeben.")
    elif channel == "web" and not is_web_address(value):
        problem = N_("Bitte eine gültige Webadresse angeben.")
    elif channel == "phone" and not phone_key(value):
        problem = N_("Bitte eine Telefonnummer mit Ziffern angeben.")
    if problem:
        errors[f"{where}.value"] = problem
    kind = raw.get("kind", "work")
    if kind in (None, ""):
        kind = "work"
    if kind not in KINDS[channel]:
        errors[f"{where}.kind"] = N_("Bitte einen der angebotenen Werte wählen.")
    preferred = raw.get("preferred", False)
    if not isinstance(preferred, bool):
        errors[f"{where}.preferred"] = N_("Erwartet wird true oder false.")
    return {"value": value, "kind": kind, "preferred": preferred is True}


def _check_address(raw: Any, where: str, errors: dict[str, str]) -> dict[str, Any] | None:
    if type(raw) is not dict and not isinstance(raw, Mapping):
        errors[where] = N_("Erwartet wird eine Adresse.")
        return None
    for key in sorted(set(raw) - {*ADDRESS_TEXT, "kind", "preferred"}):
        errors[f"{where}.{key}"] = N_("Unbekanntes Feld.")
    out: dict[str, Any] = {}
    for key in ADDRESS_TEXT:
        value = raw.get(key) or ""
        if not isinstance(value, str):
            errors[f"{where}.{key}"] = N_("Erwartet wird ein Text.")
            continue
        value = value.strip()
        if "\x00" in value:
            errors[f"{where}.{key}"] = N_("Der Text enthält ein unzulässiges Steuerzeichen.")
        elif len(value) > _ADDRESS_LIMITS[key]:
            errors[f"{where}.{key}"] = too_long(_ADDRESS_LIMITS[key])
        out[key] = value
    if not any(out.get(k) for k in ADDRESS_TEXT):
        errors.setdefault(where, N_("Die Adresse ist leer."))
    kind = raw.get("kind", "work") or "work"
    if kind not in KINDS["address"]:
        errors[f"{where}.kind"] = N_("Bitte einen der angebotenen Werte wählen.")
    preferred = raw.get("preferred", False)
    if not isinstance(preferred, bool):
        errors[f"{where}.preferred"] = N_("Erwartet wird true oder false.")
    out["kind"] = kind
    out["preferred"] = preferred is True
    return out


def clean_lists(values: Mapping[str, Any], errors: dict[str, str]) -> dict[str, list[dict[str, Any]]]:
    """The list keys of ``values`` checked (errors keyed ``emails.1.value``), deduplicated, one preferred."""
    cleaned: dict[str, list[dict[str, Any]]] = {}
    for key in LIST_KEYS:
        if key not in values:
            continue
        raw = values[key]
        if raw is None:
            raw = []
        if not isinstance(raw, list | tuple):
            errors[key] = N_("Erwartet wird eine Liste.")
            continue
        entries: list[dict[str, Any]] = []
        seen: dict[str, dict[str, Any]] = {}
        for i, item in enumerate(raw):
            where = f"{key}.{i}"
            entry = _check_address(item, where, errors) if key == "addresses" else _check_point(CHANNELS[key], item, where, errors)
            if entry is None:
                continue
            ident = _address_key(entry) if key == "addresses" else value_key(CHANNELS[key], entry["value"])
            if ident in seen:
                seen[ident]["preferred"] = seen[ident]["preferred"] or entry["preferred"]
                continue
            seen[ident] = entry
            entries.append(entry)
        if sum(1 for e in entries if e["preferred"]) > 1:
            errors[key] = N_("Nur ein Eintrag kann bevorzugt sein.")
        elif entries and not any(e["preferred"] for e in entries):
            entries[0]["preferred"] = True
        cleaned[key] = entries
    return cleaned


def _address_key(entry: Mapping[str, Any]) -> str:
    return "|".join(str(entry.get(k, "")).strip().casefold() for k in ADDRESS_TEXT)


def preferred_of(entries: Sequence[Mapping[str, Any]]) -> Mapping[str, Any] | None:
    return next((e for e in entries if e.get("preferred")), entries[0] if entries else None)


# -- reading -------------------------------------------------------------------------------------------


def point_dict(point: ContactPoint) -> dict[str, Any]:
    return {"value": point.value, "kind": point.kind, "preferred": bool(point.preferred)}


def address_dict(address: PostalAddress) -> dict[str, Any]:
    return {"kind": address.kind, **{k: getattr(address, k) or "" for k in ADDRESS_TEXT},
            "preferred": bool(address.preferred)}


def points_of(owner: Contact | Company) -> dict[str, list[dict[str, Any]]]:
    """The owner's lists in the input shape (API output, export, merge, undo snapshots)."""
    out: dict[str, list[dict[str, Any]]] = {key: [] for key in LIST_KEYS}
    names = {channel: key for key, channel in CHANNELS.items()}
    for point in owner.points:
        out[names[point.channel]].append(point_dict(point))
    out["addresses"] = [address_dict(a) for a in owner.addresses]
    return out


def kind_label(kind: str) -> Message:
    return KIND_LABELS.get(kind, KIND_LABELS["other"])


# -- writing (only the contact and company services call these) ----------------------------------------


def scalar_lists(owner: Contact | Company, values: Mapping[str, Any], cleaned_lists: dict[str, list[dict[str, Any]]],
                 channels: Sequence[str]) -> None:
    """Today's single keys (``email``, ``phone``, ``web``) given without their list change the preferred entry."""
    current = points_of(owner) if owner.id is not None else {key: [] for key in LIST_KEYS}
    for key, channel in CHANNELS.items():
        scalar = SCALAR_OF[channel]
        if channel not in channels or key in cleaned_lists or scalar not in values:
            continue
        text = values[scalar]
        if not isinstance(text, str):
            continue  # the caller's text check reported it
        text = text.strip()
        entries = [dict(e) for e in current[key]]
        chosen = preferred_of(entries)
        if chosen is None:
            if text:
                entries = [{"value": text, "kind": "work", "preferred": True}]
        elif not text:
            entries = [e for e in entries if e is not chosen]
            if entries and not any(e["preferred"] for e in entries):
                entries[0]["preferred"] = True
        else:
            position = next(i for i, e in enumerate(entries) if e is chosen)
            entries[position] = dict(chosen, value=text, preferred=True)
            entries = _unique(channel, entries)
        cleaned_lists[key] = entries


def _unique(channel: str, entries: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Entries with the same value once (the first keeps its place, the preferred mark survives)."""
    seen: dict[str, dict[str, Any]] = {}
    out = []
    for e in entries:
        k = value_key(channel, e["value"])
        if k in seen:
            seen[k]["preferred"] = seen[k]["preferred"] or e["preferred"]
            continue
        seen[k] = e
        out.append(e)
    return out


def scalar_address(owner: Contact | Company, values: Mapping[str, Any], cleaned_lists: dict[str, list[dict[str, Any]]],
                   default_kind: str) -> None:
    """Today's address keys given without ``addresses`` change the preferred address (or add one)."""
    if "addresses" in cleaned_lists or not any(k in values for k in ("street", "postal_code", "city", "country")):
        return
    entries = [dict(a) for a in (points_of(owner)["addresses"] if owner.id is not None else [])]
    chosen = preferred_of(entries)
    given = {k: (values[k].strip() if isinstance(values.get(k), str) else "") for k in ("street", "postal_code", "city", "country")
             if k in values}
    if chosen is None:
        new = {"kind": default_kind, "street": "", "extra": "", "postal_code": "", "city": "", "country": "", "preferred": True}
        new.update(given)
        # A country alone (the default "Deutschland") is no address yet.
        if any(new[k] for k in ("street", "extra", "postal_code", "city")):
            entries = [new]
    else:
        updated = dict(chosen, **given)
        entries = [updated if e is chosen else e for e in entries]
        if not any(updated[k] for k in ADDRESS_TEXT):
            entries = [e for e in entries if e is not updated]
            if entries and not any(e["preferred"] for e in entries):
                entries[0]["preferred"] = True
    cleaned_lists["addresses"] = entries


def replace_lists(owner: Contact | Company, lists: Mapping[str, list[dict[str, Any]]]) -> None:
    """Store the given lists on the owner (ORM, so the unit of work sees them) and copy the preferred values."""
    for key, channel in CHANNELS.items():
        if key not in lists:
            continue
        keep = [p for p in owner.points if p.channel != channel]
        new = [ContactPoint(channel=channel, kind=e["kind"], value=e["value"], value_key=value_key(channel, e["value"]),
                            preferred=bool(e["preferred"])) for e in lists[key]]
        owner.points = keep + new
        chosen = preferred_of(lists[key])
        scalar = SCALAR_OF[channel]
        if hasattr(owner, scalar):
            setattr(owner, scalar, chosen["value"] if chosen else "")
    for i, point in enumerate(sorted(owner.points, key=lambda p: (list(CHANNELS.values()).index(p.channel), 0))):
        point.position = i
    if "addresses" in lists:
        owner.addresses = [PostalAddress(**{k: e.get(k, "") for k in ADDRESS_TEXT}, kind=e["kind"],
                                         preferred=bool(e["preferred"]), position=i)
                           for i, e in enumerate(lists["addresses"])]


def copy_preferred_address(owner: Contact | Company) -> None:
    """The owner's address columns from its preferred address ("" when it has none)."""
    chosen = next((a for a in owner.addresses if a.preferred), owner.addresses[0] if owner.addresses else None)
    for key in ("street", "postal_code", "city", "country"):
        setattr(owner, key, getattr(chosen, key) if chosen is not None else "")


# -- the importer's bulk path ----------------------------------------------------------------------------


Rows = list[dict[str, Any]]


def bulk_rows(owner_column: str, owner_ids: Sequence[int], rows: Sequence[Mapping[str, Any]]) -> tuple[Rows, Rows]:
    """Child rows (points, addresses) for bulk-inserted owners; ``rows`` carry cleaned list keys."""
    points: list[dict[str, Any]] = []
    addresses: list[dict[str, Any]] = []
    for owner_id, row in zip(owner_ids, rows, strict=True):
        position = 0
        for key, channel in CHANNELS.items():
            for e in row.get(key) or ():
                points.append({owner_column: owner_id, "channel": channel, "kind": e["kind"], "value": e["value"],
                               "value_key": value_key(channel, e["value"]), "preferred": bool(e["preferred"]),
                               "position": position})
                position += 1
        for i, e in enumerate(row.get("addresses") or ()):
            addresses.append({owner_column: owner_id, "kind": e["kind"], **{k: e.get(k, "") for k in ADDRESS_TEXT},
                              "preferred": bool(e["preferred"]), "position": i})
    return points, addresses


def insert_children(session: Session, owner_column: str, owner_ids: Sequence[int], rows: Sequence[Mapping[str, Any]]) -> None:
    points, addresses = bulk_rows(owner_column, owner_ids, rows)
    _insert_many(session, table_of(ContactPoint), points)
    _insert_many(session, table_of(PostalAddress), addresses)


def _insert_many(session: Session, table: Any, rows: list[dict[str, Any]]) -> None:
    """One INSERT for many uniform rows through the driver's ``executemany``.

    An import writes hundreds of thousands of entries; SQLAlchemy's per-row parameter processing
    cost as much as the database's work (bench/import_bench.py --rich). The values are plain
    ints, strings and booleans that both drivers take as they are.
    """
    if not rows:
        return
    columns = list(rows[0])
    connection = session.connection()
    mark = "?" if connection.dialect.paramstyle == "qmark" else "%s"
    sql = (f"INSERT INTO {table.name} ({', '.join(columns)}) "
           f"VALUES ({', '.join([mark] * len(columns))})")
    cursor = connection.connection.cursor()
    try:
        cursor.executemany(sql, [tuple(row[c] for c in columns) for row in rows])
    finally:
        cursor.close()


def scalars_from_lists(row: Mapping[str, Any], channels: Sequence[str], *, address: bool) -> dict[str, Any]:
    """The single columns a bulk row gets from its (cleaned) lists."""
    out: dict[str, Any] = {}
    for key, channel in CHANNELS.items():
        if channel in channels and key in row:
            chosen = preferred_of(row[key] or [])
            out[SCALAR_OF[channel]] = chosen["value"] if chosen else ""
    if address and "addresses" in row:
        chosen = preferred_of(row["addresses"] or [])
        for k in ("street", "postal_code", "city", "country"):
            out[k] = (chosen.get(k, "") if chosen else "")
    return out


def delete_children(session: Session, owner_column: str, owner_id: int, lists: Mapping[str, Any]) -> None:
    """Remove the stored entries of the lists about to be replaced (bulk update path)."""
    from sqlalchemy import delete

    channels = [CHANNELS[k] for k in CHANNELS if k in lists]
    points_table = table_of(ContactPoint)
    if channels:
        session.execute(delete(points_table).where(points_table.c[owner_column] == owner_id,
                                                   points_table.c.channel.in_(channels)))
    if "addresses" in lists:
        addresses = table_of(PostalAddress)
        session.execute(delete(addresses).where(addresses.c[owner_column] == owner_id))
