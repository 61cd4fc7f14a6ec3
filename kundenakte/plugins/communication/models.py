"""The communication plugin's own tables: templates (Vorlagen), their files and the outbox."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import JSON, DateTime, ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from kundenakte.core.models import NEVER_REUSE_IDS, Base, utcnow


class CommTemplate(Base):
    __tablename__ = "comm_templates"
    __table_args__ = NEVER_REUSE_IDS  # the audit trail names templates by id

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    base_type: Mapped[str] = mapped_column(String(60))
    kind: Mapped[str] = mapped_column(String(120), default="")
    display_title: Mapped[str] = mapped_column(String(300), default="")
    sender_format: Mapped[str] = mapped_column(String(20), default="name_address")
    sender_mode: Mapped[str] = mapped_column(String(20), default="current_user")
    sender_user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    folders: Mapped[list[Any]] = mapped_column(JSON, default=list)
    retention_days: Mapped[int | None] = mapped_column(Integer)
    doc_readers: Mapped[list[Any]] = mapped_column(JSON, default=list)
    doc_editors: Mapped[list[Any]] = mapped_column(JSON, default=list)
    # The texts in ``subject``/``body``/``appendix`` are the variant in ``language`` (the template's
    # default language); ``variants`` holds the other languages as {"en": {"subject", "body",
    # "appendix"}}. templates_service.variant_for picks one for a contact's language.
    language: Mapped[str] = mapped_column(String(5), default="de", server_default="de")
    subject: Mapped[str] = mapped_column(Text, default="")
    body: Mapped[str] = mapped_column(Text, default="")
    appendix: Mapped[str] = mapped_column(Text, default="")
    variants: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    readers: Mapped[list[Any]] = mapped_column(JSON, default=list)
    editors: Mapped[list[Any]] = mapped_column(JSON, default=list)
    created_by: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    version: Mapped[int] = mapped_column(Integer, default=1)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)

    files: Mapped[list[CommTemplateFile]] = relationship(
        cascade="all, delete-orphan", back_populates="template", order_by="CommTemplateFile.id"
    )


class CommTemplateFile(Base):
    __tablename__ = "comm_template_files"

    id: Mapped[int] = mapped_column(primary_key=True)
    template_id: Mapped[int] = mapped_column(ForeignKey("comm_templates.id", ondelete="CASCADE"), index=True)
    filename: Mapped[str] = mapped_column(String(255))
    mime_type: Mapped[str] = mapped_column(String(120))
    size: Mapped[int] = mapped_column(Integer)
    sha256: Mapped[str] = mapped_column(String(64), index=True)

    template: Mapped[CommTemplate] = relationship(back_populates="files")


class OutboxEntry(Base):
    __tablename__ = "comm_outbox"

    id: Mapped[int] = mapped_column(primary_key=True)
    document_id: Mapped[int] = mapped_column(ForeignKey("documents.id", ondelete="CASCADE"), index=True)
    message_id: Mapped[str] = mapped_column(String(255), unique=True)
    state: Mapped[str] = mapped_column(String(20), default="queued", index=True)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[dt.datetime | None] = mapped_column(DateTime)
    last_error: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)
    sent_at: Mapped[dt.datetime | None] = mapped_column(DateTime)
    eml_path: Mapped[str] = mapped_column(String(500), default="")
    # Who is sending the row right now ("host:pid") and since when: recovery leaves a row alone
    # while its sender still runs (see outbox._recover_stuck).
    claimed_at: Mapped[dt.datetime | None] = mapped_column(DateTime)
    claimed_by: Mapped[str] = mapped_column(String(120), default="", server_default="")
