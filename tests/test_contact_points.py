"""Several e-mails, phones, websites and addresses per contact and company (core/services/points.py).

On SQLite and PostgreSQL: the lists are stored as given, the preferred entry is copied into the
single columns every other reader uses, today's single keys keep working, errors name the entry,
the importer's bulk path writes the same rows, and the migration turns single values into entries
without losing one.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from sqlalchemy import select, text

from kundenakte.core import migrate, services
from kundenakte.core.models import Company, Contact, ContactPoint, PostalAddress
from kundenakte.core.services import ValidationError
from kundenakte.core.services.companies import insert_companies
from kundenakte.core.services.contacts import insert_contacts, update_contacts
from kundenakte.core.services.points import phone_key, points_of, value_key
from tests.hardening.test_id_reuse import empty_db  # noqa: F401 - fixture

LISTS = {
    "emails": [{"value": "anna@privat.de", "kind": "home"},
               {"value": "Anna.Vogel@Dochouse.de", "kind": "work", "preferred": True},
               {"value": "av@dochouse.de", "kind": "other"}],
    "phones": [{"value": "+49 171 1234567", "kind": "mobile", "preferred": True},
               {"value": "07531 12345-0", "kind": "work"}, {"value": "07531 12345-99", "kind": "fax"}],
    "addresses": [{"kind": "home", "street": "Seestraße 4", "postal_code": "78462", "city": "Konstanz",
                   "country": "Deutschland", "preferred": True}],
}


def test_lists_are_kept_and_the_preferred_entry_is_the_single_column(ka: Any) -> None:
    with ka.db.write() as s:
        company = services.create_company(s, {"name": "DOCHOUSE GmbH", "street": "Byk-Gulden-Str. 2",
                                              "postal_code": "78467", "city": "Konstanz"}, by=None)
        contact = services.create_contact(s, {"last_name": "Vogel", "first_name": "Anna", "company_id": company.id,
                                              "use_company_address": False, "birthday": "1980-04-01",
                                              "nickname": "Anni", "department": "Vertrieb", "notes": "Ruft gern an.",
                                              **LISTS}, by=None)
        ident = contact.id
    with ka.db.read() as s:
        contact = s.get(Contact, ident)
        assert contact.email == "Anna.Vogel@Dochouse.de"
        assert contact.phone == "+49 171 1234567"
        assert (contact.street, contact.postal_code, contact.city) == ("Seestraße 4", "78462", "Konstanz")
        assert contact.birthday == dt.date(1980, 4, 1)
        assert (contact.nickname, contact.department, contact.notes) == ("Anni", "Vertrieb", "Ruft gern an.")
        stored = points_of(contact)
        assert [e["value"] for e in stored["emails"]] == ["anna@privat.de", "Anna.Vogel@Dochouse.de", "av@dochouse.de"]
        assert [e["preferred"] for e in stored["emails"]] == [False, True, False]
        assert [p["kind"] for p in stored["phones"]] == ["mobile", "work", "fax"]
        assert stored["addresses"][0]["kind"] == "home"
        assert stored["websites"] == []
        keys = set(s.scalars(select(ContactPoint.value_key).where(ContactPoint.contact_id == ident)))
        assert {"anna.vogel@dochouse.de", "01711234567", "07531123450"} <= keys
    with ka.db.write() as s:  # contacts keep websites too (no single column: the list only)
        services.update_contact(s, s.get(Contact, ident), {"websites": [{"value": "https://anna-vogel.example",
                                                                          "kind": "home"}]}, by=None)
    with ka.db.read() as s:
        assert points_of(s.get(Contact, ident))["websites"] == [
            {"value": "https://anna-vogel.example", "kind": "home", "preferred": True}]


def test_company_address_use_keeps_the_private_address(ka: Any) -> None:
    with ka.db.write() as s:
        company = services.create_company(s, {"name": "DOCHOUSE GmbH", "street": "Byk-Gulden-Str. 2",
                                              "postal_code": "78467", "city": "Konstanz"}, by=None)
        contact = services.create_contact(s, {"last_name": "Vogel", "company_id": company.id, "use_company_address": True,
                                              "addresses": LISTS["addresses"]}, by=None)
        assert (contact.street, contact.city) == ("Byk-Gulden-Str. 2", "Konstanz")  # letters go to the company
        assert [a.street for a in contact.addresses] == ["Seestraße 4"]
        services.update_contact(s, contact, {"use_company_address": False}, by=None)
        assert (contact.street, contact.city) == ("Seestraße 4", "Konstanz")


def test_single_keys_change_the_preferred_entry_only(ka: Any) -> None:
    with ka.db.write() as s:
        contact = services.create_contact(s, {"last_name": "Vogel", **LISTS}, by=None)
        services.update_contact(s, contact, {"email": "neu@dochouse.de", "phone": ""}, by=None)
        stored = points_of(contact)
        assert [e["value"] for e in stored["emails"]] == ["anna@privat.de", "neu@dochouse.de", "av@dochouse.de"]
        assert contact.email == "neu@dochouse.de"
        # The preferred phone is removed; the next one becomes preferred and the single column.
        assert [p["value"] for p in stored["phones"]] == ["07531 12345-0", "07531 12345-99"]
        assert contact.phone == "07531 12345-0"
        services.update_contact(s, contact, {"street": "Neue Str. 1"}, by=None)
        assert contact.street == "Neue Str. 1" and contact.addresses[0].city == "Konstanz"
        plain = services.create_contact(s, {"last_name": "Kurz", "email": "k@example.de"}, by=None)
        assert points_of(plain)["emails"] == [{"value": "k@example.de", "kind": "work", "preferred": True}]
        company = services.create_company(s, {"name": "Nur Land GmbH"}, by=None)
        assert company.country == "Deutschland" and company.addresses == []


def test_entry_errors_name_the_entry_and_nothing_is_written(ka: Any) -> None:
    with ka.db.write() as s:
        with pytest.raises(ValidationError) as info:
            services.create_contact(s, {"last_name": "Vogel", "birthday": "01.04.1980",
                                        "emails": [{"value": "ok@example.de"}, {"value": "kaputt", "kind": "work"},
                                                   {"value": "x@example.de", "kind": "robot", "extra": 1}],
                                        "phones": [{"value": "1" * 61}, {"value": "abc"}],
                                        "addresses": [{"kind": "home"}, "Seestraße"]}, by=None)
        assert info.value.errors == {
            "birthday": "Bitte ein Datum angeben (JJJJ-MM-TT).",
            "emails.1.value": "Bitte eine gültige E-Mail-Adresse angeben.",
            "emails.2.kind": "Bitte einen der angebotenen Werte wählen.",
            "emails.2.extra": "Unbekanntes Feld.",
            "phones.0.value": "Höchstens 60 Zeichen.",
            "phones.1.value": "Bitte eine Telefonnummer mit Ziffern angeben.",
            "addresses.0": "Die Adresse ist leer.",
            "addresses.1": "Erwartet wird eine Adresse.",
        }
        with pytest.raises(ValidationError) as info:
            services.create_contact(s, {"last_name": "Vogel", "emails": [{"value": "a@b.de", "preferred": True},
                                                                         {"value": "c@d.de", "preferred": True}]}, by=None)
        assert info.value.errors == {"emails": "Nur ein Eintrag kann bevorzugt sein."}
        with pytest.raises(ValidationError) as info:
            services.create_company(s, {"name": "X", "vat_id": "DE12345", "websites": [{"value": "kein web"}]}, by=None)
        assert info.value.errors == {"vat_id": "Bitte eine USt-IdNr. wie DE123456789 angeben.",
                                     "websites.0.value": "Bitte eine gültige Webadresse angeben."}
    with ka.db.read() as s:
        assert s.scalar(select(ContactPoint.id)) is None and s.scalar(select(Contact.id)) is None


def test_repeated_values_are_kept_once_and_company_lists(ka: Any) -> None:
    with ka.db.write() as s:
        company = services.create_company(s, {
            "name": "DOCHOUSE GmbH", "vat_id": "de 123 456 789", "register_court": "Amtsgericht Freiburg",
            "register_number": "HRB 701234",
            "emails": [{"value": "info@dochouse.de"}, {"value": "INFO@dochouse.de", "preferred": True}],
            "websites": [{"value": "https://www.dochouse.de/"}, {"value": "dochouse.de"}],
            "phones": [{"value": "+49 7531 12345-0"}, {"value": "07531 12345-0"}],
            "addresses": [{"kind": "work", "street": "Byk-Gulden-Str. 2", "postal_code": "78467", "city": "Konstanz"},
                          {"kind": "other", "extra": "Postfach 10 20 30", "postal_code": "78403", "city": "Konstanz"}],
        }, by=None)
        assert company.vat_id == "DE123456789"
        stored = points_of(company)
        assert stored["emails"] == [{"value": "info@dochouse.de", "kind": "work", "preferred": True}]
        assert len(stored["websites"]) == 1 and len(stored["phones"]) == 1
        assert company.web == "https://www.dochouse.de/" and company.street == "Byk-Gulden-Str. 2"
        assert [a["extra"] for a in stored["addresses"]] == ["", "Postfach 10 20 30"]
        services.update_company(s, company, {"addresses": [stored["addresses"][1] | {"preferred": True}]}, by=None)
        assert (company.street, company.postal_code) == ("", "78403")


def test_keys_for_matching() -> None:
    assert phone_key("+49 (0)7531 12345-0") == phone_key("07531 / 12345 0") == "07531123450"
    assert phone_key("0049 7531 123") == "07531123"
    assert phone_key("+43 1 234") == "00431234"
    assert value_key("web", "HTTPS://www.DOCHOUSE.de/") == "dochouse.de"
    assert value_key("email", " Anna@X.de ") == "anna@x.de"


def test_bulk_path_writes_the_same_rows(ka: Any) -> None:
    with ka.db.write() as s:
        ids = insert_contacts(s, [{"last_name": "Vogel", "use_company_address": False,
                                            **{k: [dict(e, preferred=e.get("preferred", False)) for e in v]
                                               for k, v in _cleaned(LISTS).items()}}], is_sqlite=ka.db.is_sqlite)
        company_ids = insert_companies(s, [{"name": "DOCHOUSE GmbH", "emails": _cleaned(LISTS)["emails"]}],
                                                is_sqlite=ka.db.is_sqlite)
    with ka.db.write() as s:
        contact = s.get(Contact, ids[0])
        assert contact.email == "Anna.Vogel@Dochouse.de" and contact.street == "Seestraße 4"
        assert len(contact.emails) == 3 and len(contact.phones) == 3 and len(contact.addresses) == 1
        assert s.get(Company, company_ids[0]).email == "Anna.Vogel@Dochouse.de"
        update_contacts(s, [(ids[0], {"emails": [{"value": "nur@eine.de", "kind": "work", "preferred": True}]})])
    with ka.db.read() as s:
        contact = s.get(Contact, ids[0])
        assert [e.value for e in contact.emails] == ["nur@eine.de"] and contact.email == "nur@eine.de"
        assert len(contact.phones) == 3


def test_deleting_the_owner_deletes_its_entries(ka: Any) -> None:
    with ka.db.write() as s:
        contact = services.create_contact(s, {"last_name": "Vogel", **LISTS}, by=None)
        services.delete_contact(s, contact, by=None)
    with ka.db.read() as s:
        assert s.scalar(select(ContactPoint.id)) is None and s.scalar(select(PostalAddress.id)) is None


def _cleaned(lists: dict[str, list[dict[str, Any]]]) -> dict[str, list[dict[str, Any]]]:
    errors: dict[str, str] = {}
    from kundenakte.core.services.points import clean_lists

    out = clean_lists(lists, errors)
    assert not errors
    return out


def test_migration_turns_single_values_into_entries(empty_db: Any) -> None:  # noqa: F811
    ka = empty_db
    migrate.upgrade(ka, "0005_core")
    with ka.db.engine.begin() as conn:
        run = conn.execute
        run(text("INSERT INTO companies (id, name, name_folded, street, postal_code, city, city_folded, country, phone, "
                 "email, web, created_at, updated_at) VALUES (1, 'DOCHOUSE', 'dochouse', 'Byk-Gulden-Str. 2', '78467', "
                 "'Konstanz', 'konstanz', 'Deutschland', '07531 1', 'info@dochouse.de', 'dochouse.de', CURRENT_TIMESTAMP, "
                 "CURRENT_TIMESTAMP)"))
        for ident, use_company, company, street in ((1, True, 1, "Byk-Gulden-Str. 2"), (2, False, 1, "Seestraße 4"),
                                                   (3, False, None, "Hauptstr. 1"), (4, True, None, "")):
            run(text("INSERT INTO contacts (id, gender, title, first_name, last_name, name_folded, salutation_override, "
                     "language, company_id, position, email, phone, use_company_address, street, postal_code, city, "
                     "city_folded, country, created_at, updated_at) VALUES (:id, 'unknown', '', 'A', 'B', 'a b', '', 'de', "
                     ":company, '', :email, :phone, :use, :street, '78462', 'Konstanz', 'konstanz', '', CURRENT_TIMESTAMP, "
                     "CURRENT_TIMESTAMP)"),
                {"id": ident, "company": company, "email": f"k{ident}@example.de" if ident != 4 else "",
                 "phone": "0171 1" if ident == 2 else "", "use": use_company, "street": street})
    migrate.upgrade(ka)
    with ka.db.read() as s:
        by_id = {c.id: c for c in s.scalars(select(Contact))}
        assert [points_of(by_id[i])["emails"] for i in (1, 4)] == [
            [{"value": "k1@example.de", "kind": "work", "preferred": True}], []]
        assert points_of(by_id[2])["phones"] == [{"value": "0171 1", "kind": "work", "preferred": True}]
        assert by_id[1].addresses == []  # its columns were the company's
        assert [(a.kind, a.street) for a in by_id[2].addresses] == [("work", "Seestraße 4")]
        assert [(a.kind, a.street) for a in by_id[3].addresses] == [("home", "Hauptstr. 1")]
        company = s.get(Company, 1)
        stored = points_of(company)
        assert [(k, [e["value"] for e in stored[k]]) for k in ("emails", "phones", "websites")] == [
            ("emails", ["info@dochouse.de"]), ("phones", ["07531 1"]), ("websites", ["dochouse.de"])]
        assert [(a["street"], a["city"], a["preferred"]) for a in stored["addresses"]] == [
            ("Byk-Gulden-Str. 2", "Konstanz", True)]
        assert (company.vat_id, by_id[2].notes, by_id[2].birthday) == ("", "", None)
