"""The communication plugin's background threads: one per web process and job (outbox retry, mailbox fetch).

A :class:`BackgroundLoop` waits first (right after start-up the database may not be migrated yet),
then runs ``run_once`` every ``interval`` seconds until stopped; a failed round is logged and the
next one tries again, since the work itself is kept in the database (outbox rows, mailbox UIDs).
:class:`Loops` keeps one loop per instance, so the web app starts it, a request restarts it after a
fork, and the plugin's ``shutdown`` hook stops it.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, Generic, TypeVar

from kundenakte.plugins import communication as plugin_module

if TYPE_CHECKING:
    from kundenakte.core.runtime import Kundenakte

log = logging.getLogger(__name__)

# An in-flight round (an SMTP send: 20 s timeout) should get to record its outcome.
STOP_TIMEOUT = 30.0


class BackgroundLoop:
    """A daemon thread running :meth:`run_once` every ``interval`` seconds; subclasses do the work."""

    thread_name = "kundenakte-communication"
    failure = "background round failed"

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
            self.thread = threading.Thread(target=self._run, name=self.thread_name, daemon=True)
            self.thread.start()

    def stop(self, timeout: float = STOP_TIMEOUT) -> None:
        self._stop.set()
        thread = self.thread
        if thread is not None and thread is not threading.current_thread():
            thread.join(timeout)

    @property
    def stopping(self) -> bool:
        return self._stop.is_set()

    def plugin_disabled(self) -> bool:
        """True while an admin has switched the communication plugin off: a round does nothing then."""
        name = self.ka.plugins.pm.get_name(plugin_module)
        return name is not None and name in self.ka.disabled_plugins()

    def run_once(self) -> Any:
        raise NotImplementedError

    def _run(self) -> None:
        while not self._stop.wait(self.interval):
            try:
                self.run_once()
            except Exception:  # the next round tries again; the database keeps the work
                log.exception("%s; next round in %s s", self.failure, self.interval)
            finally:
                self.rounds += 1


L = TypeVar("L", bound=BackgroundLoop)


class Loops(Generic[L]):
    """One loop per instance: started with the web app, restarted after a fork, stopped on close."""

    def __init__(self, make: Callable[[Kundenakte], L]) -> None:
        self._make = make
        self._loops: dict[Kundenakte, L] = {}
        self._lock = threading.Lock()

    def start(self, ka: Kundenakte) -> L:
        with self._lock:
            loop = self._loops.get(ka)
            if loop is None:
                loop = self._loops[ka] = self._make(ka)
        loop.start()
        return loop

    def ensure_running(self, ka: Kundenakte) -> None:
        """Restart a started loop whose thread is gone: threads do not survive a fork (gunicorn --preload)."""
        loop = self._loops.get(ka)
        if loop is not None and (loop.thread is None or not loop.thread.is_alive()):
            loop.start()

    def stop(self, ka: Kundenakte) -> None:
        with self._lock:
            loop = self._loops.pop(ka, None)
        if loop is not None:
            loop.stop()

    def get(self, ka: Kundenakte) -> L | None:
        return self._loops.get(ka)
