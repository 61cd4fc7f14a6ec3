"""The "E-Mail / Telefon" filter (core.directory.point_condition) against a reference, on both databases.

The reference is computed here in Python from every stored entry: a contact (or company) matches
when ANY of its e-mail addresses (casefolded) or phone numbers (digits in national form) matches
the typed pattern, ``*`` standing for any characters.
"""

from __future__ import annotations

import random
import re
from typing import Any

import pytest
from sqlalchemy import text

from kundenakte.core import services
from kundenakte.core.directory import CompanyFilter, ContactFilter, filter_companies, filter_contacts, point_keys
from kundenakte.core.models import Company, Contact
from kundenakte.core.services.points import phone_key, points_of

DOMAINS = ("dochouse.example", "Hafen.example", "mueller-soehne.example", "post.example")
AREAS = ("0751", "07531", "030", "089")


def _phone(rng: random.Random) -> str:
    area = rng.choice(AREAS)
    number = "".join(rng.choice("0123456789") for _ in range(rng.randint(4, 7)))
    shape = rng.choice(["{a} {n}", "+49 {b} {n}", "+49 (0){b} {n}", "({a}) {n}", "{a}/{n}", "0049 {b}-{n}"])
    return shape.format(a=area, b=area[1:], n=number)


@pytest.fixture
def entries(ka: Any) -> dict[str, Any]:
    rng = random.Random(17)
    firsts = ("Anna", "Lea", "Jonas", "Björn", "Eva", "Max")
    with ka.db.write() as s:
        companies = []
        for i in range(8):
            companies.append(services.create_company(s, {
                "name": f"Firma {i}",
                "emails": [{"value": f"info{j}@{rng.choice(DOMAINS)}", "kind": "work"} for j in range(rng.randint(0, 2))],
                "phones": [{"value": _phone(rng), "kind": rng.choice(["work", "fax"])} for _ in range(rng.randint(0, 2))],
            }, by=None))
        s.flush()
        for i in range(70):
            first = rng.choice(firsts)
            emails = {f"{first}.{i}@{rng.choice(DOMAINS)}".lower() if rng.random() < .5 else f"{first}{i}@{rng.choice(DOMAINS)}"
                      for _ in range(rng.randint(0, 3))}
            services.create_contact(s, {
                "last_name": f"Kontakt {i:02d}", "first_name": first,
                "company_id": rng.choice(companies).id if rng.random() < .6 else None,
                "emails": [{"value": e, "kind": rng.choice(["work", "home"])} for e in sorted(emails)],
                "phones": [{"value": _phone(rng), "kind": rng.choice(["work", "mobile", "home", "fax"])}
                           for _ in range(rng.randint(0, 3))],
            }, by=None)
    with ka.db.read() as s:
        contacts = {c.id: points_of(c) for c in s.query(Contact)}
        firms = {c.id: points_of(c) for c in s.query(Company)}
    return {"contacts": contacts, "companies": firms}


def _matches(pattern: str, lists: dict[str, list[dict[str, Any]]]) -> bool:
    """The reference: does ANY e-mail or phone of these lists match the typed pattern?"""
    pattern = pattern.strip()
    emails = [e["value"].casefold() for e in lists["emails"]]
    phones = [phone_key(p["value"]) for p in lists["phones"]]
    if "*" not in pattern:
        return pattern.casefold() in emails or ("@" not in pattern and bool(phone_key(pattern)) and phone_key(pattern) in phones)
    parts = pattern.split("*")
    mail_re = ".*".join(re.escape(p.casefold()) for p in parts)
    digits = [phone_key(p) if i == 0 else re.sub(r"\D", "", p) for i, p in enumerate(parts)]
    phone_re = ".*".join(digits) if any(digits) and "@" not in pattern else None
    return any(re.fullmatch(mail_re, e) for e in emails) or (
        phone_re is not None and any(re.fullmatch(phone_re, p) for p in phones))


def _patterns(entries: dict[str, Any]) -> list[str]:
    rng = random.Random(5)
    stored = [lists for lists in entries["contacts"].values() if lists["emails"] and lists["phones"]]
    picked = rng.sample(stored, 6)
    found = []
    for lists in picked:
        email = rng.choice(lists["emails"])["value"]
        phone = rng.choice(lists["phones"])["value"]
        found += [email, email.upper(), "  " + email + " ", phone, phone_key(phone), "+49 " + phone_key(phone)[1:],
                  phone_key(phone)[:5] + "*", email.split("@")[0] + "*"]
    return found + ["*@dochouse.example", "*@HAFEN.example", "anna*", "0751*", "+49 751*", "07531 *", "*12*", "*1*2*",
                    "lea*@post.example", "niemand@example.org", "0000000", "*", "   ", "%", "_@_", "info0@*"]


def test_any_entry_matches_like_the_reference(ka: Any, entries: dict[str, Any]) -> None:
    patterns = _patterns(entries)
    checked = 0
    with ka.db.read() as s:
        for pattern in patterns:
            rows, total = filter_contacts(s, ContactFilter(email_phone=pattern), per_page=200)
            if point_keys(pattern) is None:
                assert total == len(entries["contacts"]), pattern  # filters nothing
                continue
            expected = {ident for ident, lists in entries["contacts"].items() if _matches(pattern, lists)}
            assert {r.id for r in rows} == expected, pattern
            assert total == len(expected), pattern
            checked += bool(expected)
            rows, total = filter_companies(s, CompanyFilter(email_phone=pattern), per_page=200)
            assert {r.id for r in rows} == {i for i, lists in entries["companies"].items() if _matches(pattern, lists)}, pattern
        assert checked >= 20  # the patterns do find contacts, not only nobody


def test_a_non_preferred_entry_is_found_and_combines_with_other_filters(ka: Any, entries: dict[str, Any]) -> None:
    with ka.db.write() as s:
        contact = services.create_contact(s, {
            "last_name": "Zweitadresse", "first_name": "Ida",
            "emails": [{"value": "ida@work.example", "preferred": True}, {"value": "Ida.Privat@home.example", "kind": "home"}],
            "phones": [{"value": "0171 555 666", "kind": "mobile", "preferred": True}, {"value": "+49 (0)751 98765", "kind": "fax"}],
            "addresses": [{"kind": "home", "postal_code": "88212", "city": "Ravensburg"}]}, by=None)
        ident = contact.id
    with ka.db.read() as s:
        for pattern in ("ida.privat@HOME.example", "0751 98765", "075198765", "+4975198765", "0751 987*"):
            rows, _total = filter_contacts(s, ContactFilter(email_phone=pattern))
            assert ident in {r.id for r in rows}, pattern
        rows, _total = filter_contacts(s, ContactFilter(email_phone="0751 98765", postal_code="88212", name="Zweitadresse"))
        assert [r.id for r in rows] == [ident]
        # the list shows the preferred entry, whichever one matched
        assert (rows[0].email, rows[0].phone) == ("ida@work.example", "0171 555 666")
        assert filter_contacts(s, ContactFilter(email_phone="0751 98765", postal_code="10115"))[1] == 0


def test_the_filter_reads_the_value_key_index(ka: Any, entries: dict[str, Any]) -> None:
    """SQLite's plan: an exact value and a prefix probe ix_contact_points_value_key, never a scan of the points."""
    from kundenakte.core.directory import contact_conditions
    from kundenakte.core.models import Contact as C

    if ka.db.engine.dialect.name != "sqlite":
        pytest.skip("the plan is checked on SQLite (PostgreSQL plans tiny tables by cost)")
    from sqlalchemy import select

    with ka.db.read() as s:
        for pattern in ("anna.1@dochouse.example", "0751 1234", "0751*", "anna*"):
            conditions = contact_conditions(ContactFilter(email_phone=pattern), True)
            query = select(C.id).where(*(c.expression for c in conditions))
            compiled = query.compile(dialect=s.connection().dialect, compile_kwargs={"literal_binds": True})
            plan = " | ".join(str(row[-1]) for row in s.execute(text(f"EXPLAIN QUERY PLAN {compiled}")))
            assert "ix_contact_points_value_key" in plan, (pattern, plan)
            assert "SCAN contact_points" not in plan, (pattern, plan)
