"""Duplicate finder benchmark: N seeded contacts, the whole finder, next to a plain SELECT of the same rows.

    python bench/duplicates_bench.py --contacts 100000 [--database-url postgresql+psycopg://…]

Names from Faker's de_DE lists (seeded, so German surnames repeat as they do in a real file),
5,000 companies, 300 postal codes (a regional customer base: large blocks), one or two e-mail
addresses, a phone number and an address per contact (contact_points, postal_addresses), and 2 %
planted duplicates (Meier/Meyer spellings, ü/ue, ß/ss, the e-mail in upper case or another one).
Prints one line: the finder's time (reading the rows, codes, blocks, scoring, grouping) and, in
the same run, the time of plain ``SELECT``s of exactly the rows and columns the finder reads
(contacts, their e-mails and phones, their addresses) – the floor any finder in Python starts from.
"""

from __future__ import annotations

import argparse
import os
import random
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from faker import Faker  # noqa: E402
from sqlalchemy import create_engine, select, text  # noqa: E402

from kundenakte.core import migrate  # noqa: E402
from kundenakte.core.config import load_settings  # noqa: E402
from kundenakte.core.models import ContactPoint, PostalAddress  # noqa: E402
from kundenakte.core.runtime import Kundenakte  # noqa: E402
from kundenakte.core.services.companies import insert_companies  # noqa: E402
from kundenakte.core.services.contacts import insert_contacts  # noqa: E402
from kundenakte.core.services.duplicates import _COLUMNS, find_duplicates  # noqa: E402

SPELLINGS = (("ei", "ey"), ("ei", "ai"), ("ü", "ue"), ("ß", "ss"), ("ö", "oe"), ("dt", "tt"))


def variant(name: str, rnd: random.Random) -> str:
    for a, b in rnd.sample(SPELLINGS, len(SPELLINGS)):
        if a in name:
            return name.replace(a, b, 1)
    return name.upper()


def seed(ka: Kundenakte, n: int, seed_value: int) -> int:
    rnd = random.Random(seed_value)
    fake = Faker("de_DE")
    fake.seed_instance(seed_value)
    codes = [f"{rnd.randint(1000, 99999):05d}" for _ in range(300)]
    companies = [{"name": f"{fake.last_name()} {rnd.choice(['Bau', 'Technik', 'Handel'])} GmbH {i}", "postal_code": rnd.choice(codes)}
                 for i in range(5000)]
    with ka.db.write() as s:
        company_ids = insert_companies(s, companies, is_sqlite=ka.db.is_sqlite)
    rows: list[dict[str, Any]] = []
    planted = 0
    for i in range(n):
        if rows and rnd.random() < 0.02:
            base = dict(rnd.choice(rows[-1000:]))
            base["last_name"] = variant(str(base["last_name"]), rnd)
            if rnd.random() < 0.5:  # the same address in upper case, else another one
                base["emails"] = [dict(e, value=e["value"].upper()) for e in base["emails"]]
            else:
                base["emails"] = [{"value": f"x{i}@example.org", "kind": "home", "preferred": True}]
            rows.append(base)
            planted += 1
            continue
        first, last = fake.first_name(), fake.last_name()
        company = rnd.random() < 0.7
        emails = [{"value": f"{first}.{last}.{i}@example.de".lower(), "kind": "work", "preferred": True}]
        if rnd.random() < 0.3:
            emails.append({"value": f"{first}{i}@privat.example".lower(), "kind": "home", "preferred": False})
        phones = [{"value": f"+49 {rnd.randint(30, 999)} {rnd.randint(100000, 9999999)}", "kind": "work", "preferred": True}]
        rows.append({"first_name": first, "last_name": last, "emails": emails, "phones": phones,
                     "company_id": rnd.choice(company_ids) if company else None, "use_company_address": False,
                     "addresses": [{"kind": "work", "street": f"Hauptstraße {rnd.randint(1, 200)}", "extra": "",
                                    "postal_code": rnd.choice(codes), "city": "Musterstadt", "country": "Deutschland",
                                    "preferred": True}]})
    for start in range(0, len(rows), 5000):
        with ka.db.write() as s:
            insert_contacts(s, rows[start:start + 5000], is_sqlite=ka.db.is_sqlite)
    return planted


def _baseline(s: Any) -> list[Any]:
    """The rows the finder reads, as plain SELECTs and nothing else."""
    rows = s.execute(select(*_COLUMNS)).all()
    s.execute(select(ContactPoint.contact_id, ContactPoint.channel, ContactPoint.value_key).where(
        ContactPoint.contact_id.is_not(None), ContactPoint.channel.in_(("email", "phone")))).all()
    s.execute(select(PostalAddress.contact_id, PostalAddress.postal_code, PostalAddress.street).where(
        PostalAddress.contact_id.is_not(None))).all()
    return list(rows)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--contacts", "-n", type=int, default=100_000)
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--database-url", default="", help="PostgreSQL URL (default: a fresh SQLite file)")
    args = parser.parse_args()
    schema = f"ka_dupes_bench_{os.getpid()}"
    with tempfile.TemporaryDirectory(prefix="ka-dupes-bench-") as tmp:
        settings: dict[str, Any] = {"instance": Path(tmp), "index_async": False}
        if args.database_url:
            # A schema of its own, dropped afterwards: the server's other schemas stay untouched.
            engine = create_engine(args.database_url)
            with engine.begin() as conn:
                conn.execute(text(f"CREATE SCHEMA {schema}"))
            engine.dispose()
            sep = "&" if "?" in args.database_url else "?"
            settings["database_url"] = f"{args.database_url}{sep}options=-csearch_path%3D{schema}"
        ka = Kundenakte(load_settings(settings))
        try:
            migrate.upgrade(ka)
            planted = seed(ka, args.contacts, args.seed)
            with ka.db.read() as s:  # warm both the same way: one untimed read of the rows
                _baseline(s)
            with ka.db.read() as s:
                start = time.perf_counter()
                rows = _baseline(s)
                baseline = time.perf_counter() - start
            with ka.db.read() as s:
                start = time.perf_counter()
                groups = find_duplicates(s)
                finder = time.perf_counter() - start
        finally:
            ka.close()
            if args.database_url:
                engine = create_engine(args.database_url)
                with engine.begin() as conn:
                    conn.execute(text(f"DROP SCHEMA IF EXISTS {schema} CASCADE"))
                engine.dispose()
    pairs = sum(len(g.pairs) for g in groups)
    engine = "postgresql" if args.database_url else "sqlite"
    print(f"duplicates {engine}: {len(rows)} contacts ({planted} planted), {len(groups)} groups / {pairs} pairs: "
          f"finder {finder:.2f} s; baseline SELECT of the same rows {baseline:.2f} s")


if __name__ == "__main__":
    main()
