import datetime as dt

from sqlalchemy import select

from kundenakte.core import acl
from kundenakte.core.documents import DocumentInput, create_document
from kundenakte.core.models import Document
from kundenakte.core.retention import archive_due_documents


def test_archiving_is_due_based_idempotent_and_keeps_documents_readable(ka, people):
    ka.clock.set(dt.date(2026, 1, 10))
    with ka.db.write() as s:
        old = create_document(ka, s, people.viewer("owner"), "testnote", DocumentInput(
            title="alt", data={"subject": "alt"}, document_date="2024-01-01", readers=["*"])).id  # 720 days
        fresh = create_document(ka, s, people.viewer("owner"), "testnote", DocumentInput(
            title="neu", data={"subject": "neu"}, document_date="2026-01-01")).id
        forever = create_document(ka, s, people.viewer("owner"), "testnote", DocumentInput(
            title="ohne Frist", data={"subject": "x"}, document_date="2000-01-01", retention_days="")).id
    with ka.db.write() as s:
        s.get(Document, forever).retention_days = None
        s.get(Document, forever).archive_due = None
    assert [d.id for d in archive_due_documents(ka, dry_run=True)] == [old]
    with ka.db.read() as s:
        assert s.get(Document, old).archived_at is None  # dry run changed nothing
    first = archive_due_documents(ka)
    second = archive_due_documents(ka)
    assert [d.id for d in first] == [old] and second == []
    with ka.db.read() as s:
        assert s.get(Document, old).archived_at is not None
        assert s.get(Document, fresh).archived_at is None
        assert acl.can_read(s, people.viewer("reader"), old)  # still readable by those allowed
    ka.clock.set(dt.date(2027, 12, 31))  # fresh: 2026-01-01 + 720 days = 2027-12-22
    assert [d.id for d in archive_due_documents(ka)] == [fresh]
    with ka.db.read() as s:
        assert set(s.scalars(select(Document.id).where(Document.archived_at.is_(None)))) == {forever}
