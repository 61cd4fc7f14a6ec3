"""Retrying queued e-mails from inside each web process, so no one has to wait for cron.

Every web process (gunicorn worker) built by ``create_app`` runs one daemon thread that wakes every
``mail_retry_seconds`` and delivers the due rows of the outbox with ``recover=False``: rows in
``sending`` belong to a run in flight (another worker, the "Senden" request, cron) and are never
touched. The atomic claim in :mod:`.outbox` keeps two workers from sending the same row. Turning
stuck ``sending`` rows into ``uncertain`` stays the job of ``kundenakte mail send-queued``.

The CLI never creates the web app, so it never starts the loop; ``ka.close()`` stops it through the
plugin's ``shutdown`` hook.
"""

from __future__ import annotations

import logging
import threading
from typing import TYPE_CHECKING

from kundenakte.plugins import communication as plugin_module
from kundenakte.plugins.communication.outbox import DeliverySummary, deliver_queued
from kundenakte.plugins.communication.settings import settings_of

if TYPE_CHECKING:
    from kundenakte.core.runtime import Kundenakte

log = logging.getLogger(__name__)

# An in-flight send (SMTP timeout 20 s) should get to record its outcome; otherwise its row would
# stay in ``sending`` and later count as uncertain.
STOP_TIMEOUT = 30.0


class RetryLoop:
    def __init__(self, ka: Kundenakte, interval: float) -> None:
        self.ka = ka
        self.interval = interval
        # Finished rounds, failed ones included: lets callers wait for "one more round".
        self.rounds = 0
        self._stop = threading.Event()
        self._lock = threading.Lock()
        self.thread: threading.Thread | None = None

    def start(self) -> None:
        """Start the thread unless it runs; a stopped loop never starts again."""
        with self._lock:
            if self._stop.is_set() or (self.thread is not None and self.thread.is_alive()):
                return
            self.thread = threading.Thread(target=self._run, name="kundenakte-mail-retry", daemon=True)
            self.thread.start()

    def stop(self, timeout: float = STOP_TIMEOUT) -> None:
        self._stop.set()
        thread = self.thread
        if thread is not None and thread is not threading.current_thread():
            thread.join(timeout)

    def _run(self) -> None:
        # Wait first: right after start-up the database may not be migrated yet.
        while not self._stop.wait(self.interval):
            try:
                self.run_once()
            except Exception:  # the next round tries again; the outbox keeps the work
                log.exception("retrying queued e-mails failed; next round in %s s", self.interval)
            finally:
                self.rounds += 1

    def run_once(self) -> DeliverySummary | None:
        """One round: deliver what is due; None while an admin has switched the plugin off."""
        name = self.ka.plugins.pm.get_name(plugin_module)
        if name is not None and name in self.ka.disabled_plugins():
            return None
        summary = deliver_queued(self.ka, recover=False)
        if summary.sent or summary.filed or summary.retry or summary.failed or summary.uncertain:
            log.info("mail retry: %s", summary)
        return summary


_loops: dict[Kundenakte, RetryLoop] = {}
_loops_lock = threading.Lock()


def start(ka: Kundenakte) -> RetryLoop | None:
    """Start the instance's retry loop (called when the web app is built); None when switched off."""
    if settings_of(ka).mail_retry_seconds <= 0:
        return None
    with _loops_lock:
        loop = _loops.get(ka)
        if loop is None:
            loop = _loops[ka] = RetryLoop(ka, settings_of(ka).mail_retry_seconds)
    loop.start()
    return loop


def ensure_running(ka: Kundenakte) -> None:
    """Restart a started loop whose thread is gone: threads do not survive a fork (gunicorn --preload)."""
    loop = _loops.get(ka)
    if loop is not None and (loop.thread is None or not loop.thread.is_alive()):
        loop.start()


def stop(ka: Kundenakte) -> None:
    with _loops_lock:
        loop = _loops.pop(ka, None)
    if loop is not None:
        loop.stop()


def loop_for(ka: Kundenakte) -> RetryLoop | None:
    return _loops.get(ka)
