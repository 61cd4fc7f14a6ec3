"""The company overview in a real browser (issue "plugins", done-when).

One company, two contacts, documents of every area in every status with different rights. Two
users with different rights open the overview, click through every section's radio filters
(htmx swaps one section) and see exactly the rows, counts and sums (Vertrieb, Verträge,
Projekte) of the documents they may read; "nur meine / alle" switches to their own documents.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import pytest
from playwright.sync_api import expect

from kundenakte.core.documents import DocumentInput, create_document
from kundenakte.core.models import Company, Contact, Document
from kundenakte.core.formatting import format_money
from tests.browser.conftest import login, logout, shot

pytestmark = [pytest.mark.browser, pytest.mark.sqlite_only, pytest.mark.timeout(150)]

# section key -> (heading, [(filter value, label, statuses or None)], shows a sum)
SECTIONS: dict[str, tuple[str, list[tuple[str, str, tuple[str, ...] | None]], bool]] = {
    "communication": ("Kommunikation", [("all", "alle", None), ("drafts", "Entwürfe", ("draft",)),
                                         ("sent", "versendet", ("sent",))], False),
    "tasks": ("Aufgaben", [("all", "alle", None), ("open", "offen", ("open",)), ("done", "erledigt", ("done",))], False),
    "contracts": ("Verträge", [("all", "alle", None), ("active", "aktiv", ("active",)),
                               ("cancelled", "gekündigt", ("cancelled",)), ("ended", "beendet", ("ended",))], True),
    "sales": ("Vertrieb", [("all", "alle", None), ("open", "offen", ("open",)), ("won", "gewonnen", ("won",)),
                           ("lost", "verloren", ("lost",)), ("discontinued", "eingestellt", ("discontinued",))], True),
    "projects": ("Projekte", [("all", "alle", None), ("open", "offen", ("open",)), ("planned", "geplant", ("planned",)),
                              ("in_progress", "in Arbeit", ("in_progress",)), ("done", "erledigt", ("done",))], True),
}
SECTION_OF = {
    "free_document": "communication", "email": "communication", "letter": "communication", "phone_note": "communication",
    "task": "tasks", "contract": "contracts", "opportunity": "sales", "project": "projects",
}
AMOUNT_FIELD = {"contract": "value", "opportunity": "expected_volume", "project": "budget"}
# What a section's sum means when it is not a plain "Summe" (issue 15: never mix meanings in one number);
# without a probability an opportunity's weighted volume is its expected volume.
SUM_LABELS = {"sales": "Pipeline (gewichtet)"}


@dataclass
class Spec:
    """One document: who wrote it, who else may read (``readers``) or edit (``editors``) it."""

    title: str
    type_key: str
    status: str | None
    author: str = "owner"
    readers: tuple[str, ...] = ()
    editors: tuple[str, ...] = ()
    amount: str | None = None
    contact: int | None = 0  # index into the company's contacts; None = the company itself
    responsible: str | None = None
    archived: bool = False
    other_company: bool = False
    id: int = 0


# "V" is the group Vertrieb (user "grouped" is a member), "*" everyone, other names are users.
DOCS = [
    Spec("Notiz Erstgespräch", "free_document", None, readers=("*",), contact=None),
    Spec("Mail Angebot Entwurf", "email", "draft", readers=("V",)),
    Spec("Brief Vertragsbestätigung", "letter", "sent", readers=("reader",), contact=1),
    Spec("Telefonnotiz Rückruf", "phone_note", None, author="grouped"),
    Spec("Mail Lieferung versendet", "email", "sent"),
    Spec("Aufgabe Angebot nachfassen", "task", "open", readers=("V", "reader")),
    Spec("Aufgabe Muster versenden", "task", "done", readers=("V",), responsible="grouped", contact=1),
    Spec("Aufgabe intern", "task", "open"),
    Spec("Aufgabe Rückfrage", "task", "done", author="reader", contact=None),
    Spec("Aufgabe archiviert", "task", "open", readers=("*",), archived=True),
    Spec("Aufgabe anderer Kunde", "task", "open", readers=("*",), other_company=True, contact=None),
    Spec("Wartungsvertrag", "contract", "active", readers=("*",), amount="100.00"),
    Spec("Mietvertrag Drucker", "contract", "cancelled", readers=("V",), amount="250.50", contact=1),
    Spec("Rahmenvertrag 2020", "contract", "ended", readers=("reader",), amount="1000.00", contact=None),
    Spec("Geheimvertrag", "contract", "active", amount="9999.00"),
    Spec("Opportunity Lager", "opportunity", "open", readers=("V",), amount="5000.00"),
    Spec("Opportunity Förderband", "opportunity", "won", readers=("*",), amount="12000.50", contact=1),
    Spec("Opportunity Kran", "opportunity", "lost", readers=("reader",), amount="800.00"),
    Spec("Opportunity Regal", "opportunity", "discontinued", editors=("V", "reader"), amount="300.00"),
    Spec("Opportunity geheim", "opportunity", "open", amount="77777.00", contact=None),
    Spec("Opportunity eigene", "opportunity", "open", author="reader", amount="1500.25", contact=1),
    Spec("Projekt Einführung", "project", "open", readers=("*",), amount="2000.00"),
    Spec("Projekt Schulung", "project", "planned", readers=("V",), editors=("reader",), amount="500.00", contact=1),
    Spec("Projekt Migration", "project", "in_progress", author="grouped", amount="15000.00", contact=None),
    Spec("Projekt Altdaten", "project", "done", readers=("reader",), amount="700.00"),
    Spec("Projekt geheim", "project", "planned", amount="1.00"),
]


def principal(people: Any, name: str) -> str:
    if name == "*":
        return "*"
    if name == "V":
        return f"g:{people.groups['Vertrieb']}"
    return f"u:{people.users[name]}"


def seed(ka: Any, people: Any) -> int:
    today = ka.clock.today()
    with ka.db.write() as s:
        company = Company(name="Werkzeugbau Ravensburg GmbH", postal_code="88212", city="Ravensburg")
        other = Company(name="Andere GmbH", postal_code="10115", city="Berlin")
        s.add_all([company, other])
        s.flush()
        contacts = [Contact(first_name="Lea", last_name="Berger", company_id=company.id),
                    Contact(first_name="Tom", last_name="Kaiser", company_id=company.id)]
        s.add_all(contacts)
        s.flush()
        for spec in DOCS:
            data: dict[str, Any] = {}
            if spec.type_key == "contract":
                data.update(subject=spec.title, start=(today - dt.timedelta(days=400)).isoformat(), notice_to="end_of_month")
            if spec.type_key in AMOUNT_FIELD and spec.amount is not None:
                data[AMOUNT_FIELD[spec.type_key]] = spec.amount
            inp = DocumentInput(
                title=spec.title,
                company_id=other.id if spec.other_company else company.id,
                contact_id=None if spec.contact is None else contacts[spec.contact].id,
                # An e-mail's status is the outbox's (status_managed): seeded below, like archiving.
                status=None if ka.types.get(spec.type_key).status_managed else spec.status,
                data=data,
                readers=[principal(people, p) for p in spec.readers],
                editors=[principal(people, p) for p in spec.editors],
                responsible_id=people.users[spec.responsible or spec.author],
            )
            doc = create_document(ka, s, people.viewer(spec.author), spec.type_key, inp)
            s.flush()
            if spec.status and ka.types.get(spec.type_key).status_managed:
                doc.status = spec.status
            if spec.archived:
                doc.archived_at = doc.created_at
            spec.id = doc.id
        return company.id


def readable(people: Any, spec: Spec, login_name: str) -> bool:
    if spec.archived or spec.other_company:
        return False
    if login_name in (spec.author, spec.responsible):
        return True
    mine = {"*", login_name} | ({"V"} if login_name in ("grouped", "nested") else set())
    return bool(mine & (set(spec.readers) | set(spec.editors)))


def expected(people: Any, login_name: str, key: str, statuses: tuple[str, ...] | None, mine: bool) -> list[Spec]:
    """The documents a section lists, newest first (all share today's date, so by id)."""
    rows = [d for d in DOCS if SECTION_OF[d.type_key] == key and readable(people, d, login_name)
            and (statuses is None or d.status in statuses)
            and (not mine or login_name in (d.author, d.responsible or d.author))]
    return sorted(rows, key=lambda d: d.id, reverse=True)


def filter_radio(section: Any, label: str) -> Any:
    return section.get_by_role("radiogroup", name="Filter").get_by_role("radio", name=re.compile(rf"^{re.escape(label)}\s*\d+$"))


def check_section(page: Any, people: Any, login_name: str, key: str, active: str, mine: bool) -> None:
    """Rows, every filter's count, the heading's total and the sum of one section in its current state."""
    heading, filters, with_sum = SECTIONS[key]
    section = page.locator(f"#section-{key}")
    statuses = next(s for value, _l, s in filters if value == active)
    rows = expected(people, login_name, key, statuses, mine)
    titles = section.locator("tbody tr td:nth-child(2) a")
    if rows:
        expect(titles).to_have_text([d.title for d in rows])
    else:
        expect(section.locator("tbody tr")).to_have_count(0)
        expect(section).to_contain_text("Keine Einträge.")
    expect(section.locator("h2")).to_contain_text(heading)
    expect(section.locator("h2 > .count")).to_have_text(str(len(expected(people, login_name, key, None, mine))))
    for value, label, sts in filters:
        radio = filter_radio(section, label)
        expect(radio.locator(".count")).to_have_text(str(len(expected(people, login_name, key, sts, mine))))
        expect(radio).to_have_attribute("aria-checked", "true" if value == active else "false")
    if with_sum:
        total = sum((Decimal(d.amount or 0) for d in rows), Decimal(0))
        expect(section.locator(".sum")).to_have_text(f"{SUM_LABELS.get(key, 'Summe')}: {format_money(total, 'de')}")


def walk_overview(page: Any, people: Any, login_name: str, mine: bool) -> None:
    """Click every radio filter of every section (the default last) and check the swapped section."""
    for key, (_heading, filters, _sum) in SECTIONS.items():
        check_section(page, people, login_name, key, "all", mine)
        for value, label, _sts in filters[1:] + filters[:1]:
            section = page.locator(f"#section-{key}")
            with page.expect_response(re.compile(rf"/uebersicht/abschnitt/{key}\?")):
                filter_radio(section, label).click()
            expect(page).to_have_url(re.compile(rf"f_{key}={value}"))
            check_section(page, people, login_name, key, value, mine)


def test_overview_workflow(ka, people, live_server, browser_page):
    page, base = browser_page, live_server
    company_id = seed(ka, people)
    # the fixture data really differs between the two users in every section
    for key in SECTIONS:
        a = {d.title for d in expected(people, "grouped", key, None, False)}
        b = {d.title for d in expected(people, "reader", key, None, False)}
        assert a and b and a != b, key

    for login_name in ("grouped", "reader"):
        login(page, base, login_name)
        page.goto(f"{base}/unternehmen")
        page.get_by_role("search", name="Unternehmen filtern").get_by_label("Name").fill("Werkzeug*")
        page.get_by_role("button", name="Filtern").click()
        page.locator("table.list tbody tr").filter(has_text="Werkzeugbau Ravensburg GmbH").get_by_role(
            "link", name="Übersicht").click()
        expect(page).to_have_url(re.compile(rf"/unternehmen/{company_id}/uebersicht"))
        # the plugins' sections in the manual's order (the test plugin's types add generic ones after them)
        ids = page.eval_on_selector_all(".overview-section", "els => els.map(e => e.id)")
        assert [i for i in ids if i.removeprefix("section-") in SECTIONS] == [f"section-{k}" for k in SECTIONS], ids
        switch = page.get_by_role("radiogroup", name="Welche Dokumente")
        expect(switch.get_by_role("radio", name="alle")).to_have_attribute("aria-checked", "true")
        walk_overview(page, people, login_name, mine=False)
        shot(page, f"20-uebersicht-{login_name}")

        # "nur meine": a full page load; every section keeps its filter ("alle" after the walk)
        switch.get_by_role("radio", name="nur meine").click()
        expect(page).to_have_url(re.compile(r"ansicht=meine"))
        expect(switch.get_by_role("radio", name="nur meine")).to_have_attribute("aria-checked", "true")
        for key in SECTIONS:
            check_section(page, people, login_name, key, "all", mine=True)
        # a filter inside "nur meine" stays within the user's own documents
        with page.expect_response(re.compile(r"/uebersicht/abschnitt/tasks\?")):
            filter_radio(page.locator("#section-tasks"), "erledigt").click()
        expect(page).to_have_url(re.compile(r"ansicht=meine.*f_tasks=done|f_tasks=done.*ansicht=meine"))
        check_section(page, people, login_name, "tasks", "done", mine=True)
        shot(page, f"21-uebersicht-{login_name}-nur-meine")
        # The section swap re-sends the switch out of band, so "alle" keeps the section's filter.
        switch.get_by_role("radio", name="alle").click()
        expect(page).not_to_have_url(re.compile(r"ansicht=meine"))
        check_section(page, people, login_name, "tasks", "done", mine=False)
        for key in ("communication", "contracts", "sales", "projects"):
            check_section(page, people, login_name, key, "all", mine=False)
        assert not page.problems, page.problems  # type: ignore[attr-defined]
        logout(page)

    # the seeded ids are what the page linked (rows compare by title; make sure titles are unique)
    with ka.db.read() as s:
        assert len({d.title for d in DOCS}) == len(DOCS) == s.query(Document).count()
