"""Contact import: plan (dedupe, validation, dry run) and apply (chunked bulk writes).

``plan_import(session, records)`` only reads: it decides for each record *create*, *update* or
*skip* with a German reason, and which companies must be created. Showing the plan is the dry run.
``apply_import(ka, plan)`` writes it.

Duplicates
    A record is the same person as an existing contact (or an earlier record of the same file) when
    the e-mail address is equal (case-insensitive), or when the folded first+last name and the
    folded company name are equal – unless both carry different e-mail addresses, which makes them
    two people of the same name. A duplicate becomes an *update* when the record brings values
    that differ (only non-empty values are taken: an import never blanks out a field, and
    gender "unknown" never overwrites a known one), else a *skip*. A second record of the file
    that duplicates an earlier one is skipped.

Companies
    Matched by folded name; a missing one is created once (with the company data of the first
    record that names it). Existing companies are never changed by an import.

Addresses of foreign files (``use_company_address`` not given)
    No company: the address is the contact's own. Company with no address yet (a new one) or the
    same address: the contact uses the company address. Company with another address: the contact
    keeps its own address.

Records without a last name (the services require one), in this order of rules
    * a first name only: the first name becomes the last name ("Anna" -> Nachname "Anna");
    * no person name but an organisation (an ORG-only card, vCard ``KIND:org``, a CSV row with only a
      company): a *company* is created (action ``company``) with the record's e-mails, phones,
      websites and addresses – no contact; an existing company of that name is left alone;
    * else the nickname, else the e-mail address, else the phone number becomes the last name;
    * nothing of these: skipped ("Nachname: Bitte einen Nachnamen angeben.").
    Each rule applied is a warning of the record in the dry run and the report.

Not kept
    What a record's file carried but Kundenakte does not keep (``record.not_kept``: "PHOTO",
    "X-ANNIVERSARY", "Kategorien") is listed per record ("nicht übernommen: PHOTO, X-ANNIVERSARY") in
    the dry run, the CLI and the web report.

Validation
    Every record is checked by the contact and company services' own rules
    (``core/services``: lengths from the columns, the e-mail and web rules, the required last
    name); a record with errors is skipped, its reason naming every field error with the same
    German message the web form and the API show ("Nachname: Höchstens 120 Zeichen.").

Writing
    Through the services' bulk writers (``services.companies.insert_companies``,
    ``services.contacts.insert_contacts`` / ``update_contacts``): new companies first (one
    transaction), then contacts in chunks of ``chunk_size`` per transaction through Core bulk
    INSERT … RETURNING. Those fill the folded columns and the ``index_queue`` rows themselves, in
    the same transactions: the search index catches up as after any other change.
    An interrupted import leaves the chunks written so far (each one complete);
    importing the same file again skips them as duplicates.
"""

from __future__ import annotations

import re
import sys
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any, Literal

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from kundenakte.core.exchange import Address, ContactRecord, Point, preferred_of
from kundenakte.core.models import Company, Contact, User, utcnow
from kundenakte.core.services.companies import company_errors, insert_companies
from kundenakte.core.services.contacts import (
    CONTACT_LISTS,
    LABELS,
    contact_errors,
    insert_contacts,
    update_contacts,
)
from kundenakte.core.services.points import CHANNELS, points_of, value_key
from kundenakte.core.text import fold as _fold

# Names, cities and companies repeat a lot in a contact list; fold() is the planner's hot spot.
fold = lru_cache(maxsize=1 << 16)(_fold)

Action = Literal["create", "update", "skip", "company"]
# The lists the contact service stores (websites of a contact it does not take: the planner reports
# them as not kept).
CONTACT_LIST_KEYS = tuple(k for k in ("emails", "phones", "websites", "addresses") if k in CONTACT_LISTS)
LIST_LABELS = {"emails": "E-Mail", "phones": "Telefon", "websites": "Website", "addresses": "Adresse"}
EXTRA_LABELS = {"birthday": "Geburtstag", "nickname": "Spitzname", "department": "Abteilung", "notes": "Notizen"}

TEXT_FIELDS = ("title", "first_name", "last_name", "salutation_override", "position", "email", "phone",
               "street", "postal_code", "city", "country")
# A spelling that only differs in case or umlauts ("Mueller" for "Müller") is no change: the existing
# spelling is kept.
LOOSE_FIELDS = {"first_name", "last_name", "email", "street", "city"}
COMPANY_FIELDS = {"company_name": "name", "company_street": "street", "company_postal_code": "postal_code",
                  "company_city": "city", "company_country": "country", "company_phone": "phone",
                  "company_email": "email", "company_web": "web"}
COMPANY_LABELS = {"name": "Firma", "street": "Firma Straße", "postal_code": "Firma PLZ", "city": "Firma Ort",
                  "country": "Firma Land", "phone": "Firma Telefon", "email": "Firma E-Mail", "web": "Firma Web"}


@dataclass
class PlanItem:
    number: int  # 1-based position in the file
    source: str  # "Zeile 4", "Karte 2 (Zeile 17)"
    record: ContactRecord
    action: Action
    reason: str
    contact_id: int | None = None  # the existing contact an update changes
    company_key: str = ""  # folded company name; resolved to an id when applying
    values: dict[str, Any] = field(default_factory=dict)  # columns to write
    changes: list[str] = field(default_factory=list)  # labels of changed fields (updates)
    warnings: list[str] = field(default_factory=list)

    @property
    def not_kept(self) -> list[str]:
        """The file's properties/columns of this record that are not kept."""
        return self.record.not_kept

    def describe(self) -> str:
        rec = self.record
        name = (" ".join(x for x in (rec.first_name, rec.last_name) if x) or rec.company_name or "(ohne Namen)")
        verb = {"create": "neu", "update": "aktualisieren", "skip": "überspringen", "company": "neue Firma"}[self.action]
        text = f"{self.source}: {name}: {verb} – {self.reason}"
        if self.warnings:
            text += " (" + "; ".join(self.warnings) + ")"
        if self.not_kept:
            text += " – nicht übernommen: " + ", ".join(self.not_kept)
        return text


@dataclass
class ImportPlan:
    items: list[PlanItem]
    # folded name -> column values of a company to create
    new_companies: dict[str, dict[str, Any]] = field(default_factory=dict)

    @property
    def counts(self) -> Counter[str]:
        return Counter(item.action for item in self.items)

    def summary(self) -> str:
        c = self.counts
        text = (f"{len(self.items)} Datensätze: {c['create']} neu, {c['update']} aktualisieren, "
                f"{c['skip']} überspringen; {len(self.new_companies)} neue Firma(en).")
        lossy = sum(1 for item in self.items if item.not_kept)
        return text + (f" {lossy} Datensatz/-sätze mit nicht übernommenen Angaben." if lossy else "")


@dataclass
class ImportResult:
    created: int = 0
    updated: int = 0
    skipped: int = 0
    companies_created: int = 0
    contact_ids: list[int] = field(default_factory=list)

    def summary(self) -> str:
        return (f"{self.created} Kontakt(e) angelegt, {self.updated} aktualisiert, {self.skipped} übersprungen, "
                f"{self.companies_created} Firma(en) angelegt.")


def _same_address(a: tuple[str, str, str, str], b: tuple[str, str, str, str]) -> bool:
    street_a, code_a, city_a, country_a = (fold(x) for x in a)
    street_b, code_b, city_b, country_b = (fold(x) for x in b)
    if (street_a, code_a.replace(" ", ""), city_a) != (street_b, code_b.replace(" ", ""), city_b):
        return False
    return not (country_a and country_b and country_a != country_b)


def _row_errors(errors: dict[str, str], labels: dict[str, str]) -> str:
    """Every field error of a record, labelled, in the services' words."""
    return " ".join(f"{_label(key, labels)}: {message}" for key, message in errors.items())


_ENTRY_ERROR = re.compile(r"^(emails|phones|websites|addresses)\.(\d+)(\.|$)")


def _drop_bad_entries(values: dict[str, Any], errors: dict[str, str], item: PlanItem) -> None:
    bad: dict[str, set[int]] = {}
    for key, message in errors.items():
        match = _ENTRY_ERROR.match(key)
        if match is None:
            continue
        name, index = match.group(1), int(match.group(2))
        if index in bad.setdefault(name, set()):
            continue
        bad[name].add(index)
        entry = values[name][index]
        shown = entry.get("value") or ", ".join(x for x in (entry.get("street"), entry.get("city")) if x)
        item.record.not_kept.append(f"{_label(key, {})} „{shown}“")
        item.warnings.append(f"{_label(key, {})} „{shown}“ nicht übernommen: {message}")
    for name, indexes in bad.items():
        kept = [e for i, e in enumerate(values[name]) if i not in indexes]
        if kept and not any(e.get("preferred") for e in kept):
            kept[0] = dict(kept[0], preferred=True)
        values[name] = kept


def _plan_company(item: PlanItem, companies: dict[str, tuple[int, tuple[str, str, str, str]]], plan: ImportPlan,
                  now: Any) -> None:
    """An organisation-only record: a new company, unless one of that name exists (then left alone)."""
    rec = item.record
    key = fold(rec.company_name)
    if key in companies:
        item.reason = f"Firma „{rec.company_name}“ gibt es schon (#{companies[key][0]}) – nicht geändert"
        return
    if key in plan.new_companies:
        item.reason = f"Firma „{rec.company_name}“ kommt in dieser Datei schon vor"
        return
    values = _company_from_record(rec)
    cleaned, errors = company_errors(values, partial=True)
    values.update({k: cleaned[k] for k in ("emails", "phones", "websites", "addresses") if k in cleaned})
    problem = _row_errors(errors, {k: v for k, v in COMPANY_LABELS.items()})
    if problem:
        item.reason = problem
        return
    values.update(account_manager_id=None, created_at=now, updated_at=now)
    plan.new_companies[key] = values
    item.company_key = key
    item.action, item.reason = "company", "Firma ohne Ansprechpartner – wird als Firma angelegt"


def _compatible(email_a: str, email_b: str) -> bool:
    return not (email_a and email_b and email_a.casefold() != email_b.casefold())


def apply_name_rule(rec: ContactRecord) -> str:
    """Give a record without a last name one by the documented rules (module doc); the warning or ""."""
    if rec.last_name:
        return ""
    if rec.first_name:
        rec.last_name, rec.first_name = rec.first_name, ""
        return "kein Nachname: Vorname als Nachname übernommen"
    if rec.company_name:
        rec.is_company = True
        return ""
    for value, what in ((rec.nickname, "Spitzname"), (rec.email, "E-Mail-Adresse"), (rec.phone, "Telefonnummer")):
        if value:
            rec.last_name = value
            return f"kein Name: {what} als Nachname übernommen"
    return ""


def _points(items: list[Point]) -> list[dict[str, Any]]:
    best = preferred_of(items)
    return [{"value": p.value, "kind": p.kind, "preferred": p is best} for p in items]


def _addresses(items: list[Address]) -> list[dict[str, Any]]:
    best = preferred_of(items)
    return [{"kind": a.kind, "street": a.street, "extra": a.extra, "postal_code": a.postal_code, "city": a.city,
             "country": a.country, "preferred": a is best} for a in items]


def _company_candidate(rec: ContactRecord) -> Address | None:
    """The record's address that may be its company's: the first business one, else the first untyped."""
    return next((a for a in rec.addresses if a.kind == "work"), None) or next(
        (a for a in rec.addresses if a.kind == "other"), None)


def _label(key: str, labels: dict[str, str]) -> str:
    """"emails.0.value" -> "E-Mail", "emails.1.value" -> "2. E-Mail", "company_phones.0.value" -> "Firma Telefon"."""
    company = key.startswith("company_") and key.partition("_")[2].split(".")[0] in LIST_LABELS
    head, _, rest = key.removeprefix("company_" if company else "").partition(".")
    if head in LIST_LABELS:
        number = rest.partition(".")[0]
        label = LIST_LABELS[head]
        if number.isdigit() and int(number) > 0:
            label = f"{int(number) + 1}. {label}"
        return f"Firma {label}" if company else label
    return labels.get(key, EXTRA_LABELS.get(key, key))


def _company_from_record(rec: ContactRecord) -> dict[str, Any]:
    """A company's values from an organisation-only record (its lists; the service fills the columns)."""
    address = preferred_of(rec.addresses)
    street, code, city, country = address.parts() if address else ("", "", "", "")
    return {"name": rec.company_name, "street": street, "postal_code": code, "city": city, "country": country,
            "emails": _points(rec.emails), "phones": _points(rec.phones), "websites": _points(rec.websites),
            "addresses": _addresses(rec.addresses), "notes": rec.notes, "vat_id": rec.company_vat_id}


def _company_lists(values: dict[str, Any]) -> None:
    """A company made from a contact's record: its single values as one-entry lists (the service keeps
    the lists and copies the preferred entry into the columns, so the single keys go)."""
    for key, column in (("emails", "email"), ("phones", "phone"), ("websites", "web")):
        value = values.pop(column)
        values[key] = [{"value": value, "kind": "work", "preferred": True}] if value else []
    street, _, extra = (values.get("street") or "").partition("\n")
    address = {"kind": "work", "street": street, "extra": extra, "postal_code": values.get("postal_code") or "",
               "city": values.get("city") or "", "country": values.get("country") or "", "preferred": True}
    values["addresses"] = [address] if any(address[k] for k in ("street", "extra", "postal_code", "city")) else []


FindMatch = Callable[[Session, ContactRecord], "int | None"]
MATCH_SCORE = 80  # the finder's score from which an imported record is taken as that contact


def duplicate_matcher(min_score: int = MATCH_SCORE) -> FindMatch:
    """The duplicate finder as the importer's ``find_match``: one in-memory index per import."""
    from kundenakte.core.services.duplicates import ContactIndex

    index: ContactIndex | None = None

    def find(session: Session, rec: ContactRecord) -> int | None:
        nonlocal index
        if index is None:
            index = ContactIndex(session)
        if index.empty:
            return None
        found = index.match(rec, min_score=min_score, limit=1)
        return found[0].contact_id if found else None

    return find


def plan_import(session: Session, records: Iterable[ContactRecord], *, update_existing: bool = True,
                find_match: FindMatch | None = None) -> ImportPlan:
    """Decide what importing ``records`` would do; reads only (this is the dry run).

    ``find_match`` is asked for a record that the fast rules here (same e-mail, same name and company)
    do not match: it returns the id of the existing contact the record is, or None. By default it is
    the duplicate finder's rules (``services.duplicates.ContactIndex``: every e-mail and phone, the
    phonetic name with the company or a postcode), built once per import when first needed, and a
    match counts from ``MATCH_SCORE`` — so "update existing" finds what the Dubletten page would.
    """
    if find_match is None:
        find_match = duplicate_matcher()
    users = {login.casefold(): ident for ident, login in session.execute(select(User.id, User.login))}
    companies: dict[str, tuple[int, tuple[str, str, str, str]]] = {}
    company_folded: dict[int, str] = {}
    for cid, folded, street, code, city, country in session.execute(
        select(Company.id, Company.name_folded, Company.street, Company.postal_code, Company.city, Company.country)
        .order_by(Company.id)
    ):
        companies.setdefault(folded, (cid, (street, code, city, country)))
        company_folded[cid] = folded
    by_email: dict[str, int] = {}
    by_name: dict[tuple[str, str], list[tuple[int, str]]] = {}
    for cid, email, name_folded, company_id in session.execute(
        select(Contact.id, Contact.email, Contact.name_folded, Contact.company_id).order_by(Contact.id)
    ):
        if email:
            by_email.setdefault(email.casefold(), cid)
        key = (name_folded, company_folded.get(company_id, "") if company_id else "")
        by_name.setdefault(key, []).append((cid, email or ""))

    plan = ImportPlan(items=[])
    seen_email: dict[str, str] = {}
    seen_name: dict[tuple[str, str], list[tuple[str, str]]] = {}
    planned_company_address: dict[str, tuple[str, str, str, str]] = {}
    matches: list[tuple[PlanItem, int, str]] = []
    now = utcnow()

    for number, raw in enumerate(records, 1):
        rec = raw.cleaned()
        item = PlanItem(number=number, source=raw.source or f"Datensatz {number}", record=rec, action="skip",
                        reason="")
        plan.items.append(item)
        rule = apply_name_rule(rec)
        if rule:
            item.warnings.append(rule)
        if rec.is_company and not rec.last_name:
            _plan_company(item, companies, plan, now)
            continue
        if not rec.last_name:
            item.reason = _row_errors(contact_errors({"last_name": ""}, partial=True)[1], LABELS)
            continue
        email_key = rec.email.casefold()
        name_key = (fold(f"{rec.first_name} {rec.last_name}"), fold(rec.company_name))
        # -- duplicates within the file
        if email_key and email_key in seen_email:
            item.reason = f"Dublette: gleiche E-Mail wie {seen_email[email_key]} dieser Datei"
            continue
        earlier = next((src for src, mail in seen_name.get(name_key, []) if _compatible(mail, rec.email)), None)
        if earlier:
            item.reason = f"Dublette: gleicher Name und gleiche Firma wie {earlier} dieser Datei"
            continue
        # -- values
        values: dict[str, Any] = {k: getattr(rec, k) for k in TEXT_FIELDS}
        own_addresses = list(rec.addresses)
        values.update(nickname=rec.nickname, department=rec.department, notes=rec.notes, birthday=rec.birthday)
        values["gender"] = rec.gender or "unknown"
        values["language"] = rec.language or "de"
        manager_id = None
        if rec.account_manager:
            manager_id = users.get(rec.account_manager.casefold())
            if manager_id is None:
                item.warnings.append(f"Kundenbetreuer „{rec.account_manager}“ unbekannt – nicht zugeordnet")
        values["account_manager_id"] = manager_id
        company_key = fold(rec.company_name)
        candidate = _company_candidate(rec)
        own = candidate.parts() if candidate else ("", "", "", "")
        company_values: dict[str, Any] | None = None
        if company_key:
            if company_key in companies:
                company_address = companies[company_key][1]
            elif company_key in plan.new_companies:
                company_address = planned_company_address[company_key]
            else:
                company_values = {col: getattr(rec, attr) for attr, col in COMPANY_FIELDS.items()}
                company_values.update(vat_id=rec.company_vat_id, notes="")  # every bulk row has the same keys
                if rec.use_company_address is None and not rec.has_company_address() and candidate is not None:
                    # a foreign file: the contact's business address seeds the new company
                    company_values.update(street=own[0], postal_code=own[1], city=own[2],
                                          country=own[3] or "Deutschland")
                site = next((w for w in rec.websites if w.kind == "work"), None)
                if not company_values["web"] and site is not None:
                    company_values["web"] = site.value  # Outlook's "Web Page" of a business contact
                company_address = (company_values["street"], company_values["postal_code"], company_values["city"],
                                   company_values["country"])
        else:
            company_address = ("", "", "", "")
        if rec.use_company_address is None:
            if not company_key:
                use_company = False
            elif not rec.has_own_address() or (candidate is not None and _same_address(own, company_address)):
                use_company = True
                if candidate is not None:
                    own_addresses.remove(candidate)  # it is the company's address
            else:
                use_company = False
        else:
            use_company = rec.use_company_address
        values["use_company_address"] = use_company
        if use_company and company_key:  # the contact's columns hold the company's address (or nothing)
            values.update(street="", postal_code="", city="", country="")
        lists = {"emails": _points(rec.emails), "phones": _points(rec.phones), "websites": _points(rec.websites),
                 "addresses": _addresses(own_addresses)}
        values.update({k: v for k, v in lists.items() if k in CONTACT_LIST_KEYS})
        for single in ("email", "phone"):  # the service copies the preferred entries into these
            values.pop(single)
        if "websites" not in CONTACT_LIST_KEYS:
            seeded = company_values["web"] if company_values is not None else ""
            if any(w.value != seeded for w in rec.websites):
                rec.not_kept.append("Website (beim Kontakt nicht speicherbar)")
        cleaned, errors = contact_errors(values, partial=True)
        if any(_ENTRY_ERROR.match(k) for k in errors):
            # A bad entry of a list (an odd second e-mail address) costs the entry, not the contact:
            # it is named as not kept, with the service's reason.
            _drop_bad_entries(values, errors, item)
            cleaned, errors = contact_errors(values, partial=True)
        values.update({k: cleaned[k] for k in CONTACT_LIST_KEYS if k in cleaned})  # checked, without repeats
        if company_values is not None:
            _company_lists(company_values)
            company_cleaned, company_problems = company_errors(company_values, partial=True)
            errors |= {f"company_{k}": v for k, v in company_problems.items()}
            company_values.update({k: company_cleaned[k] for k in ("emails", "phones", "websites", "addresses")
                                   if k in company_cleaned})
        problem = _row_errors(errors, LABELS | {f"company_{k}": v for k, v in COMPANY_LABELS.items()})
        if problem:
            item.reason = problem
            continue
        if company_values is not None:
            company_manager = users.get(rec.company_account_manager.casefold()) if rec.company_account_manager else None
            if rec.company_account_manager and company_manager is None:
                item.warnings.append(f"Kundenbetreuer „{rec.company_account_manager}“ der Firma unbekannt")
            company_values.update(account_manager_id=company_manager, created_at=now, updated_at=now)
            plan.new_companies[company_key] = company_values
            planned_company_address[company_key] = company_address
        item.company_key = company_key
        item.values = values
        if email_key:
            seen_email[email_key] = item.source
        seen_name.setdefault(name_key, []).append((item.source, rec.email))
        # -- duplicates in the database
        existing = by_email.get(email_key) if email_key else None
        how = "gleiche E-Mail"
        if existing is None:
            existing = next((cid for cid, mail in by_name.get(name_key, []) if _compatible(mail, rec.email)), None)
            how = "gleicher Name und gleiche Firma"
        if existing is None and find_match is not None:
            existing, how = find_match(session, rec), "laut Dublettenprüfung derselbe Kontakt"
        if existing is not None:
            matches.append((item, existing, how))
            continue
        item.action = "create"
        item.reason = "neu" + (f"; Firma „{rec.company_name}“ wird angelegt" if company_values is not None else "")
    _plan_updates(session, matches, companies, update_existing)
    return plan


def _plan_updates(session: Session, matches: list[tuple[PlanItem, int, str]],
                  companies: dict[str, tuple[int, tuple[str, str, str, str]]], update_existing: bool) -> None:
    existing: dict[int, Contact] = {}
    ids = [cid for _, cid, _ in matches]
    for start in range(0, len(ids), 500):
        for contact in session.scalars(select(Contact).where(Contact.id.in_(ids[start:start + 500]))):
            existing[contact.id] = contact
    for item, cid, how in matches:
        contact = existing[cid]
        rec = item.record
        item.contact_id = cid
        changes: dict[str, Any] = {}
        for key in TEXT_FIELDS:
            if key in SINGLE_COPIES:
                continue  # copies of the lists' preferred entries: the lists are compared below
            new = item.values[key]
            old = getattr(contact, key) or ""
            if new and (fold(new) != fold(old) if key in LOOSE_FIELDS else new != old):
                changes[key] = new
        changes.update(_list_changes(contact, item.values))
        if rec.gender and rec.gender != "unknown" and rec.gender != contact.gender:
            changes["gender"] = rec.gender
        if rec.language and rec.language != contact.language:
            changes["language"] = rec.language
        if rec.use_company_address is not None and rec.use_company_address != contact.use_company_address:
            changes["use_company_address"] = rec.use_company_address
        manager = item.values["account_manager_id"]
        if manager is not None and manager != contact.account_manager_id:
            changes["account_manager_id"] = manager
        if item.company_key:
            known = companies.get(item.company_key)
            if known is None or known[0] != contact.company_id:
                changes["company_id"] = None  # resolved from company_key when applying
        base = f"Dublette: {how} wie Kontakt #{cid}"
        if not changes:
            item.action, item.reason = "skip", f"{base} – keine Änderungen"
            continue
        item.changes = [LABELS.get(k) or LIST_LABELS.get(k) or EXTRA_LABELS.get(k, k) for k in changes]
        if not update_existing:
            item.action, item.reason = "skip", f"{base} – nicht aktualisiert ({', '.join(item.changes)})"
            continue
        item.values = changes
        item.action, item.reason = "update", f"{base} – ändert {', '.join(item.changes)}"


SINGLE_COPIES = {"email", "phone", "street", "postal_code", "city", "country"}


def _entry_key(key: str, entry: dict[str, Any]) -> tuple[str, ...]:
    if key == "addresses":
        return (fold(entry.get("street") or ""), (entry.get("postal_code") or "").replace(" ", ""),
                fold(entry.get("city") or ""))
    # as the model compares entries: e-mail casefolded, phone "+49 89 1" = "089 1", web without scheme
    return (value_key(CHANNELS[key], entry.get("value") or ""),)


def _company_address(company: Company) -> dict[str, Any]:
    return {"street": company.street, "postal_code": company.postal_code, "city": company.city}


def _covers(stored: dict[str, Any], new: dict[str, Any]) -> bool:
    """A stored address says everything the new one says (same street, PLZ and city where it gives them)."""
    fields = [k for k in ("street", "postal_code", "city") if new.get(k)]
    return bool(fields) and all(_entry_key("addresses", {k: new[k]}) == _entry_key("addresses", {k: stored.get(k) or ""})
                                for k in fields)


def _list_changes(contact: Contact, values: dict[str, Any]) -> dict[str, Any]:
    """An update adds what the record brings and the contact lacks; it never removes an entry.

    A given list replaces the stored one (service rule), so the stored entries go first, unchanged.
    Scalars (birthday, nickname, department, notes) change only when the record has a value.
    """
    stored = points_of(contact)
    changes: dict[str, Any] = {}
    for key in CONTACT_LIST_KEYS:
        have = list(stored.get(key, []))
        if key == "addresses":
            known = have + ([_company_address(contact.company)] if contact.use_company_address and contact.company else [])
            new = [dict(e, preferred=False) for e in values.get(key, []) if not any(_covers(k, e) for k in known)]
        else:
            seen = {_entry_key(key, e) for e in have}
            new = [dict(e, preferred=False) for e in values.get(key, []) if _entry_key(key, e) not in seen]
        if new:
            changes[key] = have + new
    for scalar in ("birthday", "nickname", "department", "notes"):
        value = values.get(scalar)
        if value and value != getattr(contact, scalar, None):
            changes[scalar] = value
    return changes


def apply_import(ka: Any, plan: ImportPlan, *, progress: bool = False, chunk_size: int = 1000) -> ImportResult:
    """Write ``plan``: new companies, then contacts in chunks of ``chunk_size`` per transaction."""
    from tqdm import tqdm

    result = ImportResult(skipped=plan.counts["skip"])
    company_ids: dict[str, int] = {}
    if plan.new_companies:
        keys = list(plan.new_companies)
        with ka.db.write() as session:
            ids = insert_companies(session, [plan.new_companies[k] for k in keys], is_sqlite=ka.db.is_sqlite)
            company_ids = dict(zip(keys, ids, strict=True))
        result.companies_created = len(ids)
    creates = [i for i in plan.items if i.action == "create"]
    updates = [i for i in plan.items if i.action == "update"]
    if any(i.company_key and i.company_key not in company_ids for i in plan.items if i.action != "skip"):
        known: dict[str, int] = {}
        with ka.db.read() as session:
            for key, cid in session.execute(select(Company.name_folded, Company.id).order_by(Company.id.desc())):
                known[key] = cid  # the oldest company of a name wins, as in the plan
        company_ids = known | company_ids
    bar = tqdm(total=len(creates) + len(updates), unit=" Kontakte", file=sys.stderr, disable=not progress,
               desc="Import")
    try:
        for start in range(0, len(creates), chunk_size):
            chunk = creates[start:start + chunk_size]
            rows = [dict(item.values, company_id=company_ids.get(item.company_key) if item.company_key else None)
                    for item in chunk]
            with ka.db.write() as session:
                ids = insert_contacts(session, rows, is_sqlite=ka.db.is_sqlite)
            result.created += len(ids)
            result.contact_ids.extend(ids)
            bar.update(len(chunk))
        for start in range(0, len(updates), chunk_size):
            chunk = updates[start:start + chunk_size]
            changes = []
            for item in chunk:
                values = dict(item.values)
                if "company_id" in values:
                    values["company_id"] = company_ids.get(item.company_key)
                if item.contact_id is not None:
                    changes.append((item.contact_id, values))
            with ka.db.write() as session:
                update_contacts(session, changes)
            result.updated += len(chunk)
            result.contact_ids.extend(i.contact_id for i in chunk if i.contact_id is not None)
            bar.update(len(chunk))
    finally:
        bar.close()
    if result.created or result.updated or result.companies_created:
        ka.search.notify()
    return result


def count_contacts(session: Session) -> int:
    return int(session.scalar(select(func.count()).select_from(Contact)) or 0)
