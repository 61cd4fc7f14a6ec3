"""Attachment routes: upload with the form, download headers, removal, 413, editor images; both databases."""

from __future__ import annotations

import io
import json
import re
from urllib.parse import quote

from sqlalchemy import func, select

from kundenakte.core.attachments import add_attachment
from kundenakte.core.models import Attachment, Document
from tests.web.test_documents import full_form, login_as, make_doc, master  # noqa: F401 - fixture

PNG = bytes.fromhex(
    "89504e470d0a1a0a0000000d49484452000000010000000108060000001f15c4890000000d49444154789c6360000002000100"
    "05fe02fea75b3c0000000049454e44ae426082"
)


def _attach(ka, people, doc_id, data: bytes, name: str, *, inline=False) -> int:
    with ka.db.write() as s:
        att = add_attachment(ka, s, people.viewer("owner"), s.get(Document, doc_id), io.BytesIO(data), name, inline=inline)
        s.flush()
        return att.id


def _files(ka) -> list:
    root = ka.storage.root
    return [p for p in root.rglob("*") if p.is_file()] if root.exists() else []


def test_download_headers_and_bytes(ka, people, app, shared_pdf):
    doc_id = make_doc(ka, people, readers=[f"u:{people.users['reader']}"])
    data = (shared_pdf / "crazyones.pdf").read_bytes()
    att_id = _attach(ka, people, doc_id, data, "Grüße an Bär.txt")  # a PDF named .txt
    b = login_as(app, "reader")
    r = b.get(f"/dokumente/{doc_id}/anhang/{att_id}")
    assert r.status_code == 200
    assert r.data == data
    assert r.mimetype == "application/pdf"
    assert r.headers["X-Content-Type-Options"] == "nosniff"
    cd = r.headers["Content-Disposition"]
    assert cd.startswith("attachment;")
    assert f"filename*=UTF-8''{quote('Grüße an Bär.txt', safe='')}" in cd
    assert 'filename="Grue_e an Bar.txt"' in cd or 'filename="Grue' in cd  # ASCII fallback
    assert "sandbox" in r.headers["Content-Security-Policy"]
    html = b.get(f"/dokumente/{doc_id}").get_data(as_text=True)
    assert "Grüße an Bär.txt" in html and f"/dokumente/{doc_id}/anhang/{att_id}" in html
    assert "application/pdf" in html


def test_images_inline_only_when_asked_and_never_svg(ka, people, app):
    doc_id = make_doc(ka, people)
    png_id = _attach(ka, people, doc_id, PNG, "bild.png", inline=True)
    svg_id = _attach(ka, people, doc_id, b'<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>', "x.svg")
    b = login_as(app, "owner")
    r = b.get(f"/dokumente/{doc_id}/anhang/{png_id}?inline=1")
    assert r.headers["Content-Disposition"].startswith("inline;") and r.mimetype == "image/png"
    r = b.get(f"/dokumente/{doc_id}/anhang/{svg_id}?inline=1")
    assert r.headers["Content-Disposition"].startswith("attachment;")
    # inline images are part of the content, not listed as files
    html = b.get(f"/dokumente/{doc_id}").get_data(as_text=True)
    files = html[html.index('id="dateianhaenge"'):html.index('id="verlauf"')]
    assert "bild.png" not in files and "x.svg" in files


def test_attachment_of_another_document_is_404(ka, people, app):
    mine = make_doc(ka, people)
    other = make_doc(ka, people)
    att_id = _attach(ka, people, other, b"data", "a.txt")
    b = login_as(app, "owner")
    assert b.get(f"/dokumente/{mine}/anhang/{att_id}").status_code == 404
    assert b.post(f"/dokumente/{mine}/anhang/{att_id}/entfernen").status_code == 404


def test_upload_on_edit_and_remove(ka, people, master, app, shared_pdf):  # noqa: F811
    doc_id = make_doc(ka, people)
    keep_id = _attach(ka, people, doc_id, b"behalten", "behalten.txt")
    drop_id = _attach(ka, people, doc_id, b"weg damit", "weg.txt")
    b = login_as(app, "owner")
    html = b.get(f"/dokumente/{doc_id}/bearbeiten").get_data(as_text=True)
    version = re.search(r'name="version" value="(\d+)"', html).group(1)
    assert "behalten.txt" in html and 'name="remove_attachment"' in html
    form = full_form(people, master, version=version, remove_attachment=[str(drop_id)])
    form["attachments"] = [(io.BytesIO((shared_pdf / "git.pdf").read_bytes()), "git.pdf")]
    r = b.post(f"/dokumente/{doc_id}/bearbeiten", form)
    assert r.status_code == 302, r.get_data(as_text=True)
    with ka.db.read() as s:
        names = sorted(a.filename for a in s.scalars(select(Attachment).where(Attachment.document_id == doc_id)))
    assert names == ["behalten.txt", "git.pdf"]
    # removal through the button on the read view
    r = b.post(f"/dokumente/{doc_id}/anhang/{keep_id}/entfernen")
    assert r.status_code == 302
    with ka.db.read() as s:
        names = [a.filename for a in s.scalars(select(Attachment).where(Attachment.document_id == doc_id))]
    assert names == ["git.pdf"]
    stored = {p.name for p in _files(ka)}
    import hashlib

    assert hashlib.sha256(b"weg damit").hexdigest() not in stored
    assert hashlib.sha256(b"behalten").hexdigest() not in stored


def test_too_large_upload_is_413_and_leaves_nothing(ka, people, master, app):  # noqa: F811
    ka.storage.max_bytes = 50_000
    b = login_as(app, "owner")
    form = full_form(people, master)
    form["attachments"] = [(io.BytesIO(b"klein"), "klein.txt"), (io.BytesIO(b"y" * 2_500_000), "gross.bin")]
    r = b.post("/dokumente/neu/testnote", form)
    assert r.status_code == 413
    assert _files(ka) == []
    with ka.db.read() as s:
        assert s.scalar(select(func.count()).select_from(Document)) == 0
    doc_id = make_doc(ka, people)
    html = b.get(f"/dokumente/{doc_id}/bearbeiten").get_data(as_text=True)
    version = re.search(r'name="version" value="(\d+)"', html).group(1)
    form = full_form(people, master, version=version, title="Neu")
    form["attachments"] = [(io.BytesIO(b"y" * 60_000), "gross.bin")]
    assert b.post(f"/dokumente/{doc_id}/bearbeiten", form).status_code == 413
    assert _files(ka) == []
    with ka.db.read() as s:
        assert s.get(Document, doc_id).title == "Akte"


def test_request_over_the_app_limit_is_413(ka, people, master, app):  # noqa: F811
    app.config["MAX_CONTENT_LENGTH"] = 10_000
    b = login_as(app, "owner")
    form = full_form(people, master)
    form["attachments"] = [(io.BytesIO(b"z" * 20_000), "z.bin")]
    assert b.post("/dokumente/neu/testnote", form).status_code == 413
    assert _files(ka) == []


def test_editor_image_upload(ka, people, app):
    doc_id = make_doc(ka, people, readers=[f"u:{people.users['reader']}"])
    b = login_as(app, "owner")
    r = b.post(f"/dokumente/{doc_id}/bilder", {"image": (io.BytesIO(PNG), "paste.png")})
    assert r.status_code == 200, r.get_data(as_text=True)
    url = json.loads(r.data)["url"]
    assert url.startswith(f"/dokumente/{doc_id}/anhang/") and "inline=1" in url
    img = b.get(url)
    assert img.status_code == 200 and img.data == PNG and img.headers["Content-Disposition"].startswith("inline;")
    # not an image: refused, and the stored bytes are gone again
    r = b.post(f"/dokumente/{doc_id}/bilder", {"image": (io.BytesIO(b"%PDF-1.4 nope"), "x.png")})
    assert r.status_code == 400
    import hashlib

    assert not ka.storage.exists(hashlib.sha256(b"%PDF-1.4 nope").hexdigest())
    # readers may not add images
    reader = login_as(app, "reader")
    assert reader.post(f"/dokumente/{doc_id}/bilder", {"image": (io.BytesIO(PNG), "p.png")}).status_code == 403
    outsider = login_as(app, "outsider")
    assert outsider.post(f"/dokumente/{doc_id}/bilder", {"image": (io.BytesIO(PNG), "p.png")}).status_code == 404
    # the image URL passes the sanitizer when saved in the content
    html = b.get(f"/dokumente/{doc_id}/bearbeiten").get_data(as_text=True)
    version = re.search(r'name="version" value="(\d+)"', html).group(1)
    with ka.db.read() as s:
        pass
    r = b.post(f"/dokumente/{doc_id}/bearbeiten", {"title": "Mit Bild", "data.subject": "s", "status": "open",
                                                  "version": version, "content": f'<p><img src="{url}"></p>'})
    assert r.status_code == 302, r.get_data(as_text=True)
    with ka.db.read() as s:
        assert url.replace("&", "&amp;") in s.get(Document, doc_id).content or url in s.get(Document, doc_id).content


def test_filename_is_escaped_in_pages(ka, people, master, app):  # noqa: F811
    doc_id = make_doc(ka, people)
    att_id = _attach(ka, people, doc_id, b"x", '<b onmouseover="alert(1)">fett</b>.txt')
    with ka.db.read() as s:
        assert s.get(Attachment, att_id).filename == "b_.txt"  # cleaned on the way in
    # a row written by someone else (import, API) with a hostile name is still escaped
    with ka.db.write() as s:
        s.get(Attachment, att_id).filename = '<b onmouseover="alert(1)">fett.txt'
    html = login_as(app, "owner").get(f"/dokumente/{doc_id}").get_data(as_text=True)
    assert "<b onmouseover" not in html
    assert "&lt;b onmouseover=" in html
