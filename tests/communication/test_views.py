"""Einstellungen → Kommunikation, the "Vorlage auswählen" dialog and "Senden" through the test client."""

from __future__ import annotations

import io
import re

from sqlalchemy import select

from kundenakte.core.models import Document
from kundenakte.plugins.communication.models import CommTemplate
from kundenakte.plugins.communication.settings import outbox_dir
from tests.communication.test_outbox import configure
from tests.communication.test_templates import make_contacts, save
from tests.conftest import PASSWORD


def login(app, login_name: str):  # type: ignore[no-untyped-def]
    app.config["WTF_CSRF_ENABLED"] = False
    client = app.test_client()
    response = client.post("/anmelden", data={"login": login_name, "password": PASSWORD})
    assert response.status_code in (302, 303), response.status_code
    return client


def test_template_form_errors_keep_input_and_save(app, ka, people, shared_pdf):  # type: ignore[no-untyped-def]
    client = login(app, "owner")
    page = client.get("/einstellungen/kommunikation/neu")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    for section in ("Allgemein", "Absenderangaben", "Ablage", "Inhalt", "Anhänge", "Dateianhänge", "Zugriff"):
        assert f"<legend>{section}</legend>" in html
    assert "{{ kontakt.briefanrede }}" in html
    data = {"name": "Meine Vorlage", "base_type": "email", "subject": "Hallo {{ kontakt.nachnme }}",
            "body": "<p>Text</p>", "sender_format": "name_address", "sender_mode": "current_user", "readers": "*"}
    bad = client.post("/einstellungen/kommunikation/neu", data=data)
    assert bad.status_code == 400
    text = bad.get_data(as_text=True)
    assert "Unbekannter Platzhalter {{ kontakt.nachnme }}" in text
    assert 'value="Meine Vorlage"' in text and "Hallo {{ kontakt.nachnme }}" in text
    data["subject"] = "Hallo {{ kontakt.nachname }}"
    data["files"] = (io.BytesIO((shared_pdf / "example.pdf").read_bytes()), "Prospekt.pdf")
    ok = client.post("/einstellungen/kommunikation/neu", data=data, content_type="multipart/form-data")
    assert ok.status_code == 302
    with ka.db.read() as s:
        (template,) = s.scalars(select(CommTemplate)).all()
        assert template.subject == "Hallo {{ kontakt.nachname }}" and template.readers == ["*"]
        assert [f.filename for f in template.files] == ["Prospekt.pdf"]
    listing = client.get("/einstellungen/kommunikation").get_data(as_text=True)
    assert "Meine Vorlage" in listing


def test_dialog_search_and_create(app, ka, people):  # type: ignore[no-untyped-def]
    ids = make_contacts(ka)
    save(ka, people, name="Produktinformationen")
    save(ka, people, name="Preisliste", subject="Preise", body="<p>Weitere INFORMATIONEN anbei</p>")
    save(ka, people, name="Messe", subject="Informationen zur Messe", body="<p>Hallo</p>")
    save(ka, people, name="Weihnachtsgruß", subject="Frohe Feste", body="<p>Alles Gute</p>")
    secret = save(ka, people, name="Vertriebsinterna", subject="Informationen intern", body="<p>x</p>",
                  readers=[f"g:{people.groups['Vertrieb']}"])
    client = login(app, "outsider")
    page = client.get(f"/kommunikation/vorlage?contact_id={ids['frau']}&q=informationen")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert len(re.findall(r'name="template_id"', html)) == 3
    assert "Weihnachtsgruß" not in html and "Vertriebsinterna" not in html
    everything = client.get(f"/kommunikation/vorlage?contact_id={ids['frau']}").get_data(as_text=True)
    assert len(re.findall(r'name="template_id"', everything)) == 4
    with ka.db.read() as s:
        tid = s.scalar(select(CommTemplate.id).where(CommTemplate.name == "Produktinformationen"))
    response = client.post("/kommunikation/vorlage", data={"contact_id": ids["frau"], "template_id": tid})
    assert response.status_code == 302
    doc_id = int(re.search(r"/dokumente/(\d+)/bearbeiten\?verwerfen=1$", response.headers["Location"]).group(1))
    with ka.db.read() as s:
        doc = s.get(Document, doc_id)
        assert doc.contact_id == ids["frau"] and doc.author_id == people.users["outsider"]
        assert "Sehr geehrte Frau Dr. Müller," in doc.content
    assert client.post("/kommunikation/vorlage", data={"contact_id": ids["frau"], "template_id": secret}).status_code == 404
    assert client.post("/kommunikation/vorlage", data={"contact_id": ids["frau"]}).status_code == 400


def test_send_via_client(app, ka, people):  # type: ignore[no-untyped-def]
    configure(ka, None)
    ids = make_contacts(ka)
    tid = save(ka, people)
    client = login(app, "owner")
    created = client.post("/kommunikation/vorlage", data={"contact_id": ids["herr"], "template_id": tid})
    doc_id = int(created.headers["Location"].split("/")[2])
    assert login(app, "outsider").post(f"/kommunikation/{doc_id}/senden").status_code == 404
    response = client.post(f"/kommunikation/{doc_id}/senden")
    assert response.status_code == 302 and response.headers["Location"].endswith(f"/dokumente/{doc_id}")
    with ka.db.read() as s:
        doc = s.get(Document, doc_id)
        assert doc.status == "filed" and doc.data["_locked"]
    assert len(list(outbox_dir(ka).glob("*.eml"))) == 1
    again = client.post(f"/kommunikation/{doc_id}/senden")
    assert again.status_code == 302
    assert len(list(outbox_dir(ka).glob("*.eml"))) == 1


def test_menus_on_contact_and_document_pages(app, ka, people):  # type: ignore[no-untyped-def]
    configure(ka, None)
    ids = make_contacts(ka)
    tid = save(ka, people)
    client = login(app, "owner")
    contact_page = client.get(f"/kontakte/{ids['frau']}").get_data(as_text=True)
    assert "Vorlage auswählen …" in contact_page and "Telefonnotiz" in contact_page
    created = client.post("/kommunikation/vorlage", data={"contact_id": ids["frau"], "template_id": tid})
    doc_id = int(created.headers["Location"].split("/")[2])
    page = client.get(f"/dokumente/{doc_id}")
    assert page.status_code == 200 and f"/kommunikation/{doc_id}/senden" in page.get_data(as_text=True)
    client.post(f"/kommunikation/{doc_id}/senden")
    after = client.get(f"/dokumente/{doc_id}")
    assert after.status_code == 200
    html = after.get_data(as_text=True)
    assert "versendet" in html and f"/kommunikation/{doc_id}/senden" not in html
    settings_page = client.get("/einstellungen")
    if settings_page.status_code == 200:
        assert "/einstellungen/kommunikation" in settings_page.get_data(as_text=True)
