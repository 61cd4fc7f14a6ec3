"""Which address a voucher prints (printdata.letter_address) and that the voucher form and page say so."""

from __future__ import annotations

from typing import Any

from kundenakte.core import services
from kundenakte.core.models import Company, Contact, Document
from kundenakte.plugins.sales.printdata import letter_address, voucher_print
from tests.sales.helpers import voucher
from tests.web.conftest import app, login  # noqa: F401 - fixtures

HOME = {"kind": "home", "street": "Seestraße 4", "extra": "Hinterhaus", "postal_code": "78462", "city": "Konstanz"}
OTHER = {"kind": "other", "street": "Am Hang 2", "postal_code": "87561", "city": "Oberstdorf"}


def _people(ka: Any) -> dict[str, int]:
    with ka.db.write() as s:
        company = services.create_company(s, {"name": "DOCHOUSE GmbH", "addresses": [
            {"kind": "work", "street": "Postfach 12", "postal_code": "88211", "city": "Ravensburg"},
            {"kind": "work", "street": "Lindenstraße 17", "extra": "Gebäude B", "postal_code": "88212", "city": "Ravensburg",
             "preferred": True}]}, by=None)
        s.flush()
        uses_company = services.create_contact(s, {"last_name": "Vogel", "first_name": "Anna", "company_id": company.id,
                                                   "use_company_address": True, "addresses": [HOME]}, by=None)
        own = services.create_contact(s, {"last_name": "Berger", "first_name": "Jana", "company_id": company.id,
                                          "use_company_address": False, "addresses": [OTHER, dict(HOME, preferred=True)]}, by=None)
        private = services.create_contact(s, {"last_name": "Roth", "first_name": "Paul", "addresses": [OTHER]}, by=None)
        bare = services.create_contact(s, {"last_name": "Ohne", "company_id": company.id, "use_company_address": False}, by=None)
        s.flush()
        return {"company": company.id, "uses_company": uses_company.id, "own": own.id, "private": private.id, "bare": bare.id}


def test_the_printed_address_follows_the_contacts_choice(ka: Any) -> None:
    ids = _people(ka)
    with ka.db.read() as s:
        company = s.get(Company, ids["company"])
        party = letter_address(s.get(Contact, ids["uses_company"]), company)
        # the company's preferred address, with its Adresszusatz, not the contact's private one
        assert party.address_lines == ["DOCHOUSE GmbH", "Anna Vogel", "Gebäude B", "Lindenstraße 17", "88212 Ravensburg"]
        assert (party.source, party.source_name) == ("company", "DOCHOUSE GmbH")
        party = letter_address(s.get(Contact, ids["own"]), company)
        assert party.address_lines == ["DOCHOUSE GmbH", "Jana Berger", "Hinterhaus", "Seestraße 4", "78462 Konstanz"]
        assert (party.source, party.kind, party.source_name) == ("own", "home", "Jana Berger")
        party = letter_address(s.get(Contact, ids["private"]), None)
        assert party.address_lines == ["Paul Roth", "Am Hang 2", "87561 Oberstdorf"] and party.source == "own"
        # no own address: the company's stands in
        party = letter_address(s.get(Contact, ids["bare"]), company)
        assert party.source == "company" and party.street == "Lindenstraße 17"
        # the contact's company when the voucher names only the contact
        assert letter_address(s.get(Contact, ids["uses_company"]), None).street == "Lindenstraße 17"
        assert letter_address(None, company).address_lines == ["DOCHOUSE GmbH", "Gebäude B", "Lindenstraße 17", "88212 Ravensburg"]


def test_voucher_print_and_form_name_the_address(ka: Any, people: Any, client: Any) -> None:
    ids = _people(ka)
    owner = people.viewer("owner")
    own_doc = voucher(ka, owner, "invoice", company_id=ids["company"], contact_id=ids["own"])
    company_doc = voucher(ka, owner, "quote", company_id=ids["company"], contact_id=ids["uses_company"])
    with ka.db.read() as s:
        printed = voucher_print(ka, s, s.get(Document, own_doc))
        assert printed.buyer.address_lines[2:] == ["Hinterhaus", "Seestraße 4", "78462 Konstanz"]
    login(client, "owner")
    form = client.get(f"/dokumente/{own_doc}/bearbeiten").get_data(as_text=True)
    assert "Anschrift: bevorzugte Adresse (privat) von Jana Berger" in form
    page = client.get(f"/dokumente/{company_doc}").get_data(as_text=True)
    assert "Anschrift: Firmenadresse von DOCHOUSE GmbH (Anna Vogel verwendet die Adresse des Unternehmens)" in page
    new = client.get(f"/dokumente/neu/quote?contact_id={ids['own']}&company_id={ids['company']}").get_data(as_text=True)
    assert "Anschrift: bevorzugte Adresse (privat) von Jana Berger" in new
