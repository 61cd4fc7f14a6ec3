import hashlib
import io

import pytest

from kundenakte.core.storage import BlobStore, UploadTooLarge, sniff_mime


def test_content_addressed_dedup_and_hash(tmp_path):
    store = BlobStore(tmp_path / "files", max_bytes=1024)
    a = store.put(io.BytesIO(b"hallo welt"))
    b = store.put(io.BytesIO(b"hallo welt"))
    assert a.sha256 == hashlib.sha256(b"hallo welt").hexdigest() and a.size == 10
    assert a.created and not b.created
    assert store.path_for(a.sha256).read_bytes() == b"hallo welt"
    assert len(list(store.iter_blobs())) == 1


def test_too_large_leaves_nothing(tmp_path):
    store = BlobStore(tmp_path / "files", max_bytes=10)
    with pytest.raises(UploadTooLarge):
        store.put(io.BytesIO(b"x" * 11))
    assert list(store.iter_blobs()) == []
    assert list((tmp_path / "files" / "tmp").iterdir()) == []


def test_rollback_removes_new_blob_but_not_shared_ones(ka):
    existing = ka.storage.put_bytes(b"schon da")
    with pytest.raises(RuntimeError):
        with ka.db.write() as s:
            new = ka.storage.put_bytes(b"neu", session=s)
            again = ka.storage.put_bytes(b"schon da", session=s)
            assert ka.storage.exists(new.sha256)
            raise RuntimeError
    assert not ka.storage.exists(new.sha256)
    assert ka.storage.exists(existing.sha256) and not again.created


def test_garbage_collect_only_unreferenced_and_old(tmp_path):
    store = BlobStore(tmp_path / "files", max_bytes=1024)
    keep = store.put(io.BytesIO(b"keep"))
    orphan = store.put(io.BytesIO(b"orphan"))
    assert store.garbage_collect({keep.sha256}, min_age_s=3600) == []  # too young
    assert store.garbage_collect({keep.sha256}, min_age_s=0) == [orphan.sha256]
    assert store.exists(keep.sha256) and not store.exists(orphan.sha256)


def test_mime_is_sniffed_not_trusted(shared_pdf):
    head = (shared_pdf / "example.pdf").read_bytes()[:8192]
    assert sniff_mime(head, "harmlos.txt") == "application/pdf"
    assert sniff_mime("Grüße aus Ravensburg".encode(), "x.pdf") == "text/plain"
    assert sniff_mime(b"<!DOCTYPE html><html><body>x</body></html>") == "text/html"
    assert sniff_mime(b"\x89PNG\r\n\x1a\n" + b"\x00" * 20) == "image/png"
    assert sniff_mime(b"\x00\x01\x02\x03binary") == "application/octet-stream"


def test_paths_cannot_escape(tmp_path):
    store = BlobStore(tmp_path, max_bytes=10)
    for bad in ("../../etc/passwd", "g" * 64, "0" * 63, "../" + "a" * 61):
        with pytest.raises(ValueError):
            store.path_for(bad)
