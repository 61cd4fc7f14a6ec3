"""Templates with language variants, their pages and the "Vorlage auswählen" dialog in Chromium (issue 14).

* The template list, form and chooser are built like the rest of the product: base layout (top bar,
  sidebar), the toolbar with "Neu ▾" → Vorlage, the manual's sections, one tab per language.
* An English contact gets the English variant; one whose language the template lacks gets the
  default language and a notice on the draft.
* "Vorlage auswählen …" is the first entry of the contact's and the company's "…" menu and opens a
  dialog: focus in the search field, ↓/↑ and Enter pick, Escape closes; without JavaScript it is a page.
"""

from __future__ import annotations

import re
from typing import Any

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from kundenakte.core.documents import notices
from kundenakte.core.models import Company, Contact, Document
from kundenakte.plugins.communication import templates_service as svc
from kundenakte.plugins.communication.models import CommTemplate
from tests.browser.conftest import TIMEOUT_MS, login, nav, shot

pytestmark = [pytest.mark.browser, pytest.mark.sqlite_only, pytest.mark.timeout(120)]

NAME = "Produktinformation zweisprachig"
DE_SUBJECT, DE_BODY = "Informationen zu {{ unternehmen.name }}", "<p>anbei die Unterlagen für {{ unternehmen.name }}.</p>"
EN_SUBJECT, EN_BODY = "Information about {{ unternehmen.name }}", "<p>please find the documents for {{ unternehmen.name }}.</p>"
GERMAN_ONLY = "Weihnachtsgruß"
NOTICE = f"Keine englische Fassung der Vorlage „{GERMAN_ONLY}“ vorhanden – deutsche Fassung verwendet."


def seed(ka: Any, people: Any) -> dict[str, int]:
    with ka.db.write() as s:
        company = Company(name="Harbour Ltd", city="Hamburg")
        s.add(company)
        s.flush()
        english = Contact(gender="male", first_name="John", last_name="Smith", language="en", company_id=company.id,
                          email="john.smith@harbour.example")
        german = Contact(gender="female", first_name="Petra", last_name="Schneider", company_id=company.id,
                         email="petra@harbour.example")
        s.add_all([english, german])
        s.flush()
        svc.save_template(ka, s, people.viewer("admin"), {
            "name": GERMAN_ONLY, "base_type": "email", "kind": "email", "readers": ["*"],
            "subject": "Frohe Feste", "body": "<p>wir wünschen Ihnen frohe Feste.</p>"})
        return {"company": company.id, "english": english.id, "german": german.id}


def assert_product_layout(page: Any, heading: str) -> None:
    """The same base layout as every page: top bar, sidebar, toolbar with the page's title."""
    expect(page.locator("header.topbar")).to_be_visible()
    expect(page.get_by_role("navigation", name="Hauptnavigation")).to_be_visible()
    toolbar = page.get_by_role("toolbar", name="Werkzeugleiste")
    expect(toolbar).to_be_visible()
    expect(toolbar.get_by_role("heading", level=1)).to_have_text(heading)
    assert page.eval_on_selector("link[href*='app.css']", "l => !!l.sheet"), "app.css not applied"


def test_template_pages_variants_and_dialog(ka, people, live_server, browser_page):  # type: ignore[no-untyped-def]
    page, base = browser_page, live_server
    ids = seed(ka, people)
    login(page, base, "admin")

    # -- the list: Einstellungen → Kommunikation, toolbar with Neu ▾ -----------------------------
    nav(page, "Einstellungen")
    page.get_by_role("link", name="Kommunikation – Vorlagen").click()
    assert_product_layout(page, "Kommunikation – Vorlagen")
    expect(page.locator(".card.table-card table.list.template-list tbody tr")).to_have_count(1)
    new = page.get_by_role("toolbar").get_by_role("button", name="Neu")
    expect(new).to_have_attribute("aria-haspopup", "menu")
    new.click()
    expect(page.get_by_role("menuitem", name="Vorlage")).to_be_focused()
    shot(page, "20-vorlagen-liste")
    page.get_by_role("menuitem", name="Vorlage").click()

    # -- the form: the manual's sections, Basismaske, Typ as a choice, a tab per language -----------
    assert_product_layout(page, "Neue Vorlage")
    form = page.locator("form.template-form")
    legends = form.locator(":scope > fieldset.doc-section > legend")
    expect(legends).to_have_text(["Allgemein", "Absenderangaben", "Ablage", "Inhalt", "Anhänge", "Dateianhänge", "Zugriff"])
    general = form.locator("#allgemein")
    for label in ("Bezeichnung", "Basismaske", "Angezeigter Titel"):
        expect(general.get_by_label(label)).to_be_visible()
    expect(general.get_by_label("Dokumenttyp")).to_have_count(0)
    kind = general.get_by_label("Typ", exact=True)
    assert kind.evaluate("e => e.tagName") == "SELECT"
    assert {"E-Mail", "Brief", "Aufgabe"} <= set(kind.locator("option").all_inner_texts())
    expect(page.get_by_role("toolbar").get_by_role("button", name="Speichern")).to_be_visible()
    general.get_by_label("Bezeichnung").fill(NAME)
    general.get_by_label("Basismaske").select_option(label="E-Mail")
    kind.select_option(label="E-Mail")
    content = form.locator("#inhalt")
    tabs = content.get_by_role("tab")
    expect(tabs).to_have_text(["Deutsch (Standard)", "Englisch"])
    expect(content.get_by_role("tab", name="Deutsch (Standard)")).to_have_attribute("aria-selected", "true")
    german = content.get_by_role("tabpanel", name="Deutsch (Standard)")
    german.get_by_label("Betreff").fill(DE_SUBJECT)
    german.get_by_label("Text").fill(DE_BODY)
    expect(content.locator("#inhalt-en")).to_be_hidden()
    content.get_by_role("tab", name="Englisch").click()
    english = content.get_by_role("tabpanel", name="Englisch")
    expect(english).to_be_visible()
    expect(german).to_be_hidden()
    english.get_by_label("Betreff").fill(EN_SUBJECT)
    english.get_by_label("Text").fill(EN_BODY)
    shot(page, "21-vorlage-formular")
    page.get_by_role("toolbar").get_by_role("button", name="Speichern").click()
    expect(page.get_by_text("Vorlage gespeichert.")).to_be_visible()
    assert_product_layout(page, f"Vorlage „{NAME}“")
    with ka.db.read() as s:
        template = s.scalar(select(CommTemplate).where(CommTemplate.name == NAME))
        assert (template.language, template.kind, template.subject) == ("de", "email", DE_SUBJECT)
        assert template.variants == {"en": {"subject": EN_SUBJECT, "body": EN_BODY, "appendix": ""}}

    # -- contact: "…" → Vorlage auswählen … is the first entry, a dialog with focus in the search --
    page.goto(f"{base}/kontakte/{ids['english']}")
    menu_button = page.get_by_role("button", name="Weitere Aktionen")
    menu_button.click()
    items = page.locator(".action-menu .menu-panel [role=menuitem]")
    expect(items.first).to_have_text("Vorlage auswählen …")
    items.first.click()
    dialog = page.get_by_role("dialog", name="Vorlage auswählen für John Smith")
    expect(dialog).to_be_visible()
    search = dialog.get_by_role("searchbox", name="Suche")
    expect(search).to_be_focused()
    expect(dialog.locator("table.template-choice tbody tr")).to_have_count(2)
    shot(page, "22-vorlage-auswaehlen-dialog")
    # Escape closes the dialog; focus returns to the menu button; no draft was created.
    page.keyboard.press("Escape")
    expect(dialog).to_be_hidden()
    expect(menu_button).to_be_focused()
    expect(page).to_have_url(re.compile(rf"/kontakte/{ids['english']}$"))

    # Typing narrows the list, ↓ moves into it, ↓/↑ between entries, Enter picks.
    menu_button.click()
    items.first.click()
    expect(search).to_be_focused()
    page.keyboard.type("produkt")
    rows = dialog.locator("table.template-choice tbody tr")
    expect(rows).to_have_count(1)
    expect(search).to_be_focused()
    page.keyboard.press("Backspace")
    for _ in range(len("produkt")):
        page.keyboard.press("Backspace")
    expect(rows).to_have_count(2)
    page.keyboard.press("ArrowDown")
    first, second = dialog.get_by_role("radio").nth(0), dialog.get_by_role("radio").nth(1)
    expect(first).to_be_focused()
    expect(first).to_be_checked()
    page.keyboard.press("ArrowDown")
    expect(second).to_be_focused()
    expect(second).to_be_checked()
    page.keyboard.press("ArrowUp")
    expect(first).to_be_checked()
    names = dialog.locator("table.template-choice tbody tr td:nth-child(2)").all_inner_texts()
    assert names == [NAME, GERMAN_ONLY], names  # by name
    page.keyboard.press("Enter")

    # -- the English contact gets the English variant --------------------------------------------
    expect(page).to_have_url(re.compile(r"/dokumente/\d+/bearbeiten\?verwerfen=1$"))
    expect(page.get_by_label("Betreff")).to_have_value("Information about Harbour Ltd")
    editor = page.locator("#inhalt .ql-editor")
    expect(editor.locator("p").first).to_have_text("Dear Mr Smith,")
    expect(editor).to_contain_text("please find the documents for Harbour Ltd.")
    expect(editor).to_contain_text("Kind regards")
    expect(editor).not_to_contain_text("anbei")
    expect(page.locator(".doc-plugin-notice")).to_have_count(0)

    # -- a template without an English variant: German text, German framing, a visible notice ---
    page.goto(f"{base}/kontakte/{ids['english']}")
    menu_button.click()
    items.first.click()
    expect(search).to_be_focused()
    page.keyboard.type("weihnacht")
    expect(rows).to_have_count(1)
    page.keyboard.press("ArrowDown")
    page.keyboard.press("Enter")
    expect(page).to_have_url(re.compile(r"/dokumente/\d+/bearbeiten\?verwerfen=1$"))
    draft_id = int(page.url.rsplit("/", 2)[1])
    expect(page.get_by_role("note").filter(has_text="Keine englische Fassung")).to_have_text(NOTICE)
    expect(editor.locator("p").first).to_have_text("Sehr geehrter Herr Smith,")
    expect(editor).to_contain_text("Mit freundlichen Grüßen")
    shot(page, "23-entwurf-ohne-englische-fassung")
    page.locator(".doc-toolbar").get_by_role("button", name="Speichern").click()
    expect(page).to_have_url(re.compile(rf"/dokumente/{draft_id}$"))
    expect(page.get_by_role("note").filter(has_text="Keine englische Fassung")).to_have_text(NOTICE)  # stored
    with ka.db.read() as s:
        assert notices(s.get(Document, draft_id)) == [NOTICE]

    # -- company: first entry too; the dialog offers its contacts, none preselected --------------
    page.goto(f"{base}/unternehmen/{ids['company']}")
    page.get_by_role("button", name="Weitere Aktionen").click()
    expect(items.first).to_have_text("Vorlage auswählen …")
    items.first.click()
    dialog = page.get_by_role("dialog", name="Vorlage auswählen für Harbour Ltd")
    expect(dialog).to_be_visible()
    who = dialog.get_by_label("Kontakt")
    expect(who).to_have_value("")
    who.select_option(label="John Smith (Englisch)")
    dialog.get_by_label(NAME).check()
    dialog.get_by_role("button", name="OK").click()
    expect(page).to_have_url(re.compile(r"/dokumente/\d+/bearbeiten\?verwerfen=1$"))
    expect(page.get_by_label("Unternehmen", exact=True)).to_have_value(str(ids["company"]))
    expect(page.get_by_label("Kontakt", exact=True)).to_have_value(str(ids["english"]))
    expect(page.get_by_label("Betreff")).to_have_value("Information about Harbour Ltd")
    assert not page.problems, page.problems  # type: ignore[attr-defined]


def test_chooser_is_a_page_without_javascript(ka, people, live_server, chromium):  # type: ignore[no-untyped-def]
    ids = seed(ka, people)
    context = chromium.new_context(locale="de-DE", java_script_enabled=False, viewport={"width": 1280, "height": 900})
    context.set_default_timeout(TIMEOUT_MS)
    try:
        page = context.new_page()
        login(page, live_server, "admin")
        # The menu needs no script to be followed: its entry is a plain link to the page.
        page.goto(f"{live_server}/kontakte/{ids['german']}")
        href = page.locator(".action-menu [role=menuitem]").first.get_attribute("href")
        assert href == f"/kommunikation/vorlage?contact_id={ids['german']}"
        page.goto(f"{live_server}{href}")
        assert_product_layout(page, "Vorlage auswählen für Petra Schneider")
        expect(page.get_by_role("dialog")).to_have_count(0)
        page.get_by_role("searchbox", name="Suche").fill("weihnacht")
        page.locator("form.template-search").get_by_role("button", name="Suchen").click()
        expect(page).to_have_url(re.compile(r"q=weihnacht"))
        page.get_by_role("button", name="OK").click()  # the only hit is preselected
        expect(page).to_have_url(re.compile(r"/dokumente/\d+/bearbeiten\?verwerfen=1$"))
        expect(page.get_by_label("An (E-Mail-Adresse)")).to_have_value("petra@harbour.example")
        expect(page.locator(".doc-plugin-notice")).to_have_count(0)  # German contact, German variant
    finally:
        context.close()


def test_escape_on_the_chooser_page_goes_back(ka, people, live_server, browser_page):  # type: ignore[no-untyped-def]
    page, base = browser_page, live_server
    ids = seed(ka, people)
    login(page, base, "admin")
    page.goto(f"{base}/kommunikation/vorlage?contact_id={ids['german']}")
    expect(page.get_by_role("searchbox", name="Suche")).to_be_focused()
    page.keyboard.press("Escape")
    expect(page).to_have_url(re.compile(rf"/kontakte/{ids['german']}$"))
    assert not page.problems, page.problems  # type: ignore[attr-defined]
