"""Demo data: every voucher has lines, a finalised invoice with its PDF and e-invoice, an open and an overdue invoice."""

from __future__ import annotations

from decimal import Decimal

import facturx
import pytest
from sqlalchemy import select

from kundenakte.core.demo import load_demo
from kundenakte.core.models import Attachment, Document
from kundenakte.plugins.sales.finalise import is_finalised
from kundenakte.plugins.sales.payments import payment_state
from kundenakte.plugins.sales.service import load_lines
from kundenakte.plugins.sales.types import INVOICE_TYPES, LINE_TYPES
from tests.sales.helpers import attachment_bytes


@pytest.mark.sqlite_only
def test_demo_vouchers_have_lines_and_a_finished_invoice(ka):
    load_demo(ka, companies=6, seed=3)
    with ka.db.read() as s:
        vouchers = list(s.scalars(select(Document).where(Document.type_key.in_(LINE_TYPES))))
        assert vouchers
        for doc in vouchers:
            assert load_lines(s, doc.id), doc.title
            assert Decimal(doc.data["gross"]) != 0, doc.title
        invoices = [d for d in vouchers if d.type_key in INVOICE_TYPES and is_finalised(d)]
        states = {payment_state(s, d, ka.clock.today()).status for d in invoices}
        assert {"open", "overdue"} <= states
        chained = [d for d in invoices if d.parent_id is not None]
        assert chained
        att = s.scalars(select(Attachment).where(Attachment.document_id == chained[0].id)).one()
        name, _xml = facturx.get_xml_from_pdf(attachment_bytes(ka, att), check_xsd=True)
        assert name == "factur-x.xml"
