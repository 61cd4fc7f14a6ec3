"""Document pages through the Flask test client, logged in through the real login form, on both databases."""

from __future__ import annotations

import io
import re
from html import unescape

import pytest
from sqlalchemy import func, select

from kundenakte.core.documents import DocumentInput, create_document
from kundenakte.core.models import Attachment, Company, Contact, Document, Folder
from tests.conftest import PASSWORD

TOKEN_RE = re.compile(r'name="csrf_token" value="([^"]+)"')


def csrf_from(html: str) -> str:
    match = TOKEN_RE.search(html)
    assert match, "no csrf_token in page"
    return match.group(1)


class Browser:
    """A logged-in test client that adds the session's CSRF token to every POST."""

    def __init__(self, client, login: str) -> None:
        self.client = client
        page = client.get("/anmelden")
        token = csrf_from(page.get_data(as_text=True))
        r = client.post("/anmelden", data={"login": login, "password": PASSWORD, "csrf_token": token})
        assert r.status_code == 302, r.get_data(as_text=True)
        # Flask-WTF keeps one token per session; read it from a logged-in page.
        self.token = csrf_from(client.get("/dokumente/neu/testnote").get_data(as_text=True))

    def get(self, url: str, **kw):
        return self.client.get(url, **kw)

    def post(self, url: str, data=None, **kw):
        data = dict(data or {}) if not isinstance(data, list) else data
        if isinstance(data, dict):
            data.setdefault("csrf_token", self.token)
        return self.client.post(url, data=data, content_type="multipart/form-data", **kw)


def login_as(app, login: str) -> Browser:
    return Browser(app.test_client(), login)


@pytest.fixture
def master(ka, people):
    with ka.db.write() as s:
        company = Company(name="Müller & Söhne GmbH", city="Köln")
        other = Company(name="Andere AG")
        s.add_all([company, other])
        s.flush()
        contact = Contact(first_name="Erika", last_name="Mustermann", company_id=company.id)
        stranger = Contact(first_name="Max", last_name="Fremd", company_id=other.id)
        s.add_all([contact, stranger])
        s.flush()
        return {"company": company.id, "other": other.id, "contact": contact.id, "stranger": stranger.id}


def make_doc(ka, people, author="owner", title="Akte", **kw) -> int:
    with ka.db.write() as s:
        data = kw.pop("data", {"subject": title})
        return create_document(ka, s, people.viewer(author), "testnote", DocumentInput(title=title, data=data, **kw)).id


def full_form(people, master, **overrides) -> dict:
    form = {
        "title": "Telefonat mit Frau Mustermann",
        "company_id": str(master["company"]),
        "contact_id": str(master["contact"]),
        "document_date": "2024-03-05",
        "status": "open",
        "responsible_id": str(people.users["owner"]),
        "data.subject": "Rückruf wegen Angebot",
        "data.details": "Zeile 1\nZeile 2",
        "data.body": "<p><strong>Wichtig</strong></p>",
        "data.due": "2024-04-30",
        "data.price": "1.234,50",
        "data.ratio": "0,25",
        "data.minutes": "42",
        "data.direction": "in",
        "data.owner": str(people.users["reader"]),
        "data.person": str(master["contact"]),
        "data.urgent": "1",
        "folder_ids": [str(people.folders["Schriftverkehr"])],
        "retention_days": "365",
        "readers": ["*", f"g:{people.groups['Vertrieb']}"],
        "editors": [f"u:{people.users['editor']}"],
        "content": "<p>Hallo <em>Welt</em></p>",
    }
    form.update(overrides)
    return form


def test_new_form_prefilled_from_contact_and_type(ka, people, master, app):
    b = login_as(app, "owner")
    r = b.get(f"/dokumente/neu/testnote?contact_id={master['contact']}")
    assert r.status_code == 200
    html = r.get_data(as_text=True)
    assert re.search(rf'<option value="{master["company"]}"[^>]*\sselected', html)  # company taken from contact
    assert re.search(rf'<option value="{master["contact"]}"[^>]*\sselected', html)
    assert 'name="retention_days" value="720"' in html
    assert re.search(r'<option value="open"\s*selected>offen', html)
    for heading in ("Allgemein", "Ablage", "Zugriff", "Inhalt", "Dateianhänge", "Leser", "Bearbeiter", "Aufbewahrungsfrist"):
        assert heading in html
    assert "Alle (*)" in html and "Gruppe: Vertrieb" in html
    assert "<script>" not in html.replace('<script src=', '')  # only external scripts (CSP)
    assert b.get("/dokumente/neu/gibtsnicht").status_code == 404


def test_new_form_for_disabled_type_is_404(ka, people, app):
    from kundenakte.core.models import PluginState

    with ka.db.write() as s:
        s.add(PluginState(name="testtypes", enabled=False))
    b = Browser.__new__(Browser)
    b.client = app.test_client()
    page = b.client.get("/anmelden")
    b.client.post("/anmelden", data={"login": "owner", "password": PASSWORD, "csrf_token": csrf_from(page.get_data(as_text=True))})
    assert b.client.get("/dokumente/neu/testnote").status_code == 404


def test_create_with_every_field_kind(ka, people, master, app):
    b = login_as(app, "owner")
    r = b.post("/dokumente/neu/testnote", full_form(people, master))
    assert r.status_code == 302, r.get_data(as_text=True)
    doc_id = int(r.headers["Location"].rstrip("/").rsplit("/", 1)[-1])
    with ka.db.read() as s:
        doc = s.get(Document, doc_id)
        assert doc.title == "Telefonat mit Frau Mustermann"
        assert doc.company_id == master["company"] and doc.contact_id == master["contact"]
        assert doc.document_date.isoformat() == "2024-03-05"
        assert doc.retention_days == 365
        assert [f.name for f in doc.folders] == ["Schriftverkehr"]
        assert {(e.principal, e.role) for e in doc.acl} == {
            ("*", "read"), (f"g:{people.groups['Vertrieb']}", "read"), (f"u:{people.users['editor']}", "edit")}
        assert doc.data == {
            "subject": "Rückruf wegen Angebot", "details": "Zeile 1\nZeile 2", "body": "<p><strong>Wichtig</strong></p>",
            "due": "2024-04-30", "price": "1234.50", "ratio": "0.25", "minutes": 42, "direction": "in",
            "owner": people.users["reader"], "person": master["contact"], "urgent": True,
        }
        assert str(doc.amount) == "1234.50"
        assert doc.content == "<p>Hallo <em>Welt</em></p>"
    html = b.get(f"/dokumente/{doc_id}").get_data(as_text=True)
    assert "1.234,50\u00a0€" in html  # Babel: no line break inside an amount
    assert "30.04.2024" in html and "05.03.2024" in html
    assert "Reader" in html  # user field shown by display name
    assert "eingehend" in html  # choice label
    assert "Erika Mustermann" in html and "Müller &amp; Söhne GmbH" in html
    assert "Alle" in html and "Gruppe: Vertrieb" in html and "Editor" in html
    assert "<p>Hallo <em>Welt</em></p>" in html
    assert "<strong>Wichtig</strong>" in html
    assert "Bearbeiten" in html
    for section in ("Allgemein", "Ablage", "Zugriff", "Inhalt", "Dateianhänge", "Verlauf"):
        assert f"<h2>{section}</h2>" in html


def test_numbers_and_dates_follow_the_ui_language(ka, people, master, app):
    """One formatter, two locales: the English UI reads and shows English numbers and dates."""
    from kundenakte.core.models import User

    with ka.db.write() as s:
        s.get(User, people.users["owner"]).language = "en"
    b = login_as(app, "owner")
    form = full_form(people, master, **{"data.price": "1,234.5", "data.ratio": "0.25"})
    r = b.post("/dokumente/neu/testnote", form)
    assert r.status_code == 302, r.get_data(as_text=True)
    doc_id = int(r.headers["Location"].rstrip("/").rsplit("/", 1)[-1])
    with ka.db.read() as s:
        assert s.get(Document, doc_id).data["price"] == "1234.50"
    html = b.get(f"/dokumente/{doc_id}").get_data(as_text=True)
    assert "€1,234.50" in html and "Apr 30, 2024" in html and "Mar 5, 2024" in html
    assert 'value="1,234.50"' in b.get(f"/dokumente/{doc_id}/bearbeiten").get_data(as_text=True)
    # German input in the English UI is not silently misread as a thousand times the amount.
    r = b.post("/dokumente/neu/testnote", full_form(people, master, **{"data.price": "1.234,50"}))
    assert r.status_code == 422
    assert "„1.234,50“ ist mehrdeutig" in unescape(r.get_data(as_text=True)) and "„1,234.5“" in unescape(r.get_data(as_text=True))
    with ka.db.write() as s:
        s.get(User, people.users["owner"]).language = "de"
    assert 'value="1.234,50"' in b.get(f"/dokumente/{doc_id}/bearbeiten").get_data(as_text=True)
    assert "1.234,50\u00a0€" in b.get(f"/dokumente/{doc_id}").get_data(as_text=True)


def test_validation_errors_keep_input_and_uploads(ka, people, master, app, shared_pdf):
    b = login_as(app, "owner")
    pdf = (shared_pdf / "example.pdf").read_bytes()
    form = full_form(people, master, title="", **{"data.subject": "", "data.price": "zwölf", "data.details": "bleibt <b>erhalten</b>"})
    form["attachments"] = [(io.BytesIO(pdf), "Angebot März.pdf"), (io.BytesIO(b"notiz"), "notiz.txt")]
    r = b.post("/dokumente/neu/testnote", form)
    assert r.status_code == 422
    html = r.get_data(as_text=True)
    assert "Bitte einen Titel angeben." in html
    assert "Dieses Feld ist ein Pflichtfeld." in html
    assert "Bitte eine Zahl angeben" in html
    # errors sit at their fields
    assert re.search(r'id="f-title-error"', html) and re.search(r'id="f-data-subject-error"', html)
    assert 'value="zwölf"' in html
    assert "bleibt &lt;b&gt;erhalten&lt;/b&gt;" in html
    assert re.search(rf'<option value="{people.users["reader"]}"\s*selected', html)
    assert "Angebot März.pdf" in html and "notiz.txt" in html
    tokens = re.findall(r'name="upload_token" value="([^"]+)"', html)
    assert len(tokens) == 2
    with ka.db.read() as s:
        assert s.scalar(select(func.count()).select_from(Document)) == 0
    # the blobs are already stored, so the second submit needs no re-upload
    fixed = full_form(people, master, title="Jetzt richtig")
    fixed["upload_token"] = [unescape(t) for t in tokens]
    r = b.post("/dokumente/neu/testnote", fixed)
    assert r.status_code == 302, r.get_data(as_text=True)
    with ka.db.read() as s:
        doc = s.scalar(select(Document))
        names = sorted(a.filename for a in doc.attachments)
        assert names == ["Angebot März.pdf", "notiz.txt"]
        pdf_row = next(a for a in doc.attachments if a.filename.endswith(".pdf"))
        assert pdf_row.mime_type == "application/pdf" and pdf_row.size == len(pdf)
        assert ka.storage.path_for(pdf_row.sha256).read_bytes() == pdf


def test_forged_or_foreign_upload_token_is_ignored(ka, people, master, app):
    b = login_as(app, "owner")
    form = full_form(people, master, title="")
    form["attachments"] = [(io.BytesIO(b"geheim"), "geheim.txt")]
    html = b.post("/dokumente/neu/testnote", form).get_data(as_text=True)
    token = unescape(re.findall(r'name="upload_token" value="([^"]+)"', html)[0])
    other = login_as(app, "editor")
    r = other.post("/dokumente/neu/testnote", full_form(people, master, upload_token=[token, token[:-2] + "xx"]))
    assert r.status_code == 302
    with ka.db.read() as s:
        assert s.scalar(select(func.count()).select_from(Attachment)) == 0


def test_edit_saves_and_stale_version_conflicts(ka, people, master, app):
    doc_id = make_doc(ka, people, title="Original", editors=[f"u:{people.users['editor']}"])
    owner = login_as(app, "owner")
    editor = login_as(app, "editor")
    html = owner.get(f"/dokumente/{doc_id}/bearbeiten").get_data(as_text=True)
    version = re.search(r'name="version" value="(\d+)"', html).group(1)
    assert 'value="Original"' in html
    # the editor saves first
    r = editor.post(f"/dokumente/{doc_id}/bearbeiten", full_form(people, master, title="Vom Editor", version=version))
    assert r.status_code == 302, r.get_data(as_text=True)
    with ka.db.read() as s:
        after_editor = s.get(Document, doc_id)
        snapshot = (after_editor.title, after_editor.version, dict(after_editor.data))
    # the owner's save with the old version must not overwrite
    r = owner.post(f"/dokumente/{doc_id}/bearbeiten",
                   full_form(people, master, title="Vom Owner", version=version, **{"data.subject": "Meins"}))
    assert r.status_code == 409
    html = r.get_data(as_text=True)
    assert "Konflikt" in html
    assert 'value="Vom Owner"' in html and 'value="Meins"' in html  # input kept
    assert "Vom Editor" in html  # what changed
    with ka.db.read() as s:
        doc = s.get(Document, doc_id)
        assert (doc.title, doc.version, dict(doc.data)) == snapshot
    # the re-rendered form carries the current version: saving again is a conscious overwrite
    new_version = re.search(r'name="version" value="(\d+)"', html).group(1)
    assert int(new_version) == snapshot[1]
    r = owner.post(f"/dokumente/{doc_id}/bearbeiten", full_form(people, master, title="Vom Owner", version=new_version))
    assert r.status_code == 302
    with ka.db.read() as s:
        assert s.get(Document, doc_id).title == "Vom Owner"


def _without_csrf(body: bytes) -> bytes:
    stripped, n = re.subn(rb'(name="csrf_token" value=")[^"]+"', rb'\1"', body)
    assert n >= 1  # the layout's logout form is there, so the page really is the full 404 page
    # The meta tag carries the same per-request token; its signature has a timestamp, so two pages
    # rendered a second apart differ there (a flake seen in CI), never in what they say.
    stripped, m = re.subn(rb'(name="csrf-token" content=")[^"]+"', rb'\1"', stripped)
    assert m == 1
    return stripped


def test_outsider_gets_404_everywhere(ka, people, master, app):
    doc_id = make_doc(ka, people, readers=[f"u:{people.users['reader']}"])
    with ka.db.write() as s:
        from kundenakte.core.attachments import add_attachment

        att = add_attachment(ka, s, people.viewer("owner"), s.get(Document, doc_id), io.BytesIO(b"x"), "x.txt")
        s.flush()
        att_id = att.id
    b = login_as(app, "outsider")
    assert b.get(f"/dokumente/{doc_id}").status_code == 404
    assert b.get(f"/dokumente/{doc_id}/bearbeiten").status_code == 404
    assert b.post(f"/dokumente/{doc_id}/bearbeiten", full_form(people, master, version="1")).status_code == 404
    assert b.get(f"/dokumente/{doc_id}/anhang/{att_id}").status_code == 404
    assert b.post(f"/dokumente/{doc_id}/anhang/{att_id}/entfernen").status_code == 404
    assert b.post(f"/dokumente/{doc_id}/loeschen").status_code == 404
    missing = b.get(f"/dokumente/{doc_id + 100}")
    forbidden = b.get(f"/dokumente/{doc_id}")
    # indistinguishable; the CSRF token carries a timestamp that may tick between the two requests
    assert _without_csrf(missing.get_data()) == _without_csrf(forbidden.get_data())
    with ka.db.read() as s:
        assert s.get(Document, doc_id) is not None
        assert s.get(Attachment, att_id) is not None


def test_reader_can_view_but_not_change(ka, people, master, app):
    doc_id = make_doc(ka, people, readers=[f"u:{people.users['reader']}"])
    b = login_as(app, "reader")
    r = b.get(f"/dokumente/{doc_id}")
    assert r.status_code == 200
    html = r.get_data(as_text=True)
    assert "Bearbeiten" not in html and "Löschen" not in html
    assert b.get(f"/dokumente/{doc_id}/bearbeiten").status_code == 403
    assert b.post(f"/dokumente/{doc_id}/bearbeiten", full_form(people, master, version="1")).status_code == 403
    assert b.post(f"/dokumente/{doc_id}/loeschen").status_code == 403
    with ka.db.read() as s:
        assert s.get(Document, doc_id).title == "Akte"


def test_delete(ka, people, master, app):
    doc_id = make_doc(ka, people)
    b = login_as(app, "owner")
    r = b.post(f"/dokumente/{doc_id}/loeschen")
    assert r.status_code == 302
    assert b.get(f"/dokumente/{doc_id}").status_code == 404
    assert b.get(f"/dokumente/{doc_id}/loeschen").status_code == 405  # never by GET


def test_archived_document_cannot_be_edited(ka, people, master, app):
    doc_id = make_doc(ka, people)
    with ka.db.write() as s:
        s.get(Document, doc_id).archived_at = ka.clock.now()
    b = login_as(app, "owner")
    html = b.get(f"/dokumente/{doc_id}").get_data(as_text=True)
    assert "archiviert" in html and ">Bearbeiten<" not in html
    r = b.get(f"/dokumente/{doc_id}/bearbeiten")
    assert r.status_code == 409 and "nicht geändert werden" in r.get_data(as_text=True)
    r = b.post(f"/dokumente/{doc_id}/bearbeiten", full_form(people, master, version="2"))
    assert r.status_code == 409


def test_xss_is_escaped_and_scripts_removed(ka, people, master, app):
    b = login_as(app, "owner")
    evil = '<script>alert("t")</script><img src=x onerror=alert(1)>'
    form = full_form(people, master, title=evil, content='<p>ok</p><script>alert("c")</script><img src="x" onerror="alert(2)">',
                     **{"data.body": '<p onclick="alert(3)">b</p><script>alert(4)</script>'})
    form["attachments"] = [(io.BytesIO(b"hello"), '"><img src=x onerror=alert(5)>.txt')]
    r = b.post("/dokumente/neu/testnote", form)
    assert r.status_code == 302, r.get_data(as_text=True)
    doc_id = int(r.headers["Location"].rsplit("/", 1)[-1])
    html = b.get(f"/dokumente/{doc_id}").get_data(as_text=True)
    assert "<script>alert" not in html
    assert "onerror" not in html.replace("onerror=alert(1)&gt;", "").replace("onerror=alert(5)&gt;", "")
    assert "&lt;script&gt;alert(&#34;t&#34;)&lt;/script&gt;" in html
    assert "onclick" not in html
    with ka.db.read() as s:
        doc = s.get(Document, doc_id)
        assert "<script" not in doc.content and "onerror" not in doc.content
        assert "<p>ok</p>" in doc.content
        assert "onclick" not in doc.data["body"] and "<script" not in doc.data["body"]
    edit = b.get(f"/dokumente/{doc_id}/bearbeiten").get_data(as_text=True)
    assert "<script>alert" not in edit


def test_csrf_is_enforced(ka, people, master, app):
    doc_id = make_doc(ka, people)
    b = login_as(app, "owner")
    r = b.client.post(f"/dokumente/{doc_id}/loeschen", data={})
    assert r.status_code == 400
    r = b.client.post("/dokumente/neu/testnote", data=full_form(people, master))
    assert r.status_code == 400
    with ka.db.read() as s:
        assert s.scalar(select(func.count()).select_from(Document)) == 1


def test_not_logged_in_redirects_to_login(ka, people, app):
    doc_id = make_doc(ka, people, readers=["*"])
    r = app.test_client().get(f"/dokumente/{doc_id}")
    assert r.status_code == 302 and "/anmelden" in r.headers["Location"]


def test_folders_and_defaults_from_type(ka, people, master, app):
    with ka.db.write() as s:
        s.add(Folder(name="Unterordner", parent_id=people.folders["Schriftverkehr"]))
    b = login_as(app, "owner")
    html = b.get("/dokumente/neu/testnote").get_data(as_text=True)
    assert "Schriftverkehr / Unterordner" in html
    # the signed-in user is the responsible person by default
    assert re.search(rf'<option value="{people.users["owner"]}"\s*selected>Owner', html)


@pytest.mark.sqlite_only
def test_document_actions_menu(tmp_path, database):
    from kundenakte import hookimpl
    from kundenakte.core import migrate
    from kundenakte.core.contributions import MenuItem
    from kundenakte.web.app import create_app
    from tests import testplugin
    from tests.conftest import People, make_ka

    class Actions:
        @staticmethod
        @hookimpl
        def document_actions(document, viewer, can_edit):
            items = [MenuItem(label="Als PDF", url=f"/pdf/{document.id}")]
            if can_edit:
                items.append(MenuItem(label="Versenden", url=f"/senden/{document.id}", method="post", group="Kommunikation"))
            return items

    ka2 = make_ka(tmp_path / "second", "sqlite", extra_plugins=[("testtypes", testplugin), ("actions", Actions)])
    try:
        migrate.upgrade(ka2)
        people2 = People(ka2)
        doc_id = make_doc(ka2, people2, readers=[f"u:{people2.users['reader']}"])
        app2 = create_app(ka=ka2)
        html = login_as(app2, "owner").get(f"/dokumente/{doc_id}").get_data(as_text=True)
        assert 'href="/pdf/' in html
        assert re.search(r'<form method="post" action="/senden/\d+">\s*<input type="hidden" name="csrf_token"', html)
        html = login_as(app2, "reader").get(f"/dokumente/{doc_id}").get_data(as_text=True)
        assert 'href="/pdf/' in html and "/senden/" not in html
    finally:
        ka2.close()
