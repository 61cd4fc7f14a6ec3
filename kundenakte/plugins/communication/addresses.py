"""The e-mail address rule of the communication plugin.

``is_valid_email`` is the same check the message builder applies (mime._address): one mailbox,
no display name, no spaces or line breaks, a domain with a dot-free or IDNA-encodable form. It is
used when an e-mail document is saved (form and API), so a typo is reported then and not only
when the mail is sent. Kept here until the core has one e-mail rule; then this delegates to it.
"""

from __future__ import annotations

from kundenakte.plugins.communication.mime import _address

__all__ = ["is_valid_email"]


def is_valid_email(address: str) -> bool:
    """Whether ``address`` is one deliverable mailbox (``name@example.de``, also with umlauts)."""
    if not isinstance(address, str) or not address.strip() or "@" not in address:
        return False
    local, _, domain = address.strip().rpartition("@")
    if "." not in domain.strip(".") or domain.startswith(".") or domain.endswith(".") or ".." in domain:
        return False
    try:
        _address(None, address, "recipient")
    except ValueError:
        return False
    return bool(local)
