"""Contact import benchmark: N seeded contacts as CSV (our own headers) into a fresh SQLite instance.

    python bench/import_bench.py --contacts 100000
    python bench/import_bench.py --contacts 100000 --rich

``--rich``: the contacts have 2-3 e-mail addresses, 2-4 phone numbers, one or two addresses, a
birthday, a nickname, a department and notes each, as a vCard 4.0 file; the line then also carries
the same-run baseline of the flat CSV file with as many contacts (one e-mail, phone and address).

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
from kundenakte.core.exchange import Address, ContactRecord, Point, read_records  # noqa: E402
from kundenakte.core.exchange.csvio import write_csv  # noqa: E402
from kundenakte.core.exchange.importer import apply_import, count_contacts, plan_import  # noqa: E402
from kundenakte.core.exchange.vcard import dump_vcards  # noqa: E402
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


def generate_rich(n: int, seed: int = 42) -> bytes:
    """N contacts with several e-mails, phones and addresses each, as a vCard 4.0 file."""
    import datetime as dt

    rnd = random.Random(seed)
    companies = [f"{rnd.choice(LAST)} {rnd.choice(['Bau', 'Technik', 'Handel', 'Logistik', 'Süßwaren'])} "
                 f"{rnd.choice(FORMS)} {i}" for i in range(max(n // 20, 1))]
    records = []
    for i in range(n):
        city, code = rnd.choice(CITIES)
        first, last = rnd.choice(FIRST), rnd.choice(LAST)
        company = rnd.choice(companies) if rnd.random() < 0.8 else ""
        base = f"{first}.{last}.{i}".lower()
        emails = [Point(f"{base}@example.de", "work", True), Point(f"{base}@privat.example", "home")]
        if rnd.random() < 0.5:
            emails.append(Point(f"{base}@other.example", "other"))
        phones = [Point(f"+49 {rnd.randint(30, 999)} {rnd.randint(10000, 999999)}", "work", True),
                  Point(f"+49 1{rnd.randint(50, 79)} {rnd.randint(1000000, 9999999)}", "mobile")]
        phones += [Point(f"0{rnd.randint(30, 999)} {rnd.randint(10000, 999999)}", kind)
                   for kind in rnd.sample(["home", "fax"], rnd.randint(0, 2))]
        addresses = [Address("home", f"Gartenweg {rnd.randint(1, 99)}", "", code, city, "Deutschland", not company)]
        if company:
            addresses.insert(0, Address("work", f"Industriestraße {rnd.randint(1, 99)}", "", code, city, "Deutschland",
                                        True))
        records.append(ContactRecord(
            gender=rnd.choice(["female", "male", "diverse", "unknown"]), first_name=first, last_name=last,
            language="de", position=rnd.choice(["", "Einkauf", "Geschäftsführung"]), company_name=company,
            use_company_address=False, emails=emails, phones=phones, addresses=addresses,
            birthday=dt.date(1950 + rnd.randint(0, 50), rnd.randint(1, 12), rnd.randint(1, 28)),
            nickname=first[:3], department=rnd.choice(["Vertrieb", "Technik", ""]), notes=f"Kunde seit {2000 + i % 25}",
        ))
    return "".join(dump_vcards(records, "4.0")).encode("utf-8")


def run(folder: Path, data: bytes, name: str, contacts: int, progress: bool) -> tuple[float, float, float, float, int]:
    """Import ``data`` into a fresh instance below ``folder``: (total, parse, plan, apply) seconds, companies."""
    path = folder / name
    path.write_bytes(data)
    ka = Kundenakte(load_settings({"instance": folder / f"instance-{name}", "index_async": False}))
    migrate.upgrade(ka)
    try:
        start = time.perf_counter()
        records = read_records(path.read_bytes(), filename=path.name)
        parsed = time.perf_counter()
        with ka.db.read() as session:
            plan = plan_import(session, records)
        planned = time.perf_counter()
        result = apply_import(ka, plan, progress=progress)
        done = time.perf_counter()
        with ka.db.read() as session:
            assert count_contacts(session) == result.created == contacts, result.summary()
    finally:
        ka.close()
    return done - start, parsed - start, planned - parsed, done - planned, result.companies_created


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--contacts", "-n", type=int, default=100_000)
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--progress", action="store_true")
    parser.add_argument("--rich", action="store_true", help="several e-mails, phones and addresses per contact (vCard)")
    args = parser.parse_args()
    n = args.contacts
    with tempfile.TemporaryDirectory(prefix="ka-import-bench-") as tmp:
        folder = Path(tmp)
        flat = run(folder, generate(n, args.seed), "kontakte.csv", n, args.progress)
        rich = run(folder, generate_rich(n, args.seed), "kontakte.vcf", n, args.progress) if args.rich else None
    total, parse, plan, apply, companies = rich or flat
    line = (f"contacts={n}{' rich' if rich else ''} seconds={total:.2f} contacts/s={n / total:.0f} "
            f"(parse {parse:.2f}s, plan {plan:.2f}s, apply {apply:.2f}s, companies={companies})")
    if rich:
        line += f" baseline flat CSV: seconds={flat[0]:.2f} contacts/s={n / flat[0]:.0f}"
    print(line)


if __name__ == "__main__":
    main()
