"""Overview Vertrieb: open receivables as a figure of its own, through the ACL (both databases).

The reference is computed here from the rows each viewer may read (``acl.can_read``): every invoice's
gross less its payments less its readable credit notes; what remains above zero is open, overdue
once the due date passed. The overview's figure must equal it for every viewer.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from sqlalchemy import select

from kundenakte.core import acl
from kundenakte.core.documents import DocumentInput, create_document
from kundenakte.core.models import Document
from kundenakte.core.overview import build_overview
from kundenakte.plugins.sales.payments import paid_amounts, record_payment
from kundenakte.plugins.sales.service import save_lines
from tests.sales.helpers import customer, item
from tests.web.conftest import login


def _figures(ka, viewer, company_id):
    with ka.db.read() as s:
        views = build_overview(ka, s, viewer, company_id=company_id)
    [view] = [v for v in views if v.section.key == "sales_invoices"]
    return {f.label: f.value for f in view.figures}


def _reference(ka, viewer, company_id, today):
    with ka.db.read() as s:
        docs = [d for d in s.scalars(select(Document).where(Document.company_id == company_id,
                                                            Document.archived_at.is_(None)))
                if acl.can_read(s, viewer, d.id)]
        invoices = [d for d in docs if d.type_key == "invoice"]
        if not any(d.type_key in ("invoice", "credit_note") for d in docs):
            return {}  # a section without a readable document shows no figures
        paid = paid_amounts(s, [d.id for d in invoices])
        open_total = overdue = Decimal(0)
        for inv in invoices:
            rest = Decimal(inv.amount) - paid.get(inv.id, Decimal(0)) - sum(
                (abs(Decimal(c.amount)) for c in docs if c.type_key == "credit_note" and c.parent_id == inv.id), Decimal(0))
            if rest > 0:
                open_total += rest
                if inv.data.get("due_date") and dt.date.fromisoformat(inv.data["due_date"]) < today:
                    overdue += rest
        return {"Offene Posten (brutto)": open_total, "davon überfällig": overdue}


def test_open_receivables_per_viewer_equal_the_reference(ka, people, client):
    ka.clock.set(dt.date(2026, 12, 1))
    owner = people.viewer("owner")
    company_id, contact_id = customer(ka)

    def invoice(lines, days):
        with ka.db.write() as s:  # readable by every user; the confidential one below by its owner only
            doc = create_document(ka, s, owner, "invoice", DocumentInput(
                title="Rechnung", document_date="2026-11-20", company_id=company_id, contact_id=contact_id,
                data={"payment_days": days}, readers=["*"]))
            save_lines(ka, s, owner, doc.id, lines, expected_version=None)
            return doc.id

    overdue = invoice([item(1, "1", "100.00", "19")], 7)              # 119,00 € due 27.11. — overdue
    partly = invoice([item(1, "2", "100.00", "19")], 30)              # 238,00 €, 100 paid
    paid = invoice([item(1, "1", "50.00", "7")], 30)                  # 53,50 €, paid in full
    corrected = invoice([item(1, "1", "100.00", "19")], 30)           # 119,00 €, a credit note of 119
    with ka.db.write() as s:
        secret = create_document(ka, s, owner, "invoice", DocumentInput(
            title="Vertraulich", document_date="2026-11-20", company_id=company_id, data={"payment_days": 30},
            readers=[f"u:{people.users['owner']}"], editors=[f"u:{people.users['owner']}"]))
        save_lines(ka, s, owner, secret.id, [item(1, "10", "100.00", "19")], expected_version=None)  # 1.190,00 €
        note = create_document(ka, s, owner, "credit_note", DocumentInput(
            title="Gutschrift", document_date="2026-11-25", company_id=company_id, parent_id=corrected, readers=["*"]))
        save_lines(ka, s, owner, note.id, [item(1, "1", "100.00", "19")], expected_version=None)
        record_payment(ka, s, owner, partly, paid_on=dt.date(2026, 11, 28), amount=Decimal("100.00"))
        record_payment(ka, s, owner, paid, paid_on=dt.date(2026, 11, 28))
    assert overdue
    seen = {}
    for login_name in ("owner", "reader", "grouped", "outsider", "admin"):
        viewer = people.viewer(login_name)
        seen[login_name] = _figures(ka, viewer, company_id)
        assert seen[login_name] == _reference(ka, viewer, company_id, dt.date(2026, 12, 1)), login_name
    # Who reads only the shared invoices sees them without the confidential one.
    assert seen["reader"] == {"Offene Posten (brutto)": Decimal("257.00"), "davon überfällig": Decimal("119.00")}
    assert _figures(ka, owner, company_id) == {"Offene Posten (brutto)": Decimal("1447.00"), "davon überfällig": Decimal("119.00")}
    login(client, "owner")
    page = client.get(f"/unternehmen/{company_id}/uebersicht").get_data(as_text=True)
    assert "Offene Posten (brutto): 1.447,00" in page and "davon überfällig: 119,00" in page
