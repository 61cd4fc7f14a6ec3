"""Attachment storage and the attachment service, on both databases."""

from __future__ import annotations

import hashlib
import io
from pathlib import Path

import pytest
from sqlalchemy import func, select

from kundenakte.core.attachments import (
    DEFAULT_FILENAME,
    add_attachment,
    clean_filename,
    open_attachment,
    remove_attachment,
)
from kundenakte.core.documents import DocumentInput, Forbidden, NotFound, create_document, delete_document
from kundenakte.core.models import Attachment, AuditEntry, Document, IndexQueue
from kundenakte.core.storage import UploadTooLarge


def _doc(ka, people, author="owner", **kw) -> int:
    with ka.db.write() as s:
        inp = DocumentInput(title="Akte", data={"subject": "Akte"}, **kw)
        return create_document(ka, s, people.viewer(author), "testnote", inp).id


def _blobs(ka) -> list[Path]:
    root = ka.storage.root
    if not root.exists():
        return []
    return [p for p in root.rglob("*") if p.is_file()]


def _attach(ka, people, doc_id, data: bytes, name: str, login="owner") -> Attachment:
    with ka.db.write() as s:
        doc = s.get(Document, doc_id)
        att = add_attachment(ka, s, people.viewer(login), doc, io.BytesIO(data), name)
        s.flush()
        s.expunge(att)
    return att


def test_sha256_recorded_and_audit_and_index(ka, people, shared_pdf):
    doc_id = _doc(ka, people)
    data = (shared_pdf / "crazyones.pdf").read_bytes()
    with ka.db.read() as s:
        version_before = s.get(Document, doc_id).version
    att = _attach(ka, people, doc_id, data, "crazyones.pdf")
    assert att.sha256 == hashlib.sha256(data).hexdigest()
    assert att.size == len(data)
    assert att.mime_type == "application/pdf"
    assert ka.storage.path_for(att.sha256).read_bytes() == data
    with ka.db.read() as s:
        doc = s.get(Document, doc_id)
        assert doc.version > version_before  # updated_at was bumped
        actions = s.scalars(select(AuditEntry.action).where(AuditEntry.object_id == doc_id)).all()
        assert "attachment_added" in actions
        assert s.scalar(select(func.count()).select_from(IndexQueue).where(IndexQueue.object_key == f"doc:{doc_id}")) >= 2


def test_identical_content_stored_once(ka, people, shared_pdf):
    data = (shared_pdf / "example.pdf").read_bytes()
    a = _doc(ka, people)
    b = _doc(ka, people)
    first = _attach(ka, people, a, data, "a.pdf")
    second = _attach(ka, people, b, data, "b.pdf")
    assert first.sha256 == second.sha256
    assert len(_blobs(ka)) == 1 + 0  # tmp holds nothing
    # Removing one reference keeps the blob for the other.
    with ka.db.write() as s:
        remove_attachment(ka, s, people.viewer("owner"), a, first.id)
    assert ka.storage.exists(first.sha256)
    with ka.db.write() as s:
        remove_attachment(ka, s, people.viewer("owner"), b, second.id)
    assert not ka.storage.exists(first.sha256)


def test_rolled_back_transaction_leaves_no_file(ka, people, shared_pdf):
    doc_id = _doc(ka, people)
    data = (shared_pdf / "git.pdf").read_bytes()
    with pytest.raises(RuntimeError):
        with ka.db.write() as s:
            add_attachment(ka, s, people.viewer("owner"), s.get(Document, doc_id), io.BytesIO(data), "git.pdf")
            assert ka.storage.exists(hashlib.sha256(data).hexdigest())
            raise RuntimeError("abort")
    assert not ka.storage.exists(hashlib.sha256(data).hexdigest())
    assert _blobs(ka) == []
    with ka.db.read() as s:
        assert s.scalar(select(func.count()).select_from(Attachment)) == 0


def test_rollback_keeps_content_another_row_uses(ka, people, shared_pdf):
    data = (shared_pdf / "git.pdf").read_bytes()
    a = _doc(ka, people)
    b = _doc(ka, people)
    _attach(ka, people, a, data, "git.pdf")
    with pytest.raises(RuntimeError):
        with ka.db.write() as s:
            add_attachment(ka, s, people.viewer("owner"), s.get(Document, b), io.BytesIO(data), "git.pdf")
            raise RuntimeError("abort")
    assert ka.storage.exists(hashlib.sha256(data).hexdigest())


def test_upload_too_large_leaves_nothing(ka, people):
    doc_id = _doc(ka, people)
    ka.storage.max_bytes = 100_000
    data = b"x" * 2_500_000  # several chunks, so the limit trips mid-stream
    with pytest.raises(UploadTooLarge):
        with ka.db.write() as s:
            add_attachment(ka, s, people.viewer("owner"), s.get(Document, doc_id), io.BytesIO(data), "big.bin")
    assert _blobs(ka) == []
    assert not ka.storage.tmp.exists() or list(ka.storage.tmp.iterdir()) == []
    with ka.db.read() as s:
        assert s.scalar(select(func.count()).select_from(Attachment)) == 0


def test_mime_sniffed_from_content(ka, people, shared_pdf):
    doc_id = _doc(ka, people)
    att = _attach(ka, people, doc_id, (shared_pdf / "multilang.pdf").read_bytes(), "x.txt")
    assert att.mime_type == "application/pdf"
    png = bytes.fromhex("89504e470d0a1a0a0000000d49484452") + b"\x00" * 64
    att = _attach(ka, people, doc_id, png, "bild.pdf")
    assert att.mime_type == "image/png"
    att = _attach(ka, people, doc_id, "Grüße aus Köln\n".encode(), "notiz.pdf")
    assert att.mime_type == "text/plain"


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("../../etc/passwd", "passwd"),
        ("..\\..\\windows\\system.ini", "system.ini"),
        ("C:\\Users\\x\\Angebot.pdf", "Angebot.pdf"),
        ("rech\r\nnung.pdf", "rechnung.pdf"),
        ("evil\r\nContent-Type: text/html.pdf", "html.pdf"),
        ("evil\r\nX-Header: 1.pdf", "evilX-Header_ 1.pdf"),
        ("a\x00b\x07.pdf", "ab.pdf"),
        ("rechnung\u202efdp.exe", "rechnungfdp.exe"),  # no bidi override can disguise the extension
        ("zero\u200bwidth.pdf", "zerowidth.pdf"),
        ("Gru\u0308\u00dfe.pdf", "Grüße.pdf"),  # decomposed umlaut becomes NFC
        ("ordner\uff0fdatei.pdf", "ordner_datei.pdf"),  # fullwidth solidus
        ("..", DEFAULT_FILENAME),
        ("", DEFAULT_FILENAME),
        ("   ", DEFAULT_FILENAME),
        (None, DEFAULT_FILENAME),
        ("/", DEFAULT_FILENAME),
        ('a"b<c>.pdf', "a_b_c_.pdf"),
    ],
)
def test_clean_filename(raw, expected):
    assert clean_filename(raw) == expected


def test_clean_filename_long_keeps_extension():
    name = clean_filename("ä" * 400 + ".pdf")
    assert len(name) == 255
    assert name.endswith(".pdf")
    assert clean_filename("x" * 1000).startswith("x") and len(clean_filename("x" * 1000)) == 255


def test_filenames_stored_clean(ka, people):
    doc_id = _doc(ka, people)
    att = _attach(ka, people, doc_id, b"hello", "../../" + "n" * 300 + "\r\n.txt")
    assert att.filename.endswith(".txt") and "/" not in att.filename and "\n" not in att.filename
    assert len(att.filename) <= 255


def test_rights(ka, people):
    doc_id = _doc(ka, people, readers=[f"u:{people.users['reader']}"])
    with ka.db.write() as s:
        doc = s.get(Document, doc_id)
        with pytest.raises(Forbidden):
            add_attachment(ka, s, people.viewer("reader"), doc, io.BytesIO(b"data"), "a.txt")
        with pytest.raises(NotFound):
            add_attachment(ka, s, people.viewer("outsider"), doc, io.BytesIO(b"data"), "a.txt")
    assert _blobs(ka) == []
    att = _attach(ka, people, doc_id, b"data", "a.txt")
    with ka.db.read() as s:
        row, stream = open_attachment(ka, s, people.viewer("reader"), doc_id, att.id)
        with stream:
            assert stream.read() == b"data"
        with pytest.raises(NotFound):
            open_attachment(ka, s, people.viewer("outsider"), doc_id, att.id)
        with pytest.raises(NotFound):
            open_attachment(ka, s, people.viewer("reader"), doc_id + 1, att.id)
    with ka.db.write() as s:
        with pytest.raises(Forbidden):
            remove_attachment(ka, s, people.viewer("reader"), doc_id, att.id)
        with pytest.raises(NotFound):
            remove_attachment(ka, s, people.viewer("outsider"), doc_id, att.id)


def test_delete_document_removes_unreferenced_blobs(ka, people, shared_pdf):
    doc_id = _doc(ka, people)
    att = _attach(ka, people, doc_id, (shared_pdf / "example.pdf").read_bytes(), "e.pdf")
    with ka.db.write() as s:
        delete_document(ka, s, people.viewer("owner"), doc_id)
    assert not ka.storage.exists(att.sha256)
