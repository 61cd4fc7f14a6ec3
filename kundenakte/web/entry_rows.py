"""The repeatable rows of the contact and company forms: e-mails, phones, websites, postal addresses.

Every row is a group of inputs named ``<list>-<n>-<field>`` (``emails-0-value``, ``emails-0-kind``,
``addresses-1-city``), one radio group ``<list>-preferred`` per list whose value is the row's
``n``, and a checkbox ``<list>-<n>-remove``. The row numbers only tie a row's inputs together:
rows are read in the order of their numbers and renumbered from 0, so the script
(``static/entries.js``) may add rows with any fresh number.

Works without JavaScript: the page always offers spare empty rows, empty rows are ignored, a
"weitere Zeile" submit button (``add_row=<list>``) shows the form again with everything typed
plus one more empty row, and "entfernen" drops a row on saving. The lists go to the services as
given (``core/services/points.py``: a given list replaces the stored one), so a save never drops
an entry the form showed; the service's errors (``emails.1.value``) name the row as the page shows
it again, because the page shows exactly the rows that were sent.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any

from flask_babel import gettext as _

from kundenakte.core.models import Company, Contact
from kundenakte.core.services.points import ADDRESS_TEXT, CHANNELS, KINDS, kind_label, points_of

POINT_FIELDS = ("value", "kind")
ADDRESS_FIELDS = ("kind", *ADDRESS_TEXT)
#: The country a spare address row starts with; a row with nothing else typed is still empty.
DEFAULT_COUNTRY = "Deutschland"
_NAME = re.compile(r"^(emails|phones|websites|addresses)-(\d{1,4})-(\w+)$")
_MAX_ROWS = 200  # per list: a posted form with more is cut there (nothing a person types)


@dataclass(frozen=True)
class ListSpec:
    """One repeatable list of a form: its key, headings and the kind a new row starts with."""

    key: str
    default_kind: str

    @property
    def channel(self) -> str:
        return CHANNELS.get(self.key, "address")

    @property
    def fields(self) -> tuple[str, ...]:
        return ADDRESS_FIELDS if self.key == "addresses" else POINT_FIELDS

    def blank(self) -> dict[str, Any]:
        if self.key == "addresses":
            return {"kind": self.default_kind, "street": "", "extra": "", "postal_code": "", "city": "",
                    "country": DEFAULT_COUNTRY, "preferred": False}
        return {"value": "", "kind": self.default_kind, "preferred": False}

    def is_blank(self, row: Mapping[str, Any]) -> bool:
        if self.key != "addresses":
            return not str(row.get("value") or "").strip()
        if any(str(row.get(k) or "").strip() for k in ("street", "extra", "postal_code", "city")):
            return False
        return str(row.get("country") or "").strip() in ("", DEFAULT_COUNTRY)


CONTACT_LISTS = (ListSpec("emails", "work"), ListSpec("phones", "work"), ListSpec("addresses", "home"))
COMPANY_LISTS = (ListSpec("emails", "work"), ListSpec("phones", "work"), ListSpec("websites", "work"),
                 ListSpec("addresses", "work"))


def stored_rows(owner: Contact | Company, specs: Sequence[ListSpec]) -> dict[str, list[dict[str, Any]]]:
    """The owner's entries as form rows.

    A row written before the lists existed (only the single column set, no entry) is shown as one
    entry, so saving the form keeps it instead of clearing the column.
    """
    lists = points_of(owner)
    rows: dict[str, list[dict[str, Any]]] = {}
    for spec in specs:
        entries = [dict(e) for e in lists[spec.key]]
        if not entries and spec.key != "addresses":
            single = {"emails": "email", "phones": "phone", "websites": "web"}[spec.key]
            value = getattr(owner, single, "") or ""
            if value:
                entries = [{"value": value, "kind": spec.default_kind, "preferred": True}]
        elif not entries and _own_columns(owner):
            kind = "work" if isinstance(owner, Company) else spec.default_kind
            entries = [{"kind": kind, "street": owner.street or "", "extra": "", "postal_code": owner.postal_code or "",
                        "city": owner.city or "", "country": owner.country or "", "preferred": True}]
        rows[spec.key] = entries
    return rows


def _own_columns(owner: Contact | Company) -> bool:
    """Whether the owner's address columns hold its own address (not a copy of its company's)."""
    if isinstance(owner, Contact) and owner.use_company_address and owner.company_id is not None:
        return False
    return any((owner.street, owner.postal_code, owner.city))


def read_rows(form: Mapping[str, str], specs: Sequence[ListSpec]) -> dict[str, list[dict[str, Any]]]:
    """The posted rows of every list, typed text kept, empty and removed rows dropped, numbered anew."""
    numbers: dict[str, set[int]] = {spec.key: set() for spec in specs}
    for name in form:
        match = _NAME.match(name)
        if match and match.group(1) in numbers:
            numbers[match.group(1)].add(int(match.group(2)))
    rows: dict[str, list[dict[str, Any]]] = {}
    for spec in specs:
        preferred = str(form.get(f"{spec.key}-preferred") or "")
        kept = []
        for n in sorted(numbers[spec.key])[:_MAX_ROWS]:
            if form.get(f"{spec.key}-{n}-remove"):
                continue
            row: dict[str, Any] = {f: str(form.get(f"{spec.key}-{n}-{f}") or "").strip() for f in spec.fields}
            if not row["kind"]:
                row["kind"] = spec.default_kind
            row["preferred"] = preferred == str(n)
            if spec.is_blank(row):
                continue
            kept.append(row)
        rows[spec.key] = kept
    return rows


def service_lists(rows: Mapping[str, list[dict[str, Any]]]) -> dict[str, list[dict[str, Any]]]:
    """The rows in the services' input shape (a kind the form does not offer is the service's to refuse)."""
    return {key: [dict(r) for r in entries] for key, entries in rows.items()}


@dataclass(frozen=True)
class RowView:
    """One row as the template draws it: its number, values and the errors that belong to it."""

    n: int | str  # "__n__" in the list's <template>, replaced by the script
    values: Mapping[str, Any]
    errors: Mapping[str, str]
    spare: bool
    focus: bool = False


@dataclass(frozen=True)
class ListView:
    spec: ListSpec
    rows: list[RowView]
    error: str
    kinds: list[tuple[str, str]]

    @property
    def key(self) -> str:
        return self.spec.key

    @property
    def template(self) -> RowView:
        """The empty row the script copies when a row is added."""
        return RowView("__n__", self.spec.blank(), {}, spare=True)


def list_views(specs: Sequence[ListSpec], rows: Mapping[str, list[dict[str, Any]]], errors: Mapping[str, str],
               *, added: str = "", spares: int = 1) -> list[ListView]:
    """Every list with its rows, one spare empty row (two when the list is empty), and per-row errors.

    ``added`` names the list whose "weitere Zeile" button was pressed: it gets one more empty row,
    which takes the focus.
    """
    views = []
    for spec in specs:
        entries = list(rows.get(spec.key, []))
        count = max(spares, 2 if not entries else spares) + (1 if added == spec.key else 0)
        shown: list[RowView] = []
        for n, values in enumerate(entries):
            prefix = f"{spec.key}.{n}"
            mine = {k[len(prefix) + 1:] or "": v for k, v in errors.items() if k == prefix or k.startswith(prefix + ".")}
            shown.append(RowView(n, values, mine, spare=False))
        for i in range(count):
            n = len(entries) + i
            shown.append(RowView(n, spec.blank(), {}, spare=True, focus=bool(added == spec.key and i == count - 1)))
        if not any(r.values.get("preferred") for r in shown):
            # The service takes the first entry then; the page says so, and one checked radio is
            # what makes a radio group reachable with Tab (its arrows move the choice).
            shown[0] = replace(shown[0], values=dict(shown[0].values, preferred=True))
        views.append(ListView(spec, shown, errors.get(spec.key, ""), kind_choices(spec.channel)))
    return views


def kind_choices(channel: str) -> list[tuple[str, str]]:
    """(kind, translated label) pairs for a row's "Art" select."""
    return [(kind, _(kind_label(kind).msgid)) for kind in KINDS[channel]]


def tel_href(number: str) -> str:
    """A ``tel:`` link target: "+49 (0)171 123-45" gives "tel:+4917112345" (RFC 3966 needs no spaces)."""
    text = number.strip()
    plus = text.startswith("+")
    if plus:
        text = text.replace("(0)", "")
    digits = re.sub(r"\D", "", text)
    return "tel:" + ("+" if plus else "") + digits


def web_href(address: str) -> str:
    """A link target for a stored website: only http(s), "www.example.de" gets https://."""
    text = address.strip()
    if re.match(r"^https?://", text, re.I):
        return text
    return "https://" + re.sub(r"^[a-z][a-z0-9+.-]*:/*", "", text, flags=re.I)


_HREFS = {"emails": lambda v: "mailto:" + v.strip(), "phones": tel_href, "websites": web_href}


def view_entries(owner: Contact | Company, specs: Sequence[ListSpec]) -> dict[str, list[dict[str, Any]]]:
    """Every entry of the owner for its page: values, translated kind label, preferred mark, link target."""
    rows = stored_rows(owner, specs)
    out: dict[str, list[dict[str, Any]]] = {}
    for spec in specs:
        entries = []
        for entry in rows[spec.key]:
            shown = dict(entry, label=_(kind_label(str(entry.get("kind") or "other")).msgid))
            if spec.key in _HREFS:
                shown["href"] = _HREFS[spec.key](str(entry["value"]))
            entries.append(shown)
        out[spec.key] = entries
    return out


def company_address(company: Company) -> dict[str, str]:
    """The company's address for letters (its preferred entry, else its columns), with the Adresszusatz."""
    chosen = next((a for a in company.addresses if a.preferred), company.addresses[0] if company.addresses else None)
    if chosen is not None:
        return {k: getattr(chosen, k) or "" for k in ADDRESS_TEXT} | {"kind": chosen.kind}
    return {"street": company.street or "", "extra": "", "postal_code": company.postal_code or "",
            "city": company.city or "", "country": company.country or "", "kind": "work"}
