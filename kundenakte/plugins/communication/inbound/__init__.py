"""Inbound e-mail: IMAP mailboxes (Postfächer), the fetcher, filing at contacts and the Posteingang.

Part of the communication plugin, which owns the E-Mail document type; see docs/inbound-mail.md.
"""
