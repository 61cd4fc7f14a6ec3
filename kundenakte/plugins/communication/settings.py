"""The communication plugin's settings: the SMTP server, the sender and the outbox retry loop.

Read from ``KUNDENAKTE_COMMUNICATION_<NAME>``; the shorter names these settings had while they lived
in the core (``KUNDENAKTE_SMTP_HOST`` …) are still read as aliases.
"""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace
from typing import TYPE_CHECKING

from kundenakte.core.plugin_settings import Setting

if TYPE_CHECKING:
    from kundenakte.core.runtime import Kundenakte

PLUGIN = "communication"

SETTINGS = (
    Setting("smtp_host", help="outgoing mail server; empty: e-mails are written to `instance/outbox/*.eml`",
            aliases=("KUNDENAKTE_SMTP_HOST",)),
    Setting("smtp_port", "integer", 25, minimum=1, aliases=("KUNDENAKTE_SMTP_PORT",), help="port of the mail server"),
    Setting("smtp_security", "choice", "none", choices=("none", "starttls", "ssl"), aliases=("KUNDENAKTE_SMTP_SECURITY",),
            help="`none`, `starttls` or `ssl`"),
    Setting("smtp_username", aliases=("KUNDENAKTE_SMTP_USERNAME",), help="SMTP login"),
    Setting("smtp_password", "secret", aliases=("KUNDENAKTE_SMTP_PASSWORD",), help="SMTP password"),
    Setting("mail_from", aliases=("KUNDENAKTE_MAIL_FROM",), help="sender address of outgoing e-mails"),
    Setting("helo_hostname", help="host name this instance greets the mail server with (EHLO/HELO), e.g. "
            "`crm.example.de`; empty: the domain of `mail_from`, else `localhost`"),
    Setting("organisation_name", aliases=("KUNDENAKTE_ORGANISATION_NAME",),
            help='the organisation\'s name, shown as sender ("DOCHOUSE GmbH <info@dochouse.de>") of e-mails whose '
                 'sender format (Absenderangabe) is "Firma"; replies still go to the writing user; empty: the user\'s name'),
    # A test instance sends nothing in the background unless the test asks for the loop.
    Setting("mail_retry_seconds", "integer", 60, minimum=0, test_default=0, aliases=("KUNDENAKTE_MAIL_RETRY_SECONDS",),
            help="seconds between each worker's retries of queued e-mails; `0` switches the retry off (cron only); "
                 "off in test mode unless set"),
)


def settings_of(ka: Kundenakte) -> SimpleNamespace:
    """This plugin's values (``smtp_host``, ``mail_from``, …) for the instance."""
    return ka.plugin_settings(PLUGIN)


def outbox_dir(ka: Kundenakte) -> Path:
    """Where e-mails are written as ``.eml`` files when no SMTP server is configured."""
    return ka.settings.instance / "outbox"
