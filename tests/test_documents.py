"""The document service: validation, permission before write, optimistic locking, audit, events."""

import threading

import pytest
from sqlalchemy import func, select

from kundenakte.core import audit
from kundenakte.core.documents import (
    Conflict, DocumentInput, Forbidden, NotFound, ReadOnly, create_document, delete_document, update_document,
)
from kundenakte.core.doctypes import ValidationError
from kundenakte.core.models import AuditEntry, Company, Contact, Document, IndexQueue


def _create(ka, people, **kw):
    values = {"title": "Angebot", "data": {"subject": "Angebot"}, "readers": ["*"]}
    values.update(kw)
    with ka.db.write() as s:
        return create_document(ka, s, people.viewer("owner"), "testnote", DocumentInput(**values)).id


def test_create_sets_defaults_company_from_contact_and_sanitises(ka, people):
    with ka.db.write() as s:
        company = Company(name="DOCHOUSE GmbH", city="Ravensburg")
        s.add(company)
        s.flush()
        contact = Contact(last_name="Vogel", first_name="Katrin", company=company)
        s.add(contact)
        s.flush()
        contact_id, company_id = contact.id, company.id
    doc_id = _create(ka, people, contact_id=contact_id, content='<p onclick="x()">Hallo<script>alert(1)</script></p>',
                     folder_ids=[people.folders["DOCHOUSE 4"], people.folders["Schriftverkehr"]])
    with ka.db.read() as s:
        doc = s.get(Document, doc_id)
        assert doc.company_id == company_id
        assert doc.content == "<p>Hallo</p>"
        assert doc.retention_days == 720 and doc.archive_due is not None
        assert doc.status == "open" and doc.version == 1
        assert sorted(f.name for f in doc.folders) == ["DOCHOUSE 4", "Schriftverkehr"]
        assert doc.responsible_id == people.users["owner"]
        assert [e.action for e in audit.history(s, "document", doc_id)] == ["created"]
        assert s.scalar(select(func.count()).select_from(IndexQueue).where(IndexQueue.object_key == f"doc:{doc_id}")) == 1


def test_all_errors_at_once_and_nothing_written(ka, people):
    with ka.db.write() as s:
        with pytest.raises(ValidationError) as info:
            create_document(ka, s, people.viewer("owner"), "testnote", DocumentInput(
                title="", company_id=999, document_date="gestern", status="weird", readers=["x:1"],
                data={"subject": "", "price": "abc"}, folder_ids=[999]))
        s.rollback()
    assert set(info.value.errors) == {"title", "company_id", "document_date", "status", "readers", "data.subject",
                                      "data.price", "folder_ids"}
    with ka.db.read() as s:
        assert s.scalar(select(func.count()).select_from(Document)) == 0


def test_stale_version_is_a_conflict_and_changes_nothing(ka, people):
    doc_id = _create(ka, people)
    with ka.db.write() as s:
        update_document(ka, s, people.viewer("owner"), doc_id, DocumentInput.from_mapping({"title": "Erste"}), expected_version=1)
    with ka.db.write() as s, pytest.raises(Conflict) as info:
        update_document(ka, s, people.viewer("owner"), doc_id, DocumentInput.from_mapping({"title": "Zweite"}), expected_version=1)
    assert info.value.current_version == 2
    with ka.db.read() as s:
        assert s.get(Document, doc_id).title == "Erste"


def test_two_racing_writers_never_both_win(ka, people):
    doc_id = _create(ka, people)
    results: list[str] = []
    barrier = threading.Barrier(2)

    def write(title):
        try:
            barrier.wait()
            with ka.db.write() as s:
                update_document(ka, s, people.viewer("owner"), doc_id, DocumentInput.from_mapping({"title": title}), expected_version=1)
            results.append("ok")
        except Conflict:
            results.append("conflict")

    threads = [threading.Thread(target=write, args=(t,)) for t in ("A", "B")]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(results) == ["conflict", "ok"]
    with ka.db.read() as s:
        assert s.get(Document, doc_id).version == 2


def test_denied_writes_change_nothing(ka, people):
    doc_id = _create(ka, people, readers=[f"u:{people.users['reader']}"])
    with ka.db.write() as s, pytest.raises(Forbidden):
        update_document(ka, s, people.viewer("reader"), doc_id, DocumentInput.from_mapping({"title": "x"}), expected_version=None)
    for login in ("outsider", "nobody"):
        with ka.db.write() as s, pytest.raises(NotFound):
            update_document(ka, s, people.viewer(login), doc_id, DocumentInput.from_mapping({"title": "x"}), expected_version=None)
        with ka.db.write() as s, pytest.raises(NotFound):
            delete_document(ka, s, people.viewer(login), doc_id)
    with ka.db.read() as s:
        assert s.get(Document, doc_id).title == "Angebot"
        assert s.scalar(select(func.count()).select_from(AuditEntry).where(AuditEntry.object_type == "document", AuditEntry.action != "created")) == 0


def test_events_fire_after_commit_only(ka, people):
    seen: list[tuple] = []
    from kundenakte.core.plugins import PluginHost

    class Listener:
        @staticmethod
        def document_saved(document_id, created):
            seen.append(("saved", document_id, created))

    from kundenakte import hookimpl

    Listener.document_saved = staticmethod(hookimpl(Listener.document_saved))
    ka.plugins.pm.register(Listener, name="listener")
    assert isinstance(ka.plugins, PluginHost)
    with ka.db.write() as s:
        create_document(ka, s, people.viewer("owner"), "testnote", DocumentInput(title="a", data={"subject": "a"}))
        assert seen == []  # not before the commit
    assert len(seen) == 1 and seen[0][2] is True
    with pytest.raises(RuntimeError):
        with ka.db.write() as s:
            create_document(ka, s, people.viewer("owner"), "testnote", DocumentInput(title="b", data={"subject": "b"}))
            raise RuntimeError
    assert len(seen) == 1  # a rolled-back transaction fires nothing


def test_archived_documents_are_read_only(ka, people):
    doc_id = _create(ka, people)
    with ka.db.write() as s:
        s.get(Document, doc_id).archived_at = ka.clock.now()
    with ka.db.write() as s, pytest.raises(ReadOnly):
        update_document(ka, s, people.viewer("owner"), doc_id, DocumentInput.from_mapping({"title": "x"}), expected_version=None)
