"""Template grants: a shared template's "Leser/Bearbeiter der erstellten Dokumente" never give anyone
access behind the creating user's back. They are cut down to what that user could pick, proposed
(visibly, on the draft's first page and prefilled in Zugriff) and granted only as saved; through the
web form, the core and the API. The browser half is tests/browser/test_template_grants.py.
"""

from __future__ import annotations

import html
import re
from typing import Any

from kundenakte.core import acl
from kundenakte.core.documents import DocumentInput, proposed_access, update_document
from kundenakte.core.models import Document, Group
from kundenakte.core.users import create_group
from kundenakte.plugins.communication import templates_service as svc
from tests.hardening import FIGURES
from tests.web.conftest import csrf_token, login

PROPOSAL_RE = re.compile(r'<section class="doc-notice doc-proposal".*?</section>', re.S)


def _app(ka: Any) -> Any:
    from kundenakte.web.app import create_app

    app = create_app(ka=ka)
    app.config.update(TESTING=True, WTF_CSRF_ENABLED=True)
    return app


def _template(ka: Any, people: Any) -> tuple[int, int]:
    """Owner's shared template naming: owner, a group, an inactive user and a group deleted later."""
    with ka.db.write() as s:
        gone = create_group(s, "Aufgelöst").id
        template = svc.save_template(ka, s, people.viewer("owner"), {
            "name": "Angebotsschreiben", "base_type": "email", "readers": ["*"], "subject": "Ihr Angebot",
            "body": "<p>anbei</p>",
            "doc_readers": [f"u:{people.users['owner']}", f"g:{people.groups['Vertrieb']}",
                            f"u:{people.users['nobody']}", f"g:{gone}"],
            "doc_editors": [f"u:{people.users['editor']}"]})
        template_id = template.id
    with ka.db.write() as s:
        s.delete(s.get(Group, gone))
    return template_id, gone


def test_proposal_is_cut_to_what_the_user_could_pick(ka: Any, people: Any) -> None:
    template_id, gone = _template(ka, people)
    with ka.db.write() as s:
        offered = acl.grantable_principals(s, people.viewer("reader"))
        assert f"u:{people.users['nobody']}" not in offered and f"g:{gone}" not in offered
        assert {"*", f"u:{people.users['owner']}", f"g:{people.groups['Vertrieb Nord']}"} <= offered
        assert acl.grantable_principals(s, people.viewer("nobody")) == set()
        doc = svc.create_from_template(ka, s, people.viewer("reader"), template_id, None)
        doc_id = doc.id
        assert doc.acl == []
        assert proposed_access(doc) == {
            "source": "Vorlage „Angebotsschreiben“",
            "readers": sorted([f"g:{people.groups['Vertrieb']}", f"u:{people.users['owner']}"]),
            "editors": [f"u:{people.users['editor']}"]}
    with ka.db.read() as s:
        for login_name in ("owner", "grouped", "editor", "outsider"):
            if acl.can_read(s, people.viewer(login_name), doc_id):
                FIGURES["grants.silent"] += 1
            assert not acl.can_read(s, people.viewer(login_name), doc_id), login_name
        assert acl.can_read(s, people.viewer("reader"), doc_id)
    FIGURES["grants.drafts"] += 1
    FIGURES["grants.dropped"] += 2


def test_draft_form_shows_prefills_and_grants_only_what_is_saved(ka: Any, people: Any) -> None:
    template_id, _gone = _template(ka, people)
    client = _app(ka).test_client()
    token = login(client, "reader")
    created = client.post("/kommunikation/vorlage", data={"csrf_token": token, "template_id": str(template_id)})
    assert created.status_code == 302
    doc_id = int(created.headers["Location"].split("/")[-2])
    form = client.get(f"/dokumente/{doc_id}/bearbeiten").get_data(as_text=True)
    notice = PROPOSAL_RE.search(form)
    assert notice, "no proposal notice on the draft's first page"
    text = html.unescape(notice.group(0))
    assert "Zugriff durch Vorlage „Angebotsschreiben“" in text and "Owner" in text and "Gruppe: Vertrieb" in text
    assert "Bearbeiter: Editor" in text and "Nobody" not in text and "Aufgelöst" not in text
    assert form.index("vorgeschlagener-zugriff") < form.index('id="zugriff"')  # above the fold, before Zugriff
    for principal in (f"u:{people.users['owner']}", f"g:{people.groups['Vertrieb']}"):
        assert re.search(rf'<option value="{principal}"\s+selected', form), principal
    # The view (before saving) says it is not granted yet.
    view = html.unescape(client.get(f"/dokumente/{doc_id}").get_data(as_text=True))
    assert "noch nicht gewährt" in view
    version = re.search(r'name="version" value="(\d+)"', form).group(1)  # type: ignore[union-attr]
    saved = client.post(f"/dokumente/{doc_id}/bearbeiten", data={
        "csrf_token": csrf_token(client, f"/dokumente/{doc_id}/bearbeiten"), "version": version,
        "title": "Ihr Angebot", "content": "<p>anbei</p>", "status": "draft",
        "readers": [f"g:{people.groups['Vertrieb']}"], "data.subject": "Ihr Angebot",
        "data.to_email": "x@example.org", "data.sender_format": "name_address"})
    assert saved.status_code == 302, saved.get_data(as_text=True)[:2000]
    with ka.db.read() as s:
        doc = s.get(Document, doc_id)
        assert [(e.principal, e.role) for e in doc.acl] == [(f"g:{people.groups['Vertrieb']}", "read")]
        assert proposed_access(doc) is None
        assert not acl.can_read(s, people.viewer("owner"), doc_id)
        assert acl.can_read(s, people.viewer("grouped"), doc_id)
    assert "vorgeschlagener-zugriff" not in client.get(f"/dokumente/{doc_id}/bearbeiten").get_data(as_text=True)
    FIGURES["grants.drafts"] += 1


def test_api_draft_proposes_and_patch_decides(ka: Any, people: Any) -> None:
    from kundenakte.core.tokens import create_token

    template_id, _gone = _template(ka, people)
    with ka.db.write() as s:
        _row, secret = create_token(s, people.users["reader"], "test")
    client = _app(ka).test_client()
    headers = {"Authorization": f"Bearer {secret}"}
    response = client.post(f"/api/v1/templates/{template_id}/create-document", json={}, headers=headers)
    assert response.status_code == 201, response.get_data(as_text=True)
    body = response.get_json()
    assert body["readers"] == [] and body["editors"] == []
    assert body["data"]["_proposed_access"]["readers"] == sorted([f"g:{people.groups['Vertrieb']}",
                                                                  f"u:{people.users['owner']}"])
    with ka.db.read() as s:
        assert not acl.can_read(s, people.viewer("owner"), body["id"])
    with ka.db.write() as s:
        update_document(ka, s, people.viewer("reader"), body["id"], DocumentInput(readers=[], given={"readers"}),
                        expected_version=None)
    with ka.db.read() as s:
        doc = s.get(Document, body["id"])
        assert doc.acl == [] and proposed_access(doc) is None
    FIGURES["grants.drafts"] += 1
