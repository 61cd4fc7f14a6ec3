"""A real Dovecot (Debian's dovecot-imapd) per test, on a free loopback port with a throwaway config.

Dovecot runs in the foreground as a child of the test (``dovecot -F -c …``); its config, state and
maildirs live in a fresh temporary folder. Login is PLAIN over an unencrypted loopback listener
(passwd-file passdb, static userdb). Dovecot refuses to run mail or login processes as root, so
under root they run as Debian's ``dovecot``/``dovenull`` users and the folder is made theirs.
"""

from __future__ import annotations

import imaplib
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

DOVECOT = "/usr/sbin/dovecot"
HOST = "127.0.0.1"


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((HOST, 0))
        return int(sock.getsockname()[1])


@dataclass
class Dovecot:
    port: int
    root: Path
    users: dict[str, str]

    host: str = HOST

    def imap(self, user: str = "ablage") -> imaplib.IMAP4:
        conn = imaplib.IMAP4(self.host, self.port, timeout=30)
        conn.login(user, self.users[user])
        return conn

    def append(self, raw: bytes, *, user: str = "ablage", folder: str = "INBOX") -> None:
        """Deliver a message with IMAP APPEND, as a mail client would file it."""
        conn = self.imap(user)
        try:
            typ, data = conn.append(folder, None, None, raw)
            assert typ == "OK", data
        finally:
            conn.logout()

    def append_many(self, messages: list[bytes], *, user: str = "ablage", folder: str = "INBOX") -> None:
        conn = self.imap(user)
        try:
            for raw in messages:
                typ, data = conn.append(folder, None, None, raw)
                assert typ == "OK", data
        finally:
            conn.logout()

    def uids(self, *, user: str = "ablage", folder: str = "INBOX", criteria: str = "ALL") -> list[int]:
        conn = self.imap(user)
        try:
            conn.select(folder)
            _typ, data = conn.uid("SEARCH", criteria)
            return [int(x) for x in data[0].split()]
        finally:
            conn.logout()

    def create_folder(self, name: str, *, user: str = "ablage") -> None:
        conn = self.imap(user)
        try:
            conn.create(name)
        finally:
            conn.logout()


def _config(root: Path, port: int, mail_uid: int, mail_gid: int, internal: str, login: str) -> str:
    return f"""
base_dir = {root}/run
state_dir = {root}/state
log_path = {root}/dovecot.log
protocols = imap
listen = {HOST}
ssl = no
disable_plaintext_auth = no
auth_mechanisms = plain login
default_internal_user = {internal}
default_internal_group = {internal}
default_login_user = {login}
mail_location = maildir:{root}/mail/%u
mail_max_userip_connections = 100
first_valid_uid = {mail_uid}
first_valid_gid = {mail_gid}
imap_max_line_length = 2M
passdb {{
  driver = passwd-file
  args = scheme=PLAIN username_format=%u {root}/users
}}
userdb {{
  driver = static
  args = uid={mail_uid} gid={mail_gid} home={root}/home/%u
}}
service imap-login {{
  inet_listener imap {{
    address = {HOST}
    port = {port}
  }}
  inet_listener imaps {{
    port = 0
  }}
}}
service pop3-login {{
  inet_listener pop3 {{
    port = 0
  }}
}}
service submission-login {{
  inet_listener submission {{
    port = 0
  }}
}}
"""


def start_dovecot(users: dict[str, str]) -> tuple[Dovecot, subprocess.Popen[bytes], Path]:
    if not os.path.exists(DOVECOT):
        pytest.skip("dovecot-imapd not installed (make installs it: apt-get install dovecot-imapd)")
    # Not under pytest's tmp_path: its parent is private to the test user, and under root the mail
    # processes run as another user that must reach the maildirs.
    root = Path(tempfile.mkdtemp(prefix="ka-dovecot-"))
    for sub in ("mail", "home", "state", "run"):
        (root / sub).mkdir()
    if os.getuid() == 0:
        dovecot_user = pwd.getpwnam("dovecot")
        internal, login = "dovecot", "dovenull"
        mail_uid, mail_gid = dovecot_user.pw_uid, dovecot_user.pw_gid
        os.chmod(root, 0o755)
        for sub in ("mail", "home"):
            os.chown(root / sub, mail_uid, mail_gid)
    else:
        me = pwd.getpwuid(os.getuid())
        internal = login = me.pw_name
        mail_uid, mail_gid = os.getuid(), os.getgid()
    (root / "users").write_text("".join(f"{u}:{{PLAIN}}{p}\n" for u, p in users.items()))
    os.chmod(root / "users", 0o644)  # read by the auth process, which runs as the internal user
    last: str = ""
    for _attempt in range(5):
        port = _free_port()
        (root / "dovecot.conf").write_text(_config(root, port, mail_uid, mail_gid, internal, login))
        proc = subprocess.Popen([DOVECOT, "-F", "-c", str(root / "dovecot.conf")], stdout=subprocess.DEVNULL,
                                stderr=subprocess.PIPE)
        server = Dovecot(port, root, users)
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline and proc.poll() is None:
            try:
                server.imap(next(iter(users))).logout()
                return server, proc, root
            except (OSError, imaplib.IMAP4.error):
                time.sleep(0.1)
        exited = proc.poll() is not None  # e.g. the port was taken in between: try another one
        proc.kill()
        proc.wait()
        if not exited:
            break
        last = (root / "dovecot.log").read_text() if (root / "dovecot.log").exists() else ""
    last = last or ((root / "dovecot.log").read_text() if (root / "dovecot.log").exists() else "")
    raise RuntimeError(f"dovecot did not start: {last[-2000:]}")


@pytest.fixture
def dovecot() -> Iterator[Dovecot]:
    """A running Dovecot with the mailboxes ``ablage`` and ``owner`` (password = login + '-pw')."""
    server, proc, root = start_dovecot({"ablage": "ablage-pw", "owner": "owner-pw"})
    yield server
    proc.terminate()
    try:
        proc.wait(10)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()
    shutil.rmtree(root, ignore_errors=True)
