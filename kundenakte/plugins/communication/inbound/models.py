"""Tables of inbound mail: the mailboxes to watch and one row per message seen in them."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import JSON, BigInteger, Boolean, DateTime, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from kundenakte.core.models import NEVER_REUSE_IDS, Base, utcnow


class MailAccount(Base):
    """An IMAP mailbox (Postfach): the shared "Ablage" box or a user's personal one."""

    __tablename__ = "comm_mail_accounts"
    __table_args__ = NEVER_REUSE_IDS  # the audit trail names accounts by id

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    # "shared" (Ablage, e.g. a BCC address) or "personal" (owner_id's own box).
    kind: Mapped[str] = mapped_column(String(20), default="shared")
    owner_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    address: Mapped[str] = mapped_column(String(254), default="")
    host: Mapped[str] = mapped_column(String(255))
    port: Mapped[int] = mapped_column(Integer, default=993)
    # "tls" (implicit TLS), "starttls" or "plain" (only for loopback hosts).
    security: Mapped[str] = mapped_column(String(20), default="tls")
    username: Mapped[str] = mapped_column(String(255))
    # Fernet token of the password (inbound.crypto); never shown again.
    password_encrypted: Mapped[str] = mapped_column(Text, default="")
    folder: Mapped[str] = mapped_column(String(255), default="INBOX")
    # After import: "flag" (\Seen + $Kundenakte), "move" (to move_folder) or "leave".
    after_import: Mapped[str] = mapped_column(String(20), default="flag")
    move_folder: Mapped[str] = mapped_column(String(255), default="")
    poll_minutes: Mapped[int] = mapped_column(Integer, default=5)
    max_size_mb: Mapped[int] = mapped_column(Integer, default=20)
    readers: Mapped[list[Any]] = mapped_column(JSON, default=list)
    editors: Mapped[list[Any]] = mapped_column(JSON, default=list)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_by: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)
    last_fetch_at: Mapped[dt.datetime | None] = mapped_column(DateTime)
    last_error: Mapped[str] = mapped_column(Text, default="")


class InboundMessage(Base):
    """One message seen in a mailbox (or uploaded): imported, duplicate or failed, with the reason.

    The row is written in the same transaction as the document it produced, so after a crash a
    message is either fully filed and recorded, or neither (see docs/inbound-mail.md).
    """

    __tablename__ = "comm_inbound_messages"
    __table_args__ = (
        UniqueConstraint("account_id", "uidvalidity", "uid", name="uq_comm_inbound_messages_account_uid"),
        NEVER_REUSE_IDS,
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    account_id: Mapped[int | None] = mapped_column(ForeignKey("comm_mail_accounts.id", ondelete="SET NULL"), index=True)
    uidvalidity: Mapped[int] = mapped_column(BigInteger, default=0)
    uid: Mapped[int] = mapped_column(BigInteger, default=0)
    message_id: Mapped[str] = mapped_column(String(998), default="", index=True)
    # "imported", "duplicate" (same Message-ID filed before) or "failed".
    state: Mapped[str] = mapped_column(String(20), default="imported", index=True)
    document_id: Mapped[int | None] = mapped_column(ForeignKey("documents.id", ondelete="SET NULL"), index=True)
    reason: Mapped[str] = mapped_column(Text, default="")
    size: Mapped[int] = mapped_column(BigInteger, default=0)
    # "imap" or "upload"; whether the after-import action (flag/move) has been carried out.
    source: Mapped[str] = mapped_column(String(20), default="imap")
    handled: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)
