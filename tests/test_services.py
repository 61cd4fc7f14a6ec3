"""The write door (kundenakte.core.services): contacts, companies and groups, on SQLite and PostgreSQL.

One rule set, one error type carrying every field error at once, the same German words on every
surface (web form, API, importer), and no second writer left in the package.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import String, func, select

from kundenakte.core import services
from kundenakte.core.exchange import ContactRecord
from kundenakte.core.exchange.importer import plan_import
from kundenakte.core.models import AuditEntry, Company, Contact, Folder, Group, IndexQueue
from kundenakte.core.services import ValidationError
from kundenakte.core.validation import is_email
from tests.api import api_app, api_as  # noqa: F401 - fixtures
from tests.web.conftest import login, post

PACKAGE = Path(__file__).resolve().parents[1] / "kundenakte"


# -- contacts and companies -------------------------------------------------------------------------


def test_every_field_error_comes_back_at_once(ka: Any, people: Any) -> None:
    with ka.db.write() as s:
        with pytest.raises(ValidationError) as info:
            services.create_contact(s, {
                "last_name": "  ", "first_name": "v" * 121, "email": "kaputt", "phone": "1" * 61, "gender": "robot",
                "company_id": 999_999, "account_manager_id": 999_999, "fax": "1",
            }, by=people.users["owner"])
        assert info.value.errors == {
            "last_name": "Bitte einen Nachnamen angeben.",
            "first_name": "Höchstens 120 Zeichen.",
            "email": "Bitte eine gültige E-Mail-Adresse angeben.",
            "phone": "Höchstens 60 Zeichen.",
            "gender": "Bitte einen der angebotenen Werte wählen.",
            "company_id": "Unbekanntes Unternehmen.",
            "account_manager_id": "Unbekannter Benutzer.",
            "fax": "Unbekanntes Feld.",
        }
        with pytest.raises(ValidationError) as info:
            services.create_company(s, {"name": "", "email": "a@b", "web": "nope", "postal_code": "9" * 21}, by=None)
        assert info.value.errors == {
            "name": "Bitte einen Namen angeben.",
            "postal_code": "Höchstens 20 Zeichen.",
            "email": "Bitte eine gültige E-Mail-Adresse angeben.",
            "web": "Bitte eine gültige Webadresse angeben.",
        }
    with ka.db.read() as s:
        assert s.scalar(select(func.count()).select_from(Contact)) == 0
        assert s.scalar(select(func.count()).select_from(Company)) == 0


def test_lengths_come_from_the_columns(ka: Any) -> None:
    for model, fields in ((Contact, services.CONTACT_TEXT), (Company, services.COMPANY_TEXT)):
        columns = model.__table__.columns  # type: ignore[attr-defined]
        for f in fields:
            column_type = columns[f.name].type
            assert isinstance(column_type, String) and f.max_length == column_type.length, f.name
            assert f.check("x" * f.max_length) in (None, "Bitte eine gültige E-Mail-Adresse angeben.",
                                                   "Bitte eine gültige Webadresse angeben.")
            assert f.check("x" * (f.max_length + 1)) == f"Höchstens {column_type.length} Zeichen."
    # Every writable text column of a contact is declared (the folded copies are derived, not input).
    derived = {"name_folded", "city_folded", "gender", "language"}
    text_columns = {c.name for c in Contact.__table__.columns if isinstance(c.type, String)} - derived  # type: ignore[attr-defined]
    assert text_columns == {f.name for f in services.CONTACT_TEXT}


def test_create_update_delete_with_audit_index_and_address(ka: Any, people: Any) -> None:
    owner = people.users["owner"]
    with ka.db.write() as s:
        s.execute(IndexQueue.__table__.delete())  # type: ignore[attr-defined]
        company = services.create_company(s, {"name": "  Müller Bau AG ", "street": "Hauptstraße 1", "postal_code": "50667",
                                              "city": "Köln"}, by=owner, via="api")
        assert (company.name, company.country) == ("Müller Bau AG", "Deutschland")
        contact = services.create_contact(s, {"last_name": "Schäfer", "first_name": "Eva", "company_id": company.id,
                                              "email": " eva@mueller.example "}, by=owner)
        assert (contact.email, contact.street, contact.city, contact.use_company_address) == (
            "eva@mueller.example", "Hauptstraße 1", "Köln", True)
        loner = services.create_contact(s, {"last_name": "Allein", "city": "Bonn"}, by=owner)
        assert loner.use_company_address is False and loner.city == "Bonn"  # nothing to copy: the typed address stays
        ids = (company.id, contact.id, loner.id)
    with ka.db.write() as s:
        company = s.get(Company, ids[0])
        services.update_company(s, company, {"city": "Bonn", "postal_code": "53111"}, by=owner)
        assert s.get(Contact, ids[1]).city == "Bonn"  # the copy follows the company
        with pytest.raises(ValidationError):
            services.update_contact(s, s.get(Contact, ids[1]), {"last_name": ""}, by=owner)
        services.update_contact(s, s.get(Contact, ids[1]), {"position": "Einkauf"}, by=owner)
        with pytest.raises(services.InUse):
            services.delete_company(s, company, by=people.users["admin"])
        services.delete_contact(s, s.get(Contact, ids[2]), by=people.users["admin"])
    with ka.db.read() as s:
        entries = [(e.action, e.object_type, e.object_id) for e in s.scalars(
            select(AuditEntry).where(AuditEntry.object_type.in_(("contact", "company"))).order_by(AuditEntry.id))]
        assert entries == [("created", "company", ids[0]), ("created", "contact", ids[1]), ("created", "contact", ids[2]),
                           ("changed", "company", ids[0]), ("changed", "contact", ids[1]), ("deleted", "contact", ids[2])]
        queued = set(s.scalars(select(IndexQueue.object_key)))
        assert {f"company:{ids[0]}", f"contact:{ids[1]}", f"contact:{ids[2]}"} <= queued
        assert s.get(Contact, ids[1]).name_folded == "eva schaefer"


def test_one_message_on_every_surface(ka: Any, people: Any, api_app: Any, api_as: Any) -> None:  # noqa: F811
    """The same bad input says the same German sentence in the web form, the API and the importer."""
    bad = {"last_name": "x" * 121, "email": "kaputt"}
    expected = {"last_name": "Höchstens 120 Zeichen.", "email": "Bitte eine gültige E-Mail-Adresse angeben."}

    body = api_as("owner").post("/contacts", json=bad)
    assert body.status_code == 422 and body.get_json()["fields"] == expected

    client = api_app.test_client()
    login(client, "owner")
    # the form sends e-mails as rows (web/entry_rows.py): the same sentence beside the row
    response = post(client, "/kontakte/neu", {"last_name": bad["last_name"], "emails-0-value": bad["email"],
                                              "gender": "unknown", "language": "de"})
    page = response.get_data(as_text=True)
    assert response.status_code == 422
    assert all(message in page for message in expected.values())
    assert 'value="kaputt"' in page and "x" * 121 in page  # what was typed stays

    with ka.db.read() as s:
        (item,) = plan_import(s, [ContactRecord(**bad)]).items
    assert item.action == "skip"
    # the importer skips the record for its last name; a bad e-mail address alone costs only the address
    # (named as not kept) – in the same words
    assert item.reason == "Nachname: Höchstens 120 Zeichen."
    assert f"E-Mail „{bad['email']}“ nicht übernommen: Bitte eine gültige E-Mail-Adresse angeben." in item.warnings
    with ka.db.read() as s:
        assert s.scalar(select(func.count()).select_from(Contact)) == 0


def test_the_english_ui_shows_the_service_messages_in_english(ka: Any, people: Any, api_app: Any) -> None:  # noqa: F811
    from kundenakte.core.models import User

    with ka.db.write() as s:
        s.get(User, people.users["owner"]).language = "en"
    client = api_app.test_client()
    login(client, "owner")
    response = post(client, "/kontakte/neu", {"last_name": "", "emails-0-value": "kaputt", "phones-0-value": "1" * 61})
    page = response.get_data(as_text=True)
    assert response.status_code == 422
    assert "Please enter a last name." in page and "Please enter a valid e-mail address." in page
    assert "At most 60 characters." in page and "Bitte" not in page


# -- the one e-mail rule -------------------------------------------------------------------------------


@pytest.mark.parametrize(("text", "valid"), [("lea@dochouse.example", True), ("a.b+c@x.de", True), ("kaputt", False),
                                             ("a@b", False), ("a b@c.de", False), ("", False)])
def test_the_email_rule(text: str, valid: bool) -> None:
    assert is_email(text) is valid


def test_no_second_email_rule_or_writer_is_left() -> None:
    """No module outside the services builds contacts, companies or folders, writes their columns, or checks e-mail itself."""
    columns = sorted({c.name for model in (Contact, Company, Folder) for c in model.__table__.columns})  # type: ignore[attr-defined]
    forbidden = [
        (re.compile(r"(?<![\w.])(Contact|Company|Folder)\("), "builds a contact, company or folder"),
        (re.compile(r"\b(contact|company|folder|c|f|row|target)\.(" + "|".join(columns) + r")\s*=[^=]"), "sets a column"),
        (re.compile(r"setattr\((contact|company|folder)\b"), "sets a column"),
        (re.compile(r"(Contact|Company|Folder)\.__table__|_table\((Contact|Company|Folder)\)|table_of\((Contact|Company|Folder)\)"),
         "writes the table"),
        (re.compile(r"(copy|propagate)_company_address\("), "copies addresses"),
        (re.compile(r"\[\^@\\s\]|EMAIL_RE\b"), "a second e-mail pattern"),
    ]
    allowed = {Path("core/services"), Path("core/models.py"), Path("core/validation.py")}
    offenders = []
    for path in sorted(PACKAGE.rglob("*.py")):
        rel = path.relative_to(PACKAGE)
        if any(rel == a or a in rel.parents for a in allowed):
            continue
        for lineno, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            for pattern, what in forbidden:
                if pattern.search(line):
                    offenders.append(f"{rel}:{lineno}: {what}: {line.strip()}")
    assert offenders == []


def test_the_writer_check_can_fail(tmp_path: Path) -> None:
    """The patterns above do catch the old ways of writing (a check that cannot fail is a defect)."""
    samples = ["    contact = Contact(last_name=values['last_name'])", "        company.city = values['city']",
               "    setattr(contact, key, value)", 'EMAIL_RE = re.compile(r"^[^@\\s]+@")',
               "    copy_company_address(db(), contact)", "            folder = Folder(name=values['name'])",
               "    folder.name = name", "    folder.parent_id = None", "    db().add(Folder(name=n))"]
    columns = sorted({c.name for model in (Contact, Company, Folder) for c in model.__table__.columns})  # type: ignore[attr-defined]
    patterns = [re.compile(r"(?<![\w.])(Contact|Company|Folder)\("),
                re.compile(r"\b(contact|company|folder|c|f|row|target)\.(" + "|".join(columns) + r")\s*=[^=]"),
                re.compile(r"setattr\((contact|company|folder)\b"), re.compile(r"\[\^@\\s\]|EMAIL_RE\b"),
                re.compile(r"(copy|propagate)_company_address\(")]
    for sample in samples:
        assert any(p.search(sample) for p in patterns), sample


# -- groups --------------------------------------------------------------------------------------------


def test_a_group_is_never_its_own_ancestor(ka: Any, people: Any) -> None:
    with ka.db.write() as s:
        top = s.scalar(select(Group).where(Group.name == "Vertrieb"))
        child = s.scalar(select(Group).where(Group.name == "Vertrieb Nord"))
        grandchild = services.save_group(s, None, name="Vertrieb Nord-Ost", parent_id=child.id, by=None)
        for parent in (top, child, grandchild):
            with pytest.raises(ValidationError) as info:
                services.save_group(s, top, name=top.name, parent_id=parent.id, by=None)
            assert info.value.errors == {"parent_id": "Eine Gruppe kann nicht in sich selbst oder ihren Untergruppen liegen."}
        with pytest.raises(ValidationError) as info:
            services.save_group(s, None, name="Vertrieb", parent_id=999_999, by=None)
        assert set(info.value.errors) == {"name", "parent_id"}  # every error at once
        assert services.allowed_parents(s, top) == []
        assert {g.name for g in services.allowed_parents(s, grandchild)} == {"Vertrieb", "Vertrieb Nord"}
        services.set_group_parent(s, "Vertrieb Nord-Ost", "Vertrieb")
        assert grandchild.parent_id == top.id


def test_the_cli_refuses_a_group_cycle(ka: Any, people: Any) -> None:
    from click.testing import CliRunner

    from kundenakte import cli as cli_module

    context = cli_module.Context()
    context._ka = ka  # the test's instance instead of one from the environment
    runner = CliRunner()
    result = runner.invoke(cli_module.cli, ["group", "move", "Vertrieb", "--parent", "Vertrieb Nord"], obj=context)
    assert result.exit_code != 0
    assert "Eine Gruppe kann nicht in sich selbst oder ihren Untergruppen liegen." in result.output
    result = runner.invoke(cli_module.cli, ["group", "move", "Vertrieb Nord"], obj=context)
    assert result.exit_code == 0, result.output
    with ka.db.read() as s:
        assert s.scalar(select(Group.parent_id).where(Group.name == "Vertrieb Nord")) is None


# -- folders -------------------------------------------------------------------------------------------


def _folder_audit(s: Any, folder_id: int) -> list[tuple[str, dict[str, Any]]]:
    rows = s.scalars(select(AuditEntry).where(AuditEntry.object_type == "folder", AuditEntry.object_id == folder_id)
                     .order_by(AuditEntry.id))
    return [(a.action, dict(a.details)) for a in rows]


def test_folders_are_created_renamed_moved_and_deleted_with_audit_entries(ka: Any, people: Any) -> None:
    admin = people.users["admin"]
    top = people.folders["Schriftverkehr"]
    with ka.db.write() as s:
        child = services.create_folder(s, "  2026 ", top, by=admin)
        grandchild = services.create_folder(s, "Januar", child.id, by=admin)
        child_id, grandchild_id = child.id, grandchild.id
        assert child.name == "2026"
        with pytest.raises(ValidationError) as info:
            services.create_folder(s, "2026", top, by=admin)
        assert info.value.errors == {"name": "Einen Ordner mit diesem Namen gibt es hier schon."}
        with pytest.raises(ValidationError) as info:
            services.create_folder(s, "x" * 201, 999_999, by=admin)
        assert info.value.errors == {"name": "Bitte einen Namen mit höchstens 200 Zeichen angeben.",
                                     "parent_id": "Unbekannter Ordner."}  # every error at once
        services.create_folder(s, "2026", None, by=admin)  # the same name elsewhere is fine
        for parent in (child_id, grandchild_id):
            with pytest.raises(ValidationError) as info:
                services.move_folder(s, child, parent, by=admin)
            assert info.value.errors == {"parent_id": "Ein Ordner kann nicht in sich selbst oder seinen Unterordnern liegen."}
        with pytest.raises(ValidationError) as info:  # the top level already has a 2026
            services.move_folder(s, child, None, by=admin)
        assert info.value.errors == {"name": "Einen Ordner mit diesem Namen gibt es hier schon."}
        services.rename_folder(s, child, "Jahr 2026", by=admin)
        services.move_folder(s, child, people.folders["DOCHOUSE 4"], by=admin)
        with pytest.raises(services.InUse) as in_use:
            services.delete_folder(s, child, by=admin)
        assert str(in_use.value) == "Der Ordner enthält noch Unterordner; er kann nicht gelöscht werden."
        services.delete_folder(s, grandchild, by=admin)
        services.delete_folder(s, child, by=admin)
    with ka.db.read() as s:
        assert s.get(Folder, child_id) is None
        assert _folder_audit(s, child_id) == [
            ("created", {"name": "2026", "parent_id": top}),
            ("changed", {"before": "2026", "name": "Jahr 2026"}),
            ("changed", {"name": "Jahr 2026", "parent_before": top, "parent_id": people.folders["DOCHOUSE 4"]}),
            ("deleted", {"name": "Jahr 2026"}),
        ]
        assert [a for a, _ in _folder_audit(s, grandchild_id)] == ["created", "deleted"]


def test_a_folder_with_documents_is_not_deleted(ka: Any, people: Any) -> None:
    from kundenakte.core.documents import DocumentInput, create_document

    folder_id = people.folders["Schriftverkehr"]
    with ka.db.write() as s:
        create_document(ka, s, people.viewer("owner"), "testnote",
                        DocumentInput(title="a", data={"subject": "a"}, folder_ids=[folder_id]))
    with ka.db.write() as s:
        with pytest.raises(services.InUse) as info:
            services.delete_folder(s, s.get(Folder, folder_id), by=None)
        assert str(info.value) == "Im Ordner sind noch 1 Dokumente abgelegt; er kann nicht gelöscht werden."
    with ka.db.read() as s:
        assert s.get(Folder, folder_id) is not None
        assert _folder_audit(s, folder_id) == [("created", {"name": "Schriftverkehr", "parent_id": None})]


def test_the_cli_manages_folders_through_the_service(ka: Any, people: Any) -> None:
    from click.testing import CliRunner

    from kundenakte import cli as cli_module

    context = cli_module.Context()
    context._ka = ka
    runner = CliRunner()

    def run(*args: str) -> Any:
        return runner.invoke(cli_module.cli, list(args), obj=context)

    assert run("folder", "create", "2026", "--parent", "Schriftverkehr").exit_code == 0
    result = run("folder", "create", "2026", "--parent", "Schriftverkehr")
    assert result.exit_code != 0 and "Einen Ordner mit diesem Namen gibt es hier schon." in result.output
    result = run("folder", "move", "Schriftverkehr", "--parent", "Schriftverkehr/2026")
    assert result.exit_code != 0 and "nicht in sich selbst oder seinen Unterordnern" in result.output
    assert run("folder", "rename", "Schriftverkehr/2026", "Jahr 2026").exit_code == 0
    assert run("folder", "move", "Schriftverkehr/Jahr 2026", "--parent", "DOCHOUSE 4").exit_code == 0
    listing = run("folder", "list").output
    assert "DOCHOUSE 4 (id" in listing and "\n  Jahr 2026 (id" in listing
    result = run("folder", "delete", "Schriftverkehr/Jahr 2026")
    assert result.exit_code != 0 and "Unbekannter Ordner: Schriftverkehr/Jahr 2026" in result.output
    assert run("folder", "delete", "DOCHOUSE 4/Jahr 2026").exit_code == 0
    with ka.db.read() as s:
        entries = s.scalars(select(AuditEntry).where(AuditEntry.object_type == "folder",
                                                     AuditEntry.action != "created")).all()
        assert [(a.action, a.details.get("via")) for a in entries] == [("changed", "cli")] * 2 + [("deleted", "cli")]
        assert s.scalar(select(func.count()).select_from(Folder)) == 2


# -- documents: the public state change for plugins ----------------------------------------------------


def test_set_document_state_writes_audit_index_and_fires_after_commit(ka: Any, people: Any) -> None:
    from kundenakte.core.documents import DocumentInput, create_document
    from kundenakte.core.models import Document

    fired: list[dict[str, Any]] = []

    class Listener:
        @staticmethod
        def document_saved(document_id: int, created: bool, user_id: int | None) -> None:
            fired.append({"document_id": document_id, "created": created, "user_id": user_id})

    from kundenakte import hookimpl

    Listener.document_saved = staticmethod(hookimpl(Listener.document_saved))  # type: ignore[method-assign]
    ka.plugins.pm.register(Listener, name="listener-state")
    try:
        with ka.db.write() as s:
            doc = create_document(ka, s, people.viewer("owner"), "testnote",
                                  DocumentInput(title="Notiz", data={"subject": "Betreff"}))
            doc_id = doc.id
        fired.clear()
        with ka.db.write() as s:
            s.execute(IndexQueue.__table__.delete())  # type: ignore[attr-defined]
            doc = s.get(Document, doc_id)
            services.set_document_state(ka, s, doc, status="done", data_changes={"price": "12.50", "urgent": None},
                                        by=people.users["owner"], note="test")
            assert fired == []  # only after the commit
        assert fired == [{"document_id": doc_id, "created": False, "user_id": people.users["owner"]}]
        with ka.db.read() as s:
            doc = s.get(Document, doc_id)
            assert doc.status == "done" and doc.data["price"] == "12.50" and "urgent" not in doc.data
            assert str(doc.amount) == "12.50"  # the type's mirrored amount follows
            assert s.scalar(select(func.count()).select_from(IndexQueue).where(IndexQueue.object_key == f"doc:{doc_id}")) >= 1
            entry = s.scalars(select(AuditEntry).where(AuditEntry.object_type == "document", AuditEntry.object_id == doc_id)
                              .order_by(AuditEntry.id.desc())).first()
            assert entry.action == "changed" and entry.details == {"status": "done", "fields": ["price", "urgent"],
                                                                   "note": "test"}
    finally:
        ka.plugins.pm.unregister(name="listener-state")


# -- the index queue: written in one place -------------------------------------------------------------


def test_every_document_change_is_queued_once_per_transaction_by_the_mapper_events(ka: Any, people: Any) -> None:
    from kundenakte.core.documents import DocumentInput, create_document, update_document
    from kundenakte.core.models import Document, Folder

    def queued(s: Any, key: str) -> int:
        return int(s.scalar(select(func.count()).select_from(IndexQueue).where(IndexQueue.object_key == key)) or 0)

    owner = people.viewer("owner")
    with ka.db.write() as s:
        folder = s.scalar(select(Folder).where(Folder.name == "Schriftverkehr"))
        doc = create_document(ka, s, owner, "testnote", DocumentInput(title="a", data={"subject": "a"},
                                                                       folder_ids=[folder.id]))
        doc_id = doc.id
        update_document(ka, s, owner, doc_id, DocumentInput.from_mapping({"title": "b"}), expected_version=None)
        assert queued(s, f"doc:{doc_id}") == 1  # insert and update in one transaction: one row
    with ka.db.write() as s:
        s.execute(IndexQueue.__table__.delete())  # type: ignore[attr-defined]
    with ka.db.write() as s:  # a plain ORM change, written by nobody's service, is queued too
        s.get(Document, doc_id).title = "c"
    with ka.db.read() as s:
        assert queued(s, f"doc:{doc_id}") == 1
    with ka.db.write() as s:
        with pytest.raises(RuntimeError):
            with s.begin_nested():
                s.get(Document, doc_id).title = "d"
                s.flush()
                raise RuntimeError
        s.get(Document, doc_id).title = "e"  # after the savepoint's rollback the key is queued again
    with ka.db.read() as s:
        assert queued(s, f"doc:{doc_id}") == 2
    with ka.db.write() as s:
        s.execute(IndexQueue.__table__.delete())  # type: ignore[attr-defined]
        s.get(Folder, folder.id).name = "Schriftwechsel"  # index entries carry folder names
    with ka.db.read() as s:
        assert queued(s, f"doc:{doc_id}") == 1
