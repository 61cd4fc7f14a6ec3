"""Printed totals, XML totals and stored totals are equal to the cent for random line sets.

The rule (kundenakte/plugins/sales/totals.py): each line's net is rounded to cents half-up; the VAT
of each rate is computed once on the sum of that rate's rounded line nets; gross = net + VAT.
"""

from __future__ import annotations

import re
from decimal import Decimal

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from kundenakte.core.formatting import format_money
from kundenakte.core.models import Document
from kundenakte.plugins.sales import einvoice, pdf
from kundenakte.plugins.sales.printdata import voucher_print
from kundenakte.plugins.sales.service import save_lines
from kundenakte.plugins.sales.totals import LineItem
from tests.sales.helpers import customer, voucher

lines_strategy = st.lists(
    st.builds(
        lambda q, p, d, r: (q, p, d, r),
        st.decimals(min_value=Decimal("0.001"), max_value=Decimal("999"), places=3),
        st.decimals(min_value=Decimal("0.01"), max_value=Decimal("9999.99"), places=4),
        st.sampled_from([Decimal(0), Decimal("2.5"), Decimal(10), Decimal("33.33")]),
        st.sampled_from([Decimal(19), Decimal(7), Decimal(0)]),
    ),
    min_size=1, max_size=12,
)


def _printed(html: str, label: str) -> list[str]:
    text = re.sub(r"<[^>]+>", " ", html)
    text = " ".join(text.replace("\u00a0", " ").split())
    return re.findall(re.escape(label) + r" (-?[\d.]+,\d\d €)", text)


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(raw=lines_strategy)
def test_printed_xml_and_stored_totals_agree(ka, people, raw):
    owner = people.viewer("owner")
    company_id, contact_id = customer(ka)
    items = [LineItem(position=i, article="", description=f"Position {i}", quantity=q, unit="Stk", unit_price=p,
                      discount_percent=d, vat_rate=r) for i, (q, p, d, r) in enumerate(raw, start=1)]
    doc_id = voucher(ka, owner, "invoice", lines=items, company_id=company_id, contact_id=contact_id)
    with ka.db.write() as s:
        save_lines(ka, s, owner, doc_id, items, expected_version=None)  # stored as a save stores them
    with ka.db.read() as s:
        doc = s.get(Document, doc_id)
        stored = (Decimal(doc.data["net"]), Decimal(doc.data["vat"]), Decimal(doc.data["gross"]))
        stored_rates = {Decimal(k): (Decimal(b), Decimal(t)) for k, (b, t) in doc.data["vat_by_rate"].items()}
        v = voucher_print(ka, s, doc)
    # XML
    parsed = einvoice.parse_cii(einvoice.build_cii(v))
    assert (parsed.net, parsed.vat_total, parsed.gross) == stored
    assert {r: (b, t) for r, b, t in parsed.vat} == stored_rates
    assert sum((ln.total for ln in parsed.lines), Decimal(0)) == stored[0]
    # printed (the HTML the PDF is rendered from)
    html = pdf.render_html(pdf.environment([pdf.BUILTIN_TEMPLATES]), v)
    assert _printed(html, "Summe netto") == [format_money(stored[0], "de").replace("\u00a0", " ")]
    assert _printed(html, "Gesamtbetrag") == [format_money(stored[2], "de").replace("\u00a0", " ")]
    for rate, (base, tax) in stored_rates.items():
        label = f"{rate.normalize():f}".replace(".", ",")
        assert _printed(html, f"USt. {label} %") == [format_money(tax, "de").replace("\u00a0", " ")]
        assert _printed(html, f"Netto {label} %") == [format_money(base, "de").replace("\u00a0", " ")]
    with ka.db.write() as s:  # keep the next example's instance small
        s.delete(s.get(Document, doc_id))
