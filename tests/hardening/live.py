"""A real gunicorn started the way ``kundenakte serve`` starts it, and a raw HTTP client that can
choose its source address on the loopback network (127/8), so tests can speak as several clients.

``Gunicorn`` runs ``kundenakte.cli.gunicorn_command`` (gthread workers) on a test instance; it finds
its worker processes for memory figures (``/proc/<pid>/status``) and can log the serving pid of
every request. ``Client`` keeps cookies, opens a fresh connection per request (so the kernel may
hand each to another worker) and binds to the address it was given.
"""

from __future__ import annotations

import http.client
import os
import re
import signal
import socket
import subprocess
import sys
import time
from http.cookies import SimpleCookie
from pathlib import Path
from typing import Any, Mapping
from urllib.parse import urlencode

TOKEN_RE = re.compile(r'name="csrf_token" value="([^"]+)"')
VERSION_RE = re.compile(r'name="version" value="(\d+)"')
VENV_BIN = Path(sys.executable).parent


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class Gunicorn:
    """``kundenakte serve``'s gunicorn on an existing instance (database and users already there)."""

    def __init__(self, instance: Path, log: Path, *, database_url: str = "", workers: int = 2, threads: int | None = None,
                 env: Mapping[str, str] | None = None, log_pids: bool = False) -> None:
        self.instance, self.log_path = instance, log
        self.database_url, self.workers, self.threads = database_url, workers, threads
        self.extra_env = dict(env or {})
        self.log_pids = log_pids
        self.port = free_port()
        self.proc: subprocess.Popen[bytes] | None = None

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def command(self) -> list[str]:
        from kundenakte.cli import gunicorn_command
        from kundenakte.core.config import load_settings

        threads = self.threads or load_settings({"instance": self.instance}).web_threads
        _exe, argv = gunicorn_command("127.0.0.1", self.port, self.workers, threads, str(self.instance))
        # The control socket's path can exceed the 108 bytes of a Unix socket under pytest's tmp dirs;
        # it has nothing to do with serving requests.
        i = argv.index("--control-socket")
        del argv[i:i + 2]
        if self.log_pids:
            argv[-1:-1] = ["--access-logformat", 'pid=%(p)s "%(r)s" %(s)s']
        return argv

    def start(self) -> None:
        env = dict(os.environ, KUNDENAKTE_INSTANCE=str(self.instance), KUNDENAKTE_MAIL_RETRY_SECONDS="0", **self.extra_env)
        if self.database_url:
            env["KUNDENAKTE_DATABASE_URL"] = self.database_url
        with self.log_path.open("ab") as out:
            self.proc = subprocess.Popen(self.command(), env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True)
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                break
            try:
                status, _h, _b = Client(self.port).request("GET", "/healthz")
                if status == 200 and len(self.worker_pids()) == self.workers:
                    return
            except OSError:
                pass
            time.sleep(0.2)
        raise RuntimeError("gunicorn did not start:\n" + self.log_path.read_text(errors="replace")[-3000:])

    def worker_pids(self) -> list[int]:
        assert self.proc is not None
        children = Path(f"/proc/{self.proc.pid}/task/{self.proc.pid}/children")
        try:
            return [int(p) for p in children.read_text().split()]
        except OSError:
            return []

    @staticmethod
    def rss_mb(pid: int) -> float:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
        raise RuntimeError(f"no VmRSS for {pid}")

    def served_pids(self) -> list[int]:
        """The worker pid of every logged request so far, in order (needs ``log_pids=True``)."""
        return [int(m) for m in re.findall(r"^pid=<?(\d+)>? ", self.log_path.read_text(errors="replace"), re.MULTILINE)]

    def log_text(self) -> str:
        return self.log_path.read_text(errors="replace")

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(20)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait(10)


class Client:
    """A cookie-keeping HTTP client bound to one loopback source address; one connection per request."""

    def __init__(self, port: int, source: str = "127.0.0.1", timeout: float = 30) -> None:
        self.port, self.source, self.timeout = port, source, timeout
        self.cookies: dict[str, str] = {}

    def request(self, method: str, path: str, body: bytes | None = None,
                headers: Mapping[str, str] | None = None) -> tuple[int, dict[str, str], str]:
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=self.timeout, source_address=(self.source, 0))
        try:
            sent = {"Connection": "close", **(headers or {})}
            if self.cookies:
                sent["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
            conn.request(method, path, body=body, headers=sent)
            response = conn.getresponse()
            text = response.read().decode("utf-8", "replace")
            for raw in response.headers.get_all("Set-Cookie") or []:
                jar = SimpleCookie()
                jar.load(raw)
                for name, morsel in jar.items():
                    if morsel.value and "expires=thu, 01 jan 1970" not in raw.lower():
                        self.cookies[name] = morsel.value
                    else:
                        self.cookies.pop(name, None)
            return response.status, {k.lower(): v for k, v in response.getheaders()}, text
        finally:
            conn.close()

    def get(self, path: str, **kw: Any) -> tuple[int, dict[str, str], str]:
        return self.request("GET", path, **kw)

    def post_form(self, path: str, fields: Mapping[str, str], headers: Mapping[str, str] | None = None) -> tuple[int, dict[str, str], str]:
        body = urlencode(fields).encode()
        return self.request("POST", path, body=body,
                            headers={"Content-Type": "application/x-www-form-urlencoded", **(headers or {})})

    def csrf(self, path: str = "/anmelden") -> str:
        status, _h, page = self.get(path)
        match = TOKEN_RE.search(page)
        assert match, f"no CSRF token on {path} ({status})"
        return match.group(1)

    def login(self, login: str, password: str, *, token: str | None = None) -> int:
        token = token or self.csrf()
        status, _h, _b = self.post_form("/anmelden", {"login": login, "password": password, "csrf_token": token})
        return status
