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
from typing import TYPE_CHECKING

from kundenakte.plugins.communication.background import STOP_TIMEOUT, BackgroundLoop, Loops
from kundenakte.plugins.communication.outbox import DeliverySummary, deliver_queued
from kundenakte.plugins.communication.settings import settings_of

if TYPE_CHECKING:
    from kundenakte.core.runtime import Kundenakte

log = logging.getLogger(__name__)

__all__ = ["STOP_TIMEOUT", "RetryLoop", "ensure_running", "loop_for", "start", "stop"]


class RetryLoop(BackgroundLoop):
    thread_name = "kundenakte-mail-retry"
    failure = "retrying queued e-mails failed"

    def run_once(self) -> DeliverySummary | None:
        """One round: deliver what is due; None while an admin has switched the plugin off."""
        if self.plugin_disabled():
            return None
        summary = deliver_queued(self.ka, recover=False)
        if summary.sent or summary.filed or summary.retry or summary.failed or summary.uncertain:
            log.info("mail retry: %s", summary)
        return summary


_loops: Loops[RetryLoop] = Loops(lambda ka: RetryLoop(ka, settings_of(ka).mail_retry_seconds))


def start(ka: Kundenakte) -> RetryLoop | None:
    """Start the instance's retry loop (called when the web app is built); None when switched off."""
    if settings_of(ka).mail_retry_seconds <= 0:
        return None
    return _loops.start(ka)


ensure_running = _loops.ensure_running
stop = _loops.stop
loop_for = _loops.get
