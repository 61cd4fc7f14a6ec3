"""An over-size upload on the document form: the form again, the error at the file field naming the
limit, everything else typed kept (as the import page does); both databases."""

from __future__ import annotations

import io
import re

from sqlalchemy import func, select

from kundenakte.core.models import Document
from tests.web.test_documents import full_form, login_as, make_doc, master  # noqa: F401 - fixture


def _file_error(html: str) -> str:
    field = re.search(r'<div class="field field-wide has-error">.*?</div>', html, re.S)
    assert field, html
    assert 'id="f-attachments"' in field.group(0)
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", field.group(0)))


def test_file_over_the_store_limit_keeps_the_form(ka, people, master, app):  # noqa: F811
    ka.storage.max_bytes = 1024 * 1024
    b = login_as(app, "owner")
    form = full_form(people, master, title="Mein langer Titel", **{"data.subject": "Betreff bleibt"})
    form["attachments"] = [(io.BytesIO(b"y" * (1024 * 1024 + 10)), "gross.bin")]
    r = b.post("/dokumente/neu/testnote", form)
    html = r.get_data(as_text=True)
    assert r.status_code == 413
    assert "Die Datei gross.bin ist zu groß (höchstens 1 MB)." in _file_error(html)
    assert 'value="Mein langer Titel"' in html and 'value="Betreff bleibt"' in html
    assert '<form method="post" enctype="multipart/form-data" class="doc-form"' in html
    with ka.db.read() as s:
        assert s.scalar(select(func.count()).select_from(Document)) == 0


def test_file_over_the_store_limit_on_edit_keeps_the_form(ka, people, master, app):  # noqa: F811
    ka.storage.max_bytes = 50_000
    doc_id = make_doc(ka, people)
    b = login_as(app, "owner")
    html = b.get(f"/dokumente/{doc_id}/bearbeiten").get_data(as_text=True)
    version = re.search(r'name="version" value="(\d+)"', html).group(1)
    form = full_form(people, master, version=version, title="Geänderter Titel")
    form["attachments"] = [(io.BytesIO(b"y" * 60_000), "gross.bin")]
    r = b.post(f"/dokumente/{doc_id}/bearbeiten", form)
    html = r.get_data(as_text=True)
    assert r.status_code == 413
    assert "gross.bin ist zu groß (höchstens 0,05 MB)" in _file_error(html)
    assert 'value="Geänderter Titel"' in html and f'name="version" value="{version}"' in html
    with ka.db.read() as s:
        assert s.get(Document, doc_id).title == "Akte"


def test_body_over_the_app_limit_answers_the_form(ka, people, master, app):  # noqa: F811
    app.config["MAX_CONTENT_LENGTH"] = 10_000
    b = login_as(app, "owner")
    form = full_form(people, master)
    form["attachments"] = [(io.BytesIO(b"z" * 20_000), "z.bin")]
    r = b.post("/dokumente/neu/testnote", form)
    assert r.status_code == 413
    limit = ka.settings.max_upload_mb
    assert f"zusammen zu groß (höchstens {limit} MB)" in _file_error(r.get_data(as_text=True))
    # elsewhere the plain 413 page
    r = b.post("/suche", data={"q": "x" * 20_000})
    assert r.status_code in (405, 413)
