"""Received e-invoices: an attached XRechnung XML or ZUGFeRD PDF is recognised, validated and shown readably."""

from __future__ import annotations

import dataclasses
import io

from kundenakte.core.attachments import add_attachment
from kundenakte.core.documents import DocumentInput, create_document
from kundenakte.plugins.sales import einvoice
from kundenakte.plugins.sales.finalise import make_files
from kundenakte.plugins.sales.printdata import voucher_print
from kundenakte.plugins.sales.receiving import read_received
from tests.sales.helpers import customer, voucher
from tests.web.conftest import app, login  # noqa: F401 - fixtures


def test_received_xrechnung_and_zugferd_are_read_and_shown(ka, people, client):
    owner = people.viewer("owner")
    company_id, contact_id = customer(ka)
    doc_id = voucher(ka, owner, "invoice", company_id=company_id, contact_id=contact_id, data={"leitweg_id": "04011000-12345-03"})
    with ka.db.read() as s:
        from kundenakte.core.models import Document

        v = voucher_print(ka, s, s.get(Document, doc_id))
    pdf_bytes, _cii, xrechnung = make_files(ka, v)
    assert xrechnung is not None
    broken = einvoice.build_cii(dataclasses.replace(v, number="RE-X")).replace(b"<ram:TypeCode>380</ram:TypeCode>",
                                                                           b"<ram:Unknown>380</ram:Unknown>")
    with ka.db.write() as s:
        inbox = create_document(ka, s, owner, "quote", DocumentInput(title="Eingangsrechnungen"))
        ids = {}
        for name, data in (("lieferant.xml", xrechnung), ("lieferant.pdf", pdf_bytes), ("kaputt.xml", broken)):
            ids[name] = add_attachment(ka, s, owner, inbox, io.BytesIO(data), name).id
        inbox_id = inbox.id
    assert read_received(xrechnung).valid and read_received(xrechnung).kind == "xrechnung"
    assert read_received(pdf_bytes).kind == "zugferd" and read_received(pdf_bytes).embedded_name == "factur-x.xml"
    bad = read_received(broken)
    assert not bad.valid and "Schema" in bad.problem
    assert read_received(b"%PDF-1.4 nothing").kind == "none"
    login(client, "owner")
    view = client.get(f"/dokumente/{inbox_id}").get_data(as_text=True)
    assert "E-Rechnung lesen: lieferant.xml" in view
    page = client.get(f"/vertrieb/{inbox_id}/anhang/{ids['lieferant.xml']}/e-rechnung").get_data(as_text=True)
    for expected in ("Gültige E-Rechnung", "XRechnung", v.number, "Muster Software GmbH", "DOCHOUSE GmbH", "04011000-12345-03",
                     "Einrichtung Kundenakte 1", "739,71"):
        assert expected in page, expected
    page = client.get(f"/vertrieb/{inbox_id}/anhang/{ids['lieferant.pdf']}/e-rechnung").get_data(as_text=True)
    assert "ZUGFeRD/Factur-X (factur-x.xml)" in page
    page = client.get(f"/vertrieb/{inbox_id}/anhang/{ids['kaputt.xml']}/e-rechnung")
    assert page.status_code == 200 and "Schema" in page.get_data(as_text=True)
    login(client, "outsider")
    assert client.get(f"/vertrieb/{inbox_id}/anhang/{ids['lieferant.xml']}/e-rechnung").status_code == 404


def test_received_invoice_key_fields_are_indexed(ka, people):
    owner = people.viewer("owner")
    company_id, contact_id = customer(ka)
    doc_id = voucher(ka, owner, "invoice", company_id=company_id, contact_id=contact_id, data={"leitweg_id": "04011000-12345-03"})
    with ka.db.read() as s:
        from kundenakte.core.models import Document

        v = voucher_print(ka, s, s.get(Document, doc_id))
    _pdf, _cii, xrechnung = make_files(ka, dataclasses.replace(v, number="LIEF-2026-777"))
    with ka.db.write() as s:
        inbox = create_document(ka, s, owner, "quote", DocumentInput(title="Eingang Lieferant"))
        add_attachment(ka, s, owner, inbox, io.BytesIO(xrechnung), "eingang.xml")
        inbox_id = inbox.id
    ka.search.flush()
    with ka.db.read() as s:
        for query in ("rechnungsnummer:LIEF-2026-777", "lieferant:muster*", "betrag:739.71"):
            hits = {h.document.id for h in ka.search.search(s, owner, query).hits}
            assert inbox_id in hits, query
        outsider = {h.document.id for h in ka.search.search(s, people.viewer("outsider"), "rechnungsnummer:LIEF-2026-777").hits}
        assert inbox_id not in outsider
