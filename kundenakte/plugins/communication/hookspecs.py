"""Hooks the communication plugin calls and other plugins may implement (added by ``add_hookspecs``)."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pluggy

if TYPE_CHECKING:
    from kundenakte.core.runtime import Kundenakte

hookspec = pluggy.HookspecMarker("kundenakte")


@hookspec
def communication_mail_sent(ka: Kundenakte, document_id: int, message_id: str) -> None:
    """Called after the transaction that recorded an e-mail as sent (SMTP or ``.eml``) has committed.

    :param document_id: the e-mail document; :param message_id: its ``Message-ID`` header. Not
    called for failed or uncertain deliveries. Return values are ignored.
    """
