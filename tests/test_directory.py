"""The contact and company filters (core.directory) on both databases."""

from __future__ import annotations

import pytest

from kundenakte.core.directory import CompanyFilter, ContactFilter, filter_companies, filter_contacts, parse_user_id
from kundenakte.core.models import Company, Contact


@pytest.fixture
def directory(ka, people):  # type: ignore[no-untyped-def]
    owner, reader = people.users["owner"], people.users["reader"]
    with ka.db.write() as s:
        companies = {
            "doc": Company(name="DOCHOUSE GmbH", postal_code="88212", city="Ravensburg", account_manager_id=owner),
            "doc2": Company(name="Dock & Hafen KG", postal_code="20095", city="Hamburg"),
            "weiss": Company(name="Weiß & Söhne", postal_code="35390", city="Gießen", account_manager_id=reader),
            "pct": Company(name="100% Bio", postal_code="10115", city="Berlin"),
            "pct2": Company(name="1000 Bio", postal_code="10115", city="Berlin"),
            "us": Company(name="A_B Handel", postal_code="80331", city="München"),
            "us2": Company(name="AxB Handel", postal_code="80331", city="München"),
            "greenhouse": Company(name="Greenhouse Ltd", postal_code="88212", city="Ravensburg"),
        }
        s.add_all(companies.values())
        s.flush()
        c = {k: v.id for k, v in companies.items()}
        contacts = [
            Contact(first_name="Lea", last_name="Müller", company_id=c["doc"], postal_code="88212", city="Ravensburg", account_manager_id=owner),
            Contact(first_name="Jonas", last_name="Öztürk", company_id=c["doc"], postal_code="88212", city="Ravensburg", account_manager_id=reader),
            Contact(first_name="Anna", last_name="Mueller", company_id=c["doc2"], postal_code="20095", city="Hamburg", account_manager_id=owner),
            Contact(first_name="Björn", last_name="Strauß", company_id=c["weiss"], postal_code="35390", city="Gießen"),
            Contact(first_name="Eva", last_name="Grün", company_id=c["greenhouse"], postal_code="88212", city="Ravensburg", account_manager_id=owner),
            Contact(first_name="Max", last_name="Bio", company_id=c["pct"], postal_code="10115", city="Berlin"),
            Contact(first_name="Moritz", last_name="Bio", company_id=c["pct2"], postal_code="10115", city="Berlin"),
            Contact(first_name="Ute", last_name="Unterstrich", company_id=c["us"], postal_code="80331", city="München"),
            Contact(first_name="Udo", last_name="Ixstrich", company_id=c["us2"], postal_code="80331", city="München"),
            Contact(first_name="Ohne", last_name="Firma", postal_code="88212", city="Ravensburg"),
        ]
        s.add_all(contacts)
    return c


def names(session, f, **kw):  # type: ignore[no-untyped-def]
    rows, _total = filter_contacts(session, f, **kw)
    return [f"{r.first_name} {r.last_name}" for r in rows]


def company_names(session, f, **kw):  # type: ignore[no-untyped-def]
    rows, _total = filter_companies(session, f, **kw)
    return [r.name for r in rows]


WILDCARDS = [
    ("doc*", {"DOCHOUSE GmbH", "Dock & Hafen KG"}),
    ("DOC*", {"DOCHOUSE GmbH", "Dock & Hafen KG"}),
    ("*house*", {"DOCHOUSE GmbH", "Greenhouse Ltd"}),
    ("*gmbh", {"DOCHOUSE GmbH"}),
    ("doc*gmbh", {"DOCHOUSE GmbH"}),
    ("d*h*", {"DOCHOUSE GmbH", "Dock & Hafen KG"}),
    ("doc", set()),  # without a star the whole name must match
    ("dochouse gmbh", {"DOCHOUSE GmbH"}),
    ("*", {"DOCHOUSE GmbH", "Dock & Hafen KG", "Weiß & Söhne", "100% Bio", "1000 Bio", "A_B Handel",
           "AxB Handel", "Greenhouse Ltd"}),
]


def test_company_wildcard_positions(ka, directory):  # type: ignore[no-untyped-def]
    with ka.db.read() as s:
        for pattern, expected in WILDCARDS:
            assert set(company_names(s, CompanyFilter(name=pattern))) == expected, pattern


def test_contact_company_wildcard(ka, directory):  # type: ignore[no-untyped-def]
    with ka.db.read() as s:
        assert set(names(s, ContactFilter(company="doc*"))) == {"Lea Müller", "Jonas Öztürk", "Anna Mueller"}
        assert set(names(s, ContactFilter(company="*HOUSE*"))) == {"Lea Müller", "Jonas Öztürk", "Eva Grün"}
        assert names(s, ContactFilter(company="nothing*")) == []


def test_umlauts_in_names(ka, directory):  # type: ignore[no-untyped-def]
    with ka.db.read() as s:
        for typed in ("Müller", "MÜLLER", "mueller", "müll*", "MUEL*", "*ller"):
            assert set(names(s, ContactFilter(name=typed))) == {"Lea Müller", "Anna Mueller"}, typed
        for typed in ("lea müller", "LEA MUELLER", "lea*"):
            assert names(s, ContactFilter(name=typed)) == ["Lea Müller"], typed
        assert names(s, ContactFilter(name="öztürk")) == ["Jonas Öztürk"]
        assert names(s, ContactFilter(name="OEZTUERK")) == ["Jonas Öztürk"]


def test_sharp_s_and_umlauts_in_company_and_city(ka, directory):  # type: ignore[no-untyped-def]
    with ka.db.read() as s:
        for typed in ("weiss*", "WEISS*", "Weiß*", "weiß & söhne", "weiss & soehne"):
            assert company_names(s, CompanyFilter(name=typed)) == ["Weiß & Söhne"], typed
        for city in ("Gießen", "giessen", "GIESSEN", "gie*"):
            assert company_names(s, CompanyFilter(city=city)) == ["Weiß & Söhne"], city
            assert names(s, ContactFilter(city=city)) == ["Björn Strauß"], city
        assert names(s, ContactFilter(name="strauss")) == ["Björn Strauß"]
        assert names(s, ContactFilter(city="münchen")) == names(s, ContactFilter(city="MUENCHEN"))
        assert len(names(s, ContactFilter(city="münchen"))) == 2


def test_literal_percent_and_underscore(ka, directory):  # type: ignore[no-untyped-def]
    with ka.db.read() as s:
        assert company_names(s, CompanyFilter(name="100%*")) == ["100% Bio"]
        assert company_names(s, CompanyFilter(name="100% bio")) == ["100% Bio"]
        assert company_names(s, CompanyFilter(name="%")) == []
        assert company_names(s, CompanyFilter(name="a_b*")) == ["A_B Handel"]
        assert company_names(s, CompanyFilter(name="*_*")) == ["A_B Handel"]
        assert names(s, ContactFilter(company="a_b*")) == ["Ute Unterstrich"]
        assert names(s, ContactFilter(name="_*")) == []
        assert names(s, ContactFilter(postal_code="8821_")) == []
        assert names(s, ContactFilter(company="\\*")) == []


def test_postal_code_exact_and_prefix(ka, directory):  # type: ignore[no-untyped-def]
    with ka.db.read() as s:
        assert len(names(s, ContactFilter(postal_code="88212"))) == 4
        assert len(names(s, ContactFilter(postal_code="882*"))) == 4
        assert names(s, ContactFilter(postal_code="8821")) == []
        assert company_names(s, CompanyFilter(postal_code="88212")) == ["DOCHOUSE GmbH", "Greenhouse Ltd"]


def test_all_filters_combined_find_exactly_one(ka, people, directory):  # type: ignore[no-untyped-def]
    f = ContactFilter(postal_code="88212", company="doc*", account_manager_id=people.users["owner"],
                      name="müller", city="ravensburg")
    with ka.db.read() as s:
        rows, total = filter_contacts(s, f)
        assert total == 1
        assert [(r.first_name, r.last_name, r.company_name) for r in rows] == [("Lea", "Müller", "DOCHOUSE GmbH")]
        # the manual's example: PLZ 88212, company doc*, account manager -> one contact
        rows, total = filter_contacts(s, ContactFilter(postal_code="88212", company="doc*",
                                                       account_manager_id=people.users["owner"]))
        assert total == 1 and rows[0].last_name == "Müller"
        rows, total = filter_companies(s, CompanyFilter(name="doc*", city="Ravensburg", postal_code="88212",
                                                        account_manager_id=people.users["owner"]))
        assert total == 1 and rows[0].name == "DOCHOUSE GmbH"


def test_pagination_and_order(ka, directory):  # type: ignore[no-untyped-def]
    with ka.db.read() as s:
        everyone, total = filter_contacts(s, ContactFilter(), per_page=100)
        assert total == 10
        keys = [(r.last_name, r.first_name, r.id) for r in everyone]
        assert keys == sorted(keys)
        pages = [filter_contacts(s, ContactFilter(), page=p, per_page=4) for p in (1, 2, 3, 4)]
        assert [len(rows) for rows, _t in pages] == [4, 4, 2, 0]
        assert all(t == 10 for _r, t in pages)
        assert [r.id for rows, _t in pages for r in rows] == [r.id for r in everyone]
        # a short page tells the total without a COUNT; a full one and one past the end must not guess
        exact = [filter_contacts(s, ContactFilter(), page=p, per_page=5) for p in (1, 2, 3)]
        assert [(len(rows), t) for rows, t in exact] == [(5, 10), (5, 10), (0, 10)]
        filtered = [filter_contacts(s, ContactFilter(postal_code="88212"), page=p, per_page=3) for p in (1, 2, 9)]
        assert [(len(rows), t) for rows, t in filtered] == [(3, 4), (1, 4), (0, 4)]
        companies = [filter_companies(s, CompanyFilter(), page=p, per_page=3) for p in (1, 3, 4)]
        assert [(len(rows), t) for rows, t in companies] == [(3, 8), (2, 8), (0, 8)]
        # nonsense paging is clamped, never an error
        rows, total = filter_contacts(s, ContactFilter(), page=-5, per_page=0)
        assert total == 10 and len(rows) == 1


def test_parse_user_id_never_fails() -> None:
    assert parse_user_id("12") == 12
    for raw in (None, "", "abc", "-1", "0", "1e3", "9" * 40, " 7 x"):
        assert parse_user_id(raw) is None
