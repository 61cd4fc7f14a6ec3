"""After-commit work waits for the real commit: a released savepoint is not one.

SQLAlchemy reports the release of a savepoint (``begin_nested``) through the same ``after_commit``
event as the commit of the transaction. Inbound mail files each message inside a savepoint; before
this was guarded, ``document_saved`` ran while the outer transaction was still open (a hook's own
session could not see the document yet: the sales plugin never read e-invoices in mail), and the
files written inside a savepoint were forgotten as "committed" even when the outer transaction
then rolled back (a file left behind without a row).
"""

from __future__ import annotations

import io
from typing import Any

import pytest

from kundenakte.core.attachments import add_attachment
from kundenakte.core.documents import DocumentInput, create_document
from kundenakte.core.models import Document


def _recorder(ka: Any, monkeypatch: pytest.MonkeyPatch) -> list[bool]:
    seen: list[bool] = []
    real = ka.call

    def call(hook: str, session: Any = None, **kwargs: Any) -> Any:
        if hook == "document_saved":
            with ka.db.read() as s:  # what a hook sees in its own session
                seen.append(s.get(Document, kwargs["document_id"]) is not None)
        return real(hook, session, **kwargs)

    monkeypatch.setattr(ka, "call", call)
    return seen


def test_document_saved_runs_after_the_outer_commit(ka: Any, people: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    seen = _recorder(ka, monkeypatch)
    owner = people.viewer("owner")
    with ka.db.write() as s:
        with s.begin_nested():
            create_document(ka, s, owner, "testnote", DocumentInput(title="Im Savepoint", data={"subject": "x"}))
        assert seen == []  # the savepoint is released, the transaction is not committed
    assert seen and all(seen)


def test_outer_rollback_after_a_savepoint_fires_nothing_and_leaves_no_file(ka: Any, people: Any,
                                                                              monkeypatch: pytest.MonkeyPatch) -> None:
    seen = _recorder(ka, monkeypatch)
    owner = people.viewer("owner")
    sha = ""
    with pytest.raises(RuntimeError):
        with ka.db.write() as s:
            with s.begin_nested():
                doc = create_document(ka, s, owner, "testnote", DocumentInput(title="Verworfen", data={"subject": "x"}))
                sha = add_attachment(ka, s, owner, doc, io.BytesIO(b"nur im Savepoint geschrieben"), "a.txt").sha256
            assert ka.storage.exists(sha)
            raise RuntimeError("the outer transaction fails after the savepoint")
    assert seen == []
    assert not ka.storage.exists(sha)
