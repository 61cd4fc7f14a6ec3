"""Feedback while submitting the document form: a file over the limit is named at its field before
anything is sent (all that was typed stays), the bytes sent are shown during an upload, and the
submit buttons are disabled while it runs."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from kundenakte.core.models import Document
from tests.browser.conftest import login
from tests.browser.pages import LOGIN, seed_pages

pytestmark = [pytest.mark.browser, pytest.mark.sqlite_only, pytest.mark.timeout(180)]


def test_oversize_file_is_named_at_the_field_and_nothing_is_lost(ka, people, live_server, browser_page):
    page, base = browser_page, live_server
    pages = dict(seed_pages(ka, people))
    ka.storage.max_bytes = 100_000
    login(page, base, LOGIN)
    page.goto(base + pages["formular-notiz-neu"])
    page.fill("#f-title", "Mit großer Datei")
    page.locator("#inhalt .ql-editor").click()
    page.keyboard.type("Viel getippter Text")
    page.set_input_files("#f-attachments", files=[{"name": "gross.pdf", "mimeType": "application/pdf", "buffer": b"x" * 150_000}])
    with ka.db.read() as s:
        before = len(s.scalars(select(Document)).all())
    page.locator(".doc-toolbar button[type=submit]").click()
    error = page.locator("#f-attachments-error")
    expect(error).to_have_text("Die Datei gross.pdf ist zu groß (höchstens 0,1 MB). Alles andere ist erhalten; "
                               "bitte wählen Sie eine kleinere Datei.")
    expect(page.locator("#f-attachments")).to_be_focused()
    expect(page.locator("#f-title")).to_have_value("Mit großer Datei")
    expect(page.locator("#inhalt .ql-editor")).to_contain_text("Viel getippter Text")
    with ka.db.read() as s:
        assert len(s.scalars(select(Document)).all()) == before
    # A smaller file: sent with progress, the buttons disabled meanwhile, the document saved.
    page.evaluate("""() => {
        window.__seen = {progress: [], disabled: false};
        const form = document.getElementById("doc-form");
        new MutationObserver(() => {
            const t = form.querySelector(".upload-progress span");
            if (t && t.textContent) window.__seen.progress.push(t.textContent);
            if (form.querySelector(".doc-toolbar button[type=submit]").disabled) window.__seen.disabled = true;
        }).observe(form, {subtree: true, childList: true, characterData: true, attributes: true});
    }""")
    page.set_input_files("#f-attachments", files=[{"name": "klein.pdf", "mimeType": "application/pdf", "buffer": b"%PDF-1.4 " + b"y" * 90_000}])
    page.locator(".doc-form-footer button[type=submit]").click()
    expect(page.locator("h1")).to_have_text("Mit großer Datei")
    expect(page).to_have_url(__import__("re").compile(r"/dokumente/\d+$"))
    seen = page.evaluate("window.__seen")
    assert seen["disabled"], seen
    assert seen["progress"] and seen["progress"][-1].endswith("MB gesendet"), seen
    with ka.db.read() as s:
        doc = s.scalars(select(Document).where(Document.title == "Mit großer Datei")).one()
        assert [a.filename for a in doc.attachments] == ["klein.pdf"]
        assert "Viel getippter Text" in doc.content
    expect(page.locator(".flash")).to_contain_text("Dokument angelegt.")
    assert not page.problems, page.problems  # type: ignore[attr-defined]


def test_contact_import_shows_progress_and_its_report(ka, people, live_server, browser_page):
    page, base = browser_page, live_server
    seed_pages(ka, people)
    login(page, base, LOGIN)
    page.goto(f"{base}/einstellungen/import")
    limit = ka.settings.max_upload_mb
    expect(page.locator("#f-file")).to_have_attribute("data-max-bytes", str(limit * 1048576))
    page.evaluate("""() => {
        window.__seen = {progress: [], disabled: false};
        const form = document.querySelector("form[data-progress]");
        new MutationObserver(() => {
            const t = form.querySelector(".upload-progress span");
            if (t && t.textContent) window.__seen.progress.push(t.textContent);
            if (form.querySelector("button[type=submit]").disabled) window.__seen.disabled = true;
        }).observe(form, {subtree: true, childList: true, characterData: true, attributes: true});
    }""")
    vcard = "BEGIN:VCARD\r\nVERSION:3.0\r\nN:Brandt;Jonas;;;\r\nFN:Jonas Brandt\r\nEMAIL:j.brandt@example.com\r\nEND:VCARD\r\n"
    page.set_input_files("#f-file", files=[{"name": "kontakte.vcf", "mimeType": "text/vcard", "buffer": vcard.encode()}])
    page.get_by_role("button", name="Prüfen").click()
    expect(page.locator("main")).to_contain_text("Jonas")
    seen = page.evaluate("window.__seen")
    assert seen["disabled"] and seen["progress"] and seen["progress"][-1].endswith("MB gesendet"), seen
    assert not page.problems, page.problems  # type: ignore[attr-defined]
