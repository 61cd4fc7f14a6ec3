"""The seed's flow continued in a real browser: the customer replies to the mail sent from a template.

A mail is sent from a template (service level, as test_templates_workflow does in the browser);
the customer's reply (In-Reply-To its Message-ID) lands in the Ablage mailbox of a real Dovecot. As
admin: Einstellungen → Kommunikation – Postfächer → Neu → Jetzt abrufen. The reply then appears in
the contact's and the company's Kommunikation section as empfangen, and its thread shows the sent
mail (ausgehend) with the reply (eingehend).
"""

from __future__ import annotations

import re
import shutil
import subprocess
from collections.abc import Iterator
from typing import Any

import pytest
from playwright.sync_api import expect

from kundenakte.core import services
from kundenakte.plugins.communication import templates_service as svc
from kundenakte.plugins.communication.outbox import deliver_queued, queue_email
from tests.browser.conftest import login, shot
from tests.inbound import messages
from tests.inbound.conftest import Dovecot, start_dovecot

pytestmark = [pytest.mark.browser, pytest.mark.sqlite_only, pytest.mark.timeout(180)]


@pytest.fixture
def dovecot() -> Iterator[Dovecot]:
    server, proc, root = start_dovecot({"ablage": "ablage-pw"})
    yield server
    proc.terminate()
    try:
        proc.wait(10)
    except subprocess.TimeoutExpired:
        proc.kill()
    shutil.rmtree(root, ignore_errors=True)


def test_reply_to_a_template_mail_appears_as_incoming(ka: Any, people: Any, live_server: str, browser_page: Any,
                                                      dovecot: Dovecot) -> None:
    admin = people.viewer("admin")
    with ka.db.write() as s:
        company = services.create_company(s, {"name": "DOCHOUSE GmbH", "city": "Ravensburg"}, by=None)
        contact = services.create_contact(s, {"gender": "female", "title": "Dr.", "first_name": "Maria", "last_name": "Schäfer",
                                              "company_id": company.id, "email": "maria.schaefer@dochouse.example"}, by=None)
        ids = {"company": company.id, "contact": contact.id}
        template = svc.save_template(ka, s, admin, {"name": "Informationsmaterial", "base_type": "email", "readers": ["*"],
                                                    "subject": "Informationen zu {{ unternehmen.name }}",
                                                    "body": "<p>anbei die Informationen.</p>"})
        sent = svc.create_from_template(ka, s, admin, template.id, contact.id)
        sent_id = sent.id
    with ka.db.write() as s:
        message_id = queue_email(ka, s, admin, sent_id).message_id
    deliver_queued(ka)
    dovecot.append(messages.plain(subject="AW: Informationen zu DOCHOUSE GmbH",
                                  sender="Dr. Maria Schäfer <maria.schaefer@dochouse.example>",
                                  to="admin@example.org", body="Vielen Dank, bitte rufen Sie mich an.",
                                  in_reply_to=message_id))

    page, base = browser_page, live_server
    login(page, base, "admin")
    page.goto(f"{base}/einstellungen/kommunikation/postfaecher")
    page.get_by_role("link", name="Neu → Postfach").click()
    page.get_by_label("Bezeichnung", exact=True).fill("Ablage")
    page.get_by_label("E-Mail-Adresse des Postfachs").fill("ablage@example.org")
    page.get_by_label("IMAP-Server").fill(dovecot.host)
    page.get_by_label("Port", exact=True).fill(str(dovecot.port))
    page.get_by_label("Verschlüsselung").select_option("plain")
    page.get_by_label("Benutzername", exact=True).fill("ablage")
    page.get_by_label("Passwort", exact=True).fill("ablage-pw")
    page.get_by_role("button", name="Speichern").click()
    expect(page.get_by_text("Postfach gespeichert.")).to_be_visible()
    page.get_by_role("button", name="Jetzt abrufen").click()
    expect(page.get_by_text(re.compile(r"Abgerufen: 1 importiert"))).to_be_visible()
    shot(page, "inbound-01-abgerufen")

    for url in (f"/kontakte/{ids['contact']}/uebersicht", f"/unternehmen/{ids['company']}/uebersicht"):
        page.goto(base + url)
        comm = page.locator("#section-communication")
        row = comm.locator("tbody tr", has_text="AW: Informationen zu DOCHOUSE GmbH")
        expect(row).to_have_count(1)
        expect(row.locator(".badge")).to_have_text("empfangen")
    row.get_by_role("link", name="AW: Informationen zu DOCHOUSE GmbH").click()
    expect(page.locator("section#inhalt")).to_contain_text("bitte rufen Sie mich an")
    page.locator("details.doc-menu summary").click()
    page.get_by_role("menuitem", name="Verlauf").click()
    items = page.locator("ol.thread li")
    expect(items).to_have_count(2)
    expect(items.nth(0)).to_contain_text("ausgehend")
    expect(items.nth(0)).to_contain_text("Informationen zu DOCHOUSE GmbH")
    expect(items.nth(1)).to_contain_text("eingehend")
    expect(items.nth(1)).to_contain_text("AW: Informationen zu DOCHOUSE GmbH")
    shot(page, "inbound-02-verlauf")
    assert not page.problems, page.problems  # type: ignore[attr-defined]
