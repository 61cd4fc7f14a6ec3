"""Sales follow-ups (Folgebeleg) with invalid input answer 400/404 with a German message, never 500,
and create nothing."""

from __future__ import annotations

import html
from typing import Any

import pytest
from sqlalchemy import func, select

from kundenakte.core.documents import DocumentInput, create_document
from kundenakte.core.models import Document
from tests.hardening import FIGURES
from tests.web.conftest import csrf_token, login


def _app(ka: Any) -> Any:
    from kundenakte.web.app import create_app

    app = create_app(ka=ka)
    app.config.update(TESTING=True, WTF_CSRF_ENABLED=True)
    return app


@pytest.fixture
def docs(ka: Any, people: Any) -> dict[str, int]:
    owner = people.viewer("owner")
    with ka.db.write() as s:
        made = {
            "note": create_document(ka, s, owner, "free_document", DocumentInput(title="Notiz", readers=["*"])).id,
            "quote": create_document(ka, s, owner, "quote", DocumentInput(title="Angebot", readers=["*"])).id,
            "private": create_document(ka, s, people.viewer("editor"), "quote", DocumentInput(title="Privat")).id,
        }
    return made


CASES = [
    # (source, target, status, German message on the page)
    ("note", "invoice", 400, "Aus einem Dokument vom Typ „Freies Dokument“ kann kein Folgebeleg erstellt werden"),
    ("note", "free_document", 400, "Unbekannter Belegtyp"),
    ("quote", "free_document", 400, "Unbekannter Belegtyp"),
    ("quote", "gibtsnicht", 400, "Unbekannter Belegtyp"),
    ("quote", "x" * 500, 400, "Unbekannter Belegtyp"),
    ("quote", "credit_note", 400, "kann kein Beleg vom Typ „Gutschrift“ erstellt werden"),
    ("quote", "quote", 400, "kann kein Beleg vom Typ „Angebot“ erstellt werden"),
    ("private", "invoice", 404, "Nicht gefunden"),
    (999_999, "invoice", 404, "Nicht gefunden"),
    (99_999_999_999_999_999_999, "invoice", 404, "Nicht gefunden"),
]


@pytest.mark.parametrize(("source", "target", "status", "message"), CASES)
def test_invalid_followups_answer_4xx_in_german(ka: Any, people: Any, docs: dict[str, int], source: Any, target: str,
                                                 status: int, message: str) -> None:
    client = _app(ka).test_client()
    login(client, "owner")
    doc_id = docs[source] if isinstance(source, str) else source
    with ka.db.read() as s:
        before = s.scalar(select(func.count()).select_from(Document))
    response = client.post(f"/vertrieb/{doc_id}/folgebeleg/{target}", data={"csrf_token": csrf_token(client)})
    page = html.unescape(response.get_data(as_text=True))
    FIGURES["followups.tried"] += 1
    if response.status_code >= 500:
        FIGURES["followups.5xx"] += 1
    assert response.status_code == status, page[-2000:]
    assert message in page
    if status == 400:
        assert f'href="/dokumente/{doc_id}"' in page  # a way back to the document
    with ka.db.read() as s:
        assert s.scalar(select(func.count()).select_from(Document)) == before


def test_valid_followup_still_works(ka: Any, people: Any, docs: dict[str, int]) -> None:
    client = _app(ka).test_client()
    login(client, "owner")
    response = client.post(f"/vertrieb/{docs['quote']}/folgebeleg/invoice", data={"csrf_token": csrf_token(client)})
    assert response.status_code == 302
    with ka.db.read() as s:
        invoice = s.scalar(select(Document).where(Document.type_key == "invoice"))
        assert invoice is not None and invoice.parent_id == docs["quote"]
