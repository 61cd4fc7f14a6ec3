"""The pages: Postfächer (admins), Posteingang with one-action assignment, thread, upload form."""

from __future__ import annotations

import io
from typing import Any

from sqlalchemy import select

from kundenakte.core import services
from kundenakte.core.models import Contact, Document
from kundenakte.plugins.communication.inbound import filing
from kundenakte.plugins.communication.inbound.models import MailAccount
from tests.inbound import messages
from tests.web.conftest import csrf_token, login


def _file(ka: Any, people: Any, raw: bytes, who: str = "admin", readers: list[str] | None = None,
          editors: list[str] | None = None) -> int:
    with ka.db.write() as s:
        filed = filing.file_message(ka, s, people.viewer(who), raw, readers=readers, editors=editors)
        filing.record(s, filed, account_id=None, source="test")
        return int(filed.documents[0].id)


def test_account_pages_admin_only_and_password_never_shown(ka: Any, people: Any, client: Any) -> None:
    login(client, "owner")
    assert client.get("/einstellungen/kommunikation/postfaecher").status_code == 403
    login(client, "admin")
    token = csrf_token(client, "/einstellungen/kommunikation/postfaecher/neu")
    bad = client.post("/einstellungen/kommunikation/postfaecher/neu", data={
        "csrf_token": token, "name": "Ablage", "kind": "shared", "host": "imap.example.org", "port": "143",
        "security": "plain", "username": "ablage", "password": "Geheim-123", "folder": "INBOX",
        "after_import": "flag", "poll_minutes": "5", "max_size_mb": "20"})
    page = bad.get_data(as_text=True)
    assert bad.status_code == 400 and "Unverschlüsselt nur zu 127.0.0.1" in page
    assert 'value="imap.example.org"' in page and "Geheim-123" not in page  # typed values kept, password not echoed
    ok = client.post("/einstellungen/kommunikation/postfaecher/neu", data={
        "csrf_token": token, "name": "Ablage", "kind": "shared", "host": "imap.example.org", "port": "993",
        "security": "tls", "username": "ablage", "password": "Geheim-123", "folder": "INBOX",
        "after_import": "flag", "poll_minutes": "5", "max_size_mb": "20", "active": "1"})
    assert ok.status_code == 302
    with ka.db.read() as s:
        account = s.scalars(select(MailAccount)).one()
        assert "Geheim-123" not in account.password_encrypted
    form = client.get(f"/einstellungen/kommunikation/postfaecher/{account.id}").get_data(as_text=True)
    assert "Geheim-123" not in form and account.password_encrypted not in form
    assert "Kommunikation – Postfächer" in client.get("/einstellungen").get_data(as_text=True)


def test_posteingang_assign_to_company_with_one_action(ka: Any, people: Any, client: Any) -> None:
    with ka.db.write() as s:
        company = services.create_company(s, {"name": "Neukunde AG"}, by=None)
        company_id = company.id
    doc_id = _file(ka, people, messages.plain(subject="Unbekannter Absender", sender="Frau X <x@neu.example>"),
                   readers=["*"], editors=[f"u:{people.users['owner']}"])
    login(client, "reader")  # may read, not edit: sees it, cannot assign
    assert "Unbekannter Absender" in client.get("/kommunikation/posteingang").get_data(as_text=True)
    token = login(client, "reader")
    assert client.post(f"/kommunikation/posteingang/{doc_id}/zuordnen",
                       data={"csrf_token": token, "company_id": str(company_id)}).status_code == 403
    token = login(client, "owner")
    page = client.get("/kommunikation/posteingang").get_data(as_text=True)
    assert "Unbekannter Absender" in page and "Frau X" in page
    response = client.post(f"/kommunikation/posteingang/{doc_id}/zuordnen",
                           data={"csrf_token": token, "company_id": str(company_id)})
    assert response.status_code == 302
    with ka.db.read() as s:
        assert s.get(Document, doc_id).company_id == company_id  # type: ignore[union-attr]
    assert "Unbekannter Absender" not in client.get("/kommunikation/posteingang").get_data(as_text=True)


def test_posteingang_assign_by_typed_name_without_javascript(ka: Any, people: Any, client: Any) -> None:
    """The row's type-ahead: a name typed without picking must name exactly one contact."""
    with ka.db.write() as s:
        company = services.create_company(s, {"name": "Vogel Technik GmbH"}, by=None)
        anna = services.create_contact(s, {"first_name": "Anna", "last_name": "Vogel", "company_id": company.id}, by=None)
        services.create_contact(s, {"first_name": "Bernd", "last_name": "Vogelsang"}, by=None)
        services.create_contact(s, {"first_name": "Carla", "last_name": "Vogelsang"}, by=None)
        anna_id, company_id = anna.id, company.id
    doc_id = _file(ka, people, messages.plain(subject="Bitte zuordnen", sender="A. V. <a.v@privat.example>"),
                   readers=["*"], who="owner")
    token = login(client, "owner")
    page = client.get("/kommunikation/posteingang").get_data(as_text=True)
    assert f'id="inbox-{doc_id}-contact-text"' in page and 'name="contact_id:text"' in page
    form = {"csrf_token": token, "contact_id": "", "contact_id:text": "Vogelsang", "company_id": "", "company_id:text": ""}
    client.post(f"/kommunikation/posteingang/{doc_id}/zuordnen", data=form)
    assert "Mehrere Einträge passen" in client.get("/kommunikation/posteingang").get_data(as_text=True)
    client.post(f"/kommunikation/posteingang/{doc_id}/zuordnen", data=form | {"contact_id:text": "Niemand"})
    assert "Kein Kontakt dieses Namens" in client.get("/kommunikation/posteingang").get_data(as_text=True)
    with ka.db.read() as s:
        assert s.get(Document, doc_id).contact_id is None  # type: ignore[union-attr]
    client.post(f"/kommunikation/posteingang/{doc_id}/zuordnen", data=form | {"contact_id:text": "Anna Vogel"})
    with ka.db.read() as s:
        doc = s.get(Document, doc_id)
        assert (doc.contact_id, doc.company_id) == (anna_id, company_id)  # type: ignore[union-attr]


def test_posteingang_create_contact_from_sender(ka: Any, people: Any, client: Any) -> None:
    doc_id = _file(ka, people, messages.plain(subject="Neu hier", sender="Erika Mustermann <erika@neu.example>"),
                   readers=["*"], who="owner")
    token = login(client, "owner")
    response = client.post(f"/kommunikation/posteingang/{doc_id}/zuordnen",
                           data={"csrf_token": token, "create_contact": "1"})
    assert response.status_code == 302
    with ka.db.read() as s:
        contact = s.scalars(select(Contact).where(Contact.email == "erika@neu.example")).one()
        assert (contact.first_name, contact.last_name) == ("Erika", "Mustermann")
        assert s.get(Document, doc_id).contact_id == contact.id  # type: ignore[union-attr]


def test_posteingang_hides_what_the_viewer_may_not_read(ka: Any, people: Any, client: Any) -> None:
    _file(ka, people, messages.plain(subject="Nur für Owner", sender="Y <y@neu.example>"), who="owner")
    login(client, "outsider")
    assert "Nur für Owner" not in client.get("/kommunikation/posteingang").get_data(as_text=True)
    login(client, "owner")
    assert "Nur für Owner" in client.get("/kommunikation/posteingang").get_data(as_text=True)


def test_document_page_has_no_remote_image_and_thread_page(ka: Any, people: Any, client: Any) -> None:
    doc_id = _file(ka, people, messages.html_inline(), who="owner")
    login(client, "owner")
    page = client.get(f"/dokumente/{doc_id}").get_data(as_text=True)
    assert "Bilder im Text" in page
    assert '<img src="https://tracker' not in page and "[Externes Bild: Pixel]" in page
    with ka.db.read() as s:
        doc = s.get(Document, doc_id)
        assert doc is not None
        inline = next(a for a in doc.attachments if a.inline)
        eml = next(a for a in doc.attachments if a.filename.endswith(".eml"))
    download = client.get(f"/dokumente/{doc_id}/anhang/{eml.id}")
    assert download.headers["Content-Disposition"].startswith("attachment")
    assert client.get(f"/dokumente/{doc_id}/anhang/{inline.id}").status_code == 200
    thread = client.get(f"/kommunikation/{doc_id}/verlauf")
    assert thread.status_code == 200 and "Bilder im Text" in thread.get_data(as_text=True)
    login(client, "outsider")
    assert client.get(f"/kommunikation/{doc_id}/verlauf").status_code == 404


def test_upload_form_on_contact_page(ka: Any, people: Any, client: Any) -> None:
    with ka.db.write() as s:
        contact = services.create_contact(s, {"first_name": "Max", "last_name": "Kunde", "email": "max@kunde.example"}, by=None)
        contact_id = contact.id
    token = login(client, "owner")
    assert "e-mail-ablegen" in client.get(f"/kontakte/{contact_id}").get_data(as_text=True)
    url = f"/kontakte/{contact_id}/e-mail-ablegen"
    assert client.get(url).status_code == 200
    bad = client.post(url, data={"csrf_token": token, "files": (io.BytesIO(messages.malformed()), "kaputt.eml")},
                      content_type="multipart/form-data")
    assert bad.status_code == 400 and "kaputt.eml" in bad.get_data(as_text=True)
    ok = client.post(url, data={"csrf_token": token, "files": (io.BytesIO(messages.plain()), "anfrage.eml")},
                     content_type="multipart/form-data")
    assert ok.status_code == 302
    with ka.db.read() as s:
        doc = s.scalars(select(Document).where(Document.type_key == "email")).one()
        assert doc.contact_id == contact_id and doc.title == "Anfrage Angebot"
