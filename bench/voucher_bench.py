"""Printed voucher and E-Rechnung benchmark.

    python bench/voucher_bench.py --runs 20

Renders a Rechnung with 60 lines (three A4 pages) from the built-in DIN 5008 templates with
WeasyPrint, and makes its e-invoice: the CII XML (drafthorse, XSD-checked), embedded into the
PDF/A-3 as factur-x.xml (factur-x, XSD-checked again) plus the XRechnung XML. Prints ONE line:
PDF rendering p50/p95 (target p95 <= 1 s) and e-invoice generation p50/p95, after one warm-up run
each (fonts and schemas load once per process).

Wall-clock figures on a shared machine measure the neighbours too, so the line also gives the
process's CPU time per render, the load average, and a baseline from the same run: WeasyPrint
rendering the same 60 lines as a bare HTML table (no letterhead, page furniture or PDF/A) — the
engine's own cost for the same content.
"""

from __future__ import annotations

import argparse
import datetime as dt
import io
import os
import sys
import time
from decimal import Decimal
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.web_bench import p50_p95  # noqa: E402
from kundenakte.plugins.sales import einvoice, pdf  # noqa: E402
from kundenakte.plugins.sales.printdata import Party, VoucherPrint  # noqa: E402
from kundenakte.plugins.sales.settings import CompanyDetails  # noqa: E402
from kundenakte.plugins.sales.totals import LineItem, compute_totals  # noqa: E402

SELLER = CompanyDetails(
    name="Muster Software GmbH", street="Hauptstraße 12", postcode="80331", city="München", country="DE",
    phone="089 1234567", email="rechnung@muster-software.de", website="www.muster-software.de",
    register_court="Amtsgericht München", register_number="HRB 654321", managing_directors="Erika Mustermann",
    vat_id="DE123456789", tax_number="", bank_name="Stadtsparkasse München", iban="DE02701500000000123456", bic="SSKMDEMMXXX",
)


def invoice(lines: int) -> VoucherPrint:
    items = tuple(
        LineItem(position=i, article=f"ART-{i:03d}", description=f"Beratungsleistung {i}", quantity=Decimal(i % 7 + 1),
                 unit="Std" if i % 2 else "Stk", unit_price=Decimal("95.50") + i, discount_percent=Decimal(i % 3 * 5),
                 vat_rate=Decimal(7 if i % 5 == 0 else 19))
        for i in range(1, lines + 1)
    )
    return VoucherPrint(
        type_key="invoice", type_label="Rechnung", number="RE-2026-00042", title="Rahmenvertrag Q4", date=dt.date(2026, 12, 1),
        seller=SELLER, buyer=Party("DOCHOUSE GmbH", "Jana Berger", "Lindenstraße 17", "88212", "Ravensburg", "Deutschland",
                                   "einkauf@dochouse.example"),
        lines=items, totals=compute_totals(items), due_date=dt.date(2026, 12, 15), payment_days=14,
        leitweg_id="04011000-12345-03", service_date=dt.date(2026, 11, 30),
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=20)
    parser.add_argument("--lines", type=int, default=60)
    args = parser.parse_args()
    from pypdf import PdfReader

    v = invoice(args.lines)
    env = pdf.environment([pdf.BUILTIN_TEMPLATES])
    rendered = pdf.html_to_pdf(pdf.render_html(env, v))  # warm-up: fonts
    pages = len(PdfReader(io.BytesIO(rendered)).pages)
    einvoice.embed_in_pdf(rendered, einvoice.build_cii(v), title="Rechnung", author=SELLER.name)  # warm-up: schemas
    import weasyprint

    bare = "<table>" + "".join(
        f"<tr><td>{line.position}</td><td>{line.article} {line.description}</td><td>{line.quantity}</td>"
        f"<td>{line.unit}</td><td>{line.unit_price}</td><td>{line.discount_percent}</td><td>{line.vat_rate}</td></tr>"
        for line in v.lines) + "</table>"
    weasyprint.HTML(string=bare).write_pdf()
    pdf_ms, cpu_ms, xml_ms, bare_ms = [], [], [], []
    for _ in range(args.runs):
        started, cpu = time.perf_counter(), time.process_time()
        rendered = pdf.html_to_pdf(pdf.render_html(env, v))
        pdf_ms.append((time.perf_counter() - started) * 1000)
        cpu_ms.append((time.process_time() - cpu) * 1000)
        started = time.perf_counter()
        weasyprint.HTML(string=bare).write_pdf()
        bare_ms.append((time.perf_counter() - started) * 1000)
        started = time.perf_counter()
        einvoice.embed_in_pdf(rendered, einvoice.build_cii(v), title="Rechnung", author=SELLER.name)
        einvoice.build_cii(v, xrechnung=True)
        xml_ms.append((time.perf_counter() - started) * 1000)
    (p50, p95), (x50, x95) = p50_p95(pdf_ms), p50_p95(xml_ms)
    (c50, c95), (b50, b95) = p50_p95(cpu_ms), p50_p95(bare_ms)
    print(
        f"Rechnung with {args.lines} lines ({pages} pages), {args.runs} runs: PDF rendering (Jinja + WeasyPrint, PDF/A-3b) "
        f"p50 {p50:.0f} ms / p95 {p95:.0f} ms (target p95 <= 1000 ms; CPU p50 {c50:.0f} / p95 {c95:.0f} ms); "
        f"baseline bare WeasyPrint table, same lines: p50 {b50:.0f} / p95 {b95:.0f} ms; e-invoice (CII XML + XSD, "
        f"Factur-X embedding + XSD, XRechnung XML) p50 {x50:.0f} ms / p95 {x95:.0f} ms; load {os.getloadavg()[0]:.1f}"
    )


if __name__ == "__main__":
    main()
