"""The whole chain in a real browser (Debian Chromium): Angebot with lines → AB → Lieferschein → Rechnung,
Abschließen, and the stored PDF checked (text with pypdf, page 1 rendered to PNG with pdftoppm)."""

from __future__ import annotations

import shutil
import subprocess
from typing import Any

import facturx
import pytest
from sqlalchemy import select

from kundenakte.core.models import Attachment, Document
from kundenakte.plugins.sales import einvoice
from kundenakte.plugins.sales.service import load_lines
from tests.browser.conftest import SCREENSHOTS, browser_page, login, shot  # noqa: F401 - fixture
from tests.sales.helpers import attachment_bytes, customer, pdf_text

pytestmark = [pytest.mark.browser, pytest.mark.timeout(240)]


def _fill_row(row: Any, article: str, description: str, quantity: str, unit: str, price: str, vat: str, discount: str = "") -> None:
    row.locator("input[name=article]").fill(article)
    row.locator("input[name=description]").fill(description)
    row.locator("input[name=quantity]").fill(quantity)
    row.locator("input[name=unit]").fill(unit)
    row.locator("input[name=unit_price]").fill(price)
    row.locator("input[name=discount_percent]").fill(discount)
    row.locator("select[name=vat_rate]").select_option(vat)


def _followup(page: Any, label: str) -> None:
    page.get_by_role("button", name="Weitere Aktionen").click()
    page.get_by_role("menuitem", name=label).click()
    page.wait_for_load_state("networkidle")


def test_quote_to_invoice_in_the_browser_and_the_stored_pdf(ka, people, live_server, browser_page):  # noqa: F811
    from playwright.sync_api import expect

    page = browser_page
    company_id, contact_id = customer(ka)
    login(page, live_server, "owner")
    page.goto(f"{live_server}/dokumente/neu/quote?contact_id={contact_id}")
    page.get_by_label("Titel").fill("Einführung Kundenakte")
    rows = page.locator("fieldset#positionen tr.sales-line")
    _fill_row(rows.nth(0), "KA-LIZ", "Lizenz Kundenakte", "5", "Stk", "240,00", "19")
    page.get_by_role("button", name="+ Position hinzufügen").click()
    _fill_row(rows.nth(1), "KA-SCH", "Schulung vor Ort", "1,5", "Tag", "980", "19", "10")
    page.get_by_role("button", name="+ Position hinzufügen").click()
    _fill_row(rows.nth(2), "BUCH", "Handbuch gedruckt", "3", "Stk", "24,90", "7")
    # live totals (before saving): 1.200,00 + 1.323,00 at 19 %, 74,70 at 7 %
    totals = page.locator("fieldset#positionen table.sales-totals")
    assert not page.problems, page.problems  # type: ignore[attr-defined]
    expect(totals.locator(".total-net")).to_have_text("2.597,70 €")
    expect(totals).to_contain_text("479,37 €")
    expect(totals.locator(".total-gross")).to_have_text("3.082,30 €")
    # reorder: the handbook up one row, then back down, with the keyboard-free buttons
    rows.nth(2).locator(".line-up").click()
    expect(rows.nth(1).locator("input[name=article]")).to_have_value("BUCH")
    rows.nth(1).locator(".line-down").click()
    expect(rows.nth(2).locator("input[name=article]")).to_have_value("BUCH")
    shot(page, "sales-quote-form")
    page.get_by_role("button", name="Speichern").first.click()
    expect(page.get_by_text("Dokument angelegt.")).to_be_visible()
    expect(page.locator("section#positionen")).to_contain_text("3.082,30 €")

    for label in ("Folgebeleg: Auftragsbestätigung", "Folgebeleg: Lieferschein", "Folgebeleg: Rechnung"):
        _followup(page, label)
        expect(page.get_by_text("Folgebeleg angelegt.")).to_be_visible()
    expect(page.locator(".doc-type")).to_have_text("Rechnung")
    expect(page.locator("section#positionen")).to_contain_text("Handbuch gedruckt")
    page.on("dialog", lambda dialog: dialog.accept())
    page.locator("form.sales-finalise").get_by_role("button", name="Abschließen").click()
    expect(page.get_by_text("Beleg abgeschlossen")).to_be_visible()
    expect(page.locator(".doc-notice").first).to_contain_text("abgeschlossen")
    shot(page, "sales-invoice-finalised")
    assert not [p for p in page.problems if "favicon" not in p], page.problems  # type: ignore[attr-defined]

    with ka.db.read() as s:
        invoice = s.scalars(select(Document).where(Document.type_key == "invoice")).one()
        assert [i.article for i in load_lines(s, invoice.id)] == ["KA-LIZ", "KA-SCH", "BUCH"]
        chain = [invoice.type_key]
        parent = invoice
        while parent.parent_id is not None:
            parent = s.get(Document, parent.parent_id)
            chain.append(parent.type_key)
        assert chain == ["invoice", "delivery_note", "order_confirmation", "quote"]
        att = s.scalars(select(Attachment).where(Attachment.document_id == invoice.id)).one()
        data = attachment_bytes(ka, att)
        number = invoice.data["number"]
    text = " ".join(pdf_text(data).split())
    for expected in ("DOCHOUSE GmbH", "Jana Berger", "Lindenstraße 17", "88212 Ravensburg", number,
                     "Lizenz Kundenakte", "Schulung vor Ort", "Handbuch gedruckt", "1.200,00 €", "1.323,00 €", "74,70 €",
                     "Summe netto 2.597,70 €", "Netto 19 % 2.523,00 €", "USt. 19 % 479,37 €", "Netto 7 % 74,70 €",
                     "USt. 7 % 5,23 €", "Gesamtbetrag 3.082,30 €",
                     "Muster Software GmbH", "Amtsgericht München HRB 654321", "Geschäftsführung: Erika Mustermann",
                     "USt-IdNr.: DE123456789", "IBAN: DE02701500000000123456", "BIC: SSKMDEMMXXX"):
        assert expected in text, expected
    name, xml = facturx.get_xml_from_pdf(data, check_xsd=True)
    assert name == "factur-x.xml" and einvoice.parse_cii(xml).gross == invoice.amount
    # page 1 as PNG, kept beside the browser screenshots
    pdftoppm = shutil.which("pdftoppm")
    assert pdftoppm, "pdftoppm missing: apt-get install poppler-utils (make test installs it)"
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    pdf_path = SCREENSHOTS / "sales-invoice.pdf"
    pdf_path.write_bytes(data)
    stem = SCREENSHOTS / "sales-invoice-page"
    subprocess.run([pdftoppm, "-png", "-r", "80", "-f", "1", "-l", "1", "-singlefile", str(pdf_path), str(stem)], check=True)
    png = stem.with_suffix(".png")
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and png.stat().st_size > 10_000
