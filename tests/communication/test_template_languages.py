"""Language variants of templates: the contact's language picks one, a missing one falls back with a
notice on the draft; "Typ" as a choice; a template created from a company's page (issue 14)."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from kundenakte.core.doctypes import ValidationError
from kundenakte.core.documents import notices
from kundenakte.core.models import Document
from kundenakte.plugins.communication import templates_service as svc
from kundenakte.plugins.communication.models import CommTemplate
from tests.communication.test_templates import make_contacts, save
from tests.hardening.test_id_reuse import empty_db  # noqa: F401 - the fixture (SQLite and PostgreSQL)

EN = {"subject": "Information for {{ unternehmen.name }}",
      "body": "<p>please find the information about {{ unternehmen.name }} attached.</p>",
      "appendix": "<p>PS: Visit us at the fair.</p>"}


def test_english_contact_gets_the_english_variant(ka, people):  # type: ignore[no-untyped-def]
    ids = make_contacts(ka)
    tid = save(ka, people, variants={"en": EN})
    with ka.db.write() as s:
        english = svc.create_from_template(ka, s, people.viewer("owner"), tid, ids["english"]).id
        german = svc.create_from_template(ka, s, people.viewer("owner"), tid, ids["frau"]).id
    with ka.db.read() as s:
        doc = s.get(Document, english)
        assert doc.data["subject"] == "Information for Müller & Söhne GmbH"
        # The editor's line model (composition.py): a blank line between salutation and body.
        assert doc.content.startswith("<p>Dear Ms Doe,</p><p><br></p><p>please find the information about Müller &amp; Söhne")
        assert "Kind regards" in doc.content and "Mit freundlichen" not in doc.content and "anbei" not in doc.content
        assert doc.data["appendix"] == "<p>PS: Visit us at the fair.</p>"
        assert notices(doc) == []
        doc = s.get(Document, german)
        assert doc.data["subject"] == "Informationen für Frau Dr. Müller"
        assert "Sehr geehrte Frau Dr. Müller," in doc.content and "Mit freundlichen Grüßen" in doc.content
        assert "please" not in doc.content and notices(doc) == []


def test_missing_variant_falls_back_with_a_notice_on_the_draft(ka, people):  # type: ignore[no-untyped-def]
    ids = make_contacts(ka)
    # Written in English only: a German contact gets the English text, in English, and a notice.
    tid = save(ka, people, language="en", subject="", body="", appendix="", variants={"en": EN, "de": {}})
    with ka.db.read() as s:
        template = s.get(CommTemplate, tid)
        assert template.language == "en" and template.subject == EN["subject"] and template.variants == {}
        assert list(svc.template_variants(template)) == ["en"]
    with ka.db.write() as s:
        doc_id = svc.create_from_template(ka, s, people.viewer("owner"), tid, ids["herr"]).id
    with ka.db.read() as s:
        doc = s.get(Document, doc_id)
        assert "Dear Mr Schmidt," in doc.content and "please find" in doc.content
        assert notices(doc) == ["Keine deutsche Fassung der Vorlage „Produktinformationen“ vorhanden – "
                                "englische Fassung verwendet."]


def test_variants_are_validated_and_kept_per_language(ka, people):  # type: ignore[no-untyped-def]
    with pytest.raises(ValidationError) as exc:
        save(ka, people, variants={"en": {**EN, "subject": "Hello {{ kontakt.nachnme }}"}})
    assert set(exc.value.errors) == {"variants.en.subject"}
    assert exc.value.errors["variants.en.subject"].startswith("Betreff (Englisch): Zeile 1: Unbekannter Platzhalter")
    with pytest.raises(ValidationError) as exc:
        save(ka, people, language="fr")
    assert "language" in exc.value.errors
    tid = save(ka, people, variants={"en": {**EN, "body": "<p onclick='x()'>Hi</p><script>alert(1)</script>"}})
    with ka.db.read() as s:
        template = s.get(CommTemplate, tid)
        assert template.language == "de" and template.subject == "Informationen für {{ kontakt.anrede }}"
        assert template.variants["en"]["body"] == "<p>Hi</p>"
        assert [t.name for t in svc.search_templates(s, people.viewer("owner"), "hi")] == ["Produktinformationen"]


def test_existing_templates_become_the_german_variant(ka, people):  # type: ignore[no-untyped-def]
    # A row as c0004 finds it: only subject/body/appendix, no language, no variants.
    with ka.db.write() as s:
        s.add(CommTemplate(name="Alt", base_type="email", subject="Hallo", body="<p>Text</p>", readers=["*"],
                           created_by=people.users["owner"]))
    with ka.db.read() as s:
        template = s.scalar(select(CommTemplate).where(CommTemplate.name == "Alt"))
        assert template.language == "de" and template.variants == {}
        (variant,) = svc.template_variants(template).values()
        assert (variant.language, variant.subject, variant.body) == ("de", "Hallo", "<p>Text</p>")


def test_kind_is_a_choice_of_declared_types_and_old_free_text_stays_valid(ka, people):  # type: ignore[no-untyped-def]
    with ka.db.read() as s:
        choices = svc.kind_choices(ka, s)
        keys = [key for key, _label, _group in choices]
        assert keys.index("free_document") < keys.index("email") < keys.index("letter") < keys.index("task")
        assert dict((k, g) for k, _l, g in choices)["email"] == "Kommunikation"
    assert svc.kind_choice_for(ka, "EMail") == "email" and svc.kind_choice_for(ka, "Kurzbrief") == "short_letter"
    assert svc.kind_choice_for(ka, "Rundschreiben") == "Rundschreiben"
    tid = save(ka, people, kind="email")
    with pytest.raises(ValidationError) as exc:
        save(ka, people, kind="Rundschreiben")
    assert exc.value.errors == {"kind": "Bitte einen der angebotenen Typen wählen."}
    # A stored free-text value is kept when the template is saved unchanged.
    with ka.db.write() as s:
        s.get(CommTemplate, tid).kind = "Rundschreiben"
    with ka.db.write() as s:
        values = {"name": "Produktinformationen", "base_type": "email", "kind": "Rundschreiben", "readers": ["*"],
                  "body": "<p>x</p>"}
        assert svc.save_template(ka, s, people.viewer("owner"), values, template_id=tid).kind == "Rundschreiben"


def test_template_for_a_company_with_or_without_contact(ka, people):  # type: ignore[no-untyped-def]
    ids = make_contacts(ka)
    tid = save(ka, people, variants={"en": EN})
    with ka.db.write() as s:
        plain = svc.create_from_template(ka, s, people.viewer("owner"), tid, None, ids["company"]).id
        english = svc.create_from_template(ka, s, people.viewer("owner"), tid, ids["english"], ids["company"]).id
    with ka.db.read() as s:
        doc = s.get(Document, plain)
        assert doc.company_id == ids["company"] and doc.contact_id is None
        assert doc.content.startswith("<p>Sehr geehrte Damen und Herren,</p>") and not doc.data.get("to_email")
        assert doc.title == "Info-Mail Müller & Söhne GmbH"
        doc = s.get(Document, english)
        assert doc.company_id == ids["company"] and doc.contact_id == ids["english"] and "Dear Ms Doe," in doc.content
    with ka.db.write() as s:
        from kundenakte.core.models import Company

        other = Company(name="Andere GmbH")
        s.add(other)
        s.flush()
        with pytest.raises(ValidationError) as exc:
            svc.create_from_template(ka, s, people.viewer("owner"), tid, ids["frau"], other.id)
        assert exc.value.errors == {"contact_id": "Der Kontakt gehört nicht zu diesem Unternehmen."}


def test_migration_makes_existing_texts_the_german_variant(empty_db):  # type: ignore[no-untyped-def]
    from sqlalchemy import text

    from kundenakte.core import migrate

    ka = empty_db
    migrate.upgrade(ka, "c0003_template_ids")
    with ka.db.engine.begin() as conn:
        conn.execute(text(
            "INSERT INTO comm_templates (name, base_type, kind, display_title, sender_format, sender_mode, folders, "
            "doc_readers, doc_editors, subject, body, appendix, readers, editors, version, created_at, updated_at) "
            "VALUES ('Alt', 'email', 'EMail', '', 'name_address', 'current_user', '[]', '[]', '[]', 'Hallo', "
            "'<p>Text</p>', '<p>PS</p>', '[\"*\"]', '[]', 1, CURRENT_TIMESTAMP, CURRENT_TIMESTAMP)"))
    migrate.upgrade(ka)
    with ka.db.read() as s:
        template = s.scalar(select(CommTemplate).where(CommTemplate.name == "Alt"))
        assert (template.language, template.variants, template.kind) == ("de", {}, "EMail")
        choice = svc.variant_for(template, "en")
        assert (choice.variant.language, choice.variant.subject, choice.variant.appendix) == ("de", "Hallo", "<p>PS</p>")
        assert choice.notice.startswith("Keine englische Fassung der Vorlage „Alt“")
        assert svc.kind_choice_for(ka, template.kind) == "email"
        if ka.db.is_sqlite:  # the rebuild keeps c0003's AUTOINCREMENT
            sql = s.scalar(text("SELECT sql FROM sqlite_master WHERE type = 'table' AND name = 'comm_templates'"))
            assert "AUTOINCREMENT" in sql


def test_form_keeps_every_language_on_errors_and_saves_the_variants(app, ka, people):  # type: ignore[no-untyped-def]
    from tests.communication.test_views import login

    client = login(app, "owner")
    page = client.get("/einstellungen/kommunikation/neu").get_data(as_text=True)
    assert 'id="inhalt-de"' in page and 'id="inhalt-en"' in page and "Basismaske" in page and "Dokumenttyp" not in page
    kind_select = page[page.index('<select id="f-kind" name="kind"'):]
    kind_select = kind_select[:kind_select.index("</select>")]
    assert '<option value="email" selected>E-Mail</option>' in kind_select and ">Aufgabe</option>" in kind_select
    data = {"name": "Zweisprachig", "base_type": "email", "kind": "email", "language": "de", "sender_format": "name_address",
            "sender_mode": "current_user", "readers": "*", "variants.de.subject": "Hallo", "variants.de.body": "<p>Text</p>",
            "variants.en.subject": "Hello {{ kontakt.nachnme }}", "variants.en.body": "<p>Text in English</p>"}
    bad = client.post("/einstellungen/kommunikation/neu", data=data)
    assert bad.status_code == 400
    html = bad.get_data(as_text=True)
    assert "Betreff (Englisch): Zeile 1: Unbekannter Platzhalter {{ kontakt.nachnme }}" in html
    assert 'value="Hello {{ kontakt.nachnme }}"' in html and "&lt;p&gt;Text in English&lt;/p&gt;" in html
    assert 'value="Hallo"' in html
    data["variants.en.subject"] = "Hello {{ kontakt.nachname }}"
    assert client.post("/einstellungen/kommunikation/neu", data=data).status_code == 302
    with ka.db.write() as s:
        template = s.scalar(select(CommTemplate).where(CommTemplate.name == "Zweisprachig"))
        assert (template.subject, template.body) == ("Hallo", "<p>Text</p>")
        assert template.variants == {"en": {"subject": "Hello {{ kontakt.nachname }}", "body": "<p>Text in English</p>",
                                            "appendix": ""}}
        template.kind = "Rundschreiben"  # free text from before "Typ" was a choice
        tid = template.id
    form = client.get(f"/einstellungen/kommunikation/{tid}").get_data(as_text=True)
    assert '<option value="Rundschreiben" selected>Rundschreiben (bisheriger Wert)</option>' in form
    listing = client.get("/einstellungen/kommunikation").get_data(as_text=True)
    assert "/einstellungen/kommunikation/neu" in listing and 'aria-haspopup="menu"' in listing and ">DE</span>" in listing
    assert ">EN</span>" in listing


def test_chooser_for_a_company_offers_its_contacts(app, ka, people):  # type: ignore[no-untyped-def]
    from tests.communication.test_views import login

    ids = make_contacts(ka)
    tid = save(ka, people, variants={"en": EN})
    client = login(app, "owner")
    company_page = client.get(f"/unternehmen/{ids['company']}").get_data(as_text=True)
    assert f'href="/kommunikation/vorlage?company_id={ids["company"]}" data-dialog' in company_page
    page = client.get(f"/kommunikation/vorlage?company_id={ids['company']}").get_data(as_text=True)
    assert "Vorlage auswählen für Müller &amp; Söhne GmbH" in page and "data-dialog-content" in page
    assert '<option value="">– kein Kontakt: an das Unternehmen –</option>' in page
    assert f'<option value="{ids["english"]}">Jane Doe (Englisch)</option>' in page
    created = client.post("/kommunikation/vorlage", data={"company_id": ids["company"], "contact_id": ids["english"],
                                                          "template_id": tid})
    assert created.status_code == 302
    doc_id = int(created.headers["Location"].split("/")[2])
    with ka.db.read() as s:
        doc = s.get(Document, doc_id)
        assert (doc.company_id, doc.contact_id, doc.data["subject"]) == (ids["company"], ids["english"],
                                                                         "Information for Müller & Söhne GmbH")
    assert client.get("/kommunikation/vorlage?company_id=999999").status_code == 404
