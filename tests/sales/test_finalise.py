"""Abschließen: the stored PDF and e-invoice, the read-only rule on every path, field-by-field errors."""

from __future__ import annotations

import io
from decimal import Decimal

import facturx
import pytest
from pypdf import PdfReader
from sqlalchemy import func, select

from kundenakte.core.attachments import add_attachment
from kundenakte.core.doctypes import ValidationError
from kundenakte.core.documents import DocumentInput, ReadOnly, update_document
from kundenakte.core.models import Attachment, Document
from kundenakte.plugins.sales import einvoice
from kundenakte.plugins.sales.finalise import finalise_voucher, is_finalised
from kundenakte.plugins.sales.service import load_lines, save_lines
from kundenakte.plugins.sales.totals import compute_totals
from tests.sales.helpers import STANDARD_LINES, attachment_bytes, customer, item, pdf_text, voucher


def _finalise(ka, viewer, doc_id):
    with ka.db.write() as s:
        done = finalise_voucher(ka, s, viewer, doc_id)
        return done.pdf.id, (done.xrechnung.id if done.xrechnung else None)


def test_finalised_invoice_stores_pdf_with_embedded_valid_einvoice(ka, people):
    owner = people.viewer("owner")
    company_id, contact_id = customer(ka)
    doc_id = voucher(ka, owner, "invoice", company_id=company_id, contact_id=contact_id,
                     data={"payment_days": 30, "service_date": "2026-11-15"})
    pdf_id, xml_id = _finalise(ka, owner, doc_id)
    assert xml_id is None  # no Leitweg-ID: ZUGFeRD only
    with ka.db.read() as s:
        doc = s.get(Document, doc_id)
        att = s.get(Attachment, pdf_id)
        assert att.mime_type == "application/pdf" and att.document_id == doc_id
        assert is_finalised(doc)
        number = doc.data["number"]
        assert doc.data["due_date"] == "2026-12-20"
        data = attachment_bytes(ka, att)
    text = " ".join(pdf_text(data).split())  # line breaks of narrow columns do not matter
    # address block, lines, totals per rate, footer details
    for expected in ("DOCHOUSE GmbH", "Jana Berger", "Lindenstraße 17", "88212 Ravensburg",
                     "Muster Software GmbH · Hauptstraße 12 · 80331 München",
                     "Einrichtung Kundenakte 1", "Schulung vor Ort 2", "Handbuch gedruckt 3", "360,00 €", "214,88 €", "51,96 €",
                     "Summe netto 626,84 €", "Netto 19 % 574,88 €", "USt. 19 % 109,23 €", "Netto 7 % 51,96 €", "USt. 7 % 3,64 €",
                     "Gesamtbetrag 739,71 €", "Amtsgericht München HRB 654321", "Geschäftsführung: Erika Mustermann",
                     "USt-IdNr.: DE123456789", "DE02701500000000123456", "SSKMDEMMXXX", number, "Seite 1 von 1", "20.12.2026"):
        assert expected in text, expected
    # ZUGFeRD: the XML under its standard name, valid, and the same figures
    name, xml = facturx.get_xml_from_pdf(data, check_xsd=True)
    assert name == "factur-x.xml"
    assert facturx.xml_check_xsd(xml, flavor="factur-x", level="en16931")
    parsed = einvoice.parse_cii(xml)
    totals = compute_totals(STANDARD_LINES)
    assert (parsed.net, parsed.vat_total, parsed.gross) == (totals.net, totals.vat_total, totals.gross)
    assert sorted(parsed.vat) == sorted((r, b, t) for r, (b, t) in totals.vat_by_rate.items())
    assert [ln.total for ln in parsed.lines] == list(totals.line_nets)
    assert [ln.quantity for ln in parsed.lines] == [i.quantity for i in STANDARD_LINES]
    assert parsed.number == number and parsed.type_code == "380" and parsed.seller_vat_id == "DE123456789"
    assert parsed.buyer_name == "DOCHOUSE GmbH" and parsed.iban == "DE02701500000000123456"
    assert str(parsed.due_date) == "2026-12-20"
    # PDF/A-3: the XMP says so, the file is attached with AFRelationship
    reader = PdfReader(io.BytesIO(data))
    xmp = reader.trailer["/Root"]["/Metadata"].get_object().get_data().decode()
    assert "<pdfaid:part>3</pdfaid:part>" in xmp and "factur-x.xml" in xmp.lower()
    assert "factur-x.xml" in reader.attachments


def test_xrechnung_with_leitweg_id_is_stored_valid_and_round_trips(ka, people):
    owner = people.viewer("owner")
    company_id, contact_id = customer(ka)
    doc_id = voucher(ka, owner, "invoice", company_id=company_id, contact_id=contact_id,
                     data={"payment_days": 14, "leitweg_id": "04011000-12345-03"})
    _pdf_id, xml_id = _finalise(ka, owner, doc_id)
    assert xml_id is not None
    with ka.db.read() as s:
        xml = attachment_bytes(ka, s.get(Attachment, xml_id))
    assert facturx.xml_check_xsd(xml, flavor="factur-x", level="en16931")
    parsed = einvoice.parse_cii(xml)
    assert parsed.guideline == einvoice.XRECHNUNG_GUIDELINE
    assert parsed.buyer_reference == "04011000-12345-03"
    totals = compute_totals(STANDARD_LINES)
    assert parsed.gross == totals.gross and len(parsed.lines) == 3


def test_credit_note_references_its_invoice_and_is_381_with_positive_amounts(ka, people):
    from kundenakte.plugins.sales.service import create_followup

    owner = people.viewer("owner")
    company_id, contact_id = customer(ka)
    inv_id = voucher(ka, owner, "invoice", company_id=company_id, contact_id=contact_id)
    with ka.db.write() as s:
        credit = create_followup(ka, s, owner, inv_id, "credit_note")
        credit_id = credit.id
    with ka.db.read() as s:
        inv = s.get(Document, inv_id)
        credit = s.get(Document, credit_id)
        assert credit.data["invoice_number"] == inv.data["number"]
        assert Decimal(credit.data["gross"]) == -Decimal(inv.data["gross"])
    pdf_id, _ = _finalise(ka, owner, credit_id)
    with ka.db.read() as s:
        data = attachment_bytes(ka, s.get(Attachment, pdf_id))
    assert inv.data["number"] in pdf_text(data)
    _name, xml = facturx.get_xml_from_pdf(data, check_xsd=True)
    parsed = einvoice.parse_cii(xml)
    assert parsed.type_code == "381" and parsed.gross == compute_totals(STANDARD_LINES).gross


def test_missing_details_are_listed_field_by_field_and_nothing_is_stored(ka, people):
    owner = people.viewer("owner")
    ka.plugin_settings("sales").vat_id = ""
    company_id, _contact = customer(ka, street="")
    doc_id = voucher(ka, owner, "invoice", company_id=company_id, data={"leitweg_id": "991-33333TEST-33"})
    with ka.db.write() as s:
        with pytest.raises(ValidationError) as info:
            finalise_voucher(ka, s, owner, doc_id)
        s.rollback()
    errors = info.value.errors
    assert "USt-IdNr." in errors["seller.vat_id"]
    assert "Anschrift des Käufers" in errors["buyer.address"]
    assert set(errors) == {"seller.vat_id", "buyer.address"}
    with ka.db.read() as s:
        assert not is_finalised(s.get(Document, doc_id))
        assert s.scalar(select(func.count()).select_from(Attachment)) == 0


def test_a_finalised_voucher_cannot_be_changed_through_the_services(ka, people):
    owner = people.viewer("owner")
    company_id, contact_id = customer(ka)
    doc_id = voucher(ka, owner, "quote", company_id=company_id, contact_id=contact_id)
    _finalise(ka, owner, doc_id)
    with ka.db.write() as s:
        version = s.get(Document, doc_id).version
        with pytest.raises(ReadOnly):
            update_document(ka, s, owner, doc_id, DocumentInput.from_mapping({"title": "geändert"}), expected_version=version)
    with ka.db.write() as s:
        with pytest.raises(ReadOnly):
            save_lines(ka, s, owner, doc_id, [item(1, "1", "1.00", "19")], expected_version=None)
    with ka.db.write() as s:
        with pytest.raises(ReadOnly):
            add_attachment(ka, s, owner, s.get(Document, doc_id), io.BytesIO(b"hello"), "x.txt")
    with ka.db.write() as s:
        with pytest.raises(ReadOnly):
            finalise_voucher(ka, s, owner, doc_id)
    with ka.db.read() as s:
        doc = s.get(Document, doc_id)
        assert doc.title == "Kundenakte Einführung"
        assert load_lines(s, doc_id) == STANDARD_LINES
