"""The web processes' retry loop for queued e-mails, against a real SMTP server (aiosmtpd).

Intervals are 1 s; every wait polls against a generous deadline instead of sleeping for a fixed
time, and "nothing happened" is checked after the loop finished further rounds (``loop.rounds``),
so the tests hold on a slow, loaded machine.
"""

from __future__ import annotations

import datetime as dt
import shutil
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from kundenakte.core.config import ConfigError, load_settings
from kundenakte.core.runtime import Kundenakte
from kundenakte.plugins.communication import retry
from kundenakte.plugins.communication import templates_service as svc
from kundenakte.plugins.communication.models import OutboxEntry
from kundenakte.plugins.communication.outbox import queue_email
from kundenakte.plugins.communication.settings import settings_of
from kundenakte.web.app import create_app
from tests.communication.test_outbox import NOW, configure, document, draft, entry
from tests.communication.test_views import login
from tests.conftest import People, make_ka

DEADLINE = 15.0  # seconds; a round normally takes a few milliseconds


def wait_for(condition: Callable[[], Any], what: str, timeout: float = DEADLINE) -> Any:
    end = time.monotonic() + timeout
    while True:
        value = condition()
        if value:
            return value
        if time.monotonic() > end:
            raise AssertionError(f"timed out after {timeout} s waiting for {what}")
        time.sleep(0.05)


def more_rounds(loop: retry.RetryLoop, count: int = 1) -> None:
    """Wait until the loop has finished ``count`` further rounds that all started after this call."""
    # +1: the round in progress may have read the database before the caller's last change.
    target = loop.rounds + count + 1
    wait_for(lambda: loop.rounds >= target, f"{count} more rounds of the retry loop")


@pytest.fixture
def web_ka(tmp_path: Path, database: str) -> Iterator[Callable[..., tuple[Kundenakte, Any]]]:
    """Factory: an instance with the given settings and its web app (which starts the loop)."""
    made: list[Kundenakte] = []

    def make(**overrides: Any) -> tuple[Kundenakte, Any]:
        # The database fixture put the migrated SQLite file into tmp_path; later instances get a copy.
        instance = tmp_path if not made else tmp_path / f"inst{len(made)}"
        if made and database == "sqlite":
            instance.mkdir()
            shutil.copy(tmp_path / "kundenakte.sqlite3", instance / "kundenakte.sqlite3")
        ka = make_ka(instance, database, **overrides)
        made.append(ka)
        app = create_app(ka=ka)
        app.config.update(TESTING=True)
        return ka, app

    yield make
    for ka in made:
        ka.close()


def running_loop(ka: Kundenakte) -> retry.RetryLoop:
    loop = retry.loop_for(ka)
    assert loop is not None and loop.thread is not None and loop.thread.is_alive()
    return loop


def failed_once(ka: Kundenakte, doc_id: int) -> bool:
    """One attempt met a temporary failure and was recorded: the row waits for its back-off."""
    row = entry(ka, doc_id)
    return row.state == "queued" and row.attempts == 1 and bool(row.last_error)


def second_draft(ka: Kundenakte, people: People, first_doc_id: int) -> int:
    """Another e-mail from the template and contact of ``first_doc_id``."""
    with ka.db.read() as s:
        (template_id,) = s.scalars(select(svc.CommTemplate.id)).all()
        contact_id = document(ka, first_doc_id).contact_id
    with ka.db.write() as s:
        return svc.create_from_template(ka, s, people.viewer("owner"), template_id, contact_id).id


def _retry_seconds(overrides: dict[str, Any] | None = None, environ: dict[str, str] | None = None) -> int:
    """The plugin's setting as an instance resolves it from its declaration."""
    from kundenakte.core.plugin_settings import resolve
    from kundenakte.plugins.communication.settings import PLUGIN, SETTINGS

    settings = load_settings(overrides, environ=environ or {})
    return int(resolve([(PLUGIN, s) for s in SETTINGS], settings)[PLUGIN].mail_retry_seconds)


def test_settings_default_and_test_mode() -> None:
    assert _retry_seconds() == 60
    assert _retry_seconds({"testing": True}) == 0
    assert _retry_seconds({"testing": True, "mail_retry_seconds": 5}) == 5
    assert _retry_seconds({"testing": True, "communication_mail_retry_seconds": 7}) == 7
    assert _retry_seconds(environ={"KUNDENAKTE_MAIL_RETRY_SECONDS": "0"}) == 0  # the old name, an alias
    assert _retry_seconds(environ={"KUNDENAKTE_COMMUNICATION_MAIL_RETRY_SECONDS": "9",
                                   "KUNDENAKTE_MAIL_RETRY_SECONDS": "3"}) == 9  # the plugin's own name wins
    with pytest.raises(ConfigError, match="KUNDENAKTE_MAIL_RETRY_SECONDS"):
        _retry_seconds(environ={"KUNDENAKTE_MAIL_RETRY_SECONDS": "-1"})
    with pytest.raises(ConfigError, match="KUNDENAKTE_COMMUNICATION_SMTP_PORT"):
        _retry_seconds(environ={"KUNDENAKTE_COMMUNICATION_SMTP_PORT": "viel"})
    with pytest.raises(ConfigError, match="KUNDENAKTE_SMTP_SECURITY"):
        _retry_seconds(environ={"KUNDENAKTE_SMTP_SECURITY": "tls"})
    with pytest.raises(ConfigError, match="unknown setting 'smtp_hots'"):
        _retry_seconds({"smtp_hots": "mail"})


def test_a_bad_plugin_setting_stops_the_start(tmp_path: Path, database: str) -> None:
    with pytest.raises(ConfigError, match="KUNDENAKTE_COMMUNICATION_SMTP_PORT"):
        make_ka(tmp_path, database, communication_smtp_port="fünfundzwanzig")


def test_temporary_failure_is_retried_without_anyone_pressing_anything(web_ka, smtp_server, handler_class):  # type: ignore[no-untyped-def]
    ka, app = web_ka(mail_retry_seconds=1)
    loop = running_loop(ka)
    people = People(ka)
    handler = handler_class(data_reply="451 4.3.0 Lokaler Fehler")
    configure(ka, *smtp_server(handler))  # freezes the clock at NOW
    doc_id = draft(ka, people)

    response = login(app, "owner").post(f"/kommunikation/{doc_id}/senden")
    assert response.status_code == 302
    # The immediate attempt (or the loop, whichever claimed the row first) met the 451.
    wait_for(lambda: failed_once(ka, doc_id), "the first, failed attempt")
    row = entry(ka, doc_id)
    assert "451" in row.last_error and row.next_attempt_at > NOW
    assert handler.messages == []

    handler.data_reply = None  # the server accepts again
    more_rounds(loop)  # the back-off is not over yet: the loop must wait
    assert entry(ka, doc_id).attempts == 1 and handler.messages == []

    ka.clock.set(NOW + dt.timedelta(minutes=5))  # the back-off is over
    wait_for(lambda: entry(ka, doc_id).state == "sent", "delivery by the retry loop")
    assert document(ka, doc_id).status == "sent"
    more_rounds(loop)
    assert len(handler.messages) == 1 and entry(ka, doc_id).attempts == 2
    assert handler.messages[0].rcpt_tos == ["anna.mueller@example.de"]


def test_server_down_then_delivered_by_the_loop(web_ka, smtp_server, handler_class, free_port):  # type: ignore[no-untyped-def]
    ka, _app = web_ka(mail_retry_seconds=1)
    loop = running_loop(ka)
    people = People(ka)
    configure(ka, "127.0.0.1", free_port)  # nothing listens: connection refused
    doc_id = draft(ka, people)
    with ka.db.write() as s:
        queue_email(ka, s, people.viewer("owner"), doc_id)
    wait_for(lambda: failed_once(ka, doc_id), "the loop's failed attempt")
    handler = handler_class()
    configure(ka, *smtp_server(handler))
    ka.clock.set(NOW + dt.timedelta(minutes=5))
    wait_for(lambda: entry(ka, doc_id).state == "sent", "delivery by the retry loop")
    more_rounds(loop)
    assert len(handler.messages) == 1


def test_rows_in_sending_are_left_alone(web_ka, smtp_server, handler_class):  # type: ignore[no-untyped-def]
    ka, _app = web_ka(mail_retry_seconds=1)
    loop = running_loop(ka)
    people = People(ka)
    handler = handler_class()
    configure(ka, *smtp_server(handler))
    busy_id = draft(ka, people)
    due_id = second_draft(ka, people, busy_id)
    with ka.db.write() as s:  # another worker claimed it and is sending: same transaction, no window
        queue_email(ka, s, people.viewer("owner"), busy_id).state = "sending"
    with ka.db.write() as s:
        queue_email(ka, s, people.viewer("owner"), due_id)

    wait_for(lambda: entry(ka, due_id).state == "sent", "delivery of the due row")
    more_rounds(loop)
    busy = entry(ka, busy_id)
    assert busy.state == "sending" and busy.attempts == 0 and busy.last_error == ""
    assert document(ka, busy_id).status == "queued"
    assert len(handler.messages) == 1


def test_loop_is_off_when_zero_in_test_mode_and_without_the_web_app(web_ka, database, tmp_path):  # type: ignore[no-untyped-def]
    ka, _app = web_ka(mail_retry_seconds=0)
    assert retry.loop_for(ka) is None
    ka_default, _app = web_ka()  # test mode without an explicit interval
    assert settings_of(ka_default).mail_retry_seconds == 0 and retry.loop_for(ka_default) is None
    cli_like = make_ka(tmp_path, database, mail_retry_seconds=1)  # as the CLI builds it: no create_app
    try:
        assert retry.loop_for(cli_like) is None
    finally:
        cli_like.close()


def test_close_stops_the_thread(web_ka, smtp_server, handler_class):  # type: ignore[no-untyped-def]
    ka, app = web_ka(mail_retry_seconds=1)
    loop = running_loop(ka)
    thread = loop.thread
    assert thread is not None and thread.daemon
    ka.close()
    assert not thread.is_alive()
    assert retry.loop_for(ka) is None
    retry.ensure_running(ka)  # a late request after close starts nothing
    assert retry.loop_for(ka) is None and not thread.is_alive()


def test_a_failing_round_does_not_end_the_loop(web_ka, monkeypatch):  # type: ignore[no-untyped-def]
    calls: list[int] = []

    def broken(ka: Kundenakte, **kwargs: Any) -> Any:
        calls.append(1)
        raise RuntimeError("database gone")

    monkeypatch.setattr(retry, "deliver_queued", broken)
    ka, _app = web_ka(mail_retry_seconds=1)
    loop = running_loop(ka)
    wait_for(lambda: len(calls) >= 2, "two failing rounds")
    assert loop.thread is not None and loop.thread.is_alive()
