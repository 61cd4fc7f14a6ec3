"""The leak matrix: every user × every kind of document × every read path.

Each document carries unique canary words: one in its title, one in its content and one in the text
of an attached file. Every response body a user gets is searched for the canaries of the documents
that user must not read (the expected readers come from a small reference model of the rules in
docs/architecture.md, not from ``acl.py``). Counts (overview sections and their filters, search
totals, API totals) are compared with the model too.

One instance per module (building ~130 documents per test would be slow); runs on SQLite and, when
reachable, PostgreSQL (the ``_pg_ready`` fixture of tests/conftest.py).
"""

from __future__ import annotations

import io
import shutil
import string
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from kundenakte.core import acl, services
from kundenakte.core.documents import DocumentInput, create_document, update_document
from kundenakte.core.models import Document, User
from kundenakte.core.users import add_members, create_user, remove_members
from tests.api import Api, api_app_for, make_token
from tests.conftest import PASSWORD, People, _truncate_pg, make_ka, password_hash
from tests.hardening import FIGURES, FULL, PROBLEMS, flush_index
from tests.web.conftest import csrf_token, login

pytestmark = pytest.mark.timeout(300)

VARIANTS = ("star", "private", "user", "group", "nested", "archived")
USERS = ("owner", "reader", "grouped", "nested", "editor", "outsider", "admin", "nobody", "lonely")
COMMON = "matrixfall"
CI_TYPES = {"testnote", "task", "quote", "complaint", "project", "contract", "email", "phone_note"}  # every document's content holds it: one query finds them all


def alpha(n: int, width: int = 7) -> str:
    """A random-looking word per number: far apart, so the search's typo tolerance cannot join two."""
    import random

    rnd = random.Random(n * 7919 + width)
    return "".join(rnd.choice(string.ascii_lowercase) for _ in range(width))


@dataclass
class Doc:
    id: int
    type_key: str
    variant: str
    title_canary: str
    body_canary: str
    file_canary: str
    attachment_id: int | None = None
    readers: set[str] = field(default_factory=set)
    # An inbound mail nobody could assign: in the Posteingang, at no contact (not in the overview counts).
    unassigned: bool = False

    @property
    def canaries(self) -> tuple[str, str, str]:
        return (self.title_canary, self.body_canary, self.file_canary)


def expected_readers(variant: str) -> set[str]:
    """The reference model (docs/architecture.md), written out by hand per ACL variant."""
    active = {"owner", "reader", "grouped", "nested", "editor", "outsider", "admin", "lonely"}
    return {
        "star": active,
        "private": {"owner", "admin"},
        "user": {"owner", "reader", "editor", "admin"},
        "group": {"owner", "grouped", "nested", "admin"},  # nested: Vertrieb Nord's parent is Vertrieb
        "nested": {"owner", "nested", "admin"},
        "archived": {"owner", "admin"},
    }[variant]


def minimal_data(doctype: Any, canary: str) -> dict[str, Any]:
    values = {"subject": f"Betreff {canary}", "article": f"Artikel {canary}"}
    if doctype.key == "contract":
        values.update(start="2026-01-01", notice_to="end_of_month")
    names = {f.name for f in doctype.fields}
    return {k: v for k, v in values.items() if k in names}


class Matrix:
    def __init__(self, ka: Any) -> None:
        self.ka = ka
        self.people = People(ka)
        users = self.people.users
        with ka.db.write() as s:
            users["lonely"] = create_user(s, "lonely", PASSWORD, display_name="Lonely", email="lonely@example.org",
                                          password_hash=password_hash()).id
            # Through the services (the one writer): inbound mail finds the contact by its e-mail entries.
            company = services.create_company(s, {"name": "Matrix GmbH", "city": "Ravensburg"}, by=None)
            contact = services.create_contact(s, {"first_name": "Maria", "last_name": "Matrix", "company_id": company.id,
                                                  "use_company_address": False, "city": "Ravensburg",
                                                  "email": "maria@matrix.example"}, by=None)
            self.company_id, self.contact_id = company.id, contact.id
        self.docs: list[Doc] = []
        owner = self.people.viewer("owner")
        g = self.people.groups
        acls = {
            "star": (["*"], []),
            "private": ([], []),
            "user": ([f"u:{users['reader']}"], [f"u:{users['editor']}"]),
            "group": ([f"g:{g['Vertrieb']}"], []),
            "nested": ([f"g:{g['Vertrieb Nord']}"], []),
            "archived": ([], []),
        }
        # CI: one or two types per plugin; the full battery (KUNDENAKTE_HARDENING_FULL=1): every type.
        types = [t for t in ka.types.all() if FULL or t.key in CI_TYPES]
        with ka.db.write() as s:
            # A readable-by-everyone project the other documents are filed to (/projekte/<id>/dokumente).
            self.hub = create_document(ka, s, owner, "project", DocumentInput(
                title="Sammelprojekt", readers=["*"])).id  # no contact: not counted in the overview
            n = 0
            for doctype in types:
                for variant in VARIANTS:
                    t, b, f = (f"zqt{alpha(n)}", f"zqb{alpha(n)}", f"zqf{alpha(n)}")
                    n += 1
                    readers, editors = acls[variant]
                    inp = DocumentInput(
                        title=f"Vorgang {t}", contact_id=self.contact_id, content=f"<p>{COMMON} {b}</p>",
                        data=minimal_data(doctype, t), readers=readers, editors=editors,
                        parent_id=self.hub if doctype.key != "project" else None,
                    )
                    doc = create_document(ka, s, owner, doctype.key, inp)
                    s.flush()
                    from kundenakte.core.attachments import add_attachment

                    att = add_attachment(ka, s, owner, doc, io.BytesIO(f"Anlage {f} {COMMON}\n".encode()), f"anlage-{f}.txt")
                    if variant == "archived":
                        doc.archived_at = ka.clock.now()
                    self.docs.append(Doc(doc.id, doctype.key, variant, t, b, f, att.id, expected_readers(variant)))
            # Inbound mail (IMAP, BCC box, upload): filed at the contact by its sender, or unassigned.
            for variant in VARIANTS:
                for unassigned in (False, True):
                    t, b, f = (f"zqt{alpha(n)}", f"zqb{alpha(n)}", f"zqf{alpha(n)}")
                    n += 1
                    readers, editors = acls[variant]
                    doc_id, att_id = self._inbound(s, owner, t, b, f, readers, editors, unassigned)
                    if variant == "archived":
                        s.get(Document, doc_id).archived_at = ka.clock.now()
                    self.docs.append(Doc(doc_id, "email", variant, t, b, f, att_id, expected_readers(variant),
                                         unassigned=unassigned))
        flush_index(ka)
        self.by_id = {d.id: d for d in self.docs}

    def _inbound(self, s: Any, owner: Any, t: str, b: str, f: str, readers: list[str], editors: list[str],
                 unassigned: bool) -> tuple[int, int]:
        from email.message import EmailMessage

        from kundenakte.plugins.communication.inbound import filing

        msg = EmailMessage()
        msg["From"] = "Fremd <fremd@unbekannt.example>" if unassigned else "Maria Matrix <maria@matrix.example>"
        msg["To"] = "ablage@example.org"
        msg["Subject"] = f"Vorgang {t}"
        msg["Message-ID"] = f"<{t}@matrix.example>"
        msg.set_content(f"{COMMON} {b}")
        msg.add_attachment(f"Anlage {f} {COMMON}\n".encode(), maintype="text", subtype="plain", filename=f"anlage-{f}.txt")
        filed = filing.file_message(self.ka, s, owner, msg.as_bytes(), readers=readers, editors=editors)
        filing.record(s, filed, account_id=None, source="test")
        [doc] = filed.documents
        assert (doc.contact_id is None) == unassigned
        att = next(a for a in doc.attachments if a.filename == f"anlage-{f}.txt")
        return doc.id, att.id

    def forbidden(self, login: str) -> list[Doc]:
        return [d for d in self.docs if login not in d.readers]

    def readable(self, login: str, *, archived: bool = False) -> list[Doc]:
        return [d for d in self.docs if login in d.readers and (archived or d.variant != "archived")]


def _module_ka(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Any:
    folder = tmp_path_factory.mktemp("leak")
    if request.param == "sqlite":
        shutil.copy(request.getfixturevalue("_sqlite_template"), folder / "kundenakte.sqlite3")
        return make_ka(folder, "sqlite")
    url = request.getfixturevalue("_pg_ready")
    _truncate_pg(url)
    return make_ka(folder, url)


def _databases() -> list[Any]:
    """SQLite always; the PostgreSQL run when asked for (KUNDENAKTE_HARDENING_PG=1 or the full battery)."""
    import os

    pg = pytest.param("postgres", marks=pytest.mark.skipif(
        not (FULL or os.environ.get("KUNDENAKTE_HARDENING_PG") == "1"),
        reason="PostgreSQL leak matrix: set KUNDENAKTE_HARDENING_PG=1 (CI time budget)"))
    return ["sqlite", pg]


@pytest.fixture(scope="module", params=_databases())
def matrix(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Matrix]:
    ka = _module_ka(request, tmp_path_factory)
    try:
        yield Matrix(ka)
    finally:
        ka.close()


@pytest.fixture(scope="module")
def web(matrix: Matrix) -> Any:
    from kundenakte.web.app import create_app

    app = create_app(ka=matrix.ka)
    app.config.update(TESTING=True, WTF_CSRF_ENABLED=True)
    return app


@pytest.fixture(scope="module")
def clients(web: Any, matrix: Matrix) -> dict[str, Any]:
    """One logged-in browser-like client per active user; ``nobody`` (inactive) cannot log in."""
    result = {}
    for login_name in USERS:
        client = web.test_client()
        if login_name == "nobody":
            token = csrf_token(client, "/anmelden")
            response = client.post("/anmelden", data={"login": "nobody", "password": PASSWORD, "csrf_token": token})
            assert response.status_code != 302 or "/anmelden" in response.headers.get("Location", ""), \
                "an inactive user could log in"
        else:
            login(client, login_name)
        result[login_name] = client
    return result


@pytest.fixture(scope="module")
def apis(matrix: Matrix) -> dict[str, Api]:
    app = api_app_for(matrix.ka)
    nobody = matrix.people.users["nobody"]

    def set_active(value: bool) -> None:
        with matrix.ka.db.write() as s:
            s.get(User, nobody).active = value

    set_active(True)  # a token made while active, then the user is switched off
    try:
        result = {u: Api(app.test_client(), make_token(matrix.ka, matrix.people.users[u])) for u in USERS}
    finally:
        set_active(False)
    return result


def without_echo(body: str, echoed: str | None) -> str:
    """The body minus the user's own search terms echoed back (input value, pager links, redirects)."""
    if not echoed:
        return body
    from html import escape
    from urllib.parse import quote, quote_plus

    for form in {echoed, escape(echoed), escape(echoed, quote=False), quote(echoed), quote_plus(echoed),
                 quote(echoed, safe=""), quote_plus(quote_plus(echoed))}:
        body = body.replace(form, " ")
    return body


def check_body(matrix: Matrix, login_name: str, where: str, status: int, body: str, *, cells: int | None = None,
               echoed: str | None = None) -> None:
    """Count the cells (forbidden documents × this response) and record every canary found."""
    body = without_echo(body, echoed)
    FIGURES["leak.requests"] += 1
    if status >= 500:
        FIGURES["leak.5xx"] += 1
        PROBLEMS.append(f"leak matrix: {status} for {login_name} on {where}")
    forbidden = matrix.forbidden(login_name)
    FIGURES["leak.cells"] += len(forbidden) if cells is None else cells
    for doc in forbidden:
        for canary in doc.canaries:
            if canary in body:
                FIGURES["leak.leaks"] += 1
                PROBLEMS.append(f"LEAK: {login_name} sees {canary} ({doc.type_key}/{doc.variant} #{doc.id}) on {where}")
    assert status < 500, f"{status} on {where} for {login_name}"


def get(matrix: Matrix, client: Any, login_name: str, url: str, **kw: Any) -> Any:
    response = client.get(url, **kw)
    echoed = (kw.get("query_string") or {}).get("q")
    check_body(matrix, login_name, url, response.status_code, response.get_data(as_text=True), echoed=echoed)
    return response


def leaks_of(matrix: Matrix, login_name: str) -> list[str]:
    return [p for p in PROBLEMS if p.startswith(f"LEAK: {login_name} ")]


# -- the model itself must hold in the core -----------------------------------------------------------


@pytest.mark.parametrize("login_name", USERS)
def test_core_readable_set_matches_model(matrix: Matrix, login_name: str) -> None:
    viewer = matrix.people.viewer(login_name)
    with matrix.ka.db.read() as s:
        got = set(s.scalars(select(Document.id).where(acl.readable_clause(viewer), Document.id.in_(matrix.by_id))))
        for doc in matrix.docs:
            assert acl.can_read(s, viewer, doc.id) == (login_name in doc.readers), (login_name, doc)
        editable = {d.id for d in matrix.docs if acl.can_edit(s, viewer, d.id)}
    expected = {d.id for d in matrix.docs if login_name in d.readers}
    FIGURES["leak.cells"] += len(matrix.docs) * 2
    assert got == expected
    expected_edit = {d.id for d in matrix.docs if login_name in {"owner", "admin"}
                     or (login_name == "editor" and d.variant == "user")}
    assert editable == expected_edit


# -- web pages -------------------------------------------------------------------------------------------


@pytest.mark.parametrize("login_name", USERS)
def test_contact_company_and_overview_pages(matrix: Matrix, clients: dict[str, Any], login_name: str) -> None:
    client = clients[login_name]
    urls = [f"/kontakte/{matrix.contact_id}", f"/unternehmen/{matrix.company_id}", "/", "/kontakte", "/unternehmen",
            f"/kontakte/{matrix.contact_id}/uebersicht", f"/unternehmen/{matrix.company_id}/uebersicht",
            f"/kontakte/{matrix.contact_id}/uebersicht?ansicht=meine", "/aufgaben", "/aufgaben?alle=1",
            f"/projekte/{matrix.hub}/dokumente", "/kommunikation/vorlage", f"/kommunikation/vorlage?contact_id={matrix.contact_id}",
            "/kommunikation/posteingang"]
    for url in urls:
        get(matrix, client, login_name, url)
    from kundenakte.core.overview import build_section, sections_for

    with matrix.ka.db.read() as s:
        sections = sections_for(matrix.ka, s)
        viewer = matrix.people.viewer(login_name)
        for section in sections:
            for flt in section.filters:
                for scope, ident in (("kontakte", matrix.contact_id), ("unternehmen", matrix.company_id)):
                    url = f"/{scope}/{ident}/uebersicht/abschnitt/{section.key}?filter={flt.value}"
                    get(matrix, client, login_name, url, headers={"HX-Request": "true"})
                    if FULL:  # the same state as a full page (no JavaScript)
                        get(matrix, client, login_name, f"/{scope}/{ident}/uebersicht?f_{section.key}={flt.value}")
                # counts: the core's numbers equal the model's
                view = build_section(matrix.ka, s, viewer, section, contact_id=matrix.contact_id, filter_value=flt.value)
                want = [d for d in matrix.readable(login_name) if d.type_key in section.type_keys and not d.unassigned]
                assert view.overall == len(want), (section.key, login_name)
                status_of = {d.id: d for d in want}
                rows = s.execute(select(Document.id, Document.status).where(Document.id.in_(list(status_of)))).all()
                expected = len(rows) if flt.statuses is None else sum(1 for _i, st in rows if st in flt.statuses)
                assert view.counts[flt.value] == expected, (section.key, flt.value, login_name)
                FIGURES["leak.cells"] += len(matrix.forbidden(login_name))
    assert not leaks_of(matrix, login_name)


@pytest.mark.parametrize("login_name", USERS)
def test_document_pages_downloads_and_plugin_views(matrix: Matrix, clients: dict[str, Any], login_name: str) -> None:
    client = clients[login_name]
    for doc in matrix.docs:
        urls = [f"/dokumente/{doc.id}", f"/dokumente/{doc.id}/anhang/{doc.attachment_id}", f"/dokumente/{doc.id}/bearbeiten"]
        if doc.type_key == "project":
            urls.append(f"/projekte/{doc.id}/dokumente")
        if matrix.ka.types.get(doc.type_key).plugin == "sales":
            urls.append(f"/vertrieb/{doc.id}/positionen")
        if doc.type_key == "email":
            urls.append(f"/kommunikation/{doc.id}/verlauf")
        for url in urls:
            response = client.get(url)
            body = response.get_data(as_text=True)
            # only this document's canaries (and its children's) matter for the cell; the whole body is searched
            check_body(matrix, login_name, url, response.status_code, body, cells=1)
            if login_name not in doc.readers:
                assert response.status_code in (302, 403, 404), (url, login_name, response.status_code)


@pytest.mark.parametrize("login_name", USERS)
def test_search_and_suggestions(matrix: Matrix, clients: dict[str, Any], login_name: str) -> None:
    client = clients[login_name]
    ka = matrix.ka
    viewer = matrix.people.viewer(login_name)
    with ka.db.read() as s:
        # the service: exactly the readable, non-archived documents (and with archived ones on request)
        result = ka.search.search(s, viewer, COMMON, per_page=1000)
        assert {h.document.id for h in result.hits} == {d.id for d in matrix.readable(login_name)}
        assert result.total == len(matrix.readable(login_name))
        result = ka.search.search(s, viewer, COMMON, include_archived=True, per_page=1000)
        assert {h.document.id for h in result.hits} == {d.id for d in matrix.readable(login_name, archived=True)}
        for doc in matrix.forbidden(login_name):
            for canary in doc.canaries:
                hits = ka.search.search(s, viewer, canary, include_archived=True)
                assert hits.total == 0 and not hits.hits, (login_name, canary)
                assert not ka.search.suggest(s, viewer, canary[:5]) or all(
                    not any(c in t for d in matrix.forbidden(login_name) for c in d.canaries)
                    for t in ka.search.suggest(s, viewer, canary[:5]))
            FIGURES["leak.cells"] += 3
    # the web: pages of the common query, one OR query per variant, suggestions
    pages = max(1, -(-len(matrix.readable(login_name)) // 20))
    for page in range(1, pages + 2):
        get(matrix, client, login_name, f"/suche?q={COMMON}&seite={page}")
    for variant in VARIANTS:
        docs = [d for d in matrix.docs if d.variant == variant]
        for kind in range(3):
            query = " OR ".join(d.canaries[kind] for d in docs[:20])
            get(matrix, client, login_name, "/suche", query_string={"q": query})
    for prefix in ("zqt", "zqb", "zqf", "Vorgang", "Vorg", "Sammel"):
        get(matrix, client, login_name, "/suche/vorschlaege", query_string={"q": prefix})
    assert not leaks_of(matrix, login_name)


@pytest.mark.parametrize("login_name", USERS)
def test_api(matrix: Matrix, apis: dict[str, Api], login_name: str) -> None:
    api = apis[login_name]

    def call(url: str, **kw: Any) -> Any:
        response = api.get(url, **kw)
        check_body(matrix, login_name, "/api/v1" + url, response.status_code, response.get_data(as_text=True),
                   echoed=(kw.get("query_string") or {}).get("q"))
        return response

    if login_name == "nobody":
        assert call("/documents").status_code == 401
        assert call("/search", query_string={"q": COMMON}).status_code == 401
        return
    listing = call("/documents", query_string={"per_page": 100, "include_archived": 1}).get_json()
    seen = {item["id"] for item in listing["items"]}
    page = 2
    while len(seen) < listing["total"] and page < 10:
        more = call("/documents", query_string={"per_page": 100, "page": page, "include_archived": 1}).get_json()
        seen |= {item["id"] for item in more["items"]}
        page += 1
    mine = {d.id for d in matrix.readable(login_name, archived=True)}
    assert seen & set(matrix.by_id) == mine
    plain = call("/documents", query_string={"per_page": 100}).get_json()
    assert plain["total"] == len(matrix.readable(login_name)) + 1  # + the hub project everybody may read
    for doc in matrix.docs:
        status = call(f"/documents/{doc.id}").status_code
        assert (status == 200) == (login_name in doc.readers), (doc, status)
        call(f"/documents/{doc.id}/attachments")
        call(f"/attachments/{doc.attachment_id}/content")
    found = call("/search", query_string={"q": COMMON, "per_page": 100, "include_archived": 1}).get_json()
    assert found["total"] == len(matrix.readable(login_name, archived=True))
    # facet counts count only readable documents too
    want_types: dict[str, int] = {}
    for d in matrix.readable(login_name, archived=True):
        want_types[d.type_key] = want_types.get(d.type_key, 0) + 1
    assert found["facets"].get("type", {}) == want_types
    FIGURES["leak.cells"] += len(matrix.forbidden(login_name))
    for variant in VARIANTS:
        docs = [d for d in matrix.docs if d.variant == variant]
        call("/search", query_string={"q": " OR ".join(d.file_canary for d in docs[:20]), "include_archived": 1})
    assert not leaks_of(matrix, login_name)


def test_contact_export_carries_no_document_data(matrix: Matrix, tmp_path: Path) -> None:
    from kundenakte.core.exchange.exporter import export_contacts

    for fmt, layout, encoding in (("vcard", "", "utf-8"), ("csv", "outlook-de", "cp1252"), ("csv", "google", "utf-8")):
        target = tmp_path / f"export-{layout}.{fmt}"
        assert export_contacts(matrix.ka, target, fmt=fmt, layout=layout or "outlook-de") >= 1
        body = target.read_text(encoding=encoding)
        assert "Matrix" in body
        for login_name in USERS:  # nobody may see document data in master data
            check_body(matrix, login_name, f"export {fmt}", 200, body, cells=len(matrix.docs))
        assert COMMON not in body and "zq" not in body


# -- templates: a group's template is not usable by others ----------------------------------------------


def test_template_restricted_to_a_group(matrix: Matrix, clients: dict[str, Any]) -> None:
    from kundenakte.plugins.communication import templates_service as svc

    ka = matrix.ka
    g = matrix.people.groups
    with ka.db.write() as s:
        tpl = svc.save_template(ka, s, matrix.people.viewer("owner"), {
            "name": "Vorlage zqvorlage", "base_type": "letter", "subject": "Betreff zqvorlage",
            "body": "<p>Text zqvorlage</p>", "readers": [f"g:{g['Vertrieb']}"]})
        tpl_id = tpl.id
    allowed = {"owner", "grouped", "nested", "admin"}
    for login_name in USERS:
        client = clients[login_name]
        page = client.get("/kommunikation/vorlage", query_string={"q": "zqvorlage"})
        body = page.get_data(as_text=True)
        FIGURES["leak.requests"] += 1
        FIGURES["leak.cells"] += 1
        if login_name == "nobody":
            assert page.status_code in (302, 401)
            continue
        assert ("Vorlage zqvorlage" in body) == (login_name in allowed), login_name
        assert login_name in allowed or "Text zqvorlage" not in body
        token = csrf_token(client, "/")
        response = client.post("/kommunikation/vorlage", data={"template_id": tpl_id, "contact_id": matrix.contact_id,
                                                               "csrf_token": token})
        FIGURES["leak.requests"] += 1
        if login_name in allowed:
            assert response.status_code == 302, (login_name, response.status_code)
        else:
            assert response.status_code in (403, 404), (login_name, response.status_code)
            if "Vorlage zqvorlage" in response.get_data(as_text=True):
                FIGURES["leak.leaks"] += 1
                PROBLEMS.append(f"LEAK: {login_name} sees template zqvorlage via POST /kommunikation/vorlage")
                pytest.fail("template leaked")
        for url in (f"/einstellungen/kommunikation/{tpl_id}", "/einstellungen/kommunikation"):
            body = client.get(url).get_data(as_text=True)
            FIGURES["leak.requests"] += 1
            FIGURES["leak.cells"] += 1
            if login_name not in allowed and "Vorlage zqvorlage" in body:
                FIGURES["leak.leaks"] += 1
                PROBLEMS.append(f"LEAK: {login_name} sees template zqvorlage on {url}")
                pytest.fail(f"template leaked on {url}")


# -- revocation is effective on the next request -----------------------------------------------------------


@pytest.mark.sqlite_only
def test_revocation_is_effective_on_the_next_request(ka: Any, people: Any) -> None:
    from kundenakte.web.app import create_app

    app = create_app(ka=ka)
    app.config.update(TESTING=True, WTF_CSRF_ENABLED=True)
    users, owner = people.users, people.viewer("owner")
    with ka.db.write() as s:
        grp = create_document(ka, s, owner, "testnote", DocumentInput(
            title="Gruppe zqrevgrp", content="<p>inhaltgrp</p>", data={"subject": "x"}, readers=[f"g:{people.groups['Vertrieb']}"])).id
        usr = create_document(ka, s, owner, "testnote", DocumentInput(
            title="Leser zqrevusr", content="<p>inhaltusr</p>", data={"subject": "x"}, readers=[f"u:{users['reader']}"])).id
    flush_index(ka)
    grouped, reader = app.test_client(), app.test_client()
    login(grouped, "grouped")
    login(reader, "reader")
    api = Api(api_app_for(ka).test_client(), make_token(ka, users["reader"]))

    def visible(client: Any, doc_id: int, word: str) -> tuple[bool, bool]:
        page = client.get(f"/dokumente/{doc_id}").status_code == 200
        query = "inhalt" + word[-3:]  # search the content, look for the title
        found = word in client.get("/suche", query_string={"q": query}).get_data(as_text=True)
        FIGURES["leak.requests"] += 2
        FIGURES["leak.cells"] += 2
        return page, found

    assert visible(grouped, grp, "zqrevgrp") == (True, True)
    assert visible(reader, usr, "zqrevusr") == (True, True)
    assert api.get(f"/documents/{usr}").status_code == 200
    with ka.db.write() as s:
        remove_members(s, "Vertrieb", ["grouped"])
        update_document(ka, s, owner, usr, DocumentInput.from_mapping({"readers": []}), expected_version=None)
    # the index has not caught up yet (nothing flushed): the next request must already refuse
    assert visible(grouped, grp, "zqrevgrp") == (False, False)
    assert visible(reader, usr, "zqrevusr") == (False, False)
    assert api.get(f"/documents/{usr}").status_code == 404
    assert api.get("/search", query_string={"q": "inhaltusr"}).get_json()["total"] == 0
    # and back
    with ka.db.write() as s:
        add_members(s, "Vertrieb", ["grouped"])
    assert visible(grouped, grp, "zqrevgrp")[0] is True
    # deactivation: the session of a user switched off is dead on the next request
    with ka.db.write() as s:
        s.get(User, users["reader"]).active = False
    response = reader.get(f"/dokumente/{usr}")
    assert response.status_code in (302, 401, 404)
    assert api.get("/documents").status_code == 401


@pytest.mark.parametrize("login_name", ["outsider", "reader", "grouped"])
def test_attachment_of_another_document_through_a_readable_one(matrix: Matrix, clients: dict[str, Any],
                                                               apis: dict[str, Api], login_name: str) -> None:
    """/dokumente/<readable>/anhang/<attachment of a forbidden document> must not hand the file out."""
    client, api = clients[login_name], apis[login_name]
    readable = next(d for d in matrix.docs if login_name in d.readers and d.variant == "star")
    for doc in matrix.forbidden(login_name):
        url = f"/dokumente/{readable.id}/anhang/{doc.attachment_id}"
        response = client.get(url)
        check_body(matrix, login_name, url, response.status_code, response.get_data(as_text=True), cells=1)
        assert response.status_code == 404, (url, response.status_code)
        response = api.get(f"/attachments/{doc.attachment_id}/content")
        check_body(matrix, login_name, "api content", response.status_code, response.get_data(as_text=True), cells=1)
        assert response.status_code == 404
