"""Disable → restart → enable on the real gunicorn (two workers): pages, menu entries and API answer again.

The instance's plugins ``tasks`` and ``communication`` are disabled with the CLI, then gunicorn
starts (the "restart"). While it runs, ``tasks`` is enabled through Einstellungen → Plugins and
``communication`` through the CLI; without a restart both plugins' pages, navigation and settings
entries and the communication plugin's API operations answer again, in every worker.
"""

from __future__ import annotations

import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import PASSWORD, make_ka, password_hash

pytestmark = [pytest.mark.sqlite_only, pytest.mark.slow]

VENV_BIN = Path(sys.executable).parent
TOKEN_RE = re.compile(r'name="csrf_token" value="([^"]+)"')
ROUNDS = 6  # requests per check, so that both workers answer


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _cli(instance: Path, *args: str) -> None:
    env = dict(os.environ, KUNDENAKTE_INSTANCE=str(instance))
    result = subprocess.run([str(VENV_BIN / "kundenakte"), *args], env=env, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.fixture
def instance(tmp_path: Path, _sqlite_template: Path) -> tuple[Path, str]:
    from kundenakte.core import migrate, tokens
    from kundenakte.core.users import create_user

    folder = tmp_path / "instance"
    folder.mkdir()
    shutil.copy(_sqlite_template, folder / "kundenakte.sqlite3")
    ka = make_ka(folder, "sqlite", extra_plugins=[])
    try:
        migrate.upgrade(ka)
        with ka.db.write() as s:
            uid = create_user(s, "chefin", PASSWORD, display_name="Chefin", email="chefin@example.org", is_admin=True,
                              password_hash=password_hash()).id
            _row, secret = tokens.create_token(s, uid, "live")
    finally:
        ka.close()
    return folder, secret


@pytest.fixture
def gunicorn(instance: tuple[Path, str], tmp_path: Path) -> Any:
    if not (VENV_BIN / "gunicorn").exists():
        pytest.skip("gunicorn not installed")
    requests = pytest.importorskip("requests")
    folder, _secret = instance
    _cli(folder, "plugins", "disable", "tasks")
    _cli(folder, "plugins", "disable", "communication")
    port = _free_port()
    log = tmp_path / "gunicorn.log"
    env = dict(os.environ, KUNDENAKTE_INSTANCE=str(folder), KUNDENAKTE_MAIL_RETRY_SECONDS="0")
    with log.open("ab") as out:
        proc = subprocess.Popen([str(VENV_BIN / "gunicorn"), "--workers", "2", "--threads", "2", "--bind",
                                 f"127.0.0.1:{port}", "--graceful-timeout", "2", "kundenakte.web.wsgi:app"],
                                env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                if requests.get(base + "/healthz", timeout=2).status_code < 500:
                    break
            except requests.RequestException:
                pass
            if time.monotonic() > deadline or proc.poll() is not None:
                raise RuntimeError("gunicorn did not start: " + log.read_text()[-2000:])
            time.sleep(0.2)
        yield base
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(15)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(10)


def _all(session: Any, url: str, **kw: Any) -> list[Any]:
    return [session.get(url, timeout=10, **kw) for _ in range(ROUNDS)]


def test_disable_restart_enable_on_gunicorn(instance: tuple[Path, str], gunicorn: str) -> None:
    import requests

    folder, secret = instance
    base = gunicorn
    api = {"Authorization": f"Bearer {secret}"}
    web = requests.Session()
    page = web.get(base + "/anmelden", timeout=10).text
    response = web.post(base + "/anmelden", data={"login": "chefin", "password": PASSWORD,
                                                  "csrf_token": TOKEN_RE.search(page).group(1)},  # type: ignore[union-attr]
                        allow_redirects=False, timeout=10)
    assert response.status_code == 302

    # disabled when the server started
    assert {r.status_code for r in _all(web, base + "/aufgaben")} == {404}
    assert {r.status_code for r in _all(web, base + "/einstellungen/kommunikation")} == {404}
    assert all('href="/aufgaben"' not in r.text for r in _all(web, base + "/"))
    assert all('href="/einstellungen/kommunikation"' not in r.text for r in _all(web, base + "/einstellungen"))
    assert {r.status_code for r in _all(web, base + "/api/v1/templates", headers=api)} == {404}
    assert all("/templates" not in r.json()["paths"] for r in _all(web, base + "/api/v1/openapi.json"))

    # enable tasks through the settings page, communication through the CLI, while the server runs
    plugins_page = web.get(base + "/einstellungen/plugins", timeout=10).text
    response = web.post(base + "/einstellungen/plugins/tasks", allow_redirects=False, timeout=10,
                        data={"enabled": "1", "csrf_token": TOKEN_RE.search(plugins_page).group(1)})  # type: ignore[union-attr]
    assert response.status_code == 302
    _cli(folder, "plugins", "enable", "communication")

    assert {r.status_code for r in _all(web, base + "/aufgaben")} == {200}
    assert {r.status_code for r in _all(web, base + "/einstellungen/kommunikation")} == {200}
    assert all('href="/aufgaben"' in r.text for r in _all(web, base + "/"))  # navigation entry
    assert all('href="/einstellungen/kommunikation"' in r.text for r in _all(web, base + "/einstellungen"))
    answers = _all(web, base + "/api/v1/templates", headers=api)
    assert {r.status_code for r in answers} == {200} and all(r.json() == {"items": []} for r in answers)
    assert all("/templates" in r.json()["paths"] for r in _all(web, base + "/api/v1/openapi.json"))
