"""The communication document types, menu entries and overview section."""

from __future__ import annotations

import pytest

from kundenakte.core.doctypes import ValidationError, validate_data
from kundenakte.core.models import Company, Contact
from kundenakte.plugins.communication import (
    company_actions,
    contact_actions,
    document_actions,
    register_categories,
    register_overview_sections,
    settings_links,
)
from kundenakte.plugins.communication.types import COMM_KEYS

EXPECTED = {
    "free_document": "Freies Dokument", "email": "E-Mail", "letter": "Brief", "short_letter": "Kurzbrief",
    "visit_report": "Besuchsbericht", "contact_report": "Kontaktbericht", "phone_note": "Telefonnotiz",
}


def test_types_registered(ka):  # type: ignore[no-untyped-def]
    for key, label in EXPECTED.items():
        doctype = ka.types.get(key)
        assert doctype is not None and doctype.label == label
        assert doctype.category == "communication"
        assert doctype.plugin == "communication"
    email = ka.types.get("email")
    assert [s.value for s in email.statuses] == ["draft", "queued", "sent", "filed", "failed", "uncertain", "received"]
    assert email.status("received").closed and email.status("received").label == "empfangen"  # inbound mail
    assert all(email.field(n).computed for n in ("direction", "from_email", "cc"))
    assert email.status("sent").closed and email.status("sent").label == "versendet"
    assert email.field("subject").searchable
    assert email.field("appendix").kind == "richtext" and email.field("appendix").label == "Anhänge"
    assert all(email.field(n).computed for n in ("sent_at", "message_id", "delivery_status"))


def test_validation(ka):  # type: ignore[no-untyped-def]
    phone = ka.types.get("phone_note")
    assert validate_data(phone, {"direction": "in", "number": "+49 89 1", "duration_minutes": "12"}) == {
        "direction": "in", "number": "+49 89 1", "duration_minutes": 12}
    with pytest.raises(ValidationError) as exc:
        validate_data(phone, {"direction": "sideways"})
    assert "direction" in exc.value.errors
    email = ka.types.get("email")
    cleaned = validate_data(email, {"to_email": "a@example.org", "subject": "Hallo"})
    assert "sent_at" not in cleaned  # computed, never taken from input
    visit = ka.types.get("visit_report")
    assert validate_data(visit, {"visit_date": "27.11.2026"})["visit_date"] == "2026-11-27"
    report = ka.types.get("contact_report")
    assert validate_data(report, {"contact_kind": "phone", "summary": "ok"})["contact_kind"] == "phone"


def test_menus_and_overview(app) -> None:  # type: ignore[no-untyped-def]
    from kundenakte.web.menus import menu_url

    contact = Contact(id=7, last_name="Muster")
    items = contact_actions(contact=contact, viewer=None)
    comm = [i for i in items if i.group == "communication"]
    assert {i.type_key for i in comm if i.type_key} == set(COMM_KEYS)
    chooser = [i for i in comm if i.label == "Vorlage auswählen …"]
    upload = [i for i in items if i.endpoint == "communication_inbound.upload"]  # inbound mail: file .eml/.msg
    assert [dict(i.values) for i in upload] == [{"contact_id": 7}]
    assert (chooser[0].endpoint, dict(chooser[0].values)) == ("communication.choose_template", {"contact_id": 7})
    # The first entry of the first group (issue 14: it was item 19 of 20), opened as a dialog.
    assert chooser[0].order < min(i.order for i in comm if i.type_key) and chooser[0].dialog
    for_company, company_upload = company_actions(company=Company(id=3, name="X"), viewer=None)
    assert (for_company.endpoint, dict(for_company.values), for_company.group) == (
        "communication.choose_template", {"company_id": 3}, "communication")
    assert (company_upload.endpoint, dict(company_upload.values)) == ("communication_inbound.upload", {"company_id": 3})
    assert {c.key: c.label for c in register_categories()} == {"communication": "Kommunikation"}
    (section,) = register_overview_sections()
    assert section.key == "communication" and section.order == 10 and set(section.type_keys) == set(COMM_KEYS)
    assert [f.label for f in section.filters] == ["alle", "Entwürfe", "versendet", "als Datei abgelegt"]

    class Doc:
        id, type_key, status = 5, "email", "draft"

    with app.test_request_context("/"):
        assert menu_url(chooser[0]) == "/kommunikation/vorlage?contact_id=7"
        assert menu_url(settings_links(viewer=None)[0]) == "/einstellungen/kommunikation"
        assert menu_url(document_actions(document=Doc, viewer=None, can_edit=True)[0]) == "/kommunikation/5/senden"
    assert document_actions(document=Doc, viewer=None, can_edit=False) == []
