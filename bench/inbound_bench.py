"""Inbound mail benchmark: N messages with attachments from a local Dovecot into a fresh SQLite instance.

    python bench/inbound_bench.py --messages 1000

Starts Debian's Dovecot on a free loopback port (the test fixture's throwaway config), delivers N
messages by IMAP APPEND (every one with a PDF attachment, a third also HTML, some for known
contacts, the rest unassigned), then times ``fetch_account`` — the whole way of ``kundenakte mail
fetch``: size check, download, parse, match, create the documents and attachments through the core
services, record, flag — and prints one line with messages/s and the process's memory high-water
mark (``ru_maxrss``, the whole process: the instance's start-up included). Target: ≥ 20 messages/s.

Beside it, on the same messages in the same run: the time until the last message is findable
(index queue drained, attachment text extracted), and the baseline — the raw download of the same
messages with ``imaplib`` (one ``UID FETCH BODY.PEEK[]`` each, what the fetcher itself sends), so
the line shows what filing costs on top of the IMAP round trips.
"""

from __future__ import annotations

import argparse
import email.utils
import imaplib
import os
import resource
import shutil
import sys
import tempfile
import time
from email.message import EmailMessage
from email.policy import SMTP
from pathlib import Path

from sqlalchemy import func, select  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from kundenakte.core import acl, migrate, services  # noqa: E402
from kundenakte.core.config import load_settings  # noqa: E402
from kundenakte.core.models import Attachment, User  # noqa: E402
from kundenakte.core.runtime import Kundenakte  # noqa: E402
from kundenakte.core.users import create_user  # noqa: E402
from kundenakte.plugins.communication.inbound import accounts  # noqa: E402
from kundenakte.plugins.communication.inbound.fetch import fetch_account  # noqa: E402
from tests.inbound.conftest import start_dovecot  # noqa: E402

UNEXTRACTED = select(func.count()).select_from(Attachment).where(Attachment.text.is_(None), Attachment.inline.is_(False))
PDF = Path(__file__).resolve().parents[2] / "shared" / "testdata" / "pdf" / "crazyones.pdf"


def message(i: int, pdf: bytes) -> bytes:
    msg = EmailMessage()
    known = i % 2 == 0
    msg["From"] = f"Kunde {i % 100} <kunde{i % 100}@firma{i % 100}.example>" if known else f"Fremd <x{i}@gmail.com>"
    msg["To"] = "ablage@example.org"
    msg["Subject"] = f"Anfrage Nr. {i} – Größe und Übergabe"
    msg["Date"] = email.utils.format_datetime(email.utils.localtime())
    msg["Message-ID"] = f"<bench-{i}@firma.example>"
    msg.set_content(f"Guten Tag,\n\nanbei Unterlagen zu Vorgang {i}.\n\nGrüße")
    if i % 3 == 0:
        msg.add_alternative(f"<p>Guten Tag,</p><p>anbei Unterlagen zu <b>Vorgang {i}</b>.</p>", subtype="html")
    msg.add_attachment(pdf, maintype="application", subtype="pdf", filename=f"Unterlagen-{i}.pdf")
    return msg.as_bytes(policy=SMTP)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--messages", "-n", type=int, default=1000)
    args = parser.parse_args()
    pdf = PDF.read_bytes() if PDF.exists() else b"%PDF-1.4\n" + b"0" * 20000 + b"\n%%EOF\n"
    server, proc, root = start_dovecot({"ablage": "ablage-pw"})
    try:
        # Delivered in chunks, so the messages built here do not set the memory high-water mark.
        for start in range(0, args.messages, 100):
            server.append_many([message(i, pdf) for i in range(start, min(start + 100, args.messages))])
        with tempfile.TemporaryDirectory(prefix="ka-inbound-bench-") as tmp:
            ka = Kundenakte(load_settings({"instance": Path(tmp) / "instance"}))
            migrate.upgrade(ka)
            try:
                with ka.db.write() as s:
                    admin = create_user(s, "admin", "bench-passwort-123", display_name="Admin", is_admin=True,
                                        email="admin@example.org")
                    for c in range(100):
                        company = services.create_company(s, {"name": f"Firma {c}", "email": f"info@firma{c}.example"},
                                                          by=None)
                        services.create_contact(s, {"first_name": "Kunde", "last_name": str(c),
                                                    "email": f"kunde{c}@firma{c}.example", "company_id": company.id},
                                                by=None)
                    viewer = acl.viewer_for(s, s.get(User, admin.id))
                    account = accounts.save_account(ka, s, viewer, {
                        "name": "Ablage", "kind": "shared", "host": server.host, "port": str(server.port),
                        "security": "plain", "username": "ablage", "password": "ablage-pw", "folder": "INBOX",
                        "after_import": "flag", "poll_minutes": "0", "max_size_mb": "20", "active": True})
                    account_id = account.id
                raw_seconds = raw_download(server.host, server.port, "ablage", "ablage-pw")
                rss_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
                start, cpu_start = time.perf_counter(), time.process_time()
                summary = fetch_account(ka, account_id)
                seconds = time.perf_counter() - start
                cpu = time.process_time() - cpu_start
                while True:
                    with ka.db.read() as s:
                        if not ka.search.queue_length(s) and not s.scalar(UNEXTRACTED):
                            break
                    time.sleep(0.05)
                findable = time.perf_counter() - start
                rss_peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
                assert summary.imported == args.messages and not summary.failed, summary
            finally:
                ka.close()
    finally:
        proc.terminate()
        proc.wait(10)
        shutil.rmtree(root, ignore_errors=True)
    print(f"messages={args.messages} seconds={seconds:.2f} messages/s={args.messages / seconds:.1f} "
          f"(process CPU {cpu:.2f} s, load {os.getloadavg()[0]:.1f}) "
          f"findable_s={findable:.2f} (findable/s={args.messages / findable:.1f}) "
          f"baseline_raw_imap_download_s={raw_seconds:.2f} (messages/s={args.messages / raw_seconds:.1f}) "
          f"(attachment {len(pdf) // 1024} KB each, {summary.imported} filed) "
          f"rss_peak_mb={rss_peak / 1024:.0f} (before fetch {rss_before / 1024:.0f})")


def raw_download(host: str, port: int, user: str, password: str) -> float:
    """The baseline: the same messages downloaded one by one with imaplib, nothing filed."""
    conn = imaplib.IMAP4(host, port)
    conn.login(user, password)
    conn.select("INBOX", readonly=True)
    _typ, data = conn.uid("SEARCH", "ALL")
    uids = data[0].split()
    start = time.perf_counter()
    for uid in uids:
        conn.uid("FETCH", uid, "(BODY.PEEK[])")
    seconds = time.perf_counter() - start
    conn.logout()
    return seconds


if __name__ == "__main__":
    main()
