"""Contact import benchmark: N seeded contacts as CSV (our own headers) into a fresh SQLite instance.

    python bench/import_bench.py --contacts 100000

Goes the whole way a user's import goes – read and decode the file, detect the preset, plan
(dedupe against the database, companies) and ``apply_import`` (Core bulk inserts in chunks of 1000
per transaction, folded columns and index queue rows included) – and prints one line.
"""

from __future__ import annotations

import argparse
import io
import random
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from kundenakte.core import migrate  # noqa: E402
from kundenakte.core.config import load_settings  # noqa: E402
from kundenakte.core.exchange import ContactRecord, read_records  # noqa: E402
from kundenakte.core.exchange.csvio import write_csv  # noqa: E402
from kundenakte.core.exchange.importer import apply_import, count_contacts, plan_import  # noqa: E402
from kundenakte.core.runtime import Kundenakte  # noqa: E402

FIRST = "Anna Jürgen Katrin Jonas Özgür Lea Thomas Sabine Lukas Marie Fatma Paul Jörg Ute Björn Mia".split()
LAST = ("Müller Schmidt Schneider Fischer Weber Meyer Wagner Becker Schulz Hoffmann Schäfer Koch Bauer Richter "
        "Klein Wolf Schröder Neumann Schwarz Zimmermann Braun Krüger Hofmann Hartmann Lange Weiß Groß").split()
CITIES = [("München", "80331"), ("Köln", "50667"), ("Würzburg", "97070"), ("Berlin", "10115"), ("Düsseldorf", "40213")]
FORMS = ["GmbH", "AG", "KG", "GmbH & Co. KG", "e.K."]


def generate(n: int, seed: int = 42) -> bytes:
    rnd = random.Random(seed)
    companies = [f"{rnd.choice(LAST)} {rnd.choice(['Bau', 'Technik', 'Handel', 'Logistik', 'Süßwaren'])} "
                 f"{rnd.choice(FORMS)} {i}" for i in range(max(n // 20, 1))]
    records = []
    for i in range(n):
        city, code = rnd.choice(CITIES)
        first, last = rnd.choice(FIRST), rnd.choice(LAST)
        company = rnd.choice(companies) if rnd.random() < 0.8 else ""
        records.append(ContactRecord(
            gender=rnd.choice(["female", "male", "diverse", "unknown"]), title="Dr." if rnd.random() < 0.1 else "",
            first_name=first, last_name=last, language="de", position=rnd.choice(["", "Einkauf", "Geschäftsführung"]),
            email=f"{first}.{last}.{i}@example.de".lower(), phone=f"+49 {rnd.randint(30, 999)} {rnd.randint(10000, 999999)}",
            use_company_address=bool(company) and rnd.random() < 0.7,
            street=f"Hauptstraße {rnd.randint(1, 200)}", postal_code=code, city=city, country="Deutschland",
            company_name=company, company_street=f"Industriestraße {rnd.randint(1, 99)}" if company else "",
            company_postal_code=code if company else "", company_city=city if company else "",
            company_country="Deutschland" if company else "",
        ))
    out = io.StringIO(newline="")
    write_csv(records, out)
    return b"\xef\xbb\xbf" + out.getvalue().encode("utf-8")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--contacts", "-n", type=int, default=100_000)
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--progress", action="store_true")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="ka-import-bench-") as tmp:
        folder = Path(tmp)
        path = folder / "kontakte.csv"
        path.write_bytes(generate(args.contacts, args.seed))
        ka = Kundenakte(load_settings({"instance": folder / "instance", "index_async": False}))
        migrate.upgrade(ka)
        try:
            start = time.perf_counter()
            records = read_records(path.read_bytes(), filename=path.name)
            parsed = time.perf_counter()
            with ka.db.read() as session:
                plan = plan_import(session, records)
            planned = time.perf_counter()
            result = apply_import(ka, plan, progress=args.progress)
            done = time.perf_counter()
            with ka.db.read() as session:
                assert count_contacts(session) == result.created == args.contacts, result.summary()
        finally:
            ka.close()
    total = done - start
    print(f"contacts={args.contacts} seconds={total:.2f} contacts/s={args.contacts / total:.0f} "
          f"(parse {parsed - start:.2f}s, plan {planned - parsed:.2f}s, apply {done - planned:.2f}s, "
          f"companies={result.companies_created})")


if __name__ == "__main__":
    main()
