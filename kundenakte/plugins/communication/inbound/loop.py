"""Fetching due mailboxes from inside each web process, like the outbox retry loop (retry.py).

Every web process runs one daemon thread that wakes every :data:`TICK` seconds and fetches the
mailboxes whose poll interval has passed. A mailbox is claimed by moving its ``last_fetch_at``
with a conditional UPDATE, so of several workers only one fetches it per interval; should two
still overlap, the unique key of ``comm_inbound_messages`` files each message once. The CLI never
starts the loop (``kundenakte mail fetch`` is for cron); ``ka.close()`` stops it through the
plugin's ``shutdown`` hook.
"""

from __future__ import annotations

import logging
import threading
from typing import TYPE_CHECKING

from kundenakte.plugins import communication as plugin_module
from kundenakte.plugins.communication.inbound.fetch import FetchError, FetchSummary, claim, due_accounts, fetch_account

if TYPE_CHECKING:
    from kundenakte.core.runtime import Kundenakte

log = logging.getLogger(__name__)

TICK = 30.0
STOP_TIMEOUT = 30.0


class FetchLoop:
    def __init__(self, ka: Kundenakte, interval: float = TICK) -> None:
        self.ka = ka
        self.interval = interval
        self.rounds = 0
        self._stop = threading.Event()
        self._lock = threading.Lock()
        self.thread: threading.Thread | None = None

    def start(self) -> None:
        with self._lock:
            if self._stop.is_set() or (self.thread is not None and self.thread.is_alive()):
                return
            self.thread = threading.Thread(target=self._run, name="kundenakte-mail-fetch", daemon=True)
            self.thread.start()

    def stop(self, timeout: float = STOP_TIMEOUT) -> None:
        self._stop.set()
        thread = self.thread
        if thread is not None and thread is not threading.current_thread():
            thread.join(timeout)

    def _run(self) -> None:
        while not self._stop.wait(self.interval):
            try:
                self.run_once()
            except Exception:  # the next round tries again
                log.exception("fetching mailboxes failed; next round in %s s", self.interval)
            finally:
                self.rounds += 1

    def run_once(self) -> FetchSummary | None:
        """Fetch every due mailbox; None while the plugin is switched off."""
        name = self.ka.plugins.pm.get_name(plugin_module)
        if name is not None and name in self.ka.disabled_plugins():
            return None
        summary = FetchSummary()
        now = self.ka.clock.now()
        for account_id in due_accounts(self.ka, now):
            if self._stop.is_set():
                break
            if not claim(self.ka, account_id, now):
                continue
            try:
                summary.add(fetch_account(self.ka, account_id))
            except FetchError as exc:
                summary.errors.append(f"Postfach {account_id}: {exc}")
                log.warning("mailbox %s: %s", account_id, exc)
        if summary.imported or summary.failed or summary.errors:
            log.info("mail fetch: %s", summary)
        return summary


_loops: dict[Kundenakte, FetchLoop] = {}
_loops_lock = threading.Lock()


def start(ka: Kundenakte) -> FetchLoop | None:
    """Start the instance's loop (called when the web app is built); not in test mode, where tests
    call ``FetchLoop.run_once`` themselves (as the outbox retry is off in test mode)."""
    if ka.settings.testing:
        return None
    with _loops_lock:
        loop = _loops.get(ka)
        if loop is None:
            loop = _loops[ka] = FetchLoop(ka)
    loop.start()
    return loop


def ensure_running(ka: Kundenakte) -> None:
    """Threads do not survive a fork (gunicorn --preload): restart a started loop whose thread is gone."""
    loop = _loops.get(ka)
    if loop is not None and (loop.thread is None or not loop.thread.is_alive()):
        loop.start()


def stop(ka: Kundenakte) -> None:
    with _loops_lock:
        loop = _loops.pop(ka, None)
    if loop is not None:
        loop.stop()


def loop_for(ka: Kundenakte) -> FetchLoop | None:
    return _loops.get(ka)
