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
        assert doc.content.startswith("<p>Dear Ms Doe,</p><p>please find the information about Müller &amp; Söhne")
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
