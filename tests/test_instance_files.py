"""The instance folder is its owner's alone: created 0700, everything written into it 0600/0700.

Checked on a fresh embedded instance after every kind of writer ran: the database (and its WAL
files), the generated secret key, the Whoosh index, an attachment blob and an outbox e-mail. The
process's umask is opened up first, so the test shows what the runtime does, not what the test
runner happened to have.
"""

from __future__ import annotations

import io
import os
import stat
from email.message import EmailMessage
from pathlib import Path

from kundenakte.core import acl, migrate
from kundenakte.core.attachments import add_attachment
from kundenakte.core.config import instance_secret, load_settings
from kundenakte.core.documents import DocumentInput, create_document
from kundenakte.core.models import User
from kundenakte.core.runtime import Kundenakte
from kundenakte.core.users import create_user
from tests.conftest import password_hash


def _modes(root: Path) -> dict[str, int]:
    found = {".": stat.S_IMODE(root.stat().st_mode)}
    for path in root.rglob("*"):
        if path.is_socket():
            continue
        found[str(path.relative_to(root))] = stat.S_IMODE(path.stat().st_mode)
    return found


def test_everything_the_instance_writes_is_private(tmp_path: Path) -> None:
    from kundenakte.plugins.communication.outbox import _write_eml

    previous = os.umask(0o022)
    try:
        instance = tmp_path / "neu" / "instance"
        ka = Kundenakte(load_settings({"instance": instance, "index_async": False, "testing": True}))
        try:
            migrate.upgrade(ka)
            instance_secret(ka.settings)
            with ka.db.write() as s:
                user = create_user(s, "datei", "", password_hash=password_hash())
                viewer = acl.viewer_for(s, s.get(User, user.id))
                doc = create_document(ka, s, viewer, "free_document", DocumentInput(title="Vertraulich", readers=["*"]))
                add_attachment(ka, s, viewer, doc, io.BytesIO(b"geheimer Inhalt"), "geheim.txt")
            while ka.search.flush():
                pass
            message = EmailMessage()
            message["Subject"] = "Vertraulich"
            message.set_content("Hallo")
            _write_eml(ka, message, "<test@kundenakte.example>")
        finally:
            ka.close()
    finally:
        os.umask(previous)

    modes = _modes(instance)
    names = set(modes)
    for expected in ("kundenakte.sqlite3", "secret_key", "index", "files", "outbox"):
        assert expected in names, sorted(names)
    assert any(n.startswith("index/") for n in names) and any(n.startswith("outbox/") for n in names)
    assert sum(1 for n in names if n.startswith("files/") and len(Path(n).name) == 64) == 1
    assert modes["."] == 0o700
    loose = {name: oct(mode) for name, mode in modes.items() if mode & 0o077}
    assert not loose, loose


def test_an_existing_instance_folder_keeps_its_mode(tmp_path: Path) -> None:
    """An administrator's own choice of mode for the folder is left alone (docs/deploy.md)."""
    instance = tmp_path / "vorhanden"
    instance.mkdir()
    os.chmod(instance, 0o750)
    Kundenakte(load_settings({"instance": instance, "testing": True})).close()
    assert stat.S_IMODE(instance.stat().st_mode) == 0o750
