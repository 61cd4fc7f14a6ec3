"""Template budget: a 31 KB "~" concatenation bomb (one output chunk of ~200 MB before the budget) is refused when saved
and when a stored one is used, in the test client (both databases) and in a real gunicorn worker,
whose memory grows by less than 100 MB (peak RSS, VmHWM after clear_refs).
"""

from __future__ import annotations

import html
import os
import re
import shutil
import tracemalloc
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select

from kundenakte.plugins.communication.models import CommTemplate
from tests.conftest import PASSWORD, make_ka, password_hash
from tests.hardening import FIGURES
from tests.web.conftest import csrf_token, login

MB = 1024 * 1024
LIMIT_MB = 100
REFUSAL = "Die Vorlage erzeugt beim Ausfüllen zu viel Text"


def concat_bomb(target_bytes: int = 31_000) -> str:
    """Three levels of ``~`` chains through two loops over list literals: ``a`` is 60 letter
    salutations, ``b`` 200 ``a``, and one ``{{ }}`` 280 ``b`` = 100 million characters (~200 MB)
    built before any output cap could look at it; the lists are padded to ``target_bytes``."""
    a_chain = "~".join(["kontakt.briefanrede"] * 60)
    b_chain = "~".join(["a"] * 200)
    out = "~".join(["b"] * 280)
    outer_items = 1
    while True:
        inner_items = max(1, outer_items // 2)
        source = ("<p>{% for a in [" + ",".join([a_chain] * outer_items) + "] %}{% for b in ["
                  + ",".join([b_chain] * inner_items) + "] %}{{ " + out + " }}{% endfor %}{% endfor %}</p>")
        if len(source.encode()) >= target_bytes:
            return source
        outer_items += 1


BOMB = concat_bomb()


def _app(ka: Any) -> Any:
    from kundenakte.web.app import create_app

    app = create_app(ka=ka)
    app.config.update(TESTING=True, WTF_CSRF_ENABLED=True)
    return app


def _form(token: str, body: str) -> dict[str, str]:
    return {"csrf_token": token, "name": "Rundschreiben", "base_type": "email", "subject": "Hallo",
            "body": body, "sender_format": "name_address", "sender_mode": "current_user", "readers": "*"}


def test_bomb_refused_at_save_keeps_the_form(ka: Any, people: Any) -> None:
    assert 31_000 <= len(BOMB.encode()) < 32_000
    client = _app(ka).test_client()
    token = login(client, "owner")
    tracemalloc.start()
    try:
        response = client.post("/einstellungen/kommunikation/neu", data=_form(token, BOMB))
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    page = response.get_data(as_text=True)
    assert response.status_code == 400
    assert REFUSAL in page
    assert html.escape(BOMB[:200], quote=False) in page  # the typed text is still in the form
    with ka.db.read() as s:
        assert s.scalar(select(func.count()).select_from(CommTemplate)) == 0
    assert peak < LIMIT_MB * MB, f"{peak / MB:.0f} MB"
    FIGURES["budget.refused"] += 1
    FIGURES["budget.kb"] = len(BOMB.encode()) // 1000
    FIGURES["budget.peak_mb"] = max(FIGURES["budget.peak_mb"], round(peak / MB))


def test_stored_bomb_fails_cleanly_when_used(ka: Any, people: Any) -> None:
    """A template saved before the budget existed (an old database) fails with a message, not a 500."""
    with ka.db.write() as s:
        template = CommTemplate(name="Alt", base_type="email", subject="Hallo", body=BOMB, readers=["*"],
                                created_by=people.users["owner"])
        s.add(template)
        s.flush()
        template_id = template.id
    client = _app(ka).test_client()
    token = login(client, "reader")
    tracemalloc.start()
    try:
        response = client.post("/kommunikation/vorlage", data={"csrf_token": token, "template_id": str(template_id)})
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert response.status_code == 400
    assert REFUSAL in response.get_data(as_text=True)
    assert peak < LIMIT_MB * MB, f"{peak / MB:.0f} MB"
    FIGURES["budget.refused"] += 1
    FIGURES["budget.peak_mb"] = max(FIGURES["budget.peak_mb"], round(peak / MB))


def _status(pid: int, field: str) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1]) * 1024
    raise KeyError(field)


def _worker_pid(master: int) -> int:
    children = Path(f"/proc/{master}/task/{master}/children").read_text().split()
    assert len(children) == 1, children
    return int(children[0])


def _reset_peak(pid: int) -> bool:
    try:
        Path(f"/proc/{pid}/clear_refs").write_text("5")  # resets VmHWM to the current RSS
        return True
    except OSError:
        return False


@pytest.mark.sqlite_only
@pytest.mark.timeout(180)
def test_bomb_in_a_gunicorn_worker(tmp_path: Path, _sqlite_template: Path) -> None:
    requests = pytest.importorskip("requests")
    from tests.hardening.test_crash_safety import VENV_BIN, Server

    if not (VENV_BIN / "gunicorn").exists():
        pytest.skip("gunicorn not installed")
    instance = tmp_path / "instance"
    instance.mkdir()
    shutil.copy(_sqlite_template, instance / "kundenakte.sqlite3")
    from kundenakte.core import migrate
    from kundenakte.core.users import create_user

    ka = make_ka(instance, "sqlite", extra_plugins=[])
    migrate.upgrade(ka)
    with ka.db.write() as s:
        uid = create_user(s, "bomber", PASSWORD, display_name="Bomber", password_hash=password_hash()).id
        stored = CommTemplate(name="Alt", base_type="email", subject="Hallo", body=BOMB, readers=["*"], created_by=uid)
        s.add(stored)
        s.flush()
        stored_id = stored.id
    ka.close()

    server = Server(instance, tmp_path / "server.log")
    server.start()
    try:
        assert server.proc is not None
        worker = _worker_pid(server.proc.pid)
        s = requests.Session()
        token_re = re.compile(r'name="csrf_token" value="([^"]+)"')
        page = s.get(server.base + "/anmelden", timeout=10).text
        s.post(server.base + "/anmelden", timeout=10, data={"login": "bomber", "password": PASSWORD,
                                                             "csrf_token": token_re.search(page).group(1)})
        token = token_re.search(s.get(server.base + "/einstellungen/kommunikation/neu", timeout=10).text).group(1)
        # Warm the worker up with a harmless save so that its first-request imports are not counted.
        s.post(server.base + "/einstellungen/kommunikation/neu", data=_form(token, "<p>{{ kontakt.anrede }}</p>"),
               timeout=30)
        before = _status(worker, "VmRSS")
        exact = _reset_peak(worker)
        saved = s.post(server.base + "/einstellungen/kommunikation/neu", data=_form(token, BOMB), timeout=60)
        used = s.post(server.base + "/kommunikation/vorlage", data={"csrf_token": token, "template_id": str(stored_id)},
                      timeout=60)
        after = _status(worker, "VmHWM" if exact else "VmRSS")
        assert _worker_pid(server.proc.pid) == worker, "the worker was replaced (killed by the timeout?)"
    finally:
        server.stop()
    assert saved.status_code == 400 and REFUSAL in saved.text
    assert used.status_code == 400 and REFUSAL in used.text
    growth = (after - before) / MB
    assert growth < LIMIT_MB, f"worker grew by {growth:.0f} MB"
    FIGURES["budget.refused"] += 2
    FIGURES["budget.worker_mb"] = max(FIGURES["budget.worker_mb"], round(growth, 1))
    FIGURES["budget.worker_exact"] = int(exact)
    assert os.path.exists(instance / "kundenakte.sqlite3")
