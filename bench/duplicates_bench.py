"""Duplicate finder benchmark: N seeded contacts, the whole finder, next to a plain SELECT of the same rows.

    python bench/duplicates_bench.py --contacts 100000 [--database-url postgresql+psycopg://…]

Names from Faker's de_DE lists (seeded, so German surnames repeat as they do in a real file),
5,000 companies, 300 postal codes (a regional customer base: large blocks), and 2 % planted
duplicates (Meier/Meyer spellings, ü/ue, ß/ss, the e-mail in upper case). Prints one line: the
finder's time (reading the rows, codes, blocks, scoring, grouping) and, in the same run, the time of
``SELECT`` of exactly the columns the finder reads – the floor any finder in Python starts from.
"""

from __future__ import annotations

import argparse
import random
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from faker import Faker  # noqa: E402
from sqlalchemy import select, text  # noqa: E402

from kundenakte.core import migrate  # noqa: E402
from kundenakte.core.config import load_settings  # noqa: E402
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
    rows: list[dict[str, object]] = []
    planted = 0
    for i in range(n):
        if rows and rnd.random() < 0.02:
            base = dict(rnd.choice(rows[-1000:]))
            base["last_name"] = variant(str(base["last_name"]), rnd)
            base["email"] = str(base["email"]).upper() if rnd.random() < 0.5 else ""
            rows.append(base)
            planted += 1
            continue
        first, last = fake.first_name(), fake.last_name()
        company = rnd.random() < 0.7
        rows.append({"first_name": first, "last_name": last, "email": f"{first}.{last}.{i}@example.de".lower(),
                     "company_id": rnd.choice(company_ids) if company else None, "postal_code": rnd.choice(codes),
                     "street": f"Hauptstraße {rnd.randint(1, 200)}", "use_company_address": False})
    for start in range(0, len(rows), 5000):
        with ka.db.write() as s:
            insert_contacts(s, rows[start:start + 5000], is_sqlite=ka.db.is_sqlite)
    return planted


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--contacts", "-n", type=int, default=100_000)
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--database-url", default="", help="PostgreSQL URL (default: a fresh SQLite file)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="ka-dupes-bench-") as tmp:
        settings = {"instance": Path(tmp), "index_async": False}
        if args.database_url:
            settings["database_url"] = args.database_url
        ka = Kundenakte(load_settings(settings))
        migrate.upgrade(ka)
        try:
            if args.database_url:
                with ka.db.write() as s:
                    s.execute(text("TRUNCATE contacts, companies, index_queue RESTART IDENTITY CASCADE"))
            planted = seed(ka, args.contacts, args.seed)
            with ka.db.read() as s:  # warm both the same way: one untimed read of the rows
                s.execute(select(*_COLUMNS)).all()
            with ka.db.read() as s:
                start = time.perf_counter()
                rows = s.execute(select(*_COLUMNS)).all()
                baseline = time.perf_counter() - start
            with ka.db.read() as s:
                start = time.perf_counter()
                groups = find_duplicates(s)
                finder = time.perf_counter() - start
        finally:
            ka.close()
    pairs = sum(len(g.pairs) for g in groups)
    engine = "postgresql" if args.database_url else "sqlite"
    print(f"duplicates {engine}: {len(rows)} contacts ({planted} planted), {len(groups)} groups / {pairs} pairs: "
          f"finder {finder:.2f} s; baseline SELECT of the same rows {baseline:.2f} s")


if __name__ == "__main__":
    main()
