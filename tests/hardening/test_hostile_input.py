"""Hostile input: XSS payloads in every shown field (in a real browser), template injection, hostile
file names, the upload size limit, malformed and encrypted PDFs.

Counts payloads tried, payloads executed (must be 0) and 5xx answers (must be 0) into the battery's
figures. The browser part needs Debian's chromium and the playwright package; it is skipped without.
"""

from __future__ import annotations

import io
import os
import threading
from pathlib import Path
from typing import Any, Iterator

import pytest
from sqlalchemy import select

from kundenakte.core.documents import DocumentInput, create_document
from kundenakte.core.models import Attachment, Company, Contact, Document, Folder, Group
from kundenakte.core.users import create_group
from tests.conftest import PASSWORD, People, make_ka
from tests.hardening import FIGURES, PROBLEMS, flush_index
from tests.web.conftest import csrf_token, login

pytestmark = [pytest.mark.sqlite_only, pytest.mark.timeout(300)]


# {n} is replaced by a number per placement, so that an executed payload names its field.
PAYLOADS = [
    "<script>alert({n})</script>",
    '"><img src=x onerror=alert({n})>',
    "'><svg onload=alert({n})>",
    "javascript:alert({n})",
    '<a href="javascript:alert({n})">klick</a>',
    "<iframe src=javascript:alert({n})></iframe>",
    "{{{{7*7}}}} ${{7*7}} <%= 7*7 %> {n}",
    '</title><script>alert({n})</script>',
    "<details open ontoggle=alert({n})>",
    '<input autofocus onfocus=alert({n})>',
]


class Placements:
    """Every payload in every field; ``where[n]`` says which field number n is."""

    def __init__(self) -> None:
        self.where: dict[int, str] = {}

    def make(self, field: str, index: int) -> str:
        n = len(self.where) + 1
        self.where[n] = f"{field} / payload {index}"
        FIGURES["hostile.payloads"] += 1
        return PAYLOADS[index].format(n=n)


@pytest.fixture
def hostile(tmp_path: Path, _sqlite_template: Path) -> Iterator[Any]:
    import shutil

    shutil.copy(_sqlite_template, tmp_path / "kundenakte.sqlite3")
    ka = make_ka(tmp_path, "sqlite", max_upload_mb=1)
    people = People(ka)
    yield ka, people
    ka.close()


def _app(ka: Any) -> Any:
    from kundenakte.web.app import create_app

    app = create_app(ka=ka)
    app.config.update(TESTING=True, WTF_CSRF_ENABLED=True)
    return app


def _seed(ka: Any, people: Any) -> tuple[Placements, dict[str, list[int]]]:
    """Companies, contacts, documents, attachments, folders, groups and templates named by payloads."""
    from kundenakte.core.attachments import add_attachment
    from kundenakte.plugins.communication import templates_service as svc

    place = Placements()
    ids: dict[str, list[int]] = {"company": [], "contact": [], "doc": [], "template": [], "group": []}
    owner = people.viewer("owner")
    with ka.db.write() as s:
        for i in range(len(PAYLOADS)):
            company = Company(name=place.make("company name", i), city=place.make("company city", i))
            s.add(company)
            s.flush()
            contact = Contact(first_name=place.make("contact first name", i), last_name=place.make("contact last name", i),
                              company_id=company.id, email="x@example.org", city="Ulm")
            s.add(contact)
            s.add(Folder(name=place.make("folder name", i)[:100]))
            group = create_group(s, place.make("group name", i)[:100])
            s.flush()
            ids["company"].append(company.id)
            ids["contact"].append(contact.id)
            ids["group"].append(group.id)
        s.flush()
        folder_ids = list(s.scalars(select(Folder.id)))
        for i in range(len(PAYLOADS)):
            doc = create_document(ka, s, owner, "testnote", DocumentInput(
                title=place.make("document title", i)[:300], contact_id=ids["contact"][i],
                content="<p>" + place.make("rich text", i) + "</p>" + PAYLOADS[i].format(n=0),
                data={"subject": place.make("subject field", i)}, readers=["*"], folder_ids=folder_ids[:3]))
            s.flush()
            add_attachment(ka, s, owner, doc, io.BytesIO(b"Anhang\n"), place.make("file name", i) + ".txt")
            ids["doc"].append(doc.id)
            tpl = svc.save_template(ka, s, owner, {
                "name": place.make("template name", i)[:200], "base_type": "email",
                "subject": "Hallo " + place.make("template subject", i).replace("{", "(").replace("}", ")"),
                "body": "<p>" + place.make("template body", i).replace("{", "(").replace("}", ")") + "</p>",
                "readers": ["*"]})
            ids["template"].append(tpl.id)
    flush_index(ka)
    return place, ids


def _pages(ids: dict[str, list[int]], place: Placements) -> list[str]:
    pages = ["/", "/kontakte", "/unternehmen", "/aufgaben", "/einstellungen/gruppen", "/einstellungen/ordner",
             "/einstellungen/kommunikation", "/kommunikation/vorlage", "/einstellungen/benutzer"]
    for i in range(len(PAYLOADS)):
        pages += [f"/kontakte/{ids['contact'][i]}", f"/unternehmen/{ids['company'][i]}",
                  f"/kontakte/{ids['contact'][i]}/uebersicht", f"/dokumente/{ids['doc'][i]}",
                  f"/dokumente/{ids['doc'][i]}/bearbeiten", f"/einstellungen/kommunikation/{ids['template'][i]}",
                  f"/einstellungen/gruppen/{ids['group'][i]}", f"/kommunikation/vorlage?contact_id={ids['contact'][i]}"]
    return pages


def test_xss_payloads_never_execute_in_the_browser(hostile: Any, chromium: Any) -> None:
    ka, people = hostile
    place, ids = _seed(ka, people)
    from urllib.parse import quote

    search_terms = [place.make("search term echoed", i) for i in range(len(PAYLOADS))]
    pages = _pages(ids, place) + [f"/suche?q={quote(t)}" for t in search_terms] + \
        [f"/suche/vorschlaege?q={quote(t)}" for t in search_terms[:3]] + \
        [f"/kontakte?q={quote(t)}" for t in search_terms[:3]]
    app = _app(ka)
    from werkzeug.serving import make_server

    srv = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=srv.serve_forever, daemon=True)
    thread.start()
    base = f"http://127.0.0.1:{srv.server_port}"
    executed: list[str] = []
    server_errors: list[str] = []
    try:
        # the session's one Chromium (tests/conftest.py), a context of its own
        context = chromium.new_context(locale="de-DE")
        context.set_default_timeout(10_000)
        page = context.new_page()

        def on_dialog(dialog: Any) -> None:
            executed.append(f"{dialog.type}({dialog.message}) on {page.url}")
            dialog.dismiss()

        page.on("dialog", on_dialog)
        page.on("pageerror", lambda e: None)
        page.on("response", lambda r: r.status >= 500 and server_errors.append(f"{r.status} {r.url}"))
        # a payload that got through would also set this marker instead of alerting
        page.add_init_script("window.__xss = []; const _a = window.alert; window.alert = (m) => { window.__xss.push(String(m)); _a(m); };")
        # positive control: the hooks do see an executed payload
        page.goto("data:text/html,<img src=x onerror=alert(0)>")
        page.wait_for_load_state("load")
        page.evaluate("() => new Promise(r => setTimeout(r, 50))")
        assert executed and page.evaluate("() => window.__xss") == ["0"], "the dialog hook does not work"
        executed.clear()
        page.goto(f"{base}/anmelden")
        page.fill("input[name=login]", "admin")
        page.fill("input[name=password]", PASSWORD)
        page.click("button[type=submit]")
        page.wait_for_load_state("domcontentloaded")
        for url in pages:
            page.goto(base + url)
            page.wait_for_load_state("load")
            # give autofocus/ontoggle handlers a chance
            page.evaluate("() => new Promise(r => setTimeout(r, 20))")
            for link in page.locator("a[href^='javascript:' i]").all()[:5]:
                executed.append(f"javascript: link rendered on {url}: {link.get_attribute('href')}")
            marks = page.evaluate("() => window.__xss || []")
            if marks:
                executed.append(f"alert({marks}) on {url}")
        FIGURES["hostile.pages"] += len(pages)
        context.close()
    finally:
        srv.shutdown()
        thread.join(5)
    FIGURES["hostile.executed"] += len(executed)
    FIGURES["hostile.5xx"] += len(server_errors)
    for item in executed:
        n = "".join(ch for ch in item.split("(", 1)[-1] if ch.isdigit())[:4]
        PROBLEMS.append(f"XSS executed: {item} (field {place.where.get(int(n), '?') if n else '?'})")
    PROBLEMS.extend(f"hostile input: {e}" for e in server_errors)
    assert not executed
    assert not server_errors


@pytest.mark.parametrize("payload", [
    "{{ 7*7 }}", "{{ ''.__class__.__mro__[1].__subclasses__() }}", "{% for x in range(3) %}X{% endfor %}",
    "{{ config }}", "{{ self }}", "{{ request.application }}", "{{ cycler.__init__.__globals__.os }}",
    "{{ kontakt.__class__ }}", "{{ kontakt.nachname|attr('__class__') }}", "${7*7}", "{{ lipsum }}",
])
def test_template_injection_is_refused_or_inert(hostile: Any, payload: str) -> None:
    from kundenakte.core.doctypes import ValidationError
    from kundenakte.plugins.communication import templates_service as svc

    ka, people = hostile
    FIGURES["hostile.payloads"] += 1
    with ka.db.write() as s:
        contact = Contact(first_name="Lea", last_name="Müller", email="lea@example.org")
        s.add(contact)
        s.flush()
        contact_id = contact.id
    try:
        with ka.db.write() as s:
            tpl = svc.save_template(ka, s, people.viewer("owner"), {
                "name": "Injektion", "base_type": "email", "subject": payload, "body": f"<p>{payload}</p>", "readers": ["*"]})
            tpl_id = tpl.id
    except ValidationError:
        return  # refused: fine
    try:
        with ka.db.write() as s:
            doc = svc.create_from_template(ka, s, people.viewer("owner"), tpl_id, contact_id)
            text = f"{doc.title} {doc.content} {doc.data}"
    except ValidationError:
        return  # refused at rendering time: fine
    for bad in ("49", "class", "subclasses", "SECRET", "<module", "os'", "Config", "function"):
        assert bad not in text, (payload, text)
    assert "XXX" not in text, (payload, text)


HOSTILE_NAMES = [
    "../../../../etc/passwd",
    "..\\..\\windows\\system32\\cmd.exe",
    "rechnung\u202efdp.exe",
    "report\r\nSet-Cookie: pwned=1.txt",
    "a\x00b.txt",
    "x" * 1000 + ".pdf",
    "\u00e4\u0308\u00f6\ufb01le \u200bzero\u200dwidth.txt",
    "CON",
    "..",
    "<img src=x onerror=alert(1)>.html",
    "\"; filename=evil.exe; x=\".txt",
    "%2e%2e%2fetc%2fpasswd",
    "\u2215etc\u2215passwd",
    " .hidden. ",
]


def test_hostile_file_names_on_upload_and_download(hostile: Any) -> None:
    ka, people = hostile
    app = _app(ka)
    client = app.test_client()
    login(client, "owner")
    files_dir = Path(ka.settings.files_dir)
    instance = Path(ka.settings.instance)
    before_outside = {p for p in instance.parent.rglob("*")} if instance.parent != Path("/") else set()
    server_errors = 0
    for index, name in enumerate(HOSTILE_NAMES):
        FIGURES["hostile.files"] += 1
        token = csrf_token(client, "/dokumente/neu/testnote")
        response = client.post("/dokumente/neu/testnote", data={
            "csrf_token": token, "title": f"Datei {index}", "data.subject": "x",
            "attachments": (io.BytesIO(f"inhalt {index}".encode()), name)}, content_type="multipart/form-data")
        if response.status_code >= 500:
            server_errors += 1
            PROBLEMS.append(f"hostile file name {name!r}: {response.status_code} on upload")
            continue
        assert response.status_code in (302, 400, 422), (name, response.status_code)
    with ka.db.read() as s:
        rows = list(s.execute(select(Attachment.id, Attachment.document_id, Attachment.filename)))
    assert rows, "no upload was accepted at all"
    for att_id, doc_id, filename in rows:
        assert "/" not in filename and "\\" not in filename, filename
        assert not any(ch in filename for ch in "\r\n\x00\u202e\u200b\u200d"), repr(filename)
        assert len(filename) <= 255 and filename not in ("", ".", "..")
        response = client.get(f"/dokumente/{doc_id}/anhang/{att_id}")
        if response.status_code >= 500:
            server_errors += 1
            PROBLEMS.append(f"hostile file name {filename!r}: {response.status_code} on download")
            continue
        assert response.status_code == 200
        disposition = response.headers["Content-Disposition"]
        assert "\r" not in disposition and "\n" not in disposition
        assert disposition.startswith("attachment;")
        assert "Set-Cookie" not in response.headers or "pwned" not in response.headers.get("Set-Cookie", "")
        assert response.headers["X-Content-Type-Options"] == "nosniff"
        assert "sandbox" in response.headers["Content-Security-Policy"]
        page = client.get(f"/dokumente/{doc_id}").get_data(as_text=True)
        assert "<img src=x onerror" not in page
    # nothing written outside the instance's file store
    for path in files_dir.rglob("*"):
        assert files_dir in path.resolve().parents or path.resolve() == files_dir
    after_outside = {p for p in instance.parent.rglob("*")} if instance.parent != Path("/") else set()
    stray = {p for p in after_outside - before_outside if instance not in p.parents and p != instance}
    assert not stray, stray
    FIGURES["hostile.5xx"] += server_errors
    assert server_errors == 0


def test_one_byte_over_the_limit_is_413_and_leaves_nothing(hostile: Any) -> None:
    ka, people = hostile
    app = _app(ka)
    client = app.test_client()
    login(client, "owner")
    files_dir = Path(ka.settings.files_dir)
    limit = ka.settings.max_upload_mb * 1024 * 1024

    def stored() -> set[Path]:
        return {p for p in files_dir.rglob("*") if p.is_file()} if files_dir.exists() else set()

    before = stored()
    with ka.db.read() as s:
        docs_before = len(list(s.scalars(select(Document.id))))
    FIGURES["hostile.files"] += 2
    token = csrf_token(client, "/dokumente/neu/testnote")
    response = client.post("/dokumente/neu/testnote", data={
        "csrf_token": token, "title": "Zu groß", "data.subject": "x",
        "attachments": (io.BytesIO(b"\0" * (limit + 1)), "gross.bin")}, content_type="multipart/form-data")
    assert response.status_code == 413
    assert stored() == before, stored() - before  # including files/tmp
    with ka.db.read() as s:
        assert len(list(s.scalars(select(Document.id)))) == docs_before
    # exactly at the limit is fine
    token = csrf_token(client, "/dokumente/neu/testnote")
    response = client.post("/dokumente/neu/testnote", data={
        "csrf_token": token, "title": "Genau richtig", "data.subject": "x",
        "attachments": (io.BytesIO(b"\1" * limit), "genau.bin")}, content_type="multipart/form-data")
    assert response.status_code == 302
    # an attachment upload through the API: also 413, nothing left
    from tests.api import Api, api_app_for, make_token

    api = Api(api_app_for(ka).test_client(), make_token(ka, people.users["owner"]))
    with ka.db.read() as s:
        doc_id = s.scalar(select(Document.id).where(Document.title == "Genau richtig"))
    before = stored()
    response = api.post(f"/documents/{doc_id}/attachments",
                        data={"file": (io.BytesIO(b"\2" * (limit + 1)), "api.bin")}, content_type="multipart/form-data")
    FIGURES["hostile.files"] += 1
    assert response.status_code == 413, response.status_code
    assert stored() == before


def test_malformed_and_encrypted_pdfs_upload_and_index(hostile: Any, shared_pdf: Path) -> None:
    ka, people = hostile
    app = _app(ka)
    client = app.test_client()
    login(client, "owner")
    pdfs = sorted(shared_pdf.glob("*.pdf"))
    # and some broken ones of our own
    good = pdfs[0].read_bytes() if pdfs else b"%PDF-1.4\n"
    broken = {
        "abgeschnitten.pdf": good[: len(good) // 2],
        "nur-kopf.pdf": b"%PDF-1.7\n",
        "muell.pdf": b"%PDF-1.4\n" + os.urandom(4096),
        "endlos.pdf": b"%PDF-1.4\n1 0 obj << /Length 1 0 R >> stream\nxx\nendstream endobj\ntrailer << /Root 1 0 R >>\n%%EOF",
        "leer.pdf": b"",
    }
    uploads = [(p.name, p.read_bytes()) for p in pdfs] + list(broken.items())
    server_errors = 0
    for index, (name, content) in enumerate(uploads):
        FIGURES["hostile.files"] += 1
        token = csrf_token(client, "/dokumente/neu/testnote")
        response = client.post("/dokumente/neu/testnote", data={
            "csrf_token": token, "title": f"PDF {index}", "data.subject": "x",
            "attachments": (io.BytesIO(content), name)}, content_type="multipart/form-data")
        if response.status_code >= 500:
            server_errors += 1
            PROBLEMS.append(f"pdf {name}: {response.status_code} on upload")
    flush_index(ka)
    with ka.db.read() as s:
        ids = list(s.scalars(select(Document.id).where(Document.title.like("PDF %"))))
    for doc_id in ids:
        response = client.get(f"/dokumente/{doc_id}")
        if response.status_code >= 500:
            server_errors += 1
            PROBLEMS.append(f"pdf document {doc_id}: {response.status_code}")
    response = client.get("/suche", query_string={"q": "pdf"})
    assert response.status_code < 500
    assert ka.search.check() == {"missing": [], "stale": [], "extra": []}
    FIGURES["hostile.5xx"] += server_errors
    assert server_errors == 0
