"""The document form in a real browser (Debian chromium): Quill editing, sync to the hidden field, CSP.

Skipped when chromium or playwright is missing. Embedded database only: the browser part does not
depend on the database.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import select

from kundenakte.core.models import Attachment, Company, Contact, Document
from tests.conftest import PASSWORD


pytestmark = [pytest.mark.sqlite_only, pytest.mark.timeout(120)]


@pytest.fixture
def server(live_server: str) -> str:
    return live_server


@pytest.fixture
def page(chromium):
    """A context of its own per test in the session's one Chromium (tests/conftest.py)."""
    context = chromium.new_context()
    pg = context.new_page()
    pg.console_errors = []  # type: ignore[attr-defined]
    # Failed loads are judged by URL below (the browser asks for /favicon.ico on its own).
    pg.on("console", lambda m: m.type == "error" and not m.text.startswith("Failed to load resource")
          and pg.console_errors.append(m.text))  # type: ignore[attr-defined]
    pg.on("response", lambda r: r.status >= 400 and not r.url.endswith("/favicon.ico")
          and pg.console_errors.append(f"{r.status} {r.url}"))  # type: ignore[attr-defined]
    pg.on("pageerror", lambda e: pg.console_errors.append(str(e)))  # type: ignore[attr-defined]
    yield pg
    context.close()


def _login(page, server, login="owner"):
    page.goto(f"{server}/anmelden")
    page.fill("input[name=login]", login)
    page.fill("input[name=password]", PASSWORD)
    page.click("form button[type=submit]:has-text('Anmelden')")
    page.wait_for_load_state("networkidle")


def test_create_with_quill_and_edit_with_image(ka, people, server, page, tmp_path: Path):
    with ka.db.write() as s:
        a, b = Company(name="Alpha GmbH"), Company(name="Beta AG")
        s.add_all([a, b])
        s.flush()
        s.add_all([Contact(first_name="Anna", last_name="Alpha", company_id=a.id),
                   Contact(first_name="Bernd", last_name="Beta", company_id=b.id)])
        company_a = a.id
    _login(page, server)
    page.goto(f"{server}/dokumente/neu/testnote?company_id={company_a}")
    page.wait_for_selector("#inhalt .ql-editor")
    # the contact list offers only the chosen company's people
    visible = page.eval_on_selector_all("#f-contact-id option:not([hidden])", "els => els.map(e => e.textContent)")
    assert any("Anna" in v for v in visible) and not any("Bernd" in v for v in visible)
    page.fill("#f-title", "Browser-Test")
    page.fill("#f-data-subject", "Betreff")
    page.fill("#f-data-price", "1.234,50")
    editor = page.locator("#inhalt .ql-editor")
    editor.click()
    page.keyboard.type("Hallo ")
    page.keyboard.press("Control+b")
    page.keyboard.type("fett")
    page.set_input_files("#f-attachments", files=[{"name": "notiz.txt", "mimeType": "text/plain", "buffer": b"Notiz"}])
    page.click(".doc-toolbar button[type=submit]")
    page.wait_for_url("**/dokumente/*")
    assert page.locator("h1").first.inner_text() == "Browser-Test"
    assert "1.234,50&nbsp;€" in page.content()  # the DOM serialises the no-break space
    with ka.db.read() as s:
        doc = s.scalar(select(Document))
        assert "<strong>fett</strong>" in doc.content and "Hallo" in doc.content
        assert [a.filename for a in doc.attachments] == ["notiz.txt"]
        doc_id = doc.id
    # edit: an image through the editor's image button goes to the server, not into a data: URL
    page.goto(f"{server}/dokumente/{doc_id}/bearbeiten")
    page.wait_for_selector("#inhalt .ql-editor")
    assert "fett" in page.locator("#inhalt .ql-editor").inner_html()
    png = bytes.fromhex(
        "89504e470d0a1a0a0000000d49484452000000010000000108060000001f15c4890000000d49444154789c6360000002000100"
        "05fe02fea75b3c0000000049454e44ae426082"
    )
    page.locator("#inhalt .ql-editor").click()
    with page.expect_file_chooser() as chooser:
        page.click("#inhalt .ql-toolbar .ql-image")
    with page.expect_response(lambda r: "/bilder" in r.url):
        chooser.value.set_files(files=[{"name": "bild.png", "mimeType": "image/png", "buffer": png}])
    page.wait_for_selector("#inhalt .ql-editor img")
    src = page.get_attribute("#inhalt .ql-editor img", "src")
    assert src.startswith(f"/dokumente/{doc_id}/anhang/")
    page.click(".doc-toolbar button[type=submit]")
    page.wait_for_url(f"**/dokumente/{doc_id}")
    page.wait_for_selector(".doc-richtext img")
    assert page.eval_on_selector(".doc-richtext img", "img => img.naturalWidth") == 1
    with ka.db.read() as s:
        assert s.scalar(select(Attachment).where(Attachment.inline.is_(True))) is not None
    page.screenshot(path=str(tmp_path / "view.png"), full_page=True)
    assert not page.console_errors, page.console_errors  # type: ignore[attr-defined]


