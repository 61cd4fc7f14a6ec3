"""The contact and company forms' repeatable rows (web/entry_rows.py), on SQLite and PostgreSQL.

Several e-mails, phones, websites and addresses per form; errors beside the row they belong to
with everything typed kept; the "weitere …" button without JavaScript; an edit keeps every entry
the form showed; the pages show every entry with its kind and the preferred mark.
"""

from __future__ import annotations

import datetime as dt
import html
import re
from typing import Any

from sqlalchemy import select

from kundenakte.core import services
from kundenakte.core.models import Company, Contact, User
from kundenakte.core.services.points import points_of
from tests.web.conftest import login, post


def _rows(key: str, entries: list[dict[str, str]], preferred: int | None = None) -> dict[str, str]:
    """Form fields of one list as the page names them, with gaps in the numbers (as the script leaves them)."""
    data: dict[str, str] = {}
    for i, entry in enumerate(entries):
        n = i * 3  # rows are read in number order, whatever the numbers are
        for field, value in entry.items():
            data[f"{key}-{n}-{field}"] = value
        if preferred == i:
            data[f"{key}-preferred"] = str(n)
    return data


def _form_fields(page: str) -> dict[str, str]:
    """The named text inputs of a page with their values (enough to post a form back as shown)."""
    found = {}
    for tag in re.findall(r"<input [^>]+>", page):
        name = re.search(r'name="([^"]+)"', tag)
        value = re.search(r'value="([^"]*)"', tag)
        kind = re.search(r'type="([^"]+)"', tag)
        if not name or (kind and kind.group(1) in ("checkbox", "radio", "hidden", "submit")):
            continue
        found[name.group(1)] = value.group(1) if value else ""
    for name, body in re.findall(r'<select [^>]*name="([^"]+)"[^>]*>(.*?)</select>', page, re.S):
        chosen = re.search(r'<option value="([^"]*)" selected', body)
        found[name] = chosen.group(1) if chosen else ""
    for name, value in re.findall(r'<input type="radio" name="([^"]+)" value="([^"]+)" checked>', page):
        found[name] = value
    for name, body in re.findall(r'<textarea [^>]*name="([^"]+)"[^>]*>(.*?)</textarea>', page, re.S):
        found[name] = body
    checked = re.findall(r'<input type="checkbox" name="([^"]+)" value="1" checked>', page)
    found.update({name: "1" for name in checked})
    return {name: html.unescape(value) for name, value in found.items()}


def test_create_contact_with_several_entries(client: Any, people: Any, world: Any) -> None:
    login(client, "owner")
    data = {"first_name": "Anna", "last_name": "Vogel", "company": "DOCHOUSE GmbH", "nickname": "Anni",
            "department": "Vertrieb", "birthday": "1980-04-01", "notes": "Ruft gern an.", "use_company_address": "1",
            **_rows("emails", [{"value": "anna@privat.example", "kind": "home"},
                               {"value": "anna.vogel@dochouse.example", "kind": "work"},
                               {"value": "", "kind": "work"}], preferred=1),
            **_rows("phones", [{"value": "+49 171 1234567", "kind": "mobile"}, {"value": "0751 1234-99", "kind": "fax"}],
                    preferred=0),
            **_rows("addresses", [{"kind": "home", "street": "Seestraße 4", "extra": "Hinterhaus", "postal_code": "78462",
                                   "city": "Konstanz", "country": "Deutschland"},
                                  {"kind": "work", "street": "", "extra": "", "postal_code": "", "city": "",
                                   "country": "Deutschland"}])}
    response = post(client, "/kontakte/neu", data)
    assert response.status_code == 302, response.get_data(as_text=True)[:2000]
    with people.ka.db.read() as s:
        anna = s.scalar(select(Contact).where(Contact.last_name == "Vogel"))
        lists = points_of(anna)
        assert [(e["value"], e["kind"], e["preferred"]) for e in lists["emails"]] == [
            ("anna@privat.example", "home", False), ("anna.vogel@dochouse.example", "work", True)]
        assert [(e["value"], e["kind"], e["preferred"]) for e in lists["phones"]] == [
            ("+49 171 1234567", "mobile", True), ("0751 1234-99", "fax", False)]
        assert [(a["street"], a["extra"], a["kind"]) for a in lists["addresses"]] == [("Seestraße 4", "Hinterhaus", "home")]
        assert anna.email == "anna.vogel@dochouse.example" and anna.phone == "+49 171 1234567"
        assert (anna.birthday, anna.nickname, anna.department, anna.notes) == (
            dt.date(1980, 4, 1), "Anni", "Vertrieb", "Ruft gern an.")
        # the letters go to the company: its address is the copy in the contact's columns
        assert (anna.street, anna.postal_code, anna.city) == ("Lindenstraße 17", "88212", "Ravensburg")
        ident = anna.id
    page = client.get(f"/kontakte/{ident}").get_data(as_text=True)
    assert 'href="mailto:anna.vogel@dochouse.example"' in page and 'href="mailto:anna@privat.example"' in page
    assert 'href="tel:+491711234567"' in page and "Fax" in page and "mobil" in page
    assert "01.04.1980" in page and "Ruft gern an." in page and "Anni" in page and "Vertrieb" in page
    # the company's FULL address, named as such, and the contact's own private address beside it
    company_block = page[page.index("Firmenadresse"):]
    assert "Lindenstraße 17" in company_block and "88212 Ravensburg" in company_block
    assert "Hinterhaus<br>Seestraße 4<br>78462 Konstanz" in page
    emails = page[page.index('href="mailto:anna.vogel@dochouse.example"'):]
    assert "bevorzugt" in emails[:400]
    with people.ka.db.write() as s:
        s.get(User, people.users["owner"]).language = "en"
    english = client.get(f"/kontakte/{ident}").get_data(as_text=True)
    assert "Company address" in english and "for letters" in english and "(mobile)" in english and "(fax)" in english
    assert "Birthday" in english and "Apr 1, 1980" in english and "Nickname" in english
    form = client.get(f"/kontakte/{ident}/bearbeiten").get_data(as_text=True)
    assert "another e-mail address" in form and "Own addresses" in form and "> preferred</label>" in form
    assert '<option value="home" selected>home</option>' in form and "Address line 2" in form


def test_errors_beside_their_row_and_everything_typed_kept(client: Any, people: Any, world: Any) -> None:
    login(client, "owner")
    data = {"first_name": "Karl", "last_name": "Weiß", "birthday": "2999-01-01", "notes": "Notiz <b>",
            **_rows("emails", [{"value": "karl@example.org", "kind": "work"}, {"value": "kein-mail", "kind": "home"}]),
            **_rows("phones", [{"value": "nur Text", "kind": "mobile"}]),
            **_rows("addresses", [{"kind": "home", "street": "Weg 1", "extra": "", "postal_code": "1" * 30, "city": "Ulm",
                                   "country": ""}], preferred=0)}
    response = post(client, "/kontakte/neu", data)
    page = response.get_data(as_text=True)
    assert response.status_code == 422
    # every value as typed, renumbered from 0 in the order of the rows
    fields = _form_fields(page)
    assert fields["emails-0-value"] == "karl@example.org" and fields["emails-1-value"] == "kein-mail"
    assert fields["emails-1-kind"] == "home" and fields["phones-0-value"] == "nur Text" and fields["phones-0-kind"] == "mobile"
    assert fields["addresses-0-street"] == "Weg 1" and fields["addresses-0-postal_code"] == "1" * 30
    assert fields["addresses-preferred"] == "0" and fields["notes"] == "Notiz <b>" and fields["birthday"] == "2999-01-01"
    # the message sits beside the input it is about (its id names the row), not at the top
    assert re.search(r'id="f-emails-1-value"[^>]*aria-invalid="true" aria-describedby="f-emails-1-value-error"', page)
    assert 'id="f-emails-1-value-error">Bitte eine gültige E-Mail-Adresse angeben.</p>' in page
    assert 'aria-invalid' not in re.search(r'<input id="f-emails-0-value"[^>]*>', page).group(0)
    assert 'id="f-phones-0-value-error">Bitte eine Telefonnummer mit Ziffern angeben.</p>' in page
    assert re.search(r'id="f-addresses-0-postal_code-error">[^<]*20[^<]*</p>', page)
    assert "Der Geburtstag muss zwischen 1900 und heute liegen." in page
    with people.ka.db.read() as s:
        assert s.scalar(select(Contact).where(Contact.last_name == "Weiß")) is None
    # in English the same places say it in English
    with people.ka.db.write() as s:
        s.get(User, people.users["owner"]).language = "en"
    page = post(client, "/kontakte/neu", data).get_data(as_text=True)
    assert 'id="f-phones-0-value-error">Please enter a phone number with digits.</p>' in page
    assert "The birthday must lie between 1900 and today." in page


def test_weitere_zeile_without_javascript(client: Any, people: Any, world: Any) -> None:
    login(client, "owner")
    page = client.get("/kontakte/neu").get_data(as_text=True)
    # an empty list offers two empty rows, and the button is a real submit button
    assert 'name="emails-0-value"' in page and 'name="emails-1-value"' in page and 'name="emails-2-value"' not in page
    assert '<button type="submit" class="button subtle entry-add" name="add_row" value="emails"' in page
    data = {"first_name": "Karl", "last_name": "Weiß", "notes": "bleibt",
            **_rows("emails", [{"value": "karl@example.org", "kind": "work"}, {"value": "k@privat.example", "kind": "home"}],
                    preferred=1),
            "add_row": "emails"}
    response = post(client, "/kontakte/neu", data)
    page = response.get_data(as_text=True)
    assert response.status_code == 200 and "Bitte prüfen" not in page
    fields = _form_fields(page)
    assert (fields["emails-0-value"], fields["emails-1-value"], fields["emails-preferred"]) == (
        "karl@example.org", "k@privat.example", "1")
    assert fields["last_name"] == "Weiß" and fields["notes"] == "bleibt"
    # one spare row as always plus the one asked for, which takes the focus
    assert fields["emails-2-value"] == "" and fields["emails-3-value"] == "" and "emails-4-value" not in fields
    assert re.search(r'name="emails-3-value"[^>]*autofocus', page)
    with people.ka.db.read() as s:
        assert s.scalar(select(Contact).where(Contact.last_name == "Weiß")) is None  # nothing saved yet
    # the page posted back as shown, with the new row filled, saves all three
    fields["emails-3-value"] = "dritte@example.org"
    fields = {k: v for k, v in fields.items() if k not in ("q",)}
    response = post(client, "/kontakte/neu", fields)
    assert response.status_code == 302, response.get_data(as_text=True)[:1500]
    with people.ka.db.read() as s:
        karl = s.scalar(select(Contact).where(Contact.last_name == "Weiß"))
        assert [e["value"] for e in points_of(karl)["emails"]] == ["karl@example.org", "k@privat.example", "dritte@example.org"]
        assert karl.email == "k@privat.example"


def test_edit_keeps_every_entry_the_form_shows_and_removes_only_the_ticked_one(client: Any, people: Any, world: Any) -> None:
    with people.ka.db.write() as s:
        contact = services.create_contact(s, {
            "last_name": "Vogel", "company_id": world.dochouse, "use_company_address": False, "birthday": "1980-04-01",
            "nickname": "Anni", "department": "Vertrieb", "notes": "Zeile 1\nZeile 2",
            "emails": [{"value": "a@privat.example", "kind": "home"}, {"value": "a@work.example", "kind": "work", "preferred": True}],
            "phones": [{"value": "0171 1", "kind": "mobile"}, {"value": "0751 2", "kind": "work"}, {"value": "0751 3", "kind": "fax"}],
            "addresses": [{"kind": "home", "street": "Seestraße 4", "postal_code": "78462", "city": "Konstanz"},
                          {"kind": "other", "street": "Am Hang 2", "extra": "Ferienhaus", "postal_code": "87561",
                           "city": "Oberstdorf", "preferred": True}]}, by=None)
        ident = contact.id
        before = points_of(contact)
    login(client, "owner")
    page = client.get(f"/kontakte/{ident}/bearbeiten").get_data(as_text=True)
    fields = _form_fields(page)
    assert fields["nickname"] == "Anni" and fields["birthday"] == "1980-04-01" and fields["notes"] == "Zeile 1\nZeile 2"
    assert fields["emails-preferred"] == "1" and fields["addresses-preferred"] == "1" and fields["phones-2-kind"] == "fax"
    assert "use_company_address" not in fields
    # saved unchanged: everything stays as it was
    response = post(client, f"/kontakte/{ident}/bearbeiten", fields)
    assert response.status_code == 302, response.get_data(as_text=True)[:1500]
    with people.ka.db.read() as s:
        contact = s.get(Contact, ident)
        assert points_of(contact) == before
        assert (contact.nickname, contact.department, contact.notes, contact.birthday) == (
            "Anni", "Vertrieb", "Zeile 1\nZeile 2", dt.date(1980, 4, 1))
        assert (contact.street, contact.city) == ("Am Hang 2", "Oberstdorf")
    # tick "entfernen" on the second phone, make the first address the one for letters
    fields["phones-1-remove"] = "1"
    fields["addresses-preferred"] = "0"
    fields["department"] = ""
    assert post(client, f"/kontakte/{ident}/bearbeiten", fields).status_code == 302
    with people.ka.db.read() as s:
        contact = s.get(Contact, ident)
        after = points_of(contact)
        assert [p["value"] for p in after["phones"]] == ["0171 1", "0751 3"]
        assert after["emails"] == before["emails"]
        assert [a["preferred"] for a in after["addresses"]] == [True, False]
        assert (contact.street, contact.city, contact.department) == ("Seestraße 4", "Konstanz", "")


def test_edit_of_a_contact_without_entries_keeps_its_single_values(client: Any, people: Any, world: Any) -> None:
    """Rows written before the lists (world.lea has only the e-mail column) keep their e-mail on saving."""
    login(client, "owner")
    fields = _form_fields(client.get(f"/kontakte/{world.lea}/bearbeiten").get_data(as_text=True))
    assert fields["emails-0-value"] == "lea@dochouse.example"
    assert post(client, f"/kontakte/{world.lea}/bearbeiten", fields).status_code == 302
    with people.ka.db.read() as s:
        lea = s.get(Contact, world.lea)
        assert lea.email == "lea@dochouse.example" and [e["value"] for e in points_of(lea)["emails"]] == ["lea@dochouse.example"]


def test_company_form_with_lists_and_register_data(client: Any, people: Any, world: Any) -> None:
    login(client, "owner")
    page = client.get("/unternehmen/neu").get_data(as_text=True)
    assert 'name="websites-0-value"' in page and 'name="vat_id"' in page and 'name="register_court"' in page
    data = {"name": "Müller & Söhne", "vat_id": "de 123 456 789", "register_court": "Amtsgericht Ulm",
            "register_number": "HRB 1234", "notes": "Großkunde",
            **_rows("emails", [{"value": "info@mueller.example", "kind": "work"}, {"value": "x@", "kind": "other"}]),
            **_rows("websites", [{"value": "https://mueller.example", "kind": "work"}, {"value": "kein web", "kind": "work"}]),
            **_rows("phones", [{"value": "0731 1", "kind": "work"}]),
            **_rows("addresses", [{"kind": "work", "street": "Hauptstr. 1", "extra": "", "postal_code": "89073", "city": "Ulm",
                                   "country": "Deutschland"}])}
    response = post(client, "/unternehmen/neu", data)
    page = response.get_data(as_text=True)
    assert response.status_code == 422
    assert 'id="f-emails-1-value-error">Bitte eine gültige E-Mail-Adresse angeben.</p>' in page
    assert 'id="f-websites-1-value-error">Bitte eine gültige Webadresse angeben.</p>' in page
    fields = _form_fields(page)
    assert fields["websites-1-value"] == "kein web" and fields["register_court"] == "Amtsgericht Ulm"
    fields["emails-1-value"] = "buchhaltung@mueller.example"
    fields["emails-preferred"] = "1"
    fields["websites-1-remove"] = "1"
    response = post(client, "/unternehmen/neu", fields)
    assert response.status_code == 302, response.get_data(as_text=True)[:1500]
    with people.ka.db.read() as s:
        company = s.scalar(select(Company).where(Company.name == "Müller & Söhne"))
        lists = points_of(company)
        assert [e["value"] for e in lists["emails"]] == ["info@mueller.example", "buchhaltung@mueller.example"]
        assert company.email == "buchhaltung@mueller.example" and company.web == "https://mueller.example"
        assert [w["value"] for w in lists["websites"]] == ["https://mueller.example"]
        assert (company.vat_id, company.register_court, company.register_number, company.notes) == (
            "DE123456789", "Amtsgericht Ulm", "HRB 1234", "Großkunde")
        assert (company.street, company.postal_code, company.city) == ("Hauptstr. 1", "89073", "Ulm")
        ident = company.id
    page = client.get(f"/unternehmen/{ident}").get_data(as_text=True)
    assert 'href="mailto:buchhaltung@mueller.example"' in page and 'href="https://mueller.example"' in page
    assert "DE123456789" in page and "HRB 1234" in page and "Amtsgericht Ulm" in page and "Großkunde" in page
    # an edit posted back as shown keeps everything
    fields = _form_fields(client.get(f"/unternehmen/{ident}/bearbeiten").get_data(as_text=True))
    assert post(client, f"/unternehmen/{ident}/bearbeiten", fields).status_code == 302
    with people.ka.db.read() as s:
        assert points_of(s.get(Company, ident)) == lists


def test_edit_of_a_contact_with_only_address_columns_keeps_the_address(client: Any, people: Any, world: Any) -> None:
    """An own address written before the lists (columns only) is a row of the form, so saving keeps it."""
    with people.ka.db.write() as s:
        s.add(Contact(first_name="Alt", last_name="Bestand", use_company_address=False, street="Alter Weg 3",
                      postal_code="10115", city="Berlin", phone="030 1234"))
    login(client, "owner")
    with people.ka.db.read() as s:
        ident = s.scalar(select(Contact.id).where(Contact.last_name == "Bestand"))
    fields = _form_fields(client.get(f"/kontakte/{ident}/bearbeiten").get_data(as_text=True))
    assert (fields["addresses-0-street"], fields["addresses-0-city"], fields["phones-0-value"]) == ("Alter Weg 3", "Berlin", "030 1234")
    assert post(client, f"/kontakte/{ident}/bearbeiten", fields).status_code == 302
    with people.ka.db.read() as s:
        contact = s.get(Contact, ident)
        assert (contact.street, contact.postal_code, contact.city, contact.phone) == ("Alter Weg 3", "10115", "Berlin", "030 1234")


def test_list_filter_email_phone_on_the_page(client: Any, people: Any, world: Any) -> None:
    with people.ka.db.write() as s:
        services.create_contact(s, {"last_name": "Zweitnummer", "phones": [
            {"value": "0171 1", "kind": "mobile", "preferred": True}, {"value": "+49 751 555-12", "kind": "fax"}]}, by=None)
        services.create_company(s, {"name": "Faxfirma", "phones": [{"value": "0751 1", "preferred": True},
                                                                   {"value": "0751 555 12", "kind": "fax"}]}, by=None)
    login(client, "owner")
    page = client.get("/kontakte?erreichbar=0751%2055512").get_data(as_text=True)
    assert "Zweitnummer" in page and "Müller" not in page and "1 Kontakt gefunden" in page
    assert 'href="tel:01711">0171 1</a>' in page  # the list shows the preferred number
    assert 'value="0751 55512"' in page
    page = client.get("/unternehmen?erreichbar=075155512").get_data(as_text=True)
    assert "Faxfirma" in page and "DOCHOUSE" not in page
