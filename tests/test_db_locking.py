"""The request session's write lock: taken at the first write, not at the first read (core/db.py).

SQLite is probed from a separate raw connection with no busy timeout: ``BEGIN IMMEDIATE`` there
fails at once while someone holds the write lock. On PostgreSQL the request session is an ordinary
session; the web retry never triggers there.
"""

from __future__ import annotations

import sqlite3
from typing import Any

import pytest
from sqlalchemy import select

from kundenakte.core.db import WriteRace
from kundenakte.core.models import Folder


def _lock_is_free(ka: Any) -> bool:
    path = ka.settings.effective_database_url.removeprefix("sqlite:///")
    probe = sqlite3.connect(path, timeout=0, isolation_level=None)
    try:
        probe.execute("BEGIN IMMEDIATE")
        probe.execute("ROLLBACK")
        return True
    except sqlite3.OperationalError as exc:
        assert "locked" in str(exc)
        return False
    finally:
        probe.close()


def _names(ka: Any) -> set[str]:
    with ka.db.read() as s:
        return set(s.scalars(select(Folder.name)))


@pytest.mark.sqlite_only
def test_reads_leave_the_lock_free_the_first_write_takes_it(ka: Any) -> None:
    session = ka.db.request_session()
    try:
        session.scalars(select(Folder)).all()
        assert _lock_is_free(ka)  # a request that only reads (or still validates) blocks no writer
        session.add(Folder(name="erster"))
        session.flush()
        assert not _lock_is_free(ka)  # from the first write until the commit
        session.commit()
        assert _lock_is_free(ka)
    finally:
        session.close()
    assert "erster" in _names(ka)


@pytest.mark.sqlite_only
def test_a_commit_in_between_is_a_race_raised_before_anything_is_written(ka: Any) -> None:
    session = ka.db.request_session()
    try:
        session.scalars(select(Folder)).all()
        with ka.db.write() as other:
            other.add(Folder(name="dazwischen"))
        session.add(Folder(name="veraltet"))
        with pytest.raises(WriteRace):
            session.flush()
        ka.db.restart_as_writer(session)
        session.scalars(select(Folder)).all()
        assert not _lock_is_free(ka)  # the repetition holds the lock from its first statement
        session.add(Folder(name="wiederholt"))
        session.commit()
    finally:
        session.close()
    assert _names(ka) == {"dazwischen", "wiederholt"}


@pytest.mark.sqlite_only
def test_no_race_without_a_commit_in_between_and_none_after_an_own_commit(ka: Any) -> None:
    session = ka.db.request_session()
    try:
        session.scalars(select(Folder)).all()
        session.add(Folder(name="eins"))
        session.commit()  # nobody else wrote: no race
        # after a commit of its own the request cannot be repeated; later writes take the lock
        # the same way but never raise
        session.scalars(select(Folder)).all()
        with ka.db.write() as other:
            other.add(Folder(name="anderer"))
        session.add(Folder(name="zwei"))
        session.commit()
    finally:
        session.close()
    assert _names(ka) == {"eins", "zwei", "anderer"}


def test_a_view_whose_reads_went_stale_runs_once_more_under_the_lock(ka: Any, app: Any) -> None:
    from kundenakte.web.app import csrf
    from kundenakte.web.context import db

    runs: list[int] = []

    def race_view() -> str:
        runs.append(len(runs) + 1)
        db().scalars(select(Folder)).all()
        if len(runs) == 1:
            with ka.db.write() as other:  # another user saves between our read and our write
                other.add(Folder(name="kollege"))
        db().add(Folder(name=f"lauf-{len(runs)}"))
        db().commit()
        return "ok"

    app.add_url_rule("/_test/race", "test_race", race_view, methods=["POST"])
    csrf.exempt(race_view)
    response = app.test_client().post("/_test/race")
    assert response.status_code == 200
    if ka.db.is_sqlite:
        assert runs == [1, 2] and _names(ka) == {"kollege", "lauf-2"}
    else:  # PostgreSQL: ordinary read-committed transactions, no repetition
        assert runs == [1] and _names(ka) == {"kollege", "lauf-1"}
