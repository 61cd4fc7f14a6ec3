""""Per E-Mail senden" for a finalised voucher: a prefilled mail draft with the voucher's PDF and XML.

The sales plugin finds the mail type through the core (``DocumentType.mail``), not by importing the
communication plugin; the files come over through the core's ``anhang_aus`` (only readable ones).
"""

from __future__ import annotations

import re
from html import unescape

from sqlalchemy import select

from kundenakte.core.models import Attachment, AuditEntry, Document
from kundenakte.plugins.sales.finalise import finalise_voucher
from tests.sales.helpers import customer, voucher
from tests.web.conftest import login, post


def _menu_link(page: str) -> str:
    match = re.search(r'href="([^"]*dokumente/neu/email[^"]*)"[^>]*>\s*Per E-Mail senden', page)
    assert match, "no 'Per E-Mail senden' entry"
    return unescape(match.group(1))


def test_send_finalised_invoice_by_mail(ka, people, client):
    owner = people.viewer("owner")
    company_id, contact_id = customer(ka)
    doc_id = voucher(ka, owner, "invoice", company_id=company_id, contact_id=contact_id, data={"leitweg_id": "04011000-12345-03"})
    login(client, "owner")
    assert "Per E-Mail senden" not in client.get(f"/dokumente/{doc_id}").get_data(as_text=True)  # not finalised yet
    with ka.db.write() as s:
        done = finalise_voucher(ka, s, owner, doc_id)
        pdf_id, xml_id, pdf_sha = done.pdf.id, done.xrechnung.id, done.pdf.sha256
        number = done.document.data["number"]
    link = _menu_link(client.get(f"/dokumente/{doc_id}").get_data(as_text=True))
    form = client.get(link).get_data(as_text=True)
    assert f"Rechnung {number}" in form and "j.berger@dochouse.de" in form
    tokens = re.findall(r'name="upload_token" value="([^"]+)"', form)
    assert len(tokens) == 2 and f"Rechnung {number}" in form
    response = post(client, "/dokumente/neu/email", {
        "title": f"Rechnung {number}", "contact_id": str(contact_id), "company_id": str(company_id),
        "parent_id": str(doc_id), "data.to_email": "j.berger@dochouse.de", "data.subject": f"Rechnung {number}",
        "content": "<p>Anbei unsere Rechnung.</p>", "readers": "*", "upload_token": tokens,
    })
    assert response.status_code == 302, response.get_data(as_text=True)[:2000]
    with ka.db.read() as s:
        mail = s.scalars(select(Document).where(Document.type_key == "email")).one()
        assert (mail.parent_id, mail.contact_id, mail.company_id) == (doc_id, contact_id, company_id)
        files = {a.filename: a.sha256 for a in mail.attachments}
        assert pdf_sha in files.values() and len(files) == 2
        audited = s.scalars(select(AuditEntry).where(AuditEntry.object_type == "document", AuditEntry.object_id == mail.id,
                                                     AuditEntry.action == "attachment_added")).all()
        assert len(audited) == 2
        # The voucher's own files are untouched (stored once, named by both).
        assert {a.id for a in s.scalars(select(Attachment).where(Attachment.document_id == doc_id))} >= {pdf_id, xml_id}


def test_files_of_unreadable_documents_are_not_taken_over(ka, people, client):
    owner = people.viewer("owner")
    company_id, contact_id = customer(ka)
    doc_id = voucher(ka, owner, "invoice", company_id=company_id, contact_id=contact_id)
    with ka.db.write() as s:
        pdf_id = finalise_voucher(ka, s, owner, doc_id).pdf.id
    login(client, "outsider")
    form = client.get(f"/dokumente/neu/email?anhang_aus={pdf_id}").get_data(as_text=True)
    assert "upload_token" not in form and ".pdf" not in form


def test_no_entry_without_a_mail_sending_type(ka, people, client):
    owner = people.viewer("owner")
    company_id, contact_id = customer(ka)
    doc_id = voucher(ka, owner, "invoice", company_id=company_id, contact_id=contact_id)
    with ka.db.write() as s:
        finalise_voucher(ka, s, owner, doc_id)
    login(client, "owner")
    assert "Per E-Mail senden" in client.get(f"/dokumente/{doc_id}").get_data(as_text=True)
    from kundenakte.core.models import PluginState

    with ka.db.write() as s:
        s.add(PluginState(name="communication", enabled=False))
    assert "Per E-Mail senden" not in client.get(f"/dokumente/{doc_id}").get_data(as_text=True)
