"""The e-mail address check of the communication plugin: the product's one rule, then the builder.

``is_valid_email`` is the core's e-mail rule (``kundenakte.core.validation.is_email``) followed by
the check the message builder applies (mime._address: one mailbox, no display name, an
IDNA-encodable domain). It runs when an e-mail document is saved (form and API), so a typo is
reported then and not only when the mail is sent.
"""

from __future__ import annotations

from kundenakte.core.validation import is_email
from kundenakte.plugins.communication.mime import _address

__all__ = ["is_valid_email"]


def is_valid_email(address: str) -> bool:
    """Whether ``address`` is one deliverable mailbox (``name@example.de``, also with umlauts)."""
    if not isinstance(address, str) or not is_email(address.strip()):
        return False
    try:
        _address(None, address, "recipient")
    except ValueError:
        return False
    return True
