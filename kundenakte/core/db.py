"""Engine and session factories.

SQLite runs in WAL mode with foreign keys on. Three kinds of session:

* ``read()`` / ``session()``: a deferred transaction, for reading.
* ``write()`` / ``session(write=True)``: starts with ``BEGIN IMMEDIATE``, so the whole block holds
  the database write lock (read-increment-write code such as voucher numbers relies on that).
* ``request_session()``: what a web request uses. It reads in a deferred transaction and takes the
  write lock only at its first writing statement, by ending the read transaction and beginning an
  immediate one: write transactions last as long as the write, not as long as the request (a slow
  client, a form that fails validation or a page rendered in between never hold the lock). If
  another connection committed between the first read and the lock, what was read may be stale:
  the session then raises :class:`WriteRace` (before anything is written) and the web layer runs
  the request again inside a write transaction from its start (``restart_as_writer``), which is
  what every request did before. Once the session has committed, later transactions of the same
  request move to the write lock the same way but do not raise (the committed part cannot be
  repeated); their reads are then "read committed", as on PostgreSQL.

Taking the lock is never an in-place upgrade of a read transaction: SQLite answers such an upgrade
with an immediate "database is locked" instead of waiting, while ``BEGIN IMMEDIATE`` waits for the
busy timeout. On PostgreSQL all three are ordinary transactions (row locks are taken at the write).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.orm import Session, sessionmaker

SQLITE_BUSY_TIMEOUT_MS = 30_000
# Connections per process: at least two per request thread (web/app.py serves 8) plus background threads.
SQLITE_POOL = {"pool_size": 16, "max_overflow": 32}
POSTGRES_POOL = {"pool_size": 10, "max_overflow": 20}

_WRITE_HEAD = re.compile(r"\s*(INSERT|UPDATE|DELETE|REPLACE|CREATE|DROP|ALTER)\b", re.IGNORECASE)
_WRITE_ANYWHERE = re.compile(r"\b(INSERT|UPDATE|DELETE|REPLACE)\b", re.IGNORECASE)
# conn.info key: None (not a lazy transaction), "fresh", "read" or "write".
_PHASE = "kundenakte_lazy_phase"


class WriteRace(Exception):
    """Another connection committed between this transaction's first read and its first write."""


def _writes(statement: str, context: Any) -> bool:
    if context is not None and (getattr(context, "isinsert", False) or getattr(context, "isupdate", False)
                                or getattr(context, "isdelete", False)):
        return True
    if _WRITE_HEAD.match(statement):
        return True
    return statement.lstrip()[:4].upper() == "WITH" and bool(_WRITE_ANYWHERE.search(statement))


def _take_write_lock(conn: Any, dbapi_conn: Any) -> None:
    """End the deferred transaction and begin an immediate one; WriteRace if data changed meanwhile."""
    phase = conn.info.get(_PHASE)
    check = phase == "read" and conn.get_execution_options().get("sqlite_race") == "raise"
    cur = dbapi_conn.cursor()
    try:
        # data_version is constant inside a read transaction and changes when another connection
        # commits, so equal values mean nobody wrote between our snapshot and our lock.
        before = cur.execute("PRAGMA data_version").fetchone()[0] if check else None
        cur.execute("COMMIT")
        cur.execute("BEGIN IMMEDIATE")
        after = cur.execute("PRAGMA data_version").fetchone()[0] if check else None
    finally:
        cur.close()
    conn.info[_PHASE] = "write"
    if check and before != after:
        raise WriteRace("the data read for this write changed in between")


def _configure_sqlite(engine: Engine) -> None:
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_conn: Any, _record: Any) -> None:
        # Take transaction control away from the driver so that we can say BEGIN IMMEDIATE.
        dbapi_conn.isolation_level = None
        cur = dbapi_conn.cursor()
        cur.execute("PRAGMA journal_mode=WAL")
        cur.execute("PRAGMA foreign_keys=ON")
        cur.execute("PRAGMA synchronous=NORMAL")
        cur.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
        cur.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Any) -> None:
        mode = conn.get_execution_options().get("sqlite_begin", "DEFERRED")
        if mode == "LAZY":
            conn.info[_PHASE] = "fresh"
            mode = "DEFERRED"
        else:
            conn.info.pop(_PHASE, None)
        conn.exec_driver_sql(f"BEGIN {mode}")

    @event.listens_for(engine, "before_cursor_execute")
    def _before_execute(conn: Any, cursor: Any, statement: str, _params: Any, context: Any, _many: bool) -> None:
        phase = conn.info.get(_PHASE)
        if phase is None or phase == "write":
            return
        if _writes(statement, context):
            _take_write_lock(conn, cursor.connection)
        elif phase == "fresh":
            conn.info[_PHASE] = "read"

    @event.listens_for(engine, "savepoint")
    def _on_savepoint(conn: Any, _name: str) -> None:
        # A savepoint's release must not outlive a COMMIT: take the lock before the first one.
        if conn.info.get(_PHASE) in ("fresh", "read"):
            _take_write_lock(conn, conn.connection.dbapi_connection)

    @event.listens_for(engine, "commit")
    def _on_commit(conn: Any) -> None:
        conn.info.pop(_PHASE, None)

    @event.listens_for(engine, "rollback")
    def _on_rollback(conn: Any) -> None:
        conn.info.pop(_PHASE, None)


class Database:
    """One engine; read, write and request session factories."""

    def __init__(self, url: str, *, echo: bool = False) -> None:
        self.url = url
        self.is_sqlite = url.startswith("sqlite")
        kwargs: dict[str, Any] = {"echo": echo, "future": True}
        if self.is_sqlite:
            kwargs["connect_args"] = {"check_same_thread": False, "timeout": SQLITE_BUSY_TIMEOUT_MS / 1000}
        else:
            kwargs["pool_pre_ping"] = True
        # A request thread may hold its session's connection while it opens a short second one
        # (throttle, token check, blob check); with 8 threads per worker plus the index and mail
        # threads the default pool (5 + 10) could run dry with every thread waiting for a second one.
        bare = url.rstrip("/")
        in_memory = self.is_sqlite and (bare.endswith(":memory:") or bare in ("sqlite:", "sqlite+pysqlite:"))
        if not in_memory:  # an in-memory database has a single-connection pool of its own
            kwargs.update(SQLITE_POOL if self.is_sqlite else POSTGRES_POOL)
        self.engine: Engine = create_engine(url, **kwargs)
        self._write_engine: Engine
        self._lazy_engine: Engine
        self._lazy_committed_engine: Engine
        if self.is_sqlite:
            _configure_sqlite(self.engine)
            self._write_engine = self.engine.execution_options(sqlite_begin="IMMEDIATE")
            self._lazy_engine = self.engine.execution_options(sqlite_begin="LAZY", sqlite_race="raise")
            self._lazy_committed_engine = self.engine.execution_options(sqlite_begin="LAZY", sqlite_race="ignore")
        else:
            self._write_engine = self._lazy_engine = self._lazy_committed_engine = self.engine
        self._read_factory: Callable[[], Session] = sessionmaker(bind=self.engine, expire_on_commit=False)
        self._write_factory: Callable[[], Session] = sessionmaker(bind=self._write_engine, expire_on_commit=False)
        self._request_factory: Callable[[], Session] = sessionmaker(bind=self._lazy_engine, expire_on_commit=False)
        if self.is_sqlite:
            event.listen(self._request_factory, "after_commit", self._after_request_commit)

    @property
    def factories(self) -> tuple[Callable[[], Session], ...]:
        """Every session factory, for listeners that must see all sessions' transactions."""
        return (self._read_factory, self._write_factory, self._request_factory)

    def session(self, *, write: bool = False) -> Session:
        """A new session; ``write=True`` for one that holds the write lock from its start."""
        return (self._write_factory if write else self._read_factory)()

    def request_session(self) -> Session:
        """A session that takes the write lock only at its first write (see the module docstring)."""
        return self._request_factory()

    def restart_as_writer(self, session: Session) -> None:
        """After :class:`WriteRace`: roll back and run every later transaction under the write lock."""
        session.rollback()
        session.bind = self._write_engine

    def _after_request_commit(self, session: Session) -> None:
        if session.bind is self._lazy_engine:
            session.bind = self._lazy_committed_engine

    @contextmanager
    def read(self) -> Iterator[Session]:
        session = self.session()
        try:
            yield session
        finally:
            session.close()

    @contextmanager
    def write(self) -> Iterator[Session]:
        """A write transaction: committed when the block ends, rolled back on error."""
        session = self.session(write=True)
        try:
            yield session
            session.commit()
        except BaseException:
            session.rollback()
            raise
        finally:
            session.close()

    def dispose(self) -> None:
        self.engine.dispose()
