"""Event hooks and a plugin-owned hookspec, each with a real implementation in a test plugin.

``startup``, ``document_saved``, ``document_deleted``, ``document_archived`` (core hookspecs) and
``communication_mail_sent`` (added by the communication plugin through ``add_hookspecs``) are
implemented by :class:`Recorder`; the test drives the real write paths and checks what arrived,
and that nothing arrives for a rolled-back transaction.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from kundenakte import hookimpl
from kundenakte.core.documents import DocumentInput, create_document, delete_document
from kundenakte.core.retention import archive_due_documents
from tests import testplugin
from tests.conftest import People, make_ka


class Recorder:
    """A plugin object: every call it receives, in order."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, Any]] = []

    @hookimpl
    def startup(self, ka: Any) -> None:
        self.calls.append(("startup", ka))

    @hookimpl
    def document_saved(self, ka: Any, document_id: int, created: bool, user_id: int | None) -> None:
        self.calls.append(("document_saved", (document_id, created, user_id)))

    @hookimpl
    def document_deleted(self, ka: Any, document_id: int, user_id: int | None) -> None:
        self.calls.append(("document_deleted", (document_id, user_id)))

    @hookimpl
    def document_archived(self, ka: Any, document_id: int) -> None:
        self.calls.append(("document_archived", document_id))

    @hookimpl
    def communication_mail_sent(self, ka: Any, document_id: int, message_id: str) -> None:
        self.calls.append(("communication_mail_sent", (document_id, message_id)))

    def named(self, name: str) -> list[Any]:
        return [args for hook, args in self.calls if hook == name]


@pytest.fixture
def recorded(tmp_path: Any, database: str) -> Any:
    recorder = Recorder()
    ka = make_ka(tmp_path, database, extra_plugins=[("testtypes", testplugin), ("recorder", recorder)])
    yield ka, recorder, People(ka)
    ka.close()


def test_startup_is_called_once_with_the_instance(recorded: Any) -> None:
    ka, recorder, _people = recorded
    assert recorder.named("startup") == [ka]


def test_document_saved_deleted_and_archived_after_commit_only(recorded: Any) -> None:
    ka, recorder, people = recorded
    owner = people.viewer("owner")
    ka.clock.set(dt.date(2026, 1, 10))
    with ka.db.write() as s:
        gone = create_document(ka, s, owner, "testnote", DocumentInput(title="weg", data={"subject": "x"})).id
        old = create_document(ka, s, owner, "testnote", DocumentInput(
            title="alt", data={"subject": "alt"}, document_date="2024-01-01")).id
    uid = people.users["owner"]
    assert recorder.named("document_saved") == [(gone, True, uid), (old, True, uid)]
    with pytest.raises(RuntimeError), ka.db.write() as s:
        delete_document(ka, s, owner, gone)
        raise RuntimeError("rolled back")
    assert recorder.named("document_deleted") == []  # never for a rolled-back transaction
    with ka.db.write() as s:
        delete_document(ka, s, owner, gone)
    assert recorder.named("document_deleted") == [(gone, people.users["owner"])]
    assert [d.id for d in archive_due_documents(ka)] == [old]
    assert recorder.named("document_archived") == [old]


def test_a_plugin_owned_hook_is_added_and_called(recorded: Any) -> None:
    """The communication plugin adds ``communication_mail_sent`` (add_hookspecs) and fires it after sending."""
    from kundenakte.plugins.communication.outbox import deliver_queued
    from tests.communication.test_outbox import NOW, configure, draft, queue

    ka, recorder, people = recorded
    spec = ka.plugins.pm.hook.communication_mail_sent.spec
    assert spec is not None and spec.argnames == ("ka", "document_id", "message_id")
    configure(ka)  # no SMTP server: the outbox files an .eml file; the hook fires for it as well
    doc_id = draft(ka, people)
    message_id = queue(ka, people, doc_id)
    assert recorder.named("communication_mail_sent") == []
    assert deliver_queued(ka, now=NOW).filed == [doc_id]
    assert recorder.named("communication_mail_sent") == [(doc_id, message_id)]


def test_a_broken_add_hookspecs_leaves_only_that_plugin_out(tmp_path: Any, database: str) -> None:
    class Broken:
        @hookimpl
        def add_hookspecs(self, pm: Any) -> None:
            raise RuntimeError("kaputt")

    ka = make_ka(tmp_path, database, extra_plugins=[("testtypes", testplugin), ("broken", Broken())])
    try:
        report = ka.plugins.reports["broken"]
        assert not report.loaded and "add_hookspecs failed" in report.error
        assert ka.plugins.reports["communication"].loaded
    finally:
        ka.close()
