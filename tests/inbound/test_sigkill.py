"""Exactly-once after a real SIGKILL of ``kundenakte mail fetch`` in the middle of a batch."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from typing import Any

from sqlalchemy import func, select

from kundenakte.core.models import Document
from kundenakte.plugins.communication.inbound.fetch import fetch_account
from kundenakte.plugins.communication.inbound.models import InboundMessage
from tests.inbound import messages
from tests.inbound.test_fetch import make_account

TOTAL = 60


def _recorded(ka: Any) -> int:
    with ka.db.read() as s:
        return int(s.scalar(select(func.count()).select_from(InboundMessage)) or 0)


def test_sigkill_mid_batch_then_fetch_again_files_every_message_once(
        ka: Any, people: Any, dovecot: Any, database: str, tmp_path: Any) -> None:
    account_id = make_account(ka, dovecot, people)
    dovecot.append_many([messages.plain(subject=f"Nachricht {i:03d}", message_id=f"<n{i}@kunde.example>")
                         for i in range(TOTAL)])
    env = {**os.environ, "KUNDENAKTE_INSTANCE": str(tmp_path), "KUNDENAKTE_INDEX_ASYNC": "false"}
    if database != "sqlite":
        env["KUNDENAKTE_DATABASE_URL"] = database
    proc = subprocess.Popen([sys.executable, "-c", "from kundenakte.cli import main; main()", "mail", "fetch"], env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        # Wait (without a time limit of our own; pytest-timeout guards) until the child has filed some.
        while _recorded(ka) < 3 and proc.poll() is None:
            time.sleep(0.02)
        assert proc.poll() is None, proc.communicate()
        os.kill(proc.pid, signal.SIGKILL)
    finally:
        proc.wait()
    assert proc.returncode == -signal.SIGKILL
    at_kill = _recorded(ka)
    assert 3 <= at_kill < TOTAL, at_kill  # really mid-batch

    summary = fetch_account(ka, account_id)
    assert summary.imported == TOTAL - at_kill, summary
    with ka.db.read() as s:
        titles = list(s.scalars(select(Document.title).where(Document.type_key == "email")))
        rows = list(s.scalars(select(InboundMessage)))
    assert sorted(titles) == [f"Nachricht {i:03d}" for i in range(TOTAL)]  # each once, none lost
    assert len({(r.uidvalidity, r.uid) for r in rows}) == len(rows) == TOTAL
    assert all(r.state == "imported" and r.document_id for r in rows)
    assert all(r.handled for r in rows)  # flagged, also those the killed run had filed but not flagged
    assert dovecot.uids(criteria="UNSEEN") == []
    again = fetch_account(ka, account_id)
    assert (again.imported, again.skipped) == (0, TOTAL)
