"""Ids and history: a deleted document's id is never handed out again (SQLite AUTOINCREMENT since
0005_core; PostgreSQL sequences always), and its audit trail never shows on another document, not
even on an old database where the id *was* reused. Plus the migration itself: it keeps every row,
index, foreign key and trigger, on a database with data in it.
"""

from __future__ import annotations

import io
import os
import re
import sqlite3
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Iterator

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import create_engine, event, select, text

from kundenakte.core import migrate
from kundenakte.core.attachments import add_attachment
from kundenakte.core.documents import DocumentInput, create_document, delete_document
from kundenakte.core.models import Base, Document
from tests.conftest import PG_URL, make_ka
from tests.hardening import FIGURES
from tests.web.conftest import csrf_token, login

SECRET_TITLE = "Personalakte Meier – Abmahnung"
SECRET_FILE = "Abmahnung_Meier_vertraulich.pdf"
HISTORY_RE = re.compile(r'<section class="doc-section" id="verlauf">(.*?)</section>', re.S)


def _app(ka: Any) -> Any:
    from kundenakte.web.app import create_app

    app = create_app(ka=ka)
    app.config.update(TESTING=True, WTF_CSRF_ENABLED=True)
    return app


def _private_document_deleted(ka: Any, people: Any) -> int:
    """Owner writes a private document with an attachment, changes it, then deletes it."""
    owner = people.viewer("owner")
    with ka.db.write() as s:
        doc = create_document(ka, s, owner, "free_document", DocumentInput(title=SECRET_TITLE, content="<p>vertraulich</p>"))
        add_attachment(ka, s, owner, doc, io.BytesIO(b"%PDF-1.4 vertraulich"), SECRET_FILE)
        doc_id = doc.id
    with ka.db.write() as s:
        delete_document(ka, s, owner, doc_id)
    return doc_id


@contextmanager
def reused_id(doc_id: int) -> Iterator[None]:
    """The next document inserted gets ``doc_id``: what SQLite did before 0005_core."""
    unused = [doc_id]

    def take(_mapper: Any, _conn: Any, target: Document) -> None:
        if unused:
            target.id = unused.pop()

    event.listen(Document, "before_insert", take)
    try:
        yield
    finally:
        event.remove(Document, "before_insert", take)


def _create_as_reader(client: Any) -> tuple[int, str]:
    token = csrf_token(client, "/dokumente/neu/free_document")
    response = client.post("/dokumente/neu/free_document", data={"csrf_token": token, "title": "Neue Notiz",
                                                                  "content": "<p>Hallo</p>"})
    assert response.status_code == 302, response.get_data(as_text=True)[:500]
    doc_id = int(response.headers["Location"].rstrip("/").rsplit("/", 1)[1])
    page = client.get(f"/dokumente/{doc_id}").get_data(as_text=True)
    match = HISTORY_RE.search(page)
    assert match, "no Verlauf section"
    return doc_id, match.group(1)


def _assert_own_history_only(history: str) -> None:
    assert SECRET_FILE not in history and "Anhang hinzugefügt" not in history and "gelöscht" not in history, history
    assert "Owner" not in history, history
    assert history.count("<li>") == 1 and "Reader · angelegt" in history, history


def test_new_document_after_a_deletion_shows_no_foreign_history(ka: Any, people: Any) -> None:
    deleted = _private_document_deleted(ka, people)
    client = _app(ka).test_client()
    login(client, "reader")
    new_id, history = _create_as_reader(client)
    _assert_own_history_only(history)
    assert new_id > deleted  # SQLite: AUTOINCREMENT; PostgreSQL: its sequence
    assert client.get(f"/dokumente/{deleted}").status_code == 404
    FIGURES["ids.checked"] += 1


def test_history_of_a_reused_id_starts_after_the_deletion(ka: Any, people: Any) -> None:
    """An old database: the new document really has the deleted one's id."""
    deleted = _private_document_deleted(ka, people)
    client = _app(ka).test_client()
    login(client, "reader")
    with reused_id(deleted):
        new_id, history = _create_as_reader(client)
    assert new_id == deleted
    _assert_own_history_only(history)
    # Its own later entries still show.
    token = csrf_token(client, f"/dokumente/{new_id}/bearbeiten")
    version = re.search(r'name="version" value="(\d+)"', client.get(f"/dokumente/{new_id}/bearbeiten").get_data(as_text=True))
    assert version
    client.post(f"/dokumente/{new_id}/bearbeiten", data={"csrf_token": token, "version": version.group(1),
                                                         "title": "Neue Notiz 2", "content": "<p>x</p>"})
    history = HISTORY_RE.search(client.get(f"/dokumente/{new_id}").get_data(as_text=True)).group(1)  # type: ignore[union-attr]
    assert history.count("<li>") == 2 and "Reader · geändert" in history and SECRET_FILE not in history
    FIGURES["ids.reused_checked"] += 1


@pytest.mark.sqlite_only
def test_sqlite_never_hands_out_a_deleted_id_again(ka: Any, people: Any) -> None:
    owner = people.viewer("owner")
    ids = []
    for _ in range(3):
        with ka.db.write() as s:
            ids.append(create_document(ka, s, owner, "free_document", DocumentInput(title="x")).id)
        with ka.db.write() as s:
            delete_document(ka, s, owner, ids[-1])  # always the highest id: the one SQLite used to reuse
    assert ids == sorted(set(ids)), ids
    with ka.db.read() as s:
        for table in ("documents", "attachments", "users", "groups", "folders", "companies", "contacts", "audit_log",
                      "api_tokens", "comm_templates"):
            sql = s.scalar(text("SELECT sql FROM sqlite_master WHERE type = 'table' AND name = :t"), {"t": table})
            assert "AUTOINCREMENT" in sql, table


# -- the migration on a database that already has data ---------------------------------------------


def _plugin_models() -> None:
    import kundenakte.plugins.communication.models  # noqa: F401
    import kundenakte.plugins.sales.models  # noqa: F401


@pytest.fixture(params=["sqlite", "postgres"])
def empty_db(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Any]:
    """A Kundenakte on a database without any table (own schema on PostgreSQL)."""
    if request.param == "sqlite":
        ka = make_ka(tmp_path, "sqlite")
        yield ka
        ka.close()
        return
    request.getfixturevalue("_pg_ready")
    schema = f"ka_mig_{os.getpid()}"
    engine = create_engine(PG_URL)
    with engine.begin() as conn:
        conn.execute(text(f"DROP SCHEMA IF EXISTS {schema} CASCADE"))
        conn.execute(text(f"CREATE SCHEMA {schema}"))
    sep = "&" if "?" in PG_URL else "?"
    ka = make_ka(tmp_path, f"{PG_URL}{sep}options=-csearch_path%3D{schema}")
    yield ka
    ka.close()
    with engine.begin() as conn:
        conn.execute(text(f"DROP SCHEMA IF EXISTS {schema} CASCADE"))
    engine.dispose()


def _schema(ka: Any) -> dict[str, Any]:
    """Triggers, indexes and foreign keys as the database reports them."""
    with ka.db.engine.connect() as conn:
        if conn.dialect.name == "sqlite":
            rows = conn.execute(text("SELECT type, name, tbl_name, sql FROM sqlite_master WHERE type IN ('trigger', 'index') "
                                     "AND name NOT LIKE 'sqlite_autoindex%'")).all()
            fks = {}
            for (table,) in conn.execute(text("SELECT name FROM sqlite_master WHERE type = 'table'")):
                fks[table] = sorted(tuple(r[2:6]) + (r[6],) for r in conn.exec_driver_sql(f'PRAGMA foreign_key_list("{table}")'))
            return {"objects": sorted((r[0], r[1], r[2], " ".join((r[3] or "").split())) for r in rows), "fks": fks}
        triggers = conn.execute(text("SELECT tgname, tgrelid::regclass::text FROM pg_trigger WHERE NOT tgisinternal")).all()
        indexes = conn.execute(text("SELECT indexname, tablename, indexdef FROM pg_indexes WHERE schemaname = current_schema()")).all()
        fks = conn.execute(text("SELECT conname, pg_get_constraintdef(oid) FROM pg_constraint WHERE contype = 'f' "
                                "AND connamespace = current_schema()::regnamespace")).all()
        return {"objects": sorted(map(tuple, triggers)) + sorted(map(tuple, indexes)), "fks": sorted(map(tuple, fks))}


def test_migration_keeps_rows_indexes_foreign_keys_and_triggers(empty_db: Any) -> None:
    ka = empty_db
    migrate.upgrade(ka, "0003_core")
    sqlite = ka.db.is_sqlite
    with ka.db.engine.begin() as conn:
        run = conn.execute
        for i, (login, name) in enumerate((("lea", "Lea Müller"), ("lea2", "LEA MUELLER"), ("max", "Max"),
                                           ("lea3", "lea muller"))):
            run(text("INSERT INTO users (id, login, display_name, email, phone, signature, password_hash, active, is_admin, "
                     "language, created_at) VALUES (:id, :l, :n, '', '', '', '', true, false, 'de', CURRENT_TIMESTAMP)"),
                {"id": i + 1, "l": login, "n": name})
        run(text("INSERT INTO companies (id, name, name_folded, street, postal_code, city, city_folded, country, phone, email, "
                 "web, created_at, updated_at) VALUES (1, 'DOCHOUSE', 'dochouse', '', '', '', '', '', '', '', '', "
                 "CURRENT_TIMESTAMP, CURRENT_TIMESTAMP)"))
        for doc_id in (1, 2, 3):
            run(text("INSERT INTO documents (id, type_key, title, company_id, author_id, status, content, data, version, "
                     "created_at, updated_at) VALUES (:id, 'free_document', 't', 1, 1, '', '', '{}', 1, CURRENT_TIMESTAMP, "
                     "CURRENT_TIMESTAMP)"), {"id": doc_id})
            run(text("INSERT INTO document_acl (document_id, principal, role) VALUES (:id, '*', 'read')"), {"id": doc_id})
            run(text("INSERT INTO attachments (id, document_id, filename, mime_type, size, sha256, inline, created_at) "
                     "VALUES (:id, :id, 'a.pdf', 'application/pdf', 1, 'x', false, CURRENT_TIMESTAMP)"), {"id": doc_id})
        run(text("DELETE FROM documents WHERE id = 3"))  # the highest: SQLite handed it out again before 0005
        if not sqlite:  # the rows above were inserted with explicit ids, past the sequences
            for table, last in (("users", 4), ("companies", 1), ("documents", 3), ("attachments", 3)):
                run(text(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), {last})"))
        before_versions = dict(run(text("SELECT scope, version FROM overview_versions")).all())
    before = _schema(ka)

    migrate.upgrade(ka)

    after = _schema(ka)
    with ka.db.engine.begin() as conn:
        run = conn.execute
        assert run(text("SELECT count(*) FROM document_acl")).scalar() == 2  # no cascade through the rebuild
        assert run(text("SELECT count(*) FROM attachments")).scalar() == 2
        assert sorted(run(text("SELECT id FROM documents")).scalars()) == [1, 2]
        names = dict(run(text("SELECT login, display_name FROM users")).all())
        assert names == {"lea": "Lea Müller", "lea2": "LEA MUELLER (lea2)", "max": "Max", "lea3": "lea muller (lea3)"}
        assert run(text("SELECT count(*) FROM audit_log WHERE object_type = 'user' AND action = 'changed'")).scalar() == 2
        # The triggers of 0003 still count.
        run(text("UPDATE documents SET title = 'neu' WHERE id = 1"))
        versions = dict(run(text("SELECT scope, version FROM overview_versions")).all())
        assert versions["c:1"] > before_versions["c:1"]
        run(text("INSERT INTO documents (type_key, title, status, content, data, version, created_at, updated_at) "
                 "VALUES ('free_document', 'n', '', '', '{}', 1, CURRENT_TIMESTAMP, CURRENT_TIMESTAMP)"))
        new_id = run(text("SELECT max(id) FROM documents")).scalar()
        if sqlite:
            # Rows deleted before the migration are beyond what AUTOINCREMENT can know; every id
            # from now on is new. The history rule (test above) covers the gap.
            run(text("DELETE FROM documents WHERE id = :id"), {"id": new_id})
            run(text("INSERT INTO documents (type_key, title, status, content, data, version, created_at, updated_at) "
                     "VALUES ('free_document', 'n', '', '', '{}', 1, CURRENT_TIMESTAMP, CURRENT_TIMESTAMP)"))
            assert run(text("SELECT max(id) FROM documents")).scalar() == new_id + 1
        duplicate = None
        try:
            with conn.begin_nested():
                run(text("UPDATE users SET display_name = 'Lea Mueller', display_name_key = 'lea muller' WHERE login = 'max'"))
        except Exception as exc:  # noqa: BLE001 - the unique constraint's error differs per driver
            duplicate = exc
        assert duplicate is not None, "display_name_key is not unique"

    core_tables = {o[2] for o in before["objects"]} if sqlite else {o[1] for o in before["objects"]}

    def core(objects: list[Any]) -> set[Any]:
        return {o for o in objects if (o[2] if sqlite else o[1]) in core_tables}

    if sqlite:
        triggers = {o for o in before["objects"] if o[0] == "trigger"}
        assert len(triggers) == 10 and triggers <= set(after["objects"])  # recreated exactly
        assert core(after["objects"]) == core(before["objects"])  # every index, nothing lost or added
        for table, fks in before["fks"].items():
            assert after["fks"][table] == fks, table
    else:
        assert core(before["objects"]) <= core(after["objects"])
        assert {o[0] for o in core(after["objects"]) - core(before["objects"])} == {"uq_users_display_name_key"}
        assert set(before["fks"]) <= set(after["fks"])

    # The migrated schema is exactly what the models declare (nothing missing, nothing extra).
    _plugin_models()
    with ka.db.engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn, opts={"compare_type": True}), Base.metadata)
    # 0002_core adds varchar_pattern_ops indexes on PostgreSQL only (LIKE 'x%'); models cannot say that.
    diff = [d for d in diff if not (d[0] == "remove_index" and d[1].name.endswith("_pattern") and not sqlite)]
    # search_entry belongs to the PostgreSQL search backend's own migration (search0001), not to the models.
    diff = [d for d in diff if getattr(d[1], "name", "") != "search_entry"
            and getattr(getattr(d[1], "table", None), "name", "") != "search_entry"]
    assert diff == [], diff
    FIGURES["ids.migrations"] += 1


def test_migration_on_sqlite_file_passes_integrity_checks(tmp_path: Path) -> None:
    ka = make_ka(tmp_path, "sqlite")
    migrate.upgrade(ka)
    ka.close()
    with sqlite3.connect(tmp_path / "kundenakte.sqlite3") as conn:
        assert conn.execute("PRAGMA integrity_check").fetchall() == [("ok",)]
        assert conn.execute("PRAGMA foreign_key_check").fetchall() == []
