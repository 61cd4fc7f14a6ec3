"""E-invoices arriving by mail (issue 16 with issue 15): fetched from a real Dovecot, recognised, readable.

The XRechnung is a real third-party file: the KoSIT XRechnung test suite's business case 01.01a
(UN/CEFACT CII, tests/data/einvoice/, Apache-2.0). A UBL XRechnung from the same suite is
recognised as an e-invoice the product cannot show yet, and says so.
"""

from __future__ import annotations

from email.message import EmailMessage
from email.policy import SMTP
from typing import Any

from sqlalchemy import select

from kundenakte.core import services
from kundenakte.plugins.communication.inbound.fetch import fetch_account
from kundenakte.plugins.sales.models import ReceivedInvoiceRow
from tests.inbound.messages import DATA
from tests.inbound.test_fetch import documents, make_account
from tests.web.conftest import login

KOSIT_CII = DATA / "einvoice" / "kosit-01.01a-INVOICE_uncefact.xml"
KOSIT_UBL = DATA / "einvoice" / "kosit-01.01a-INVOICE_ubl.xml"


def _invoice_mail(*attachments: tuple[str, bytes]) -> bytes:
    msg = EmailMessage()
    msg["From"] = "Buchhaltung Lieferant <rechnung@lieferant.example>"
    msg["To"] = "ablage@firma.example"
    msg["Subject"] = "Rechnung 123456XX"
    msg["Message-ID"] = "<rechnung-123456XX@lieferant.example>"
    msg.set_content("Sehr geehrte Damen und Herren,\n\nanbei unsere Rechnung als XRechnung.\n")
    for name, data in attachments:
        msg.add_attachment(data, maintype="application", subtype="xml", filename=name)
    return msg.as_bytes(policy=SMTP)


def test_xrechnung_in_a_mail_is_recognised_shown_and_found(ka: Any, people: Any, dovecot: Any, client: Any) -> None:
    with ka.db.write() as s:
        company = services.create_company(s, {"name": "Lieferant AG", "emails": [{"value": "info@lieferant.example"}]},
                                          by=None)
        company_id = company.id
    account_id = make_account(ka, dovecot, people, readers=[f"u:{people.users['owner']}"])
    dovecot.append(_invoice_mail(("rechnung.xml", KOSIT_CII.read_bytes()), ("rechnung-ubl.xml", KOSIT_UBL.read_bytes())))
    summary = fetch_account(ka, account_id)
    assert (summary.imported, summary.failed) == (1, 0), summary
    [doc] = documents(ka)
    assert doc.company_id == company_id  # filed at the supplier by its domain
    with ka.db.read() as s:
        rows = {r.kind: r for r in s.scalars(select(ReceivedInvoiceRow).where(ReceivedInvoiceRow.document_id == doc.id))}
    assert set(rows) == {"xrechnung", "ubl"}
    cii = rows["xrechnung"]
    assert (cii.valid, cii.number, cii.supplier, str(cii.amount)) == (True, "123456XX", "[Seller name]", "336.90")
    assert not rows["ubl"].valid

    login(client, "owner")
    page = client.get(f"/dokumente/{doc.id}").get_data(as_text=True)
    assert "Diese E-Mail enthält eine E-Rechnung: Nr. 123456XX von [Seller name] über 336,90" in page
    assert "E-Rechnung lesen: rechnung.xml" in page
    att = next(a for a in doc.attachments if a.filename == "rechnung.xml")
    readable = client.get(f"/vertrieb/{doc.id}/anhang/{att.id}/e-rechnung").get_data(as_text=True)
    for expected in ("Gültige E-Rechnung", "123456XX", "[Seller name]", "04011000-12345-03", "Porto + Versandkosten", "336,90"):
        assert expected in readable, expected

    # In English, the same notice in English with an English amount.
    from kundenakte.core.models import User

    with ka.db.write() as s:
        s.get(User, people.users["owner"]).language = "en"
    login(client, "owner")
    page = client.get(f"/dokumente/{doc.id}").get_data(as_text=True)
    assert "This e-mail contains an e-invoice: no. 123456XX from [Seller name] for €336.90" in page
    assert "does not meet" not in page and "is an e-invoice in UBL format" in page

    ka.search.flush()
    with ka.db.read() as s:
        found = ka.search.search(s, people.viewer("owner"), "rechnungsnummer:123456XX")
        assert [h.document.id for h in found.hits] == [doc.id]
        assert ka.search.search(s, people.viewer("outsider"), "rechnungsnummer:123456XX").total == 0
    login(client, "outsider")
    assert client.get(f"/vertrieb/{doc.id}/anhang/{att.id}/e-rechnung").status_code == 404
