"""Vorlagen: validation, visibility, search and creating documents from a template."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from kundenakte.core.doctypes import ValidationError
from kundenakte.core.documents import DocumentInput, NotFound, notices, proposed_access, update_document
from kundenakte.core.models import Attachment, Company, Contact, Document, User
from kundenakte.plugins.communication import templates_service as svc

BODY = "<p>anbei die gewünschten Informationen zu {{ unternehmen.name }}.</p>"
NO_ENGLISH = "Keine englische Fassung der Vorlage „Produktinformationen“ vorhanden – deutsche Fassung verwendet."


def make_contacts(ka) -> dict[str, int]:  # type: ignore[no-untyped-def]
    with ka.db.write() as s:
        company = Company(name="Müller & Söhne GmbH", street="Hauptstraße 1", postal_code="80331", city="München")
        s.add(company)
        s.flush()
        contacts = {
            "frau": Contact(gender="female", title="Dr.", first_name="Anna", last_name="Müller", company_id=company.id,
                            email="anna.mueller@example.de"),
            "herr": Contact(gender="male", first_name="Bernd", last_name="Schmidt", company_id=company.id,
                            email="bernd@example.de"),
            "divers": Contact(gender="diverse", first_name="Alex", last_name="Berger", company_id=company.id,
                              email="alex@example.de"),
            "english": Contact(gender="female", first_name="Jane", last_name="Doe", language="en", company_id=company.id,
                               email="jane@example.com"),
        }
        s.add_all(contacts.values())
        s.flush()
        return {k: c.id for k, c in contacts.items()} | {"company": company.id}


def save(ka, people, login: str = "owner", **values: Any):  # type: ignore[no-untyped-def]
    base = {"name": "Produktinformationen", "base_type": "email", "subject": "Informationen für {{ kontakt.anrede }}",
            "body": BODY, "appendix": "<p>PS: Besuchen Sie uns auf der Messe.</p>", "readers": ["*"],
            "display_title": "Info-Mail {{ unternehmen.name }}", "retention_days": "720"}
    base.update(values)
    with ka.db.write() as s:
        return svc.save_template(ka, s, people.viewer(login), base).id


def test_misspelled_placeholder_reported(ka, people):  # type: ignore[no-untyped-def]
    with pytest.raises(ValidationError) as exc:
        save(ka, people, subject="Hallo {{ kontakt.nachnme }}", body="<p>{{ absender.nme }}</p>")
    assert "Unbekannter Platzhalter {{ kontakt.nachnme }}" in exc.value.errors["subject"]
    assert exc.value.errors["subject"].startswith("Betreff:")
    assert "absender.nme" in exc.value.errors["body"]
    with pytest.raises(ValidationError) as exc:
        save(ka, people, name="", body="{% include 'x' %}")
    assert set(exc.value.errors) == {"name", "body"}


def test_body_sanitised_after_validation(ka, people):  # type: ignore[no-untyped-def]
    tid = save(ka, people, body="<p onclick='x()'>Hallo {{ kontakt.nachname }}</p><script>alert(1)</script>")
    with ka.db.read() as s:
        body = s.get(svc.CommTemplate, tid).body
    assert "script" not in body and "onclick" not in body and "{{ kontakt.nachname }}" in body


def test_visibility_and_search(ka, people):  # type: ignore[no-untyped-def]
    group = people.groups["Vertrieb"]
    save(ka, people, name="Informationen A")
    save(ka, people, name="Preisliste", subject="Preise", body="<p>Unsere INFORMATIONEN zur Preisliste</p>")
    restricted = save(ka, people, name="Vertriebsinterna", subject="Intern", body="<p>Informationen intern</p>",
                      readers=[f"g:{group}"])
    save(ka, people, name="Weihnachtsgruß", subject="Frohe Feste", body="<p>Alles Gute</p>")
    with ka.db.read() as s:
        outsider = [t.name for t in svc.search_templates(s, people.viewer("outsider"), "informationen")]
        nested = [t.name for t in svc.search_templates(s, people.viewer("nested"), "informationen")]
        owner = [t.name for t in svc.search_templates(s, people.viewer("owner"), "Informationen")]
        assert "Vertriebsinterna" not in outsider and len(outsider) == 2
        assert "Vertriebsinterna" in nested and len(nested) == 3
        assert len(owner) == 3
        assert [t.name for t in svc.search_templates(s, people.viewer("outsider"), "weihnachtsgruss")] == ["Weihnachtsgruß"]
        assert svc.visible_templates(s, people.viewer("nobody")) == []
        with pytest.raises(NotFound):
            svc.get_visible(s, people.viewer("outsider"), restricted)
    with ka.db.write() as s, pytest.raises(NotFound):
        svc.create_from_template(ka, s, people.viewer("outsider"), restricted, None)


@pytest.mark.parametrize(
    ("who", "salutation", "close"),
    [
        ("frau", "Sehr geehrte Frau Dr. Müller,", "Mit freundlichen Grüßen"),
        ("herr", "Sehr geehrter Herr Schmidt,", "Mit freundlichen Grüßen"),
        ("divers", "Guten Tag Alex Berger,", "Mit freundlichen Grüßen"),
        # A German-only template: the English contact gets it framed in German too (never a mixed-
        # language mail), and the draft says so (test_language_variants has the English variant).
        ("english", "Sehr geehrte Frau Doe,", "Mit freundlichen Grüßen"),
        (None, "Sehr geehrte Damen und Herren,", "Mit freundlichen Grüßen"),
    ],
)
def test_create_from_template(ka, people, shared_pdf: Path, who, salutation, close):  # type: ignore[no-untyped-def]
    ids = make_contacts(ka)
    with ka.db.write() as s:
        user = s.get(User, people.users["owner"])
        user.signature = "Owner\nVertrieb\nTel. 089 1"
    tid = save(ka, people, folders=[people.folders["DOCHOUSE 4"], "Schriftverkehr"],
               doc_readers=[f"g:{people.groups['Vertrieb']}"], doc_editors=[f"u:{people.users['editor']}"])
    pdf = (shared_pdf / "example.pdf").read_bytes()
    with ka.db.write() as s:
        template = s.get(svc.CommTemplate, tid)
        svc.add_template_file(ka, s, people.viewer("owner"), template, (shared_pdf / "example.pdf").open("rb"), "Prospekt.pdf")
    contact_id = ids[who] if who else None
    with ka.db.write() as s:
        doc_id = svc.create_from_template(ka, s, people.viewer("owner"), tid, contact_id).id
    with ka.db.read() as s:
        doc = s.get(Document, doc_id)
        assert doc.type_key == "email" and doc.status == "draft"
        assert doc.contact_id == contact_id
        assert doc.company_id == (ids["company"] if who else None)
        assert doc.title == ("Info-Mail Müller & Söhne GmbH" if who else "Info-Mail")
        assert salutation in doc.content
        assert close in doc.content
        assert "Informationen zu" in doc.content and "<p>Owner</p><p>Vertrieb</p><p>Tel. 089 1</p>" in doc.content and doc.content.count("Owner") == 1
        assert doc.data["appendix"] == "<p>PS: Besuchen Sie uns auf der Messe.</p>"
        assert notices(doc) == ([NO_ENGLISH] if who == "english" else [])
        if who == "frau":
            assert doc.data["subject"] == "Informationen für Frau Dr. Müller"
            assert doc.data["to_email"] == "anna.mueller@example.de" and doc.data["to_name"] == "Dr. Anna Müller"
            assert "Müller &amp; Söhne GmbH" in doc.content
        assert sorted(f.name for f in doc.folders) == ["DOCHOUSE 4", "Schriftverkehr"]
        assert doc.retention_days == 720 and doc.archive_due is not None
        # The template's readers/editors are proposed to the creating user, not granted behind
        # their back: the draft is theirs alone until they save its Zugriff section.
        assert doc.acl == []
        assert proposed_access(doc) == {"source": "Vorlage „Produktinformationen“",
                                        "readers": [f"g:{people.groups['Vertrieb']}"],
                                        "editors": [f"u:{people.users['editor']}"]}
        (att,) = s.query(Attachment).filter_by(document_id=doc_id).all()
        assert att.filename == "Prospekt.pdf" and att.mime_type == "application/pdf"
        with ka.storage.open(att.sha256) as fh:
            assert fh.read() == pdf
    # Saving the draft with the proposal (as the prefilled form does) grants it and drops it.
    with ka.db.write() as s:
        update_document(ka, s, people.viewer("owner"), doc_id, DocumentInput(
            readers=[f"g:{people.groups['Vertrieb']}"], editors=[f"u:{people.users['editor']}"],
            given={"readers", "editors"}), expected_version=None)
    with ka.db.read() as s:
        doc = s.get(Document, doc_id)
        assert {(a.principal, a.role) for a in doc.acl} == {
            (f"g:{people.groups['Vertrieb']}", "read"), (f"u:{people.users['editor']}", "edit")}
        assert proposed_access(doc) is None


def test_template_files_are_attached_through_the_core_with_audit_entries(ka, people, shared_pdf: Path):  # type: ignore[no-untyped-def]
    """Each template file becomes an attachment via core.attachments (its own audit entry); the new
    draft's version is that of a draft without files, and it is announced once, as created."""
    import io

    from sqlalchemy import select

    from kundenakte.core.models import AuditEntry
    from kundenakte.core.unit_of_work import unit_of

    plain = save(ka, people, name="Ohne Dateien")
    tid = save(ka, people)
    with ka.db.write() as s:
        template = s.get(svc.CommTemplate, tid)
        svc.add_template_file(ka, s, people.viewer("owner"), template, (shared_pdf / "example.pdf").open("rb"), "Prospekt.pdf")
        svc.add_template_file(ka, s, people.viewer("owner"), template, io.BytesIO(b"Preisliste 2026\n"), "Preise.txt")
    with ka.db.write() as s:
        plain_id = svc.create_from_template(ka, s, people.viewer("owner"), plain, None).id
    with ka.db.write() as s:
        draft = svc.create_from_template(ka, s, people.viewer("owner"), tid, None)
        doc_id = draft.id
        assert [a.filename for a in draft.attachments] == ["Prospekt.pdf", "Preise.txt"]  # each listed once
        saved = [kw for hook, kw in unit_of(s).events if hook == "document_saved" and kw["document_id"] == doc_id]
        assert saved == [{"document_id": doc_id, "created": True, "user_id": people.users["owner"]}]
    with ka.db.read() as s:
        doc, plain_doc = s.get(Document, doc_id), s.get(Document, plain_id)
        atts = s.scalars(select(Attachment).where(Attachment.document_id == doc_id).order_by(Attachment.id)).all()
        assert [(a.filename, a.mime_type) for a in atts] == [("Prospekt.pdf", "application/pdf"), ("Preise.txt", "text/plain")]
        entries = s.scalars(select(AuditEntry).where(AuditEntry.object_type == "document", AuditEntry.object_id == doc_id,
                                                     AuditEntry.action == "attachment_added").order_by(AuditEntry.id)).all()
        assert [(e.user_id, e.details["attachment_id"], e.details["filename"], e.details["sha256"]) for e in entries] == [
            (people.users["owner"], a.id, a.filename, a.sha256) for a in atts]
        assert doc.version == plain_doc.version  # no bump per file on a brand-new draft
    # Adding a file to the existing draft afterwards still bumps its version (the touch stays for that).
    with ka.db.write() as s:
        from kundenakte.core.attachments import add_attachment

        before = s.get(Document, doc_id).version
        add_attachment(ka, s, people.viewer("owner"), s.get(Document, doc_id), io.BytesIO(b"noch eine"), "Nachtrag.txt")
    with ka.db.read() as s:
        assert s.get(Document, doc_id).version == before + 1


def test_fixed_sender(ka, people):  # type: ignore[no-untyped-def]
    ids = make_contacts(ka)
    tid = save(ka, people, sender_mode="fixed", sender_user_id=str(people.users["editor"]),
               body="<p>{{ absender.name }}</p>")
    with ka.db.write() as s:
        doc = svc.create_from_template(ka, s, people.viewer("owner"), tid, ids["herr"])
        assert "<p>Editor</p>" in doc.content
        assert doc.author_id == people.users["owner"]
    with pytest.raises(ValidationError) as exc:
        save(ka, people, sender_mode="fixed")
    assert "sender_user_id" in exc.value.errors


def test_deleting_document_keeps_template_blob(ka, people, shared_pdf: Path):  # type: ignore[no-untyped-def]
    from kundenakte.core.documents import delete_document

    tid = save(ka, people)
    with ka.db.write() as s:
        row = svc.add_template_file(ka, s, people.viewer("owner"), s.get(svc.CommTemplate, tid),
                                    (shared_pdf / "example.pdf").open("rb"), "Prospekt.pdf")
        sha = row.sha256
    with ka.db.write() as s:
        doc_id = svc.create_from_template(ka, s, people.viewer("owner"), tid, None).id
    with ka.db.write() as s:
        delete_document(ka, s, people.viewer("owner"), doc_id)
    assert ka.storage.exists(sha)
