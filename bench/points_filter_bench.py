"""The contact list's "E-Mail / Telefon" filter (any stored entry) next to the exact-PLZ filter.

    python bench/points_filter_bench.py --contacts 100000

Builds a seeded SQLite instance with N contacts, each with two e-mail addresses and two phone
numbers (the importer's bulk path, so ``contact_points`` is filled as in production), then prints
ONE line: p50/p95 in ms of ``filter_contacts`` for an exact e-mail, an exact phone number typed in
another format, a phone prefix ("0751 12*"), and, as the same-run baseline, an exact PLZ (the
indexed filter of the manual).
"""

from __future__ import annotations

import argparse
import random
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from kundenakte.core import migrate  # noqa: E402
from kundenakte.core.config import load_settings  # noqa: E402
from kundenakte.core.directory import ContactFilter, filter_contacts  # noqa: E402
from kundenakte.core.runtime import Kundenakte  # noqa: E402
from kundenakte.core.services import points  # noqa: E402
from kundenakte.core.services.contacts import insert_contacts  # noqa: E402

AREAS = ("0751", "07531", "030", "089", "040", "0711")


def build(instance: Path, contacts: int, seed: int) -> tuple[Kundenakte, list[dict[str, str]]]:
    ka = Kundenakte(load_settings({"instance": instance, "index_async": False}), extra_plugins=())
    migrate.upgrade(ka)
    rnd = random.Random(seed)
    samples: list[dict[str, str]] = []
    for start in range(0, contacts, 5000):
        rows = []
        for i in range(start, min(contacts, start + 5000)):
            phones = [f"{rnd.choice(AREAS)} {rnd.randint(10000, 9999999)}" for _ in range(2)]
            emails = [f"person{i}@firma{rnd.randint(1, contacts // 10 or 1)}.example", f"p{i}@privat.example"]
            row = {"last_name": f"Kontakt {i}", "first_name": "", "postal_code": f"{rnd.randint(1000, 99999):05d}",
                   "city": "Ort", "use_company_address": False,
                   "emails": [{"value": e, "kind": "work", "preferred": j == 0} for j, e in enumerate(emails)],
                   "phones": [{"value": p, "kind": "work", "preferred": j == 0} for j, p in enumerate(phones)]}
            rows.append(row)
            if i % 997 == 0:
                samples.append({"email": emails[1].upper(), "phone": "+49 " + phones[1][1:], "plz": row["postal_code"],
                                "prefix": phones[1][:7] + "*"})
        with ka.db.write() as s:
            insert_contacts(s, rows, is_sqlite=True)
    assert points.phone_key("+49 751 1") == "07511"
    return ka, samples


def timed(ka: Kundenakte, filters: list[ContactFilter]) -> tuple[float, float]:
    times = []
    with ka.db.read() as s:
        filter_contacts(s, filters[0])  # compile and cache the statement once
        for f in filters:
            t0 = time.perf_counter()
            rows, _total = filter_contacts(s, f)
            times.append((time.perf_counter() - t0) * 1000)
            assert rows, f
    times.sort()
    return statistics.median(times), times[int(len(times) * .95) - 1]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--contacts", type=int, default=100_000)
    parser.add_argument("--seed", type=int, default=17)
    args = parser.parse_args()
    folder = Path(tempfile.mkdtemp(prefix="points-bench-"))
    try:
        t0 = time.perf_counter()
        ka, samples = build(folder, args.contacts, args.seed)
        built = time.perf_counter() - t0
        runs = samples * max(1, 200 // len(samples))
        figures = {
            "email": timed(ka, [ContactFilter(email_phone=x["email"]) for x in runs]),
            "phone": timed(ka, [ContactFilter(email_phone=x["phone"]) for x in runs]),
            "prefix": timed(ka, [ContactFilter(email_phone=x["prefix"]) for x in runs]),
            "plz (baseline)": timed(ka, [ContactFilter(postal_code=x["plz"]) for x in runs]),
        }
        ka.close()
        print(f"{args.contacts} contacts ({4 * args.contacts} entries, built in {built:.0f} s), p50/p95 ms: "
              + "; ".join(f"{name} {p50:.2f}/{p95:.2f}" for name, (p50, p95) in figures.items()))
    finally:
        shutil.rmtree(folder, ignore_errors=True)


if __name__ == "__main__":
    main()
