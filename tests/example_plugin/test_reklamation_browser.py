"""The example plugin Reklamationen in a real browser (Debian chromium through Playwright).

The "…" menu entry, the generated form with its required article (the browser's own check and the
server's error), the Suche page, the overview filters, an outsider's view and switching the plugin
off and on. Playwright never downloads a browser here; without chromium or playwright the tests
are skipped. Embedded database only: nothing here depends on the database.
"""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import select

from kundenakte.core.models import Document
from kundenakte.core.users import set_plugin_enabled
from tests.conftest import PASSWORD
from tests.example_plugin import PLUGIN, SERIAL, complaints, reklamation  # noqa: F401 - fixtures


pytestmark = [pytest.mark.browser, pytest.mark.sqlite_only, pytest.mark.timeout(180),
              pytest.mark.usefixtures("reklamation")]


@pytest.fixture
def server(live_server: str) -> str:
    return live_server


@pytest.fixture
def browser(chromium):  # type: ignore[no-untyped-def]
    return chromium  # the session's one Chromium (tests/conftest.py)


def open_page(browser: Any, server: str, login: str) -> Any:
    """A fresh browser context logged in as ``login``; page errors are collected in ``page.problems``."""
    page = browser.new_context().new_page()
    page.problems = []
    page.on("pageerror", lambda e: page.problems.append(str(e)))
    page.on("console", lambda m: m.type == "error" and not m.text.startswith("Failed to load resource")
            and page.problems.append(m.text))
    page.goto(f"{server}/anmelden")
    page.fill("input[name=login]", login)
    page.fill("input[name=password]", PASSWORD)
    page.click("form button[type=submit]:has-text('Anmelden')")
    page.wait_for_load_state("networkidle")
    return page


def menu_entry(page: Any) -> Any:
    """Open the "…" menu and return the group headed "Reklamationen"."""
    page.click(".action-menu .menu-button")
    page.wait_for_selector(".action-menu .menu-panel:not([hidden])")
    return page.locator(".action-menu .menu-group", has=page.locator(".menu-heading", has_text="Reklamationen"))


def test_create_from_the_menu_with_validation_then_search_and_overview(ka, people, complaints, server, browser):
    page = open_page(browser, server, "owner")
    page.goto(f"{server}/kontakte/{complaints.tom}")
    group = menu_entry(page)
    assert group.count() == 1
    group.get_by_role("menuitem", name="Reklamation").click()
    page.wait_for_selector("#f-data-article")
    assert "/dokumente/neu/complaint" in page.url
    page.fill("#f-title", "Motor brummt laut")
    page.fill("#f-data-serial-number", "SN-7777-Q")
    page.fill("#f-data-defect", "Lautes Brummen beim Anlauf")

    # the article is required: the browser refuses to send the form ...
    assert page.get_attribute("#f-data-article", "required") is not None
    page.click(".doc-toolbar button[type=submit]")
    assert page.eval_on_selector("#f-data-article", "el => el.validity.valueMissing")
    assert "/dokumente/neu/complaint" in page.url
    # ... and without the browser's check the server answers with the field's error, input kept
    page.eval_on_selector("#f-data-article", "el => el.closest('form').noValidate = true")
    page.click(".doc-toolbar button[type=submit]")
    page.wait_for_selector("#f-data-article-error")
    assert page.inner_text("#f-data-article-error") == "Dieses Feld ist ein Pflichtfeld."
    assert page.input_value("#f-data-serial-number") == "SN-7777-Q"
    assert page.get_attribute("#f-data-article", "aria-invalid") == "true"

    page.fill("#f-data-article", "Drehstrommotor DM-11")
    page.click(".doc-toolbar button[type=submit]")
    page.wait_for_url("**/dokumente/*")
    assert page.locator("h1").first.inner_text() == "Motor brummt laut"
    assert "Drehstrommotor DM-11" in page.content() and "SN-7777-Q" in page.content()
    with ka.db.read() as s:
        doc = s.scalar(select(Document).where(Document.title == "Motor brummt laut"))
        assert doc.type_key == "complaint" and doc.contact_id == complaints.tom and doc.status == "open"
        new_id = doc.id

    # Suche: by an article word and by the serial number
    ka.search.flush()
    for query in ("Drehstrommotor", "SN-7777-Q"):  # seriennummer:… see test_found_by_the_seriennummer_field
        page.goto(f"{server}/suche")
        page.fill("#search-q", query)
        page.press("#search-q", "Enter")
        page.wait_for_load_state("networkidle")
        assert page.locator(f"a[href='/dokumente/{new_id}']").count() >= 1, query

    # Übersicht: the section and its filters (htmx swaps the section only)
    page.goto(f"{server}/unternehmen/{complaints.company}/uebersicht")
    section = page.locator("#section-complaints")
    assert section.locator("h2").inner_text().startswith("Reklamationen")
    assert section.locator(".count").first.inner_text() == "4"
    section.get_by_role("radio", name="in Bearbeitung").click()
    page.wait_for_function("() => document.querySelector('#section-complaints a.radio.checked')"
                           "?.textContent.includes('in Bearbeitung')")
    rows = page.locator("#section-complaints tbody tr")
    assert rows.count() == 1 and "Ventil schließt nicht" in rows.first.inner_text()
    assert not page.problems, page.problems


def test_outsider_and_disabled_plugin(ka, people, complaints, server, browser):
    ka.search.flush()
    outsider = open_page(browser, server, "outsider")
    response = outsider.goto(f"{server}/dokumente/{complaints.pump}")
    assert response.status == 404
    outsider.goto(f"{server}/suche?q={SERIAL}")
    assert outsider.locator(f"a[href='/dokumente/{complaints.pump}']").count() == 0
    assert "Pumpe verliert Wasser" not in outsider.content()
    outsider.goto(f"{server}/unternehmen/{complaints.company}/uebersicht")
    assert outsider.locator("#section-complaints h2 .count").inner_text() == "1"
    assert "Pumpe verliert Wasser" not in outsider.locator("#section-complaints").inner_text()

    owner = open_page(browser, server, "owner")
    owner.goto(f"{server}/kontakte/{complaints.lea}")
    assert menu_entry(owner).count() == 1
    with ka.db.write() as s:
        set_plugin_enabled(s, PLUGIN, False, user_id=people.users["admin"])
    owner.reload()
    assert menu_entry(owner).count() == 0
    assert owner.locator("a[href*='/dokumente/neu/complaint']").count() == 0
    owner.goto(f"{server}/unternehmen/{complaints.company}/uebersicht")
    assert owner.locator("#section-complaints").count() == 0
    assert owner.goto(f"{server}/dokumente/neu/complaint").status == 404
    with ka.db.read() as s:
        assert s.get(Document, complaints.pump).data["serial_number"] == SERIAL  # kept while disabled

    with ka.db.write() as s:
        set_plugin_enabled(s, PLUGIN, True, user_id=people.users["admin"])
    owner.goto(f"{server}/unternehmen/{complaints.company}/uebersicht")
    assert owner.locator("#section-complaints h2 .count").inner_text() == "3"
    owner.goto(f"{server}/kontakte/{complaints.lea}")
    assert menu_entry(owner).count() == 1
    assert not owner.problems and not outsider.problems, (owner.problems, outsider.problems)
