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
from typing import TYPE_CHECKING

from kundenakte.plugins.communication.background import BackgroundLoop, Loops
from kundenakte.plugins.communication.inbound.fetch import FetchError, FetchSummary, claim, due_accounts, fetch_account

if TYPE_CHECKING:
    from kundenakte.core.runtime import Kundenakte

log = logging.getLogger(__name__)

TICK = 30.0


class FetchLoop(BackgroundLoop):
    thread_name = "kundenakte-mail-fetch"
    failure = "fetching mailboxes failed"

    def __init__(self, ka: Kundenakte, interval: float = TICK) -> None:
        super().__init__(ka, interval)

    def run_once(self) -> FetchSummary | None:
        """Fetch every due mailbox; None while the plugin is switched off."""
        if self.plugin_disabled():
            return None
        summary = FetchSummary()
        now = self.ka.clock.now()
        for account_id in due_accounts(self.ka, now):
            if self.stopping:
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


_loops: Loops[FetchLoop] = Loops(FetchLoop)


def start(ka: Kundenakte) -> FetchLoop | None:
    """Start the instance's loop (called when the web app is built); not in test mode, where tests
    call ``FetchLoop.run_once`` themselves (as the outbox retry is off in test mode)."""
    if ka.settings.testing:
        return None
    return _loops.start(ka)


ensure_running = _loops.ensure_running
stop = _loops.stop
loop_for = _loops.get
